//! Arguments of `run`.

use std::path::PathBuf;

use clap::Args;

use super::dist::{NetworkArgs, PinArgs, TrustArgs, parse_size};

/// `zkelf run`.
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct RunArgs {
    /// The guest to run: a local file (runs without a policy), or a reference (same forms as
    /// `pull`; runs only after every check of `pull` passes).
    #[arg(value_name = "REF|FILE")]
    pub target: String,
    /// The guest's input: the file's bytes are its one input frame, unchanged.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// The zkVM whose executor runs it. A file's is otherwise read from its `<file>.minisig`
    /// statement, its `.provenance.json`, or its `<guest>-<zkvm>.elf` name; a reference's from
    /// its verified statement (and it picks the artifact from a release index).
    #[arg(long, value_name = "ZKVM")]
    pub zkvm: Option<String>,
    /// OpenVM's app configuration (the guest's `openvm.toml`); default: cargo-openvm's.
    #[arg(long, value_name = "FILE")]
    pub openvm_config: Option<PathBuf>,
    /// The guest the statement must name (references).
    #[arg(long, value_name = "NAME")]
    pub guest: Option<String>,
    /// The version the statement must name (references).
    #[arg(long, value_name = "SEMVER")]
    pub version: Option<String>,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub pins: PinArgs,
    /// Accept a signature without a zkelf statement without `--sha256` (as `pull`).
    #[arg(long)]
    pub allow_unbound: bool,
    /// Accept a version older than one already pulled from this source.
    #[arg(long)]
    pub allow_downgrade: bool,
    /// Accept legacy (non-prehashed) minisign signatures.
    #[arg(long)]
    pub allow_legacy: bool,
    /// Largest ELF accepted, in bytes (suffixes `K`, `M`, `G` allowed).
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_size: u64,
    /// Debian suite of the base image the toolbox is built on.
    #[arg(long, default_value = "bookworm")]
    pub suite: String,
    #[command(flatten)]
    pub network: NetworkArgs,
}
