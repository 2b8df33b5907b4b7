//! Arguments of `keygen`, `sign` and `verify`.

use clap::Args;

/// `zkelf keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {}

/// `zkelf sign`.
#[derive(Debug, Args)]
pub struct SignArgs {}

/// `zkelf verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {}
