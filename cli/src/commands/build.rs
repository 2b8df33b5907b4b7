//! `zkelf build`.

use std::io::Write;

use anyhow::Context;
use serde::Serialize;
use zkelf_builder::{BuildOptions, BuiltArtifact, build_guest};

use super::shared::dirs::builder_cache_dir;
use super::shared::engine;
use super::shared::reporters::BuildReporter;
use crate::args::build::BuildArgs;
use crate::error::ExitStatus;
use crate::printer::{Printer, Report};

/// What `build` reports: the artifacts written.
#[derive(Debug, Serialize)]
struct BuildReport {
    artifacts: Vec<BuiltArtifact>,
}

impl Report for BuildReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for a in &self.artifacts {
            writeln!(out, "{}  {}", a.sha256, a.elf.display())?;
            writeln!(out, "{}  {}", a.provenance_sha256, a.provenance.display())?;
            if let (Some(vk), Some(sha256), Some(id)) = (&a.vk, &a.vk_sha256, &a.vk_id) {
                writeln!(out, "{sha256}  {} (image id {id})", vk.display())?;
            }
        }
        Ok(())
    }
}

/// Runs `zkelf build`.
pub async fn build(args: BuildArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let engine = engine().await?;
    let options = BuildOptions {
        out_dir: args.out,
        zkvm: args.artifact,
        allow_dirty: args.allow_dirty,
        check_reproducible: args.check_reproducible,
        cache_dir: builder_cache_dir(),
        suite: args.suite,
        ..BuildOptions::default()
    };
    let reporter = BuildReporter::new(printer);
    let artifacts = build_guest(&engine, &args.guest_dir, &options, &reporter)
        .await
        .with_context(|| format!("cannot build the guest in `{}`", args.guest_dir.display()))?;
    printer.report(&BuildReport { artifacts })?;
    Ok(ExitStatus::Success)
}
