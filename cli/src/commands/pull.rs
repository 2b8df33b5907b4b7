//! `zkelf pull`.

use crate::args::dist::PullArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;

/// Runs `zkelf pull`.
pub async fn pull(_args: PullArgs, _printer: &Printer) -> anyhow::Result<ExitStatus> {
    Err(super::not_implemented("pull"))
}
