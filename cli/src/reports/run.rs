//! What `run` reports.

use std::io::Write;

use serde::Serialize;
use zkelf_builder::toolbox::Execution;

use crate::render::Report;

/// A guest's run that halted successfully: `{"zkvm", "public_values", "cycles"}`.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct RunReport(pub Execution);

impl Report for RunReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let run = &self.0;
        writeln!(out, "zkvm          {}", run.zkvm)?;
        writeln!(out, "public values {}", hex::encode(&run.public_values))?;
        writeln!(out, "cycles        {}", run.cycles)
    }
}
