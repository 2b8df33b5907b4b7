//! Arguments of `build`, `diff` and `builder`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

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
