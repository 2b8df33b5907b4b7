//! `zkelf rebuild`.

use crate::args::audit::RebuildArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;

/// Runs `zkelf rebuild`.
pub async fn rebuild(_args: RebuildArgs, _printer: &Printer) -> anyhow::Result<ExitStatus> {
    Err(super::not_implemented("rebuild"))
}
