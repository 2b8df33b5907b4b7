//! Reports of `attest` and `rebuild`.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;
use zkelf_builder::rebuild::Difference;
use zkelf_trust::digest::{OciDigest, Sha256Digest};
use zkelf_trust::statement::Statement;

use crate::render::Report;

/// What `attest` reports.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct AttestReport {
    pub reference: String,
    pub manifest: OciDigest,
    pub key_id: String,
    pub statement: Option<Statement>,
    pub output: Option<PathBuf>,
    pub attached: Option<OciDigest>,
}

impl Report for AttestReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        match &self.statement {
            Some(s) => writeln!(out, "signed by {}: {s}", self.key_id)?,
            None => writeln!(out, "signature by {}", self.key_id)?,
        }
        if let Some(path) = &self.output {
            writeln!(out, "wrote {}", path.display())?;
        }
        if let Some(digest) = &self.attached {
            writeln!(out, "attached {digest} to {}", self.manifest)?;
        }
        Ok(())
    }
}

/// What `rebuild` reports.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct RebuildReport {
    pub reference: String,
    pub manifest: OciDigest,
    pub guest: String,
    pub version: String,
    pub zkvm: String,
    pub source: String,
    pub commit: String,
    pub published_sha256: Sha256Digest,
    pub rebuilt_sha256: Sha256Digest,
    /// The rebuilt ELF, when kept with `--out`.
    pub rebuilt_elf: Option<PathBuf>,
    pub matches: bool,
    pub builder_image: zkelf_trust::digest::OciDigest,
    pub builder_differences: Vec<Difference>,
    /// The release's verification key, hex (when it carries one).
    pub published_vk: Option<String>,
    /// The verification key the rebuild derived from its ELF, hex.
    pub rebuilt_vk: Option<String>,
    pub diff: Option<String>,
    pub attestation: Option<PathBuf>,
    /// What the attestation confirms: the ELF and the VK its statement binds (`vk=`), or the
    /// ELF alone when the release carries no VK (`vk=-`, whatever the rebuild derived).
    pub attestation_confirms: Option<Confirms>,
    pub attached: Option<OciDigest>,
    pub seconds_total: f64,
    pub seconds_build: f64,
}

/// What a rebuild attestation confirms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Confirms {
    /// The ELF and its VK (the release's, which the rebuild derived too).
    ElfAndVk,
    /// The ELF alone: the release carries no VK.
    Elf,
}

impl Report for RebuildReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{} {} {} {} from {} at {}",
            if self.matches {
                "reproduced"
            } else {
                "NOT reproduced"
            },
            self.guest,
            self.version,
            self.zkvm,
            self.source,
            self.commit
        )?;
        writeln!(
            out,
            "  published  {}",
            OciDigest::from(self.published_sha256)
        )?;
        writeln!(out, "  rebuilt    {}", OciDigest::from(self.rebuilt_sha256))?;
        match (&self.published_vk, &self.rebuilt_vk) {
            (Some(vk), rebuilt) => {
                writeln!(out, "  vk         {vk} (published)")?;
                let rebuilt = rebuilt.as_deref().unwrap_or("none derived");
                writeln!(out, "  vk         {rebuilt} (rebuilt)")?;
            }
            (None, Some(rebuilt)) => {
                writeln!(
                    out,
                    "  vk         {rebuilt} (rebuilt; the release carries none)"
                )?;
            }
            (None, None) => {}
        }
        writeln!(out, "  builder    {}", self.builder_image)?;
        if let Some(path) = &self.rebuilt_elf {
            writeln!(out, "  kept       {}", path.display())?;
        }
        writeln!(
            out,
            "  time       {:.1}s, of which the build {:.1}s",
            self.seconds_total, self.seconds_build
        )?;
        if let Some(path) = &self.attestation {
            let confirms = match self.attestation_confirms {
                Some(Confirms::ElfAndVk) => " (confirms the ELF and its VK)",
                Some(Confirms::Elf) => " (confirms the ELF alone: the release carries no VK)",
                None => "",
            };
            writeln!(out, "attestation {}{confirms}", path.display())?;
        }
        if let Some(digest) = &self.attached {
            writeln!(out, "attached {} to {}", digest, self.manifest)?;
        }
        if let Some(diff) = &self.diff {
            out.write_all(diff.as_bytes())?;
        }
        Ok(())
    }
}
