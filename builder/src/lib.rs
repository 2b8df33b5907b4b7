//! Hermetic Docker builds of zkVM guest ELFs, their provenance, reproducibility checks and ELF diffs.
//!
//! The pieces, in the order a build uses them:
//! - [`Engine`]: the Docker engine (bollard), version-negotiated, with a clear error when absent;
//! - [`base`]: `zkelf builder base`, a debootstrapped Debian packed as a deterministic tar;
//! - [`image`]: `zkelf builder image`, Dockerfile.builder on that base, tagged by its inputs;
//! - [`manifest`] and [`source`]: a guest's `zkelf.toml` and the git checkout it lives in,
//!   [`git`] every git command (explicit repository, no command-running configuration);
//! - [`profile`]: the zkVM profiles (target, build-std, flags, linker script, post-link step);
//! - [`build`]: fetch (network) and build (`--network none`) containers, provenance, outputs;
//! - [`provenance`]: the in-toto Statement v1 / SLSA Provenance v1 document;
//! - [`rebuild`]: a release rebuilt from its provenance, against this builder's differences;
//! - [`toolbox`]: each zkVM's executor and VK derivation, built and run in the toolbox image;
//! - [`diff`]: section- and symbol-level ELF comparison.

pub mod base;
pub mod build;
mod cache;
pub mod diff;
mod docker;
mod error;
mod fsutil;
pub mod git;
pub mod image;
pub mod manifest;
pub mod profile;
pub mod provenance;
pub mod rebuild;
mod reporter;
pub mod source;
pub mod toolbox;
pub mod workspace;

pub use build::{BuildOptions, BuiltArtifact, build_guest};
pub use docker::Engine;
pub use error::{BuilderError, UnsafePathReason};
pub use reporter::{NoReporter, Reporter};
