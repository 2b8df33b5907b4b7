//! `zkelf build`.

use crate::args::build::BuildArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;

/// Runs `zkelf build`.
pub async fn build(_args: BuildArgs, _printer: &Printer) -> anyhow::Result<ExitStatus> {
    Err(super::not_implemented("build"))
}
