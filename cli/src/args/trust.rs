//! Arguments of `keygen`, `sign` and `verify`.

use std::path::PathBuf;

use clap::Args;

use super::policy::TrustArgs;

/// `zkelf keygen`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  zkelf keygen --out keys --name release-2026\n  \
    ZKELF_PASSWORD=… zkelf keygen --out keys --name ci\n  \
    zkelf keygen --out /tmp --name throwaway --unencrypted"
)]
pub struct KeygenArgs {
    /// Directory to write `<name>.pub` and `<name>.key` into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Base name of the two files.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Store the secret key without a password (only for throwaway keys).
    #[arg(long, conflicts_with = "password_file")]
    pub unencrypted: bool,
    /// Read the password from the first line of this file instead of prompting.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

/// `zkelf sign`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
#[command(
    after_help = "Example:\n  zkelf sign fib.elf --key keys/release.key --guest fib \
    --version 1.0.0 --zkvm sp1 --provenance provenance.json"
)]
pub struct SignArgs {
    /// The guest ELF to sign.
    #[arg(value_name = "ELF")]
    pub elf: PathBuf,
    /// Minisign secret key (`.key`), encrypted or not.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Guest name (`[a-z0-9][a-z0-9._-]{0,63}`).
    #[arg(long)]
    pub guest: String,
    /// Guest version (semver).
    #[arg(long)]
    pub version: String,
    /// zkVM identifier (`[a-z0-9][a-z0-9._-]{0,63}`).
    #[arg(long)]
    pub zkvm: String,
    /// Target triple; must agree with the ELF class; inferred when omitted.
    #[arg(long)]
    pub target: Option<String>,
    /// Provenance document to bind (its sha256 goes into the statement).
    #[arg(long, value_name = "FILE")]
    pub provenance: Option<PathBuf>,
    /// Verification key to bind (its sha256 goes into the statement).
    #[arg(long, value_name = "FILE")]
    pub vk: Option<PathBuf>,
    /// Write the signature here instead of `<ELF>.minisig`.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Read the key's password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

/// `zkelf verify`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
#[command(
    after_help = "Examples:\n  zkelf verify fib.elf --key keys/release.pub --guest fib --version 1.0.0 --zkvm sp1\n  \
    zkelf verify fib.elf --policy keys/policy.toml --provenance provenance.json\n  \
    zkelf verify legacy.elf --key RWQ… --sha256 <hex>\n\n\
    Exit codes: 0 verified, 1 verification failed, 2 other error."
)]
pub struct VerifyArgs {
    /// The ELF to verify.
    #[arg(value_name = "ELF")]
    pub elf: PathBuf,
    /// Signature file; default `<ELF>.minisig`. Repeat to add rebuild attestations or more
    /// release signatures: each counts at most once per key and role.
    #[arg(long, value_name = "FILE")]
    pub sig: Vec<PathBuf>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Require this guest name.
    #[arg(long)]
    pub guest: Option<String>,
    /// Require this version.
    #[arg(long)]
    pub version: Option<String>,
    /// Require this zkVM.
    #[arg(long)]
    pub zkvm: Option<String>,
    /// Provenance document published with the ELF; must be the one signed.
    #[arg(long, value_name = "FILE")]
    pub provenance: Option<PathBuf>,
    /// Verification key published with the ELF; must be the one signed.
    #[arg(long, value_name = "FILE")]
    pub vk: Option<PathBuf>,
    /// Require the ELF to have this sha256 (lets a signature without a statement count).
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Accept a signature whose trusted comment is not a zkelf statement without `--sha256`.
    #[arg(long)]
    pub allow_unbound: bool,
    /// Accept legacy (`Ed`, non-prehashed) signatures.
    #[arg(long)]
    pub allow_legacy: bool,
}
