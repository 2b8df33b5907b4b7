//! `zkelf pull`.

use anyhow::Context as _;
use zkelf_registry::Reference;
use zkelf_registry::cache::Cache;
use zkelf_registry::lockfile::Lock;
use zkelf_registry::pull::{self, Output, PullOptions};
use zkelf_registry::state::RollbackState;
use zkelf_registry::store;
use zkelf_registry::verify::Expected;
use zkelf_registry::vk::VkOutput;

use super::shared::dirs::{cache_dir, state_dir};
use super::shared::files::check_output_dir;
use super::shared::network::{network_options, retry_policy};
use super::shared::pins::{optional_version, pins};
use super::shared::policy::load_policy;
use super::shared::reporters::ProgressReporter;
use crate::args::dist::PullArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::Printer;
use crate::reports::dist::{PullReport, UNBOUND_WARNING, VkReport};
use crate::reports::verdict::Verdict;

/// Runs `zkelf pull`.
pub async fn pull(args: PullArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let reference: Reference = args.reference.parse()?;
    let policy = load_policy(&args.trust)?;
    let (sha256, vk_sha256) = pins(&args.pins)?;
    let expected = Expected {
        guest: args.guest.clone(),
        version: optional_version(args.version.as_deref())?,
        zkvm: args.zkvm.clone(),
        sha256,
        vk_sha256,
    };
    if let Some(vk_out) = &args.vk_out
        && *vk_out == args.output
    {
        return Err(UsageError::new(
            format!("`--vk-out {}` is the ELF's output", vk_out.display()),
            "write the VK to another file, e.g. `<name>.vk`",
        )
        .into());
    }
    check_output_dir("-o", &args.output)?;
    if let Some(vk_out) = &args.vk_out {
        check_output_dir("--vk-out", vk_out)?;
    }
    let network = network_options(&args.network)?;
    let store = store::open(&reference, &network)?;
    let state = state_dir().map(RollbackState::new);
    let cache = if args.no_cache {
        None
    } else {
        cache_dir().map(Cache::new)
    };
    let lock = args.lock.as_ref().map(Lock::new);
    let reporter = ProgressReporter::new(printer);
    let options = PullOptions {
        zkvm: args.zkvm.as_deref(),
        expected: &expected,
        allow_legacy: args.allow_legacy,
        allow_unbound: args.allow_unbound,
        policy: &policy,
        max_size: args.max_size,
        allow_downgrade: args.allow_downgrade,
        state: state.as_ref(),
        cache: cache.as_ref(),
        lock: lock.as_ref(),
        retry: retry_policy(&args.network),
        reporter: &reporter,
        vk: args
            .vk_out
            .as_deref()
            .map_or(VkOutput::Ignore, VkOutput::File),
    };
    let pulled = pull::pull(
        store.as_ref(),
        &reference,
        Output::File(args.output.clone()),
        options,
    )
    .await
    .with_context(|| {
        let vk = args
            .vk_out
            .as_ref()
            .map(|p| format!(" or `{}`", p.display()))
            .unwrap_or_default();
        format!(
            "pull of `{reference}` failed; nothing was written to `{}`{vk}",
            args.output.display()
        )
    })?;
    let s = pulled.statement.as_ref();
    let pinned_by =
        pulled.unbound().then(
            || match (args.pins.sha256.is_some(), pulled.pinned_sha256) {
                (true, _) => "sha256",
                (false, Some(_)) => "lock",
                (false, None) => "allow_unbound",
            },
        );
    if pulled.unbound() {
        printer.warn(UNBOUND_WARNING);
    }
    printer.report(&PullReport {
        reference: reference.to_string(),
        output: args.output,
        verdict: Verdict {
            verified: true,
            unbound: pulled.unbound(),
            pinned_by,
            statement: pulled.statement.clone(),
            signatures: pulled.signatures,
            attestations_not_read: pulled.resolved.attestations_not_read,
        },
        guest: s.map(|s| s.guest.clone()),
        version: s.map(|s| s.version.to_string()),
        zkvm: s.map(|s| s.zkvm.clone()),
        target: s.map(|s| s.target.clone()),
        sha256: pulled.elf.sha256,
        size: pulled.elf.size,
        manifest: pulled.resolved.manifest_digest,
        index: pulled.resolved.index_digest,
        from_cache: pulled.from_cache,
        pinned: pulled.pinned,
        vk: pulled.vk.as_ref().map(VkReport::of),
    })?;
    Ok(ExitStatus::Success)
}
