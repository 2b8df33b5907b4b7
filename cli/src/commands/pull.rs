//! `zkelf pull`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;
use zkelf_registry::Reference;
use zkelf_registry::cache::Cache;
use zkelf_registry::lockfile::Lock;
use zkelf_registry::pull::{self, Output, PullOptions};
use zkelf_registry::state::RollbackState;
use zkelf_registry::store;
use zkelf_registry::verify::{Expected, SignatureReport};
use zkelf_registry::vk::{PulledVk, VkCheck, VkOutput};

use super::shared::dirs::{cache_dir, state_dir};
use super::shared::keys::load_policy;
use super::shared::network::{network_options, retry_policy};
use super::shared::pins::{optional_version, pins};
use super::shared::reporters::ProgressReporter;
use crate::args::dist::PullArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::{Printer, Report, escape};

/// What `pull` reports.
#[derive(Debug, Serialize)]
struct PullReport {
    reference: String,
    output: PathBuf,
    /// True when no counting signature carries a zkelf statement: the pin alone names the
    /// bytes, and nothing binds guest, version or zkVM (these fields are then `null`).
    unbound: bool,
    /// What held the bytes when unbound: `sha256`, `lock` or `allow_unbound`.
    pinned_by: Option<&'static str>,
    guest: Option<String>,
    version: Option<String>,
    zkvm: Option<String>,
    target: Option<String>,
    sha256: String,
    size: u64,
    manifest: String,
    index: Option<String>,
    from_cache: bool,
    pinned: bool,
    signatures: Vec<SignatureReport>,
    /// Distinct attestations listed past the bound on how many are read (they do not count).
    attestations_not_read: usize,
    vk: Option<VkReport>,
}

/// The verification key in `pull`'s report.
#[derive(Debug, Serialize)]
pub(super) struct VkReport {
    sha256: String,
    size: u64,
    /// Where it was written; `null` when not asked for.
    output: Option<PathBuf>,
    verified: bool,
    #[serde(flatten)]
    check: VkCheck,
}

impl VkReport {
    pub(super) fn of(vk: &PulledVk) -> Self {
        Self {
            sha256: vk.sha256.to_string(),
            size: vk.size,
            output: vk.path.clone(),
            verified: vk.verified(),
            check: vk.check.clone(),
        }
    }

    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let how = match &self.check {
            VkCheck::Statement => "bound by the statement".to_owned(),
            VkCheck::Signature { unbound: true, .. } => {
                "signed on its own, held by its pinned sha256".to_owned()
            }
            VkCheck::Signature { .. } => "signed on its own".to_owned(),
            VkCheck::NotChecked => "not checked (not asked for; pass `--vk-out`)".to_owned(),
        };
        writeln!(
            out,
            "vk {} ({} bytes, sha256 {})",
            how, self.size, self.sha256
        )?;
        if let VkCheck::Signature { signatures, .. } = &self.check {
            for s in signatures {
                write_signature(out, s)?;
            }
        }
        if let Some(path) = &self.output {
            writeln!(out, "wrote {}", path.display())?;
        }
        Ok(())
    }
}

/// The plain warning every unbound result carries, on stderr and in the report.
pub(super) const UNBOUND_WARNING: &str = "the signature's trusted comment is not a zkelf statement: nothing binds guest, version or zkVM; the pinned sha256 alone names these bytes";

impl Report for PullReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        match (&self.guest, &self.version, &self.zkvm) {
            (Some(guest), Some(version), Some(zkvm)) if !self.unbound => writeln!(
                out,
                "verified {guest} {version} for {zkvm} ({} bytes, sha256 {})",
                self.size, self.sha256
            )?,
            _ => {
                writeln!(
                    out,
                    "verified {} bytes with sha256 {} (pinned by {})",
                    self.size,
                    self.sha256,
                    match self.pinned_by {
                        Some("lock") => "`zkelf.lock`",
                        Some("allow_unbound") => "nothing: `--allow-unbound`",
                        _ => "`--sha256`",
                    }
                )?;
                writeln!(out, "UNBOUND: {UNBOUND_WARNING}")?;
            }
        }
        writeln!(out, "wrote {}", self.output.display())?;
        for s in &self.signatures {
            write_signature(out, s)?;
        }
        write_not_read(out, self.attestations_not_read)?;
        if let Some(vk) = &self.vk {
            vk.human(out)?;
        }
        Ok(())
    }
}

/// The line saying how many attestations were listed but not read, when any were.
pub(super) fn write_not_read(out: &mut dyn Write, not_read: usize) -> std::io::Result<()> {
    if not_read == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "  {not_read} more attestations listed were not read (at most {} are read); they do not count",
        zkelf_registry::artifact::MAX_REFERRERS
    )
}

/// One line per signature: who signed, whether it counts, and why not.
pub(super) fn write_signature(out: &mut dyn Write, s: &SignatureReport) -> std::io::Result<()> {
    let key = escape(s.key_id.as_deref().unwrap_or("?"));
    let name = s
        .key_name
        .as_deref()
        .map(|n| format!(" ({})", escape(n)))
        .unwrap_or_default();
    // `release by key …` / `rebuild by key …`: the kind the statement claims.
    let by = s
        .kind
        .as_deref()
        .map_or_else(|| "key".to_owned(), |k| format!("{} by key", escape(k)));
    let origin = escape(&s.origin);
    match (&s.counts_for, &s.reason) {
        (Some(role), _) => writeln!(out, "  {origin}: {by} {key}{name} counts for {role}"),
        (None, Some(reason)) => writeln!(
            out,
            "  {origin}: {by} {key}{name} does not count: {}",
            escape(reason)
        ),
        (None, None) => writeln!(out, "  {origin}: {by} {key}{name} does not count"),
    }
}

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
        unbound: pulled.unbound(),
        pinned_by,
        guest: s.map(|s| s.guest.clone()),
        version: s.map(|s| s.version.to_string()),
        zkvm: s.map(|s| s.zkvm.clone()),
        target: s.map(|s| s.target.clone()),
        sha256: pulled.elf.sha256.to_string(),
        size: pulled.elf.size,
        manifest: pulled.resolved.manifest_digest.to_string(),
        index: pulled.resolved.index_digest.map(|d| d.to_string()),
        from_cache: pulled.from_cache,
        pinned: pulled.pinned,
        signatures: pulled.signatures,
        attestations_not_read: pulled.resolved.attestations_not_read,
        vk: pulled.vk.as_ref().map(VkReport::of),
    })?;
    Ok(ExitStatus::Success)
}
