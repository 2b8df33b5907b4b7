//! `zkelf diff`.

use crate::args::build::DiffArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;

/// Runs `zkelf diff`.
pub fn diff(_args: DiffArgs, _printer: &Printer) -> anyhow::Result<ExitStatus> {
    Err(super::not_implemented("diff"))
}
