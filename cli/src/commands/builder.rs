//! `zkelf builder base` and `zkelf builder image`.

use crate::args::build::BuilderCommand;
use crate::error::ExitStatus;
use crate::printer::Printer;

/// Runs `zkelf builder …`.
pub async fn builder(command: BuilderCommand, _printer: &Printer) -> anyhow::Result<ExitStatus> {
    match command {
        BuilderCommand::Base(_) => Err(super::not_implemented("builder base")),
        BuilderCommand::Image(_) => Err(super::not_implemented("builder image")),
    }
}
