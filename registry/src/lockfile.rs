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
use crate::fsutil::{self, Rewritten};

/// One pinned reference. A field this zkelf does not know is refused, never dropped when the
/// file is rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// The reference as given to `pull`.
    pub reference: String,
    /// The zkVM chosen with `--zkvm` (empty, and not written, when none was).
    #[serde(default, skip_serializing_if = "String::is_empty")]
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

/// The one version of the lock file this zkelf reads and writes.
pub const LOCK_FILE_VERSION: u32 = 1;

/// The file's contents; public only for the fuzz targets (`fuzz/`), which parse it as `Lock` does.
#[doc(hidden)]
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    version: u32,
    #[serde(default)]
    pin: Vec<Pin>,
}

impl LockFile {
    /// Parses a lock file of [`LOCK_FILE_VERSION`]: another version, or a field this zkelf does
    /// not know, is refused (a rewrite would otherwise drop what it does not understand).
    pub fn parse(text: &str) -> Result<Self, StateFileProblem> {
        let file: LockFile = toml::from_str(text).map_err(StateFileProblem::Lock)?;
        if file.version != LOCK_FILE_VERSION {
            return Err(StateFileProblem::LockVersion {
                found: file.version,
            });
        }
        Ok(file)
    }
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
        self.parse(self.read_bytes()?.as_deref())
    }

    /// The file's bytes, `None` when there is none.
    fn read_bytes(&self) -> Result<Option<Vec<u8>>, Error> {
        match bounded::read(&self.path, bounded::MAX_LOCK_FILE_LEN) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(Error::bounded(&self.path, "a lock file")(e)),
        }
    }

    fn parse(&self, bytes: Option<&[u8]>) -> Result<LockFile, Error> {
        let Some(bytes) = bytes else {
            return Ok(LockFile {
                version: LOCK_FILE_VERSION,
                pin: Vec::new(),
            });
        };
        let text = bounded::into_text(bytes.to_vec())
            .map_err(|e| Error::bounded(&self.path, "a lock file")(e))?;
        LockFile::parse(&text).map_err(|problem| Error::StateFile {
            path: self.path.clone(),
            problem,
        })
    }

    /// The pin for `reference` and `zkvm`, if the file has one.
    pub fn pin(&self, reference: &str, zkvm: &str) -> Result<Option<Pin>, Error> {
        // `write` takes the lock late; a linked one must stop the pull before anything is written.
        let lock_path = self.lock_path();
        fsutil::check_own_file(&lock_path).map_err(Error::io(&lock_path))?;
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

    /// Adds or replaces a pin. What the file held before is returned, for a caller that fails
    /// later to put back ([`Rewritten::undo`]).
    pub fn write(&self, pin: Pin) -> Result<Rewritten, Error> {
        let lock_path = self.lock_path();
        let _guard = fsutil::FileLock::acquire(&lock_path).map_err(Error::io(&lock_path))?;
        let previous = self.read_bytes()?;
        let mut file = self.parse(previous.as_deref())?;
        file.pin
            .retain(|p| !(p.reference == pin.reference && p.zkvm == pin.zkvm));
        file.pin.push(pin);
        file.pin
            .sort_by(|a, b| (&a.reference, &a.zkvm).cmp(&(&b.reference, &b.zkvm)));
        let text = toml::to_string_pretty(&file).map_err(|e| Error::StateFile {
            path: self.path.clone(),
            problem: StateFileProblem::Render(e),
        })?;
        fsutil::atomic_write(&self.path, text.as_bytes()).map_err(Error::io(&self.path))?;
        Ok(Rewritten::new(
            self.path.clone(),
            lock_path,
            previous,
            text.into_bytes(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_is_undone_byte_for_byte_unless_rewritten_since() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zkelf.lock");
        let lock = Lock::new(&path);
        let pin = |reference: &str| Pin {
            reference: reference.into(),
            zkvm: "sp1".into(),
            manifest: None,
            elf: format!("sha256:{}", "b".repeat(64)),
            vk: None,
        };
        // No file before: none after.
        lock.write(pin("r/fib:1")).unwrap().undo().unwrap();
        assert!(!path.exists());
        // A hand-written file (a comment, its own layout) comes back as it was.
        let hand = "# deployed by hand\nversion = 1\n\n[[pin]]\nreference = \"r/fib:0\"\nelf = \"sha256:00\"\n";
        std::fs::write(&path, hand).unwrap();
        assert!(lock.write(pin("r/fib:1")).unwrap().undo().unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), hand);
        // Rewritten by another pull since: theirs stays.
        let ours = lock.write(pin("r/fib:1")).unwrap();
        lock.write(pin("r/fib:2")).unwrap();
        let theirs = std::fs::read_to_string(&path).unwrap();
        assert!(!ours.undo().unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), theirs);
    }

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
    fn another_version_or_an_unknown_field_is_refused_and_no_zkvm_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zkelf.lock");
        let elf = format!("sha256:{}", "ab".repeat(32));
        let pin = format!("[[pin]]\nreference = \"r/fib:1\"\nelf = \"{elf}\"\n");
        for (text, message) in [
            (
                format!("version = 2\n\n{pin}"),
                "its `version` is 2, but this zkelf reads lock files of version 1",
            ),
            (
                format!("version = 1\nsigned = true\n\n{pin}"),
                "it does not parse as a lock file",
            ),
            (
                format!("version = 1\n\n{pin}note = \"keep\"\n"),
                "it does not parse as a lock file",
            ),
        ] {
            std::fs::write(&path, &text).unwrap();
            let lock = Lock::new(&path);
            let Err(Error::StateFile { problem, .. }) = lock.pin("r/fib:1", "") else {
                panic!("{text} was read");
            };
            assert_eq!(problem.to_string(), message);
            let written = Pin {
                reference: "r/fib:2".into(),
                zkvm: String::new(),
                manifest: None,
                elf: elf.clone(),
                vk: None,
            };
            assert!(lock.write(written).is_err());
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "rewritten");
        }
        // A pull without `--zkvm` pins no zkVM: the field is left out, not written empty.
        std::fs::remove_file(&path).unwrap();
        let lock = Lock::new(&path);
        let pin = Pin {
            reference: "r/fib:1".into(),
            zkvm: String::new(),
            manifest: None,
            elf,
            vk: None,
        };
        lock.write(pin.clone()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("zkvm"), "{text}");
        assert_eq!(lock.pin("r/fib:1", "").unwrap(), Some(pin));
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
