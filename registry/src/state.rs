//! Rollback protection: the highest version seen per (source, guest, zkVM), kept in the state
//! directory (`rollback.json`), updated under a lock with atomic writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use semver::Version;

use crate::error::{Error, VerificationError};
use crate::fsutil::{self, FileLock};

/// The state directory.
#[derive(Debug, Clone)]
pub struct RollbackState {
    dir: PathBuf,
}

/// `rollback.json`: the highest version per key; public only for the fuzz targets (`fuzz/`).
#[doc(hidden)]
pub type Seen = BTreeMap<String, Version>;

fn key(source: &str, guest: &str, zkvm: &str) -> String {
    format!("{source} {guest} {zkvm}")
}

impl RollbackState {
    /// State kept in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self) -> PathBuf {
        self.dir.join("rollback.json")
    }

    fn read(path: &Path) -> Result<Seen, Error> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::StateFile {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Seen::new()),
            Err(e) => Err(Error::io(path)(e)),
        }
    }

    /// Refuses `offered` if a higher version was seen from `source` for this guest and zkVM.
    pub fn check(
        &self,
        source: &str,
        guest: &str,
        zkvm: &str,
        offered: &Version,
    ) -> Result<(), Error> {
        let seen = Self::read(&self.path())?;
        match seen.get(&key(source, guest, zkvm)) {
            Some(highest) if highest > offered => Err(VerificationError::Rollback {
                source_name: source.to_owned(),
                guest: guest.to_owned(),
                zkvm: zkvm.to_owned(),
                seen: highest.to_string(),
                offered: offered.to_string(),
            }
            .into()),
            _ => Ok(()),
        }
    }

    /// Records `version` as seen (keeping the highest).
    pub fn record(
        &self,
        source: &str,
        guest: &str,
        zkvm: &str,
        version: &Version,
    ) -> Result<(), Error> {
        let lock_path = self.dir.join("rollback.lock");
        let _lock = FileLock::acquire(&lock_path).map_err(Error::io(&lock_path))?;
        let path = self.path();
        let mut seen = Self::read(&path)?;
        let entry = seen
            .entry(key(source, guest, zkvm))
            .or_insert_with(|| version.clone());
        if *entry < *version {
            *entry = version.clone();
        }
        let bytes = serde_json::to_vec_pretty(&seen).unwrap_or_default();
        fsutil::atomic_write(&path, &bytes).map_err(Error::io(&path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_older_and_keeps_highest() {
        let dir = tempfile::tempdir().unwrap();
        let state = RollbackState::new(dir.path());
        let v = |s: &str| Version::parse(s).unwrap();
        state.check("r/fib", "fib", "sp1", &v("1.0.0")).unwrap();
        state.record("r/fib", "fib", "sp1", &v("1.1.0")).unwrap();
        state.record("r/fib", "fib", "sp1", &v("1.0.0")).unwrap();
        assert!(matches!(
            state.check("r/fib", "fib", "sp1", &v("1.0.0")),
            Err(Error::Verification(VerificationError::Rollback { .. }))
        ));
        state.check("r/fib", "fib", "sp1", &v("1.1.0")).unwrap();
        state.check("r/fib", "fib", "risc0", &v("0.1.0")).unwrap();
        state.check("other/fib", "fib", "sp1", &v("0.1.0")).unwrap();
    }
}
