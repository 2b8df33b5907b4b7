//! `zkelf sign`.

use crate::args::trust::SignArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;

/// Runs `zkelf sign`.
pub fn sign(_args: SignArgs, _printer: &Printer) -> anyhow::Result<ExitStatus> {
    Err(super::not_implemented("sign"))
}
