//! `zkelf.lock`: pins references to manifest and ELF digests for deployments that must not move.
//!
//! ```toml
//! version = 1
//!
//! [[pin]]
//! reference = "ghcr.io/acme/fib:1.2.0"
//! zkvm = "sp1"
//! manifest = "sha256:…"            # optional: a hand-written pin may name the ELF only
//! elf = "sha256:…"
//! vk = "sha256:…"                  # optional: written when a verified VK was pulled
//! ```
//!
//! An `elf` pin also lets a signature that binds no statement count (SPEC §2's unbound
//! signatures, such as GitHub releases of guests carry): the pin is what names the bytes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use zkelf_trust::bounded;
use zkelf_trust::digest::Sha256Digest;

use crate::digest::OciDigest;
use crate::error::{Error, Pinned, StateFileProblem, VerificationError};
use crate::fsutil;

/// One pinned reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The reference as given to `pull`.
    pub reference: String,
    /// The zkVM chosen (empty when the reference named one artifact).
    #[serde(default)]
    pub zkvm: String,
    /// The artifact manifest digest, when pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// The ELF digest.
    pub elf: String,
    /// The verification key digest, when pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vk: Option<String>,
}

impl Pin {
    /// The pinned ELF digest as a SHA-256.
    pub fn elf_sha256(&self, lock: &Path) -> Result<Sha256Digest, Error> {
        parse_pin(&self.elf, "elf", lock)
    }

    /// The pinned VK digest as a SHA-256, if any.
    pub fn vk_sha256(&self, lock: &Path) -> Result<Option<Sha256Digest>, Error> {
        self.vk
            .as_deref()
            .map(|vk| parse_pin(vk, "vk", lock))
            .transpose()
    }
}

fn parse_pin(digest: &str, field: &str, lock: &Path) -> Result<Sha256Digest, Error> {
    digest
        .parse::<OciDigest>()
        .map(|d| d.sha256())
        .map_err(|source| Error::StateFile {
            path: lock.to_path_buf(),
            problem: StateFileProblem::Pin {
                field: field.to_owned(),
                source,
            },
        })
}

/// The file's contents; public only for the fuzz targets (`fuzz/`), which parse it as `Lock` does.
#[doc(hidden)]
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockFile {
    version: u32,
    #[serde(default)]
    pin: Vec<Pin>,
}

/// A `zkelf.lock` on disk.
#[derive(Debug, Clone)]
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    /// The lock file at `path` (need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        fsutil::parent(&self.path).join(".zkelf.lock.lock")
    }

    fn read(&self) -> Result<LockFile, Error> {
        match bounded::read_to_string(&self.path, bounded::MAX_LOCK_FILE_LEN) {
            Ok(text) => toml::from_str(&text).map_err(|e| Error::StateFile {
                path: self.path.clone(),
                problem: StateFileProblem::Lock(e),
            }),
            Err(e) if e.is_not_found() => Ok(LockFile {
                version: 1,
                pin: Vec::new(),
            }),
            Err(e) => Err(Error::bounded(&self.path, "a lock file")(e)),
        }
    }

    /// The pin for `reference` and `zkvm`, if the file has one.
    pub fn pin(&self, reference: &str, zkvm: &str) -> Result<Option<Pin>, Error> {
        // `write` takes the lock late; a linked one must stop the pull before anything is written.
        let lock_path = self.lock_path();
        fsutil::refuse_symlink(&lock_path).map_err(Error::io(&lock_path))?;
        Ok(self
            .read()?
            .pin
            .into_iter()
            .find(|p| p.reference == reference && p.zkvm == zkvm))
    }

    /// Checks a digest against the pin, if there is one for `what`.
    pub fn check(
        pin: Option<&Pin>,
        lock: &Path,
        what: Pinned,
        actual: &OciDigest,
    ) -> Result<(), Error> {
        let Some(pin) = pin else { return Ok(()) };
        let pinned = match what {
            Pinned::Manifest => pin.manifest.as_ref(),
            Pinned::Vk => pin.vk.as_ref(),
            Pinned::Elf => Some(&pin.elf),
        };
        let Some(pinned) = pinned else { return Ok(()) };
        // A pin that does not parse names nothing, so it is not this digest either.
        if *actual != *pinned {
            return Err(VerificationError::PinMismatch {
                reference: pin.reference.clone(),
                what,
                pinned: pinned.clone(),
                actual: *actual,
                lock: lock.to_path_buf(),
            }
            .into());
        }
        Ok(())
    }

    /// Adds or replaces a pin.
    pub fn write(&self, pin: Pin) -> Result<(), Error> {
        let lock_path = self.lock_path();
        let _guard = fsutil::FileLock::acquire(&lock_path).map_err(Error::io(&lock_path))?;
        let mut file = self.read()?;
        file.version = 1;
        file.pin
            .retain(|p| !(p.reference == pin.reference && p.zkvm == pin.zkvm));
        file.pin.push(pin);
        file.pin
            .sort_by(|a, b| (&a.reference, &a.zkvm).cmp(&(&b.reference, &b.zkvm)));
        let text = toml::to_string_pretty(&file).map_err(|e| Error::StateFile {
            path: self.path.clone(),
            problem: StateFileProblem::Render(e),
        })?;
        fsutil::atomic_write(&self.path, text.as_bytes()).map_err(Error::io(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_then_checks() {
        let dir = tempfile::tempdir().unwrap();
        let lock = Lock::new(dir.path().join("zkelf.lock"));
        assert!(lock.pin("r/fib:1", "sp1").unwrap().is_none());
        let pin = Pin {
            reference: "r/fib:1".into(),
            zkvm: "sp1".into(),
            manifest: Some(format!("sha256:{}", "a".repeat(64))),
            elf: "sha256:bb".into(),
            vk: None,
        };
        lock.write(pin.clone()).unwrap();
        lock.write(pin.clone()).unwrap();
        let got = lock.pin("r/fib:1", "sp1").unwrap();
        assert_eq!(got.as_ref(), Some(&pin));
        let digest = |c: &str| {
            c.repeat(64)
                .parse::<Sha256Digest>()
                .map(OciDigest::from)
                .unwrap()
        };
        Lock::check(got.as_ref(), lock.path(), Pinned::Manifest, &digest("a")).unwrap();
        assert!(matches!(
            Lock::check(got.as_ref(), lock.path(), Pinned::Elf, &digest("c")),
            Err(Error::Verification(VerificationError::PinMismatch { .. }))
        ));
        // No VK pinned: nothing to check. A malformed ELF pin is an error, not "unpinned".
        Lock::check(got.as_ref(), lock.path(), Pinned::Vk, &digest("d")).unwrap();
        assert!(got.unwrap().elf_sha256(lock.path()).is_err());
    }

    #[test]
    fn a_hand_written_pin_may_name_the_elf_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zkelf.lock");
        let hex = "ab".repeat(32);
        std::fs::write(
            &path,
            format!(
                "version = 1\n\n[[pin]]\nreference = \"https://x/a.elf\"\nelf = \"sha256:{hex}\"\n"
            ),
        )
        .unwrap();
        let lock = Lock::new(&path);
        let pin = lock.pin("https://x/a.elf", "").unwrap().unwrap();
        assert_eq!(pin.manifest, None);
        assert_eq!(pin.elf_sha256(&path).unwrap().to_string(), hex);
        Lock::check(
            Some(&pin),
            &path,
            Pinned::Manifest,
            &OciDigest::of(b"anything"),
        )
        .unwrap();
    }
}
