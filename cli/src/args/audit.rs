//! Arguments of `rebuild` and `attest`.

use clap::Args;

/// `zkelf rebuild`.
#[derive(Debug, Args)]
pub struct RebuildArgs {}

/// `zkelf attest`.
#[derive(Debug, Args)]
pub struct AttestArgs {}
