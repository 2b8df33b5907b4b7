//! `zkelf release`.

use crate::args::dist::ReleaseArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;

/// Runs `zkelf release`.
pub async fn release(_args: ReleaseArgs, _printer: &Printer) -> anyhow::Result<ExitStatus> {
    Err(super::not_implemented("release"))
}
