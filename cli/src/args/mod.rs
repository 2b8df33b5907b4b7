//! The command line, declared with clap. Logic lives in `commands/`.

use clap::{Args, Parser, Subcommand};

pub mod audit;
pub mod build;
pub mod dist;
pub mod run;
pub mod trust;

/// Build, sign, publish and verify zkVM guest ELFs.
#[derive(Debug, Parser)]
#[command(name = "zkelf", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print one JSON document on stdout (errors included) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing on stderr but errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more about what is being done (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a minisign key pair.
    Keygen(trust::KeygenArgs),
    /// Sign a guest ELF with a statement binding guest, version, zkVM and hashes.
    Sign(trust::SignArgs),
    /// Verify a guest ELF against its signature and a trust policy.
    Verify(trust::VerifyArgs),
    /// Build a guest's ELFs in the hermetic Docker builder.
    Build(build::BuildArgs),
    /// Compare two ELF files section by section.
    Diff(build::DiffArgs),
    /// Bootstrap the base image and build the builder image.
    #[command(subcommand)]
    Builder(build::BuilderCommand),
    /// Publish built, signed guest artifacts to an OCI registry or layout.
    Publish(dist::PublishArgs),
    /// Build, sign and publish a guest in one command.
    Release(dist::ReleaseArgs),
    /// Fetch a guest ELF; nothing is written unless it is the signed release the policy accepts.
    Pull(dist::PullArgs),
    /// Run a guest in its zkVM's executor on an input and print its public values and cycles
    /// (a reference only after every check of `pull` passes).
    Run(run::RunArgs),
    /// Mirror a release published as downloads (GitHub) into an OCI registry or layout,
    /// verified, keeping its signatures as they are.
    Import(dist::ImportArgs),
    /// Show a published artifact's statement, provenance, signatures and attestations.
    Inspect(dist::InspectArgs),
    /// Rebuild a published guest from its provenance and compare hashes.
    Rebuild(audit::RebuildArgs),
    /// Attach an additional signature to a published artifact.
    Attest(audit::AttestArgs),
}
