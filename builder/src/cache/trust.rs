//! The record of the entries this machine built, kept where a restored cache cannot reach, and
//! the refusal of linked cache directories.

use std::path::{Path, PathBuf};

use zkelf_trust::digest::Sha256Digest;

use crate::error::BuilderError;
use crate::fsutil::write_atomic;

/// Where the digests of the entries this machine built are recorded: `<dir>/<kind>/<key>`.
/// No directory: nothing is trusted, every entry is built again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    dir: Option<PathBuf>,
}

impl Trust {
    /// Records under `dir` (`None`: trust no entry).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir }
    }

    fn path(&self, kind: &str, key: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(kind).join(key))
    }

    /// Refuses a trust directory, or its directory for `kind`, that is a symbolic link or not a
    /// directory: records read through a link could be anyone's.
    pub(super) fn check(&self, kind: &str) -> Result<(), BuilderError> {
        match &self.dir {
            Some(dir) => own_dirs(dir, kind).map(drop),
            None => Ok(()),
        }
    }

    /// The digest recorded for `kind`/`key`, if any (`Err` holding what the record says when
    /// that is no digest).
    pub(super) fn recorded(&self, kind: &str, key: &str) -> Option<Result<Sha256Digest, String>> {
        let path = self.path(kind, key)?;
        let bytes = zkelf_trust::bounded::read_no_follow(&path, 128).ok()?;
        let text = String::from_utf8_lossy(&bytes).trim().to_string();
        Some(text.parse().map_err(|_| text))
    }

    /// Records `digest` for `kind`/`key` (best effort: an unrecorded entry is only rebuilt).
    pub(crate) fn record(&self, kind: &str, key: &str, digest: &Sha256Digest) {
        if self.check(kind).is_ok()
            && let Some(path) = self.path(kind, key)
            && let Some(parent) = path.parent()
            && std::fs::create_dir_all(parent).is_ok()
        {
            let _ = write_atomic(&path, format!("{digest}\n").as_bytes(), 0o644);
        }
    }
}

/// `<cache_dir>/<kind>`, the builder cache's directory for `kind` (`sysroot`, `toolbox`,
/// `crates`, `git`), refused when it or `cache_dir` (the builder's directory in zkelf's
/// cache) is a symbolic link or anything but a directory. They are zkelf's own: through a
/// link a restored cache planted, entries would be read from, written to and removed in a
/// directory elsewhere.
pub(crate) fn root(cache_dir: &Path, kind: &str) -> Result<PathBuf, BuilderError> {
    own_dirs(cache_dir, kind)
}

/// [`own_dir`] for `dir` and `dir/<sub>`; returns the latter.
fn own_dirs(dir: &Path, sub: &str) -> Result<PathBuf, BuilderError> {
    let path = dir.join(sub);
    own_dir(dir)?;
    own_dir(&path)?;
    Ok(path)
}

/// Refuses `dir` when it is there and is a symbolic link or not a directory.
pub(crate) fn own_dir(dir: &Path) -> Result<(), BuilderError> {
    zkelf_trust::files::check_own_dir(dir).map_err(|e| BuilderError::io("cannot use", dir, e))
}

#[cfg(test)]
mod tests {
    use super::super::{lookup, store};
    use super::*;

    fn trust(root: &Path) -> Trust {
        Trust::new(Some(root.join("trusted")))
    }

    /// The message of `err` and of its cause.
    fn chain(err: &BuilderError) -> (String, String) {
        use std::error::Error as _;
        (err.to_string(), err.source().unwrap().to_string())
    }

    #[test]
    fn linked_cache_and_trust_directories_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let cache = tmp.path().join("builder");
        std::fs::create_dir(&cache).unwrap();
        let linked = |path: &Path| {
            (
                format!("cannot use `{}`", path.display()),
                format!(
                    "`{}` is a symbolic link, not a directory, and zkelf does not follow links inside its cache; remove it",
                    path.display()
                ),
            )
        };
        assert_eq!(root(&cache, "sysroot").unwrap(), cache.join("sysroot"));

        // A kind's directory that is a link: refused by name, by lookup and store too.
        let sysroot = cache.join("sysroot");
        std::os::unix::fs::symlink(&elsewhere, &sysroot).unwrap();
        assert_eq!(
            chain(&root(&cache, "sysroot").unwrap_err()),
            linked(&sysroot)
        );
        let t = trust(tmp.path());
        let err = lookup(&sysroot, "k", "sysroot", &t, &|_| panic!("no note")).unwrap_err();
        assert_eq!(chain(&err), linked(&sysroot));
        let built = tmp.path().join("built");
        std::fs::create_dir(&built).unwrap();
        std::fs::write(built.join("libcore.rlib"), b"core").unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let err = store(
            &built,
            "lib",
            scratch.path(),
            Some((&sysroot, &t)),
            "sysroot",
            "k",
        )
        .unwrap_err();
        assert_eq!(chain(&err), linked(&sysroot));

        // The builder's directory itself a link.
        let builder = tmp.path().join("linked-builder");
        std::os::unix::fs::symlink(&elsewhere, &builder).unwrap();
        assert_eq!(
            chain(&root(&builder, "toolbox").unwrap_err()),
            linked(&builder)
        );

        // The trust directory's for a kind a link: its records could be anyone's.
        let own = tmp.path().join("own");
        std::fs::create_dir(&own).unwrap();
        let trusted = tmp.path().join("trusted");
        std::fs::create_dir(&trusted).unwrap();
        std::os::unix::fs::symlink(&elsewhere, trusted.join("sysroot")).unwrap();
        let err = lookup(&own, "k", "sysroot", &t, &|_| panic!("no note")).unwrap_err();
        assert_eq!(chain(&err), linked(&trusted.join("sysroot")));
        t.record("sysroot", "k", &Sha256Digest::of(b"x"));
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
        assert_eq!(std::fs::read_dir(&own).unwrap().count(), 0);
    }
}
