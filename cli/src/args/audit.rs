//! Arguments of `rebuild` and `attest`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::dist::NetworkArgs;

/// `zkelf rebuild`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  zkelf rebuild ghcr.io/acme/fib:1.0.0 --zkvm rv32im\n  \
    zkelf rebuild ghcr.io/acme/fib:1.0.0-rv32im --source ../fib --attest --key auditor.key --push\n\n\
    Exit codes: 0 same sha256, 1 different (the section diff is printed), 2 other error \
    (including a builder that differs from the recorded one without `--allow-different-builder`)."
)]
pub struct RebuildArgs {
    /// The published artifact: `<host>[:<port>]/<path>[:<tag>|@sha256:<hex>]` or
    /// `oci-layout:<dir>[:<tag>]`.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The zkVM to pick from a release index.
    #[arg(long, value_name = "ZKVM")]
    pub zkvm: Option<String>,
    /// Where to clone the source from (a git URL or a local repository); default: the
    /// provenance's `source.uri`. The recorded commit is checked out either way.
    #[arg(long, value_name = "GIT")]
    pub source: Option<String>,
    /// Rebuild even when this builder differs from the recorded one: Dockerfile.builder, the
    /// toolchain (rustc, cargo, C compiler, pinned Debian packages), the build container's
    /// environment, command or flags, or the sysroot's inputs (each difference is printed as
    /// a warning; a mismatch may then be the builder's doing).
    #[arg(long)]
    pub allow_different_builder: bool,
    /// On a match, sign a `kind=rebuild` attestation with `--key`.
    #[arg(long, requires = "key")]
    pub attest: bool,
    /// The auditor's minisign secret key.
    #[arg(long, value_name = "KEY")]
    pub key: Option<PathBuf>,
    /// Read the secret key's password from this file (else `ZKELF_PASSWORD`, else a prompt).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Where to write the attestation; default `<guest>-<zkvm>.rebuild.minisig`.
    #[arg(short, long, value_name = "FILE", requires = "attest")]
    pub output: Option<PathBuf>,
    /// Attach the attestation to the artifact (referrers API or the `sha256-<hex>` index).
    #[arg(long, requires = "attest")]
    pub push: bool,
    /// Keep the rebuilt ELF and its provenance under `<DIR>/<guest>/<version>/` (default: a
    /// temporary directory, removed).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Debian suite of the builder's base image.
    #[arg(long, default_value = "bookworm")]
    pub suite: String,
    #[command(flatten)]
    pub sources: super::build::GitMirrorArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// The kind of signature `attest` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AttestKind {
    /// An additional release signature (same statement, fresh `created`).
    Release,
}

/// `zkelf attest`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  zkelf attest ghcr.io/acme/fib:1.0.0 --zkvm rv32im --key second-release.key --push\n  \
    zkelf attest ghcr.io/acme/fib:1.0.0-rv32im --signature fib-rv32im.rebuild.minisig --push\n\n\
    Exit codes: 0 done, 1 the signature does not match the published ELF, 2 other error."
)]
pub struct AttestArgs {
    /// The published artifact (same forms as `rebuild`).
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The minisign secret key to sign with.
    #[arg(long, value_name = "KEY", required_unless_present = "signature")]
    pub key: Option<PathBuf>,
    /// Read the secret key's password from this file (else `ZKELF_PASSWORD`, else a prompt).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// What to sign.
    #[arg(long, value_enum, default_value = "release")]
    pub kind: AttestKind,
    /// Attach this existing signature (e.g. written by `zkelf rebuild --attest`) instead of
    /// signing; it must be over the published ELF.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "password_file"])]
    pub signature: Option<PathBuf>,
    /// The zkVM to pick from a release index.
    #[arg(long, value_name = "ZKVM")]
    pub zkvm: Option<String>,
    /// Attach the signature to the artifact.
    #[arg(long)]
    pub push: bool,
    /// Write the signature here; default without `--push`:
    /// `<guest>-<zkvm>.<key id>.<kind>.minisig` (with `--push`: no file).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub network: NetworkArgs,
}
