//! `zkelf attest`.

use crate::args::audit::AttestArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;

/// Runs `zkelf attest`.
pub async fn attest(_args: AttestArgs, _printer: &Printer) -> anyhow::Result<ExitStatus> {
    Err(super::not_implemented("attest"))
}
