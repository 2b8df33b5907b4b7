//! Arguments of `publish`, `release`, `pull` and `inspect`.

use clap::Args;

/// `zkelf publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {}

/// `zkelf release`.
#[derive(Debug, Args)]
pub struct ReleaseArgs {}

/// `zkelf pull`.
#[derive(Debug, Args)]
pub struct PullArgs {}

/// `zkelf inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {}
