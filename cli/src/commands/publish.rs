//! `zkelf publish`.

use std::io::Write;

use anyhow::Context as _;
use serde::Serialize;
use zkelf_registry::Reference;
use zkelf_registry::publish::{self, Published};
use zkelf_registry::store;

use super::pull::{ProgressReporter, load_policy, network_options};
use crate::args::dist::PublishArgs;
use crate::env::EnvVars;
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

/// `SOURCE_DATE_EPOCH`, when set, fixes the `created` annotation.
pub(super) fn source_date_epoch() -> anyhow::Result<Option<u64>> {
    match std::env::var(EnvVars::SOURCE_DATE_EPOCH) {
        Ok(v) => v.trim().parse().map(Some).map_err(|_| {
            UsageError::new(
                format!(
                    "`{}` is `{v}`, not unix seconds",
                    EnvVars::SOURCE_DATE_EPOCH
                ),
                "unset it or set it to e.g. the commit time (`git log -1 --format=%ct`)",
            )
            .into()
        }),
        Err(_) => Ok(None),
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
