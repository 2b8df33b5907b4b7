//! `zkelf verify`.

use crate::args::trust::VerifyArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;

/// Runs `zkelf verify`.
pub fn verify(_args: VerifyArgs, _printer: &Printer) -> anyhow::Result<ExitStatus> {
    Err(super::not_implemented("verify"))
}
