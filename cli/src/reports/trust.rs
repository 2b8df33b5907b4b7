//! Reports of `keygen`, `sign` and `verify`.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;
use zkelf_trust::digest::Sha256Digest;
use zkelf_trust::keys::KeyId;
use zkelf_trust::policy::Role;
use zkelf_trust::statement::Statement;
use zkelf_trust::verify::Rejection;

use crate::printer::{Report, escape, write_statement};

/// What `keygen` wrote.
#[derive(Debug, Serialize)]
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
pub struct VerifyReport {
    pub verified: bool,
    pub elf: PathBuf,
    pub signatures: Vec<PathBuf>,
    pub sha256: Sha256Digest,
    pub size: u64,
    /// The signed statement; `null` when the signature binds none.
    pub statement: Option<Statement>,
    /// True when the trusted comment is not a zkelf statement: nothing binds guest, version or zkVM.
    pub unbound: bool,
    pub trusted_comment: String,
    pub signed_by: Vec<Signer>,
    /// Signatures that did not count, with the reason (the policy was satisfied without them).
    pub not_counted: Vec<NotCounted>,
    pub provenance: BlobCheck,
    pub vk: BlobCheck,
}

/// A key whose signature counted, and for which role.
#[derive(Debug, Serialize)]
pub struct Signer {
    pub key_id: KeyId,
    pub name: Option<String>,
    pub role: Role,
}

/// A signature that did not count, and why.
#[derive(Debug, Serialize)]
pub struct NotCounted {
    pub signature: PathBuf,
    pub key_id: KeyId,
    pub reason: Rejection,
}

/// Whether a signed blob (provenance, VK) was compared with a given file.
#[derive(Debug, Serialize)]
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
        match &self.statement {
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
        for signer in &self.signed_by {
            let name = signer.name.as_deref().unwrap_or("-");
            writeln!(
                out,
                "  signed by   {} ({name}) for {}",
                signer.key_id, signer.role
            )?;
        }
        for ignored in &self.not_counted {
            writeln!(
                out,
                "  not counted `{}`: {}",
                ignored.signature.display(),
                escape(&ignored.reason.full_message())
            )?;
        }
        if self.unbound {
            writeln!(
                out,
                "UNBOUND: the signature's trusted comment is not a zkelf statement; nothing binds guest, version or zkVM"
            )?;
        }
        Ok(())
    }
}
