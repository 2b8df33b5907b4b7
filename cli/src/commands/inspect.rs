//! `zkelf inspect`: what an artifact is and whether its signatures count, without writing the ELF
//! (its bytes are streamed through the hasher only, so every signature can be evaluated). With
//! no trust policy anywhere the rule looks, the artifact is shown and "not judged" (exit 0).

use anyhow::Context as _;
use zkelf_registry::fetch;
use zkelf_registry::provenance::ProvenanceSummary;
use zkelf_registry::pull::{self, PullOptions};
use zkelf_registry::signature::FetchedSignature;
use zkelf_registry::store;
use zkelf_registry::verify::{Expected, SignatureReport};
use zkelf_registry::{Reference, VerificationError};

use super::shared::network::{network_options, retry_policy};
use super::shared::pins::optional_sha256;
use super::shared::policy::optional_policy;
use super::shared::reporters::ProgressReporter;
use crate::args::dist::InspectArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;
use crate::reports::dist::{InspectReport, InspectedProvenance};

fn provenance_report(bytes: &[u8]) -> InspectedProvenance {
    let summary = ProvenanceSummary::read(bytes);
    InspectedProvenance {
        sha256: zkelf_trust::digest::Sha256Digest::of(bytes),
        size: bytes.len(),
        source: summary.source_uri().map(str::to_owned),
        commit: summary.commit().map(str::to_owned),
        builder: summary.builder().map(str::to_owned),
    }
}

/// The verdict of an artifact shown without a trust policy.
const NOT_JUDGED: &str = "not judged: no trust policy (pass `--policy <FILE>` or `--key <PUB>`, set `ZKELF_POLICY`, or write `$XDG_CONFIG_HOME/zkelf/policy.toml`)";

/// A signature listed without a policy: who made it and what it claims, nothing counted.
fn unjudged(signature: &FetchedSignature) -> SignatureReport {
    let parsed = signature.parsed();
    SignatureReport {
        origin: signature.origin.clone(),
        key_id: parsed.as_ref().ok().map(|s| s.key_id().to_string()),
        key_name: None,
        kind: signature
            .claimed_statement()
            .ok()
            .flatten()
            .map(|s| s.kind.to_string()),
        counts_for: None,
        reason: parsed.err().map(ToString::to_string),
    }
}

/// Runs `zkelf inspect`.
pub async fn inspect(args: InspectArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let reference: Reference = args.reference.parse()?;
    // Without a policy the artifact is still shown, its signatures listed but not judged.
    let policy = optional_policy(&args.trust)?;
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
        store::ManifestHints {
            elf_sha256: sha256,
            vk: true,
        },
        retry,
        &reporter,
    )
    .await
    .with_context(context)?;
    let elf = resolved.layers.elf.clone();
    if elf.size > args.max_size {
        return Err(anyhow::Error::new(VerificationError::OverMaxSize {
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
    let (signatures, verified, verdict) = match &policy {
        Some(policy) => {
            // The zkVM picked from an index must also be the one signed (an unbound signature
            // names none, so cannot count then).
            let expected = Expected {
                sha256,
                zkvm: args.zkvm.clone(),
                ..Expected::default()
            };
            let options = PullOptions {
                zkvm: args.zkvm.as_deref(),
                expected: &expected,
                allow_legacy: false,
                allow_unbound: false,
                policy,
                max_size: args.max_size,
                allow_downgrade: true,
                state: None,
                cache: None,
                lock: None,
                retry,
                reporter: &reporter,
                vk: zkelf_registry::vk::VkOutput::Ignore,
                derive_vk: None,
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
            (evaluated.reports, verified, verdict)
        }
        None => (
            resolved.signatures.iter().map(unjudged).collect(),
            false,
            NOT_JUDGED.to_owned(),
        ),
    };
    printer.report(&InspectReport {
        reference: reference.to_string(),
        manifest: resolved.manifest_digest,
        index: resolved.index_digest,
        annotations: resolved.manifest.annotations.clone(),
        statement: resolved.claimed.clone(),
        unbound_comment: resolved
            .claimed
            .is_none()
            .then(|| resolved.signatures[0].trusted_comment().map(str::to_owned))
            .flatten(),
        elf_digest: elf.digest,
        elf_size: elf.size,
        elf_matches,
        provenance: resolved.provenance.as_deref().map(provenance_report),
        vk: resolved
            .vk
            .as_deref()
            .map(zkelf_trust::digest::Sha256Digest::of),
        vk_signed: resolved.vk_signature.is_some(),
        signatures,
        broken_attestations: resolved.broken_attestations.clone(),
        attestations_not_read: resolved.attestations_not_read,
        attestations_out_of_time: resolved.attestations_out_of_time,
        judged: policy.is_some(),
        verified,
        verdict,
    })?;
    // The report is printed either way; the exit code says whether the policy is satisfied, so
    // scripts can gate on `inspect` as they do on `pull` and `verify` (SPEC §9).
    Ok(if verified || policy.is_none() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
