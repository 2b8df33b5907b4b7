//! `zkelf diff`: exit 0 when identical, 1 when different, 2 when a file cannot be compared.

use std::io::Write;

use serde::Serialize;
use zkelf_builder::diff::{ElfDiff, diff_files};

use crate::args::build::DiffArgs;
use crate::error::ExitStatus;
use crate::printer::{Printer, Report};

#[derive(Debug, Serialize)]
#[serde(transparent)]
struct DiffReport(ElfDiff);

impl Report for DiffReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(self.0.render().as_bytes())
    }
}

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
