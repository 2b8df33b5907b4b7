//! `zkelf publish`.

use anyhow::Context as _;
use zkelf_registry::Reference;
use zkelf_registry::publish::{self};
use zkelf_registry::store;

use super::shared::epoch::source_date_epoch;
use super::shared::network::network_options;
use super::shared::policy::load_policy;
use super::shared::reporters::ProgressReporter;
use crate::args::dist::PublishArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::Printer;
use crate::reports::dist::PublishReport;

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
    let published = publish::publish(
        store.as_ref(),
        &artifacts,
        &policy,
        created,
        args.replace,
        &reporter,
    )
    .await
    .with_context(|| format!("publish of `{}` to `{to}` failed", args.dist.display()))?;
    printer.report(&PublishReport {
        to: to.to_string(),
        published,
    })?;
    Ok(ExitStatus::Success)
}
