//! `zkelf publish`.

use std::io::Write;

use anyhow::Context as _;
use serde::Serialize;
use zkelf_registry::Reference;
use zkelf_registry::publish::{self, Published};
use zkelf_registry::store;

use super::shared::epoch::source_date_epoch;
use super::shared::keys::load_policy;
use super::shared::network::network_options;
use super::shared::reporters::ProgressReporter;
use crate::args::dist::PublishArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::{Printer, Report};

#[derive(Debug, Serialize)]
struct PublishReport {
    to: String,
    #[serde(flatten)]
    published: Published,
}

impl Report for PublishReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for a in &self.published.artifacts {
            writeln!(out, "published {}:{} {}", self.to, a.tag, a.manifest_digest)?;
        }
        writeln!(
            out,
            "published {}:{} {} (release index)",
            self.to, self.published.index_tag, self.published.index_digest
        )?;
        writeln!(
            out,
            "uploaded {} blobs ({} bytes), {} already present",
            self.published.uploaded_blobs,
            self.published.uploaded_bytes,
            self.published.skipped_blobs
        )
    }
}

/// Where to publish: a store reference without tag or digest (tags come from the artifacts).
pub(super) fn target(to: &str) -> anyhow::Result<Reference> {
    let reference: Reference = to.parse()?;
    match &reference {
        Reference::Https { .. } => Err(UsageError::new(
            format!("cannot publish to `{to}`"),
            "publish to `oci-layout:<dir>` or `<host>[:<port>]/<path>`",
        )
        .into()),
        r if r.target().is_some() => Err(UsageError::new(
            format!("`--to {to}` names a tag or digest"),
            "give the repository only; tags `<version>` and `<version>-<zkvm>` are set by publish",
        )
        .into()),
        _ => Ok(reference),
    }
}

/// Runs `zkelf publish`.
pub async fn publish(args: PublishArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let to = target(&args.to)?;
    let policy = load_policy(&args.trust)?;
    let created = source_date_epoch()?;
    let dist = args.dist.clone();
    let artifacts = tokio::task::spawn_blocking(move || publish::scan_dist(&dist)).await??;
    let network = network_options(&args.network)?;
    let store = store::open(&to, &network)?;
    let reporter = ProgressReporter::new(printer);
    let published = publish::publish(store.as_ref(), &artifacts, &policy, created, &reporter)
        .await
        .with_context(|| format!("publish of `{}` to `{to}` failed", args.dist.display()))?;
    printer.report(&PublishReport {
        to: to.to_string(),
        published,
    })?;
    Ok(ExitStatus::Success)
}
