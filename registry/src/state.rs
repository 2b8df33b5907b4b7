//! Rollback protection: the highest version seen per (source, guest, zkVM), kept in the state
//! directory (`rollback.json`), updated under a lock with atomic writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use semver::Version;
use zkelf_trust::bounded;

use crate::error::{Error, StateFileProblem, VerificationError};
use crate::fsutil::{self, FileLock, Rewritten};

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

    fn lock_path(&self) -> PathBuf {
        self.dir.join("rollback.lock")
    }

    fn read(path: &Path) -> Result<Seen, Error> {
        Self::parse(path, Self::read_bytes(path)?.as_deref())
    }

    /// The file's bytes, `None` when there is none.
    fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>, Error> {
        match bounded::read(path, bounded::MAX_STATE_LEN) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(Error::bounded(path, "the rollback state")(e)),
        }
    }

    fn parse(path: &Path, bytes: Option<&[u8]>) -> Result<Seen, Error> {
        match bytes {
            Some(bytes) => serde_json::from_slice(bytes).map_err(|e| Error::StateFile {
                path: path.to_path_buf(),
                problem: StateFileProblem::State(e),
            }),
            None => Ok(Seen::new()),
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
        // `record` comes late, once the ELF is fetched; a linked lock must stop the pull before.
        let lock_path = self.lock_path();
        fsutil::check_own_file(&lock_path).map_err(Error::io(&lock_path))?;
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

    /// Records `version` as seen (keeping the highest). What the file held before is returned,
    /// for a caller that fails later to put back ([`Rewritten::undo`]).
    pub fn record(
        &self,
        source: &str,
        guest: &str,
        zkvm: &str,
        version: &Version,
    ) -> Result<Rewritten, Error> {
        let lock_path = self.lock_path();
        let _lock = FileLock::acquire(&lock_path).map_err(Error::io(&lock_path))?;
        let path = self.path();
        let previous = Self::read_bytes(&path)?;
        let mut seen = Self::parse(&path, previous.as_deref())?;
        let entry = seen
            .entry(key(source, guest, zkvm))
            .or_insert_with(|| version.clone());
        if *entry < *version {
            *entry = version.clone();
        }
        let bytes = serde_json::to_vec_pretty(&seen).unwrap_or_default();
        fsutil::atomic_write(&path, &bytes).map_err(Error::io(&path))?;
        Ok(Rewritten::new(path, lock_path, previous, bytes))
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

    #[test]
    fn an_oversized_state_or_symlinked_lock_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = RollbackState::new(dir.path());
        let v = Version::parse("1.0.0").unwrap();
        let big = format!("{{\"k\": \"1.0.0\", \"pad\": \"{}\"}}", "x".repeat(5 << 20));
        std::fs::write(dir.path().join("rollback.json"), big).unwrap();
        let err = state.check("r/fib", "fib", "sp1", &v).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("rollback.json` is larger than 4 MiB (4194304 bytes), the bound for the rollback state"),
            "{err}"
        );
        std::fs::remove_file(dir.path().join("rollback.json")).unwrap();
        let outside = dir.path().join("outside");
        std::os::unix::fs::symlink(&outside, dir.path().join("rollback.lock")).unwrap();
        let err = state.check("r/fib", "fib", "sp1", &v).unwrap_err();
        assert!(err.to_string().ends_with("rollback.lock`"), "{err}");
        let err = state.record("r/fib", "fib", "sp1", &v).unwrap_err();
        assert!(err.to_string().ends_with("rollback.lock`"), "{err}");
        assert!(!outside.exists());
        assert!(!dir.path().join("rollback.json").exists());
    }
}
