//! `zkelf.lock`: pins references to manifest and ELF digests for deployments that must not move.
//!
//! ```toml
//! version = 1
//!
//! [[pin]]
//! reference = "ghcr.io/acme/fib:1.2.0"
//! zkvm = "sp1"
//! manifest = "sha256:…"
//! elf = "sha256:…"
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, VerificationError};
use crate::fsutil;

/// One pinned reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The reference as given to `pull`.
    pub reference: String,
    /// The zkVM chosen (empty when the reference named one artifact).
    #[serde(default)]
    pub zkvm: String,
    /// The artifact manifest digest.
    pub manifest: String,
    /// The ELF digest.
    pub elf: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LockFile {
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

    fn read(&self) -> Result<LockFile, Error> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => toml::from_str(&text).map_err(|e| Error::StateFile {
                path: self.path.clone(),
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LockFile {
                version: 1,
                pin: Vec::new(),
            }),
            Err(e) => Err(Error::io(&self.path)(e)),
        }
    }

    /// The pin for `reference` and `zkvm`, if the file has one.
    pub fn pin(&self, reference: &str, zkvm: &str) -> Result<Option<Pin>, Error> {
        Ok(self
            .read()?
            .pin
            .into_iter()
            .find(|p| p.reference == reference && p.zkvm == zkvm))
    }

    /// Checks a digest against the pin, if any.
    pub fn check(
        pin: Option<&Pin>,
        lock: &Path,
        what: &'static str,
        actual: &str,
    ) -> Result<(), Error> {
        let Some(pin) = pin else { return Ok(()) };
        let pinned = if what == "manifest" {
            &pin.manifest
        } else {
            &pin.elf
        };
        if pinned != actual {
            return Err(VerificationError::PinMismatch {
                reference: pin.reference.clone(),
                what,
                pinned: pinned.clone(),
                actual: actual.to_owned(),
                lock: lock.to_path_buf(),
            }
            .into());
        }
        Ok(())
    }

    /// Adds or replaces a pin.
    pub fn write(&self, pin: Pin) -> Result<(), Error> {
        let lock_path = fsutil::parent(&self.path).join(".zkelf.lock.lock");
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
            reason: e.to_string(),
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
            manifest: "sha256:aa".into(),
            elf: "sha256:bb".into(),
        };
        lock.write(pin.clone()).unwrap();
        lock.write(pin.clone()).unwrap();
        let got = lock.pin("r/fib:1", "sp1").unwrap();
        assert_eq!(got.as_ref(), Some(&pin));
        Lock::check(got.as_ref(), lock.path(), "manifest", "sha256:aa").unwrap();
        assert!(matches!(
            Lock::check(got.as_ref(), lock.path(), "ELF", "sha256:cc"),
            Err(Error::Verification(VerificationError::PinMismatch { .. }))
        ));
    }
}
