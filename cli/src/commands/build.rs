//! `zkelf build`.

use anyhow::Context;
use zkelf_builder::{BuildOptions, build_guest};

use super::shared::dirs::{builder_cache_dir, builder_trust_dir};
use super::shared::engine;
use super::shared::reporters::BuildReporter;
use crate::args::build::BuildArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::Printer;
use crate::reports::build::BuildReport;

/// Runs `zkelf build`.
pub async fn build(args: BuildArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    // Named as what it is, not as a directory without a `zkelf.toml` (and before Docker).
    if !args.guest_dir.is_dir() {
        let path = args.guest_dir.display();
        let message = if args.guest_dir.exists() {
            format!("the guest path `{path}` is not a directory")
        } else {
            format!("the guest directory `{path}` does not exist")
        };
        return Err(UsageError::new(
            message,
            "pass the directory that holds the guest's `zkelf.toml`",
        )
        .into());
    }
    let engine = engine().await?;
    let options = BuildOptions {
        out_dir: args.out,
        zkvm: args.artifact,
        allow_dirty: args.allow_dirty,
        check_reproducible: args.check_reproducible,
        cache_dir: builder_cache_dir(),
        suite: args.suite,
        git_mirrors: args.sources.git_mirrors,
        trust_dir: builder_trust_dir(),
        zkelf_version: crate::version::VERSION.to_owned(),
        ..BuildOptions::default()
    };
    let reporter = BuildReporter::new(printer);
    let artifacts = build_guest(&engine, &args.guest_dir, &options, &reporter)
        .await
        .with_context(|| format!("cannot build the guest in `{}`", args.guest_dir.display()))?;
    printer.report(&BuildReport { artifacts })?;
    Ok(ExitStatus::Success)
}
