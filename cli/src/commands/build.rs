//! `zkelf build`.

use std::io::Write;

use anyhow::Context;
use serde::Serialize;
use zkelf_builder::{BuildOptions, BuiltArtifact, Engine, build_guest};

use super::build_reporter::BuildReporter;
use crate::args::build::BuildArgs;
use crate::env::EnvVars;
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

/// Connects to the engine named by `DOCKER_HOST` (or the default socket).
pub(super) async fn engine() -> anyhow::Result<Engine> {
    let host = std::env::var(EnvVars::DOCKER_HOST).ok();
    Ok(Engine::connect(host.as_deref()).await?)
}

/// Runs `zkelf build`.
pub async fn build(args: BuildArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let engine = engine().await?;
    let options = BuildOptions {
        out_dir: args.out,
        zkvm: args.artifact,
        allow_dirty: args.allow_dirty,
        check_reproducible: args.check_reproducible,
        cache_dir: super::pull::cache_dir().map(|d| d.join("builder")),
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
