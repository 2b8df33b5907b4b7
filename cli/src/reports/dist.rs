//! Reports of `publish`, `release`, `pull`, `import` and `inspect`, and the lines they share.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;
use zkelf_builder::BuiltArtifact;
use zkelf_registry::import::Imported;
use zkelf_registry::publish::Published;
use zkelf_registry::pull::BrokenAttestation;
use zkelf_registry::verify::SignatureReport;
use zkelf_registry::vk::{PulledVk, VkCheck};
use zkelf_trust::digest::{OciDigest, Sha256Digest};
use zkelf_trust::statement::Statement;

use super::verdict::{Verdict, write_not_read, write_signature, write_unjudged_signature};
use crate::render::{Report, escape};

/// What `publish` reports.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct PublishReport {
    pub to: String,
    #[serde(flatten)]
    pub published: Published,
}

impl Report for PublishReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for a in &self.published.artifacts {
            writeln!(out, "published {}:{} {}", self.to, a.tag, a.manifest_digest)?;
            if let Some(old) = &a.replaced {
                writeln!(out, "  replaced {old} (--replace)")?;
            }
        }
        writeln!(
            out,
            "published {}:{} {} (release index)",
            self.to, self.published.index_tag, self.published.index_digest
        )?;
        if let Some(old) = &self.published.index_replaced {
            writeln!(out, "  replaced {old} (--replace)")?;
        }
        writeln!(
            out,
            "uploaded {} blobs ({} bytes), {} already present",
            self.published.uploaded_blobs,
            self.published.uploaded_bytes,
            self.published.skipped_blobs
        )
    }
}

/// What `release` reports: built, signed, published.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ReleaseReport {
    pub to: String,
    pub built: Vec<BuiltArtifact>,
    pub signed: Vec<Statement>,
    #[serde(flatten)]
    pub published: Published,
}

impl Report for ReleaseReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for s in &self.signed {
            writeln!(out, "signed {s}")?;
        }
        for a in &self.published.artifacts {
            writeln!(out, "published {}:{} {}", self.to, a.tag, a.manifest_digest)?;
        }
        writeln!(
            out,
            "published {}:{} {} (release index)",
            self.to, self.published.index_tag, self.published.index_digest
        )
    }
}

/// What `pull` reports.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct PullReport {
    pub reference: String,
    /// The ELF written; `null` with `--vk-only`.
    pub output: Option<PathBuf>,
    /// Whether it verified and why (shared with `verify`).
    pub verdict: Verdict,
    /// The statement's names; `null` when unbound (nothing binds them).
    pub guest: Option<String>,
    pub version: Option<String>,
    pub zkvm: Option<String>,
    pub target: Option<String>,
    pub sha256: Sha256Digest,
    pub size: u64,
    pub manifest: OciDigest,
    pub index: Option<OciDigest>,
    pub from_cache: bool,
    pub pinned: bool,
    pub vk: Option<VkReport>,
}

/// The verification key in `pull`'s report.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct VkReport {
    pub sha256: Sha256Digest,
    pub size: u64,
    /// Where it was written; `null` when not asked for.
    pub output: Option<PathBuf>,
    pub verified: bool,
    #[serde(flatten)]
    pub check: VkCheck,
    /// The toolbox that derived the same VK from the verified ELF (`--derive-vk`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derived_by: Option<String>,
}

impl VkReport {
    pub fn of(vk: &PulledVk) -> Self {
        Self {
            sha256: vk.sha256,
            size: vk.size,
            output: vk.path.clone(),
            verified: vk.verified(),
            check: vk.check.clone(),
            derived_by: vk.derived_by.clone(),
        }
    }

    pub fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let how = match &self.check {
            VkCheck::Statement => "bound by the statement".to_owned(),
            VkCheck::Signature { unbound: true, .. } => {
                "signed on its own, held by its pinned sha256".to_owned()
            }
            VkCheck::Signature { .. } => "signed on its own".to_owned(),
            VkCheck::NotChecked => "not checked (not asked for; pass `--vk-out`)".to_owned(),
        };
        let derived = match &self.derived_by {
            Some(by) => format!(", and derived from the ELF by {by}"),
            None => String::new(),
        };
        writeln!(
            out,
            "vk {how}{derived} ({} bytes, sha256 {})",
            self.size, self.sha256
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
pub const UNBOUND_WARNING: &str = "the signature's trusted comment is not a zkelf statement: nothing binds guest, version or zkVM; the pinned sha256 alone names these bytes";

impl Report for PullReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        match (&self.guest, &self.version, &self.zkvm) {
            (Some(guest), Some(version), Some(zkvm)) if !self.verdict.unbound => writeln!(
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
                    match self.verdict.pinned_by {
                        Some("lock") => "`zkelf.lock`",
                        Some("allow_unbound") => "nothing: `--allow-unbound`",
                        _ => "`--sha256`",
                    }
                )?;
                writeln!(out, "UNBOUND: {UNBOUND_WARNING}")?;
            }
        }
        if let Some(output) = &self.output {
            writeln!(out, "wrote {}", output.display())?;
        }
        for s in &self.verdict.signatures {
            write_signature(out, s)?;
        }
        write_not_read(
            out,
            self.verdict.attestations_not_read,
            self.verdict.attestations_out_of_time,
        )?;
        if let Some(vk) = &self.vk {
            vk.human(out)?;
        }
        Ok(())
    }
}

/// What `import` reports.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ImportReport {
    pub to: String,
    #[serde(flatten)]
    pub imported: Imported,
}

impl Report for ImportReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let i = &self.imported;
        writeln!(
            out,
            "imported {} as {} {} for {} ({})",
            i.source, i.guest, i.version, i.zkvm, i.target
        )?;
        writeln!(out, "wrote {}:{} {}", self.to, i.tag, i.manifest_digest)?;
        if let Some(old) = &i.replaced {
            writeln!(out, "  replaced {old} (--replace)")?;
        }
        writeln!(out, "  elf {} ({} bytes)", i.elf_digest, i.elf_size)?;
        if let Some(vk) = &i.vk_digest {
            let signed = if i.vk_signed {
                " with its own signature"
            } else {
                ""
            };
            writeln!(out, "  vk  {vk}{signed}")?;
        }
        writeln!(
            out,
            "  uploaded {} blobs, {} already present",
            i.uploaded_blobs, i.skipped_blobs
        )?;
        if i.unbound {
            writeln!(
                out,
                "UNBOUND: the upstream signature is kept as it is and binds no guest, version or zkVM: pulls of this artifact need `--sha256 {}` (or a `zkelf.lock` pin); sign a bound statement with `zkelf attest` to vouch for the names",
                i.elf_digest.sha256()
            )?;
        }
        Ok(())
    }
}

/// The provenance fields `inspect` shows.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct InspectedProvenance {
    pub sha256: Sha256Digest,
    pub size: usize,
    pub source: Option<String>,
    pub commit: Option<String>,
    pub builder: Option<String>,
}

/// What `inspect` reports.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct InspectReport {
    pub reference: String,
    pub manifest: OciDigest,
    pub index: Option<OciDigest>,
    pub annotations: std::collections::BTreeMap<String, String>,
    /// The release signature's statement; `null` when its trusted comment is not one (unbound).
    pub statement: Option<Statement>,
    /// The release signature's trusted comment when it is not a statement.
    pub unbound_comment: Option<String>,
    pub elf_digest: OciDigest,
    pub elf_size: u64,
    pub elf_matches: bool,
    pub provenance: Option<InspectedProvenance>,
    pub vk: Option<Sha256Digest>,
    pub vk_signed: bool,
    pub signatures: Vec<SignatureReport>,
    pub broken_attestations: Vec<BrokenAttestation>,
    /// Distinct attestations listed but not read (they do not count): past the bound on how
    /// many are read, or not read within `--attestation-timeout`.
    pub attestations_not_read: usize,
    /// Of those, the ones not read within `--attestation-timeout`.
    pub attestations_out_of_time: usize,
    /// Whether a trust policy judged it: `false` when none was given or found (`verified` is
    /// then `false`, the exit code 0, and no signature counts or is refused).
    pub judged: bool,
    pub verified: bool,
    pub verdict: String,
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
                "provenance {} source {} commit {} builder {}",
                OciDigest::from(p.sha256),
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
            writeln!(out, "vk         {}{signed}", OciDigest::from(*vk))?;
        }
        writeln!(out, "signatures")?;
        for s in &self.signatures {
            if self.judged {
                write_signature(out, s)?;
            } else {
                write_unjudged_signature(out, s)?;
            }
        }
        for b in &self.broken_attestations {
            writeln!(
                out,
                "  attestation {}: unreadable: {}",
                b.manifest,
                escape(&b.reason())
            )?;
        }
        write_not_read(
            out,
            self.attestations_not_read,
            self.attestations_out_of_time,
        )?;
        writeln!(out, "verdict    {}", escape(&self.verdict))
    }
}
