//! Arguments of `build`, `diff` and `builder`.

use clap::{Args, Subcommand};

/// `zkelf build`.
#[derive(Debug, Args)]
pub struct BuildArgs {}

/// `zkelf diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {}

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
pub struct BuilderBaseArgs {}

/// `zkelf builder image`.
#[derive(Debug, Args)]
pub struct BuilderImageArgs {}
