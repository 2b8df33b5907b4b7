//! `zkelf inspect`: what an artifact is and whether its signatures count, without writing the ELF
//! (its bytes are streamed through the hasher only, so every signature can be evaluated).

use std::io::Write;

use anyhow::Context as _;
use serde::Serialize;
use zkelf_registry::fetch;
use zkelf_registry::pull::{self, BrokenAttestation, PullOptions};
use zkelf_registry::store;
use zkelf_registry::verify::{Expected, SignatureReport};
use zkelf_registry::{Reference, VerificationError};
use zkelf_trust::statement::Statement;

use super::pull::{write_not_read, write_signature};
use super::shared::keys::load_policy;
use super::shared::network::{network_options, retry_policy};
use super::shared::pins::optional_sha256;
use super::shared::reporters::ProgressReporter;
use crate::args::dist::InspectArgs;
use crate::error::ExitStatus;
use crate::printer::{Printer, Report, escape};

#[derive(Debug, Serialize)]
struct ProvenanceSummary {
    sha256: String,
    size: usize,
    source: Option<String>,
    commit: Option<String>,
    builder: Option<String>,
}

#[derive(Debug, Serialize)]
struct InspectReport {
    reference: String,
    manifest: String,
    index: Option<String>,
    annotations: std::collections::BTreeMap<String, String>,
    /// The release signature's statement; `null` when its trusted comment is not one (unbound).
    statement: Option<Statement>,
    /// The release signature's trusted comment when it is not a statement.
    unbound_comment: Option<String>,
    elf_digest: String,
    elf_size: u64,
    elf_matches: bool,
    provenance: Option<ProvenanceSummary>,
    vk: Option<String>,
    vk_signed: bool,
    signatures: Vec<SignatureReport>,
    broken_attestations: Vec<BrokenAttestation>,
    /// Distinct attestations listed past the bound on how many are read (they do not count).
    attestations_not_read: usize,
    verified: bool,
    verdict: String,
}

impl Report for InspectReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{}", escape(&self.reference))?;
        writeln!(out, "manifest   {}", self.manifest)?;
        if let Some(index) = &self.index {
            writeln!(out, "index      {index}")?;
        }
        match (&self.statement, &self.unbound_comment) {
            (Some(s), _) => writeln!(out, "statement  {s}")?,
            (None, comment) => writeln!(
                out,
                "statement  none: the trusted comment `{}` binds no guest, version or zkVM",
                escape(comment.as_deref().unwrap_or_default())
            )?,
        }
        writeln!(
            out,
            "elf        {} ({} bytes)",
            self.elf_digest, self.elf_size
        )?;
        match &self.provenance {
            Some(p) => writeln!(
                out,
                "provenance sha256:{} source {} commit {} builder {}",
                p.sha256,
                escape(p.source.as_deref().unwrap_or("?")),
                escape(p.commit.as_deref().unwrap_or("?")),
                escape(p.builder.as_deref().unwrap_or("?"))
            )?,
            None => writeln!(out, "provenance none")?,
        }
        if let Some(vk) = &self.vk {
            let signed = if self.vk_signed {
                " (with its own signature)"
            } else {
                ""
            };
            writeln!(out, "vk         sha256:{vk}{signed}")?;
        }
        writeln!(out, "signatures")?;
        for s in &self.signatures {
            write_signature(out, s)?;
        }
        for b in &self.broken_attestations {
            writeln!(
                out,
                "  attestation {}: unreadable: {}",
                escape(&b.manifest),
                escape(&b.reason)
            )?;
        }
        write_not_read(out, self.attestations_not_read)?;
        writeln!(out, "verdict    {}", escape(&self.verdict))
    }
}

fn provenance_summary(bytes: &[u8]) -> ProvenanceSummary {
    let value: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let def = &value["predicate"]["buildDefinition"];
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let builder = def["resolvedDependencies"].as_array().and_then(|deps| {
        deps.iter().find_map(|d| {
            text(&d["name"])
                .filter(|n| n.contains("builder"))
                .and(text(&d["digest"]["sha256"]).or_else(|| text(&d["uri"])))
        })
    });
    ProvenanceSummary {
        sha256: zkelf_trust::digest::Sha256Digest::of(bytes).to_string(),
        size: bytes.len(),
        source: text(&def["externalParameters"]["source"]["uri"]),
        commit: text(&def["externalParameters"]["source"]["commit"]),
        builder,
    }
}

/// Runs `zkelf inspect`.
pub async fn inspect(args: InspectArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let reference: Reference = args.reference.parse()?;
    let policy = load_policy(&args.trust)?;
    let sha256 = optional_sha256("--sha256", args.sha256.as_deref())?;
    let network = network_options(&args.network)?;
    let store = store::open(&reference, &network)?;
    let reporter = ProgressReporter::new(printer);
    let retry = retry_policy(&args.network);
    let context = || format!("inspect of `{reference}` failed");
    let resolved = pull::resolve(
        store.as_ref(),
        &reference,
        args.zkvm.as_deref(),
        sha256.as_ref(),
        retry,
        &reporter,
    )
    .await
    .with_context(context)?;
    let elf = resolved.layers.elf.clone();
    if elf.size > args.max_size {
        return Err(anyhow::Error::new(VerificationError::TooLarge {
            what: format!("the ELF `{}` ({} bytes)", elf.digest, elf.size),
            limit: args.max_size,
        }))
        .with_context(context);
    }
    let what = format!("the ELF `{}`", elf.digest);
    let measured = fetch::measure(store.as_ref(), &elf, &what, retry, &reporter)
        .await
        .with_context(context)?;
    let (digests, elf_matches) = (measured.digests, measured.matches);
    let expected = Expected {
        sha256,
        ..Expected::default()
    };
    let options = PullOptions {
        zkvm: args.zkvm.as_deref(),
        expected: &expected,
        allow_legacy: false,
        allow_unbound: false,
        policy: &policy,
        max_size: args.max_size,
        allow_downgrade: true,
        state: None,
        cache: None,
        lock: None,
        retry,
        reporter: &reporter,
        vk: zkelf_registry::vk::VkOutput::Ignore,
    };
    let evaluated = pull::evaluate(&resolved, &digests, None, &options);
    let (verified, verdict) = match (&evaluated.outcome, elf_matches) {
        (_, false) => (
            false,
            format!("the ELF blob does not hash to `{}`", elf.digest),
        ),
        (Ok(_), true) => (true, "verified: the policy accepts it".to_owned()),
        (Err(e), true) => (false, e.to_string()),
    };
    printer.report(&InspectReport {
        reference: reference.to_string(),
        manifest: resolved.manifest_digest.to_string(),
        index: resolved.index_digest.map(|d| d.to_string()),
        annotations: resolved.manifest.annotations.clone(),
        statement: resolved.claimed.clone(),
        unbound_comment: resolved
            .claimed
            .is_none()
            .then(|| resolved.signatures[0].trusted_comment().map(str::to_owned))
            .flatten(),
        elf_digest: elf.digest.to_string(),
        elf_size: elf.size,
        elf_matches,
        provenance: resolved.provenance.as_deref().map(provenance_summary),
        vk: resolved
            .vk
            .as_deref()
            .map(|v| zkelf_trust::digest::Sha256Digest::of(v).to_string()),
        vk_signed: resolved.vk_signature.is_some(),
        signatures: evaluated.reports,
        broken_attestations: resolved.broken_attestations.clone(),
        attestations_not_read: resolved.attestations_not_read,
        verified,
        verdict,
    })?;
    // The report is printed either way; the exit code says whether the policy is satisfied, so
    // scripts can gate on `inspect` as they do on `pull` and `verify` (SPEC §9).
    Ok(if verified {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
