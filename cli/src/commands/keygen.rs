//! `zkelf keygen`.

use crate::args::trust::KeygenArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;

/// Runs `zkelf keygen`.
pub fn keygen(_args: KeygenArgs, _printer: &Printer) -> anyhow::Result<ExitStatus> {
    Err(super::not_implemented("keygen"))
}
