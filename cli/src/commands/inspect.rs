//! `zkelf inspect`.

use crate::args::dist::InspectArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;

/// Runs `zkelf inspect`.
pub async fn inspect(_args: InspectArgs, _printer: &Printer) -> anyhow::Result<ExitStatus> {
    Err(super::not_implemented("inspect"))
}
