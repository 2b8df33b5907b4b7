//! `zkelf verify`: every check of SPEC §2 and the trust policy, on a local ELF.

use zkelf_registry::verify::SignatureReport;
use zkelf_trust::digest::{Sha256Digest, hash_file};
use zkelf_trust::policy::Role;
use zkelf_trust::signature::Signature;
use zkelf_trust::verify::{self, Expected, Labels, Options, Subject};

use super::shared::files::{check_vk, hash_blob, sibling_with_suffix};
use super::shared::pins::{optional_sha256, optional_version};
use super::shared::policy::load_policy;
use crate::args::trust::VerifyArgs;
use crate::error::{ExitStatus, Judged};
use crate::printer::Printer;
use crate::reports::trust::{BlobCheck, VerifyReport};
use crate::reports::verdict::Verdict;

/// Runs `zkelf verify`.
pub fn verify(args: VerifyArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let policy = load_policy(&args.trust)?;
    let expected = Expected {
        guest: args.guest.clone(),
        version: optional_version(args.version.as_deref())?,
        zkvm: args.zkvm.clone(),
        sha256: optional_sha256("--sha256", args.sha256.as_deref())?,
        vk_sha256: None,
    };
    let sig_paths = if args.sig.is_empty() {
        vec![sibling_with_suffix(&args.elf, ".minisig")]
    } else {
        args.sig.clone()
    };
    let signatures = sig_paths
        .iter()
        .map(|path| Signature::from_file(path))
        .collect::<Result<Vec<_>, _>>()?;

    printer.info(format!("hashing `{}`…", args.elf.display()));
    let digests = hash_file(&args.elf)?;
    let mut subject = Subject::new(args.elf.display().to_string(), digests);
    subject.provenance = args.provenance.as_deref().map(hash_blob).transpose()?;
    subject.vk = args
        .vk
        .as_deref()
        .map(|vk| check_vk(&args.elf, vk))
        .transpose()?;
    subject.file = Some(args.elf.clone());
    let options = Options {
        allow_legacy: args.allow_legacy,
        allow_unbound: args.allow_unbound,
        ..Options::default()
    };
    let mut evaluation = verify::evaluate(&policy, &subject, &signatures, &expected, &options);
    // Attestations must be about the release that counted (its guest, version and zkVM), even
    // when those were not asked for.
    if let Some(release) = evaluation
        .checks
        .iter()
        .filter(|c| c.counts_for == Some(Role::Release))
        .find_map(|c| c.statement.clone())
    {
        subject.labels = Labels::of(&release);
        evaluation = verify::evaluate(&policy, &subject, &signatures, &expected, &options);
    }
    let verified = evaluation
        .into_verified()
        .map_err(|err| Judged::new(err, |i| sig_paths[i].display().to_string()))?;

    let blob = |signed: Option<Sha256Digest>, given: Option<Sha256Digest>| match (signed, given) {
        (_, Some(_)) => BlobCheck::Matches,
        (Some(_), None) => BlobCheck::NotChecked,
        (None, None) => BlobCheck::None,
    };
    let statement = verified.statement.clone();
    // The comment shown for an unbound result: that of the first signature that counted.
    let trusted_comment = verified
        .evaluation
        .checks
        .iter()
        .find(|c| c.counts_for.is_some())
        .map(|c| c.trusted_comment.clone())
        .unwrap_or_default();
    // Only a pinned sha256 or `--allow-unbound` lets an unbound signature count.
    let pin = match expected.sha256 {
        Some(_) => "sha256",
        None => "allow_unbound",
    };
    let pinned_by = verified.unbound.then_some(pin);
    let signatures = verified
        .evaluation
        .checks
        .iter()
        .map(|c| SignatureReport::of(c, sig_paths[c.index].display().to_string()))
        .collect();
    let report = VerifyReport {
        elf: args.elf,
        sha256: verified.evaluation.sha256,
        size: verified.evaluation.size,
        provenance: blob(
            statement.as_ref().and_then(|s| s.provenance),
            subject.provenance,
        ),
        vk: blob(statement.as_ref().and_then(|s| s.vk), subject.vk),
        verdict: Verdict {
            verified: true,
            unbound: verified.unbound,
            pinned_by,
            statement,
            signatures,
            // A local verification reads every signature it is given.
            attestations_not_read: 0,
            attestations_out_of_time: 0,
        },
        trusted_comment,
    };
    if report.verdict.unbound {
        printer.warn(
            "the signature's trusted comment is not a zkelf statement: nothing binds guest, version or zkVM",
        );
    }
    printer.report(&report)?;
    Ok(ExitStatus::Success)
}
