//! `zkelf diff`: exit 0 when identical, 1 when different, 2 when a file cannot be compared.

use zkelf_builder::diff::diff_files;

use crate::args::build::DiffArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;
use crate::reports::build::DiffReport;

/// Runs `zkelf diff`.
pub fn diff(args: DiffArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let diff = diff_files(&args.a, &args.b)?;
    let identical = diff.identical;
    printer.report(&DiffReport(diff))?;
    Ok(if identical {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
