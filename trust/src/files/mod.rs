//! zkelf's own files: temporaries that do not outlive their process ([`TempFile`]), and the
//! checks that keep its locks, state and cache directories from being links or special files.
//! The registry and the builder both keep files here; this is the one home of both rules.

use std::path::{Path, PathBuf};

use crate::bounded::FileKind;

mod temp;
pub use temp::{STALE_AFTER, TempFile, TempKind, sweep};

/// A path where zkelf keeps a lock, its state or its cache that is not what zkelf makes there.
#[derive(Debug, thiserror::Error)]
pub enum NotOurs {
    /// A symbolic link where zkelf keeps a lock or state file.
    #[error(
        "`{}` is a symbolic link, and zkelf does not follow links for its lock and state files; remove it",
        path.display()
    )]
    Link {
        /// The link.
        path: PathBuf,
    },
    /// A FIFO, device, socket or directory where zkelf keeps a lock or state file: opening a
    /// FIFO would wait for ever.
    #[error(
        "`{}` is {kind}, not a regular file, and zkelf keeps its locks and state in regular files; remove it",
        path.display()
    )]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is.
        kind: FileKind,
    },
    /// A symbolic link (or anything but a directory) where zkelf keeps a cache directory.
    #[error(
        "`{}` is {kind}, not a directory, and zkelf does not follow links inside its cache; remove it",
        path.display()
    )]
    NotADirectory {
        /// The path.
        path: PathBuf,
        /// What it is.
        kind: FileKind,
    },
}

impl crate::diagnose::Diagnose for NotOurs {}

impl From<NotOurs> for std::io::Error {
    fn from(e: NotOurs) -> Self {
        std::io::Error::other(e)
    }
}

/// What the file `meta` describes is, when it is not a regular file (links not followed).
pub fn kind_of(meta: &std::fs::Metadata) -> Option<FileKind> {
    if meta.file_type().is_symlink() {
        Some(FileKind::Symlink)
    } else {
        FileKind::of(meta.file_type())
    }
}

/// The refusal of a lock or state file at `path` that is `kind`, as an I/O error.
pub fn refused(path: &Path, kind: FileKind) -> std::io::Error {
    match kind {
        FileKind::Symlink => NotOurs::Link {
            path: path.to_path_buf(),
        },
        kind => NotOurs::NotRegular {
            path: path.to_path_buf(),
            kind,
        },
    }
    .into()
}

/// Refuses a lock or state file at `path` that is a symbolic link or not a regular file (absent
/// is fine): lets a command fail at once, before it has written anything, rather than when it
/// comes to take the lock (or, for a FIFO, never).
pub fn check_own_file(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => match kind_of(&meta) {
            Some(kind) => Err(refused(path, kind)),
            None => Ok(()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Refuses a cache directory at `path` that exists and is not a directory (a symbolic link to
/// one included; absent is fine): zkelf's cache directories are its own, never followed
/// elsewhere. Only `path` itself is checked, not the directories above it.
pub fn check_own_dir(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(meta) => Err(NotOurs::NotADirectory {
            kind: kind_of(&meta).unwrap_or(FileKind::Other),
            path: path.to_path_buf(),
        }
        .into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// An exclusive advisory lock (`flock`), released when dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: std::fs::File,
}

impl FileLock {
    /// Blocks until the lock on `path` (created if missing, with its directory) is held. A
    /// symbolic link at `path` is refused, never followed (it could make zkelf create a file
    /// outside its directory), and so is anything but a regular file (a FIFO would block the
    /// open for ever).
    pub fn acquire(path: &Path) -> std::io::Result<Self> {
        use rustix::fs::{Mode, OFlags};
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        check_own_file(path)?;
        let fd = rustix::fs::open(
            path,
            OFlags::CREATE | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o666),
        )
        .map_err(|errno| match errno {
            rustix::io::Errno::LOOP => refused(path, FileKind::Symlink),
            // A FIFO without a reader, opened for writing without waiting.
            rustix::io::Errno::NXIO => refused(path, FileKind::Fifo),
            errno => std::io::Error::from(errno),
        })?;
        let file = std::fs::File::from(fd);
        if let Some(kind) = FileKind::of(file.metadata()?.file_type()) {
            return Err(refused(path, kind));
        }
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
        Ok(Self { _file: file })
    }
}

/// [`check_own_dir`] for `root/<sub>`, each of `subs` in turn.
pub fn check_own_dirs(root: &Path, subs: &[&str]) -> std::io::Result<()> {
    subs.iter()
        .try_for_each(|sub| check_own_dir(&root.join(sub)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlinked_lock_is_refused_and_its_target_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        let lock = dir.path().join("locks/x.lock");
        std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&outside, &lock).unwrap();
        let err = FileLock::acquire(&lock).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`{}` is a symbolic link, and zkelf does not follow links for its lock and state files; remove it",
                lock.display()
            )
        );
        assert!(!outside.exists());
        // A regular lock file still works, and is reused.
        let plain = dir.path().join("locks/y.lock");
        drop(FileLock::acquire(&plain).unwrap());
        drop(FileLock::acquire(&plain).unwrap());
    }

    #[test]
    fn a_fifo_or_directory_lock_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("x.lock");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let err = FileLock::acquire(&fifo).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`{}` is a FIFO, not a regular file, and zkelf keeps its locks and state in regular files; remove it",
                fifo.display()
            )
        );
        assert!(check_own_file(&fifo).is_err());
        let sub = dir.path().join("d.lock");
        std::fs::create_dir(&sub).unwrap();
        assert!(FileLock::acquire(&sub).is_err());
        assert!(check_own_file(&dir.path().join("absent")).is_ok());
    }

    #[test]
    fn linked_cache_directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let cache = dir.path().join("cache");
        std::fs::create_dir_all(cache.join("blobs")).unwrap();
        check_own_dirs(&cache, &["blobs", "blobs/sha256", "locks"]).unwrap();
        check_own_dir(&cache).unwrap();
        std::os::unix::fs::symlink(&elsewhere, cache.join("locks")).unwrap();
        let err = check_own_dirs(&cache, &["blobs", "locks"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`{}` is a symbolic link, not a directory, and zkelf does not follow links inside its cache; remove it",
                cache.join("locks").display()
            )
        );
        std::fs::write(cache.join("file"), "").unwrap();
        assert!(check_own_dir(&cache.join("file")).is_err());
    }
}
