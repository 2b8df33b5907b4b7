//! Reports of `keygen`, `sign` and `verify`.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;
use zkelf_trust::digest::Sha256Digest;
use zkelf_trust::keys::KeyId;
use zkelf_trust::statement::Statement;

use super::verdict::Verdict;
use crate::render::{Report, escape, write_statement};

/// What `keygen` wrote.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct KeygenReport {
    pub public_key: PathBuf,
    pub secret_key: PathBuf,
    pub key_id: KeyId,
    pub public: String,
    pub encrypted: bool,
}

impl Report for KeygenReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "public key  {}", self.public_key.display())?;
        writeln!(
            out,
            "secret key  {}{}",
            self.secret_key.display(),
            if self.encrypted { "" } else { " (unencrypted)" }
        )?;
        writeln!(out, "key id      {}", self.key_id)?;
        writeln!(out, "public      {}", self.public)
    }
}

/// What `sign` wrote.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct SignReport {
    pub elf: PathBuf,
    pub signature: PathBuf,
    pub key_id: KeyId,
    pub statement: Statement,
    pub trusted_comment: String,
}

impl Report for SignReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "signed `{}` with key {} into `{}`",
            self.elf.display(),
            self.key_id,
            self.signature.display()
        )?;
        write_statement(out, &self.statement)
    }
}

/// What `verify` established.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct VerifyReport {
    /// Whether it verified and why (shared with `pull`); each signature's origin is its file.
    pub verdict: Verdict,
    pub elf: PathBuf,
    pub sha256: Sha256Digest,
    pub size: u64,
    /// The trusted comment of the first signature that counted (what an unbound one says).
    pub trusted_comment: String,
    pub provenance: BlobCheck,
    pub vk: BlobCheck,
}

/// Whether a signed blob (provenance, VK) was compared with a given file.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BlobCheck {
    /// The given file is the one signed.
    Matches,
    /// No file given, so not compared.
    NotChecked,
    /// Neither signed nor given.
    None,
}

impl Report for VerifyReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "verified `{}`", self.elf.display())?;
        match &self.verdict.statement {
            Some(statement) => write_statement(out, statement)?,
            None => {
                writeln!(out, "  sha256      {}", self.sha256)?;
                writeln!(out, "  size        {}", self.size)?;
                writeln!(out, "  comment     {}", escape(&self.trusted_comment))?;
            }
        }
        for (name, check) in [("provenance", &self.provenance), ("vk", &self.vk)] {
            match check {
                BlobCheck::Matches => writeln!(out, "  {name:<11} matches the file given")?,
                BlobCheck::NotChecked => writeln!(out, "  {name:<11} not checked (no file given)")?,
                BlobCheck::None => {}
            }
        }
        let signatures = &self.verdict.signatures;
        for s in signatures {
            if let Some(role) = &s.counts_for {
                let key = s.key_id.as_deref().unwrap_or("?");
                let name = s.key_name.as_deref().unwrap_or("-");
                writeln!(out, "  signed by   {key} ({name}) for {role}")?;
            }
        }
        for s in signatures {
            if let (None, Some(reason)) = (&s.counts_for, &s.reason) {
                writeln!(out, "  not counted `{}`: {}", s.origin, escape(reason))?;
            }
        }
        if self.verdict.unbound {
            writeln!(
                out,
                "UNBOUND: the signature's trusted comment is not a zkelf statement; nothing binds guest, version or zkVM"
            )?;
        }
        Ok(())
    }
}
