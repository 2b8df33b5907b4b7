//! `zkelf publish`.

use crate::args::dist::PublishArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;

/// Runs `zkelf publish`.
pub async fn publish(_args: PublishArgs, _printer: &Printer) -> anyhow::Result<ExitStatus> {
    Err(super::not_implemented("publish"))
}
