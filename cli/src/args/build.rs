//! Arguments of `build`, `diff` and `builder`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use zkelf_builder::build::fetch::mirror::GitMirror;

/// Where a build's git sources are fetched from.
#[derive(Debug, Clone, Args)]
pub struct GitMirrorArgs {
    /// Fetch git URLs that start with PREFIX from a mirror: another URL, or a local directory
    /// (mounted read-only) holding the repositories under the paths that follow PREFIX.
    /// Repeatable; the environment variable takes space-separated entries. The locked commit
    /// is what is built, and the provenance keeps the URL as written.
    #[arg(
        long = "git-mirror",
        value_name = "PREFIX=URL|PATH",
        env = crate::env::EnvVars::ZKELF_GIT_MIRRORS,
        value_delimiter = ' '
    )]
    pub git_mirrors: Vec<GitMirror>,
}

/// `zkelf build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The guest directory (holding `zkelf.toml`), inside a git checkout.
    pub guest_dir: PathBuf,
    /// Build only the artifact of this zkVM (default: all in `zkelf.toml`).
    #[arg(long, value_name = "ZKVM")]
    pub artifact: Option<String>,
    /// Output directory: files go to `<out>/<guest>/<version>/`.
    #[arg(long, value_name = "DIR", default_value = "dist")]
    pub out: PathBuf,
    /// Build a tree with uncommitted changes (the provenance records `dirty: true`).
    #[arg(long)]
    pub allow_dirty: bool,
    /// Build a second time varying path, uid, hostname, umask, env, CPUs, timezone, locale and
    /// file times; fail (exit 1) unless the bytes are identical.
    #[arg(long)]
    pub check_reproducible: bool,
    /// Debian suite of the base image to build on.
    #[arg(long, default_value = "bookworm")]
    pub suite: String,
    #[command(flatten)]
    pub sources: GitMirrorArgs,
}

/// `zkelf diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The first ELF.
    pub a: PathBuf,
    /// The second ELF.
    pub b: PathBuf,
}

/// `zkelf builder …`.
#[derive(Debug, Subcommand)]
pub enum BuilderCommand {
    /// Bootstrap the Debian base image with debootstrap and `docker import`.
    Base(BuilderBaseArgs),
    /// Build the builder image from Dockerfile.builder, tagged by the hash of its inputs.
    Image(BuilderImageArgs),
    /// Build (or find, verified, in the cache) the zkVM toolboxes: each zkVM's executor and
    /// VK derivation, built in the toolbox image from its crates, offline.
    Toolbox(BuilderToolboxArgs),
}

/// `zkelf builder base`.
#[derive(Debug, Args)]
pub struct BuilderBaseArgs {
    /// Debian mirror (a snapshot.debian.org URL makes the base reproducible).
    #[arg(long, default_value = "http://deb.debian.org/debian")]
    pub mirror: String,
    /// Debian suite.
    #[arg(long, default_value = "bookworm")]
    pub suite: String,
    /// Bootstrap again even if the base image exists.
    #[arg(long)]
    pub force: bool,
}

/// `zkelf builder image`.
#[derive(Debug, Args)]
pub struct BuilderImageArgs {
    /// Debian suite of the base image to build on.
    #[arg(long, default_value = "bookworm")]
    pub suite: String,
}

/// `zkelf builder toolbox`.
#[derive(Debug, Args)]
pub struct BuilderToolboxArgs {
    /// The zkVMs whose toolboxes to build (default: all four).
    #[arg(value_name = "ZKVM", value_parser = ["sp1", "risc0", "openvm", "zisk"])]
    pub zkvms: Vec<String>,
    /// Debian suite of the base image to build on.
    #[arg(long, default_value = "bookworm")]
    pub suite: String,
}
