//! The command line, declared with clap. Logic lives in `commands/`.

use clap::{Args, Parser, Subcommand, ValueEnum};

pub mod audit;
pub mod build;
pub mod discover;
pub mod dist;
pub mod policy;
pub mod run;
pub mod trust;

/// The heading every flag of [`GlobalArgs`] is listed under, in every command's help.
pub const GLOBAL_HEADING: &str = "Global options";

/// Build, sign, publish and verify zkVM guest ELFs.
#[derive(Debug, Parser)]
#[command(
    name = "zkelf",
    version = crate::version::VERSION,
    about,
    // `-h` and `-V` are listed under the global heading with the rest (`GlobalArgs::help`).
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Print the version and the commit zkelf was built from.
    #[arg(short = 'V', long, action = clap::ArgAction::Version, help_heading = GLOBAL_HEADING)]
    pub version: Option<bool>,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes, listed under one heading ([`GLOBAL_HEADING`]).
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print one JSON document on stdout (errors included) instead of text.
    #[arg(long, global = true, help_heading = GLOBAL_HEADING)]
    pub json: bool,
    /// Print nothing on stderr but errors.
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        help_heading = GLOBAL_HEADING
    )]
    pub quiet: bool,
    /// Say more: `-v` progress details, `-vv` debug traces (HTTP requests, cache hits, Docker
    /// calls), `-vvv` everything.
    #[arg(
        short,
        long,
        global = true,
        action = clap::ArgAction::Count,
        help_heading = GLOBAL_HEADING
    )]
    pub verbose: u8,
    /// When to color errors, warnings, help and progress bars: `auto` on a terminal unless
    /// `NO_COLOR` is set to a non-empty value; `always` even into a pipe or with `NO_COLOR`.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value_t = ColorChoice::Auto,
        help_heading = GLOBAL_HEADING
    )]
    pub color: ColorChoice,
    /// Print help.
    #[arg(
        short,
        long,
        global = true,
        action = clap::ArgAction::Help,
        help_heading = GLOBAL_HEADING
    )]
    pub help: Option<bool>,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    // No doc comments: clap would list them under the flag and switch `--help` to its long form.
    Auto,
    Always,
    Never,
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
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell.
    Completions(discover::CompletionsArgs),
    /// Print the man page, or write every command's page into a directory.
    Man(discover::ManArgs),
}
