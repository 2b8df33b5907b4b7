//! Arguments of `publish`, `release`, `pull`, `inspect` and `import`.

use std::path::PathBuf;

use clap::Args;

use super::policy::PolicyArg;
pub use super::policy::TrustArgs;

/// How to reach registries.
#[derive(Debug, Clone, Args)]
pub struct NetworkArgs {
    /// A registry host (`host[:port]`) that may be reached over plain HTTP (loopback hosts always may).
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,
    /// Registry user name; the password comes from `ZKELF_REGISTRY_PASSWORD` or, with
    /// `--password-stdin`, from standard input. Without it `~/.docker/config.json` is used.
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// Read the registry password from standard input.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Seconds a connection may stay silent before the transfer is abandoned.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// Retries on connection errors, timeouts and 5xx answers.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Seconds reading a release's attestations may take in all; those not read by then do
    /// not count, and are reported as not read.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub attestation_timeout: u64,
}

/// Pins for releases whose signatures bind no statement (the file name as trusted comment).
#[derive(Debug, Clone, Args)]
pub struct PinArgs {
    /// Require the ELF to have this sha256; lets a signature without a zkelf statement count.
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Require the verification key to have this sha256: the statement must bind it, or (for
    /// a VK signed on its own, `<name>.vk.minisig`) its signature counts for these bytes only.
    #[arg(long, value_name = "HEX")]
    pub vk_sha256: Option<String>,
}

/// `zkelf publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// A signed `dist/<guest>/<version>` directory.
    #[arg(value_name = "DIST_DIR")]
    pub dist: PathBuf,
    /// Where to publish: `oci-layout:<dir>` or `<host>[:<port>]/<path>`.
    #[arg(long, value_name = "REF")]
    pub to: String,
    /// Move a version tag that names other bytes already (a published version is otherwise
    /// immutable); the new manifest records the old one as `dev.zkelf.replaces`.
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// `zkelf release`.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The guest directory (with `zkelf.toml`).
    #[arg(value_name = "GUEST_DIR")]
    pub guest_dir: PathBuf,
    /// The minisign secret key to sign with.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Read the secret key's password from this file (else `ZKELF_PASSWORD`, else a prompt).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Build only the artifact of this zkVM.
    #[arg(long, value_name = "ZKVM")]
    pub zkvm: Option<String>,
    /// Where the build writes `<guest>/<version>/`.
    #[arg(long, value_name = "DIR", default_value = "dist")]
    pub out: PathBuf,
    /// Build each artifact a second time with varied conditions (as `build
    /// --check-reproducible`); sign and publish nothing (exit 1) unless the bytes agree.
    #[arg(long)]
    pub check_reproducible: bool,
    #[command(flatten)]
    pub sources: super::build::GitMirrorArgs,
    /// Where to publish: `oci-layout:<dir>` or `<host>[:<port>]/<path>`.
    #[arg(long, value_name = "REF")]
    pub to: String,
    /// The trust policy the signed artifacts must satisfy before they are published.
    #[command(flatten)]
    pub policy: PolicyArg,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// `zkelf pull`.
#[derive(Debug, Args)]
// `--version` names the release wanted; `zkelf --version` still prints the tool's.
#[command(disable_version_flag = true)]
#[command(
    after_help = "Examples:\n  zkelf pull ghcr.io/acme/fib:1.0.0 --zkvm sp1 --guest fib -o fib.elf\n  \
    zkelf pull https://github.com/o/r/releases/download/v1/g-zisk-v1.elf --key RWQ… \\\n      \
    --sha256 <hex> -o g.elf --vk-out g.vk --vk-sha256 <hex>\n\n\
    Exit codes: 0 verified and written, 1 verification failed (nothing written), 2 other error."
)]
pub struct PullArgs {
    /// `oci-layout:<dir>[:<tag>|@sha256:<hex>]`, `<host>[:<port>]/<path>[:<tag>|@sha256:<hex>]`
    /// or `https://…/<file>.elf`.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Where to write the verified ELF (nothing is written unless every check passes).
    #[arg(
        short,
        long,
        value_name = "PATH",
        required_unless_present = "vk_only",
        conflicts_with = "vk_only"
    )]
    pub output: Option<PathBuf>,
    /// Also write the release's verification key here, verified (by the statement's `vk=`, or
    /// by its own signature under the same key and pin rules); neither file unless both pass.
    #[arg(long, value_name = "PATH")]
    pub vk_out: Option<PathBuf>,
    /// Write only the verification key (`--vk-out`), for verifiers: the release is checked as
    /// for a pull (the ELF is fetched and verified in memory), and no ELF is written.
    #[arg(long, requires = "vk_out")]
    pub vk_only: bool,
    /// Derive the verification key anew from the verified ELF with its zkVM's toolbox (Docker;
    /// built the first time) before anything is written, and refuse a release whose VK is not
    /// that one (exit 1, both named). The release's provenance must record its zkVM version.
    #[arg(long)]
    pub derive_vk: bool,
    /// The zkVM to pick from a release index; also required of the statement.
    #[arg(long, value_name = "ZKVM")]
    pub zkvm: Option<String>,
    /// The guest the statement must name.
    #[arg(long, value_name = "NAME")]
    pub guest: Option<String>,
    /// The version the statement must name.
    #[arg(long, value_name = "SEMVER")]
    pub version: Option<String>,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub pins: PinArgs,
    /// Accept a signature without a zkelf statement without `--sha256` (any bytes the key
    /// signed; only from stores that name the ELF by digest, not from https downloads).
    #[arg(long)]
    pub allow_unbound: bool,
    /// `zkelf.lock` file: pins are checked when present for this reference, added when not.
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Accept a version older than one already pulled from this source.
    #[arg(long)]
    pub allow_downgrade: bool,
    /// Accept legacy (non-prehashed) minisign signatures.
    #[arg(long)]
    pub allow_legacy: bool,
    /// Largest ELF accepted, in bytes (suffixes `K`, `M`, `G` allowed).
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_size: u64,
    /// Do not use or fill the blob cache.
    #[arg(long)]
    pub no_cache: bool,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// `zkelf inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The artifact to show (same forms as `pull`).
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The zkVM to pick from a release index; also required of the statement.
    #[arg(long, value_name = "ZKVM")]
    pub zkvm: Option<String>,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// The ELF's sha256, for a release whose signature binds no statement.
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Largest ELF hashed, in bytes (suffixes `K`, `M`, `G` allowed).
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_size: u64,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// `zkelf import`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
#[command(
    after_help = "Example (a GitHub release whose signatures carry only the file name):\n  \
    zkelf import https://github.com/o/r/releases/download/v0.3.0/validator-zisk-v1.elf \\\n      \
    --to ghcr.io/hub/validator:0.3.0-zisk --key RWQ… --sha256 <hex> \\\n      \
    --vk-sha256 <hex> --guest validator --version 0.3.0 --zkvm zisk\n\n\
    Exit codes: 0 imported, 1 the upstream release failed verification (nothing written), 2 other error."
)]
pub struct ImportArgs {
    /// The release's ELF: `https://…/<file>.elf`, with `<file>.elf.minisig` beside it (and
    /// `<file>.vk`, `<file>.vk.minisig` when it has a VK).
    #[arg(value_name = "URL")]
    pub url: String,
    /// Where to put it: `oci-layout:<dir>:<tag>` or `<host>[:<port>]/<path>:<tag>`.
    #[arg(long, value_name = "REF")]
    pub to: String,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub pins: PinArgs,
    /// Guest name to annotate (required when the signature binds no statement; else it must
    /// agree with the statement).
    #[arg(long, value_name = "NAME")]
    pub guest: Option<String>,
    /// Release version to annotate (semver; as `--guest`).
    #[arg(long, value_name = "SEMVER")]
    pub version: Option<String>,
    /// zkVM to annotate (as `--guest`).
    #[arg(long, value_name = "ZKVM")]
    pub zkvm: Option<String>,
    /// Target triple to annotate; default: the statement's, else from the ELF header.
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
    /// Largest ELF accepted, in bytes (suffixes `K`, `M`, `G` allowed).
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_size: u64,
    /// Move a tag that names other bytes already; the new manifest records the old one as
    /// `dev.zkelf.replaces`.
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// Parses `123`, `64K`, `256M`, `1G` (binary multiples).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, shift) = match text.as_bytes().last() {
        Some(b'K' | b'k') => (&text[..text.len() - 1], 10),
        Some(b'M' | b'm') => (&text[..text.len() - 1], 20),
        Some(b'G' | b'g') => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size (write e.g. `1048576`, `512M` or `1G`)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}
