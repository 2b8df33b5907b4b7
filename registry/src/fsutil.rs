//! Atomic writes and advisory file locks.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename.
/// Creates the directory when missing.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(parent(path))?;
    write_file(path, bytes, 0o600, true)
}

/// Writes `bytes` to `path` atomically: a temporary file with `mode` in the same directory,
/// fsync, then rename (`replace`) or link without clobbering (`!replace`: an existing `path` is an
/// `AlreadyExists` error). Nothing is left behind on error; the directory must exist.
pub fn write_file(path: &Path, bytes: &[u8], mode: u32, replace: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = parent(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".zkelf-")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.as_file().sync_all()?;
    if replace {
        tmp.persist(path).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    }
    sync_dir(&dir);
    Ok(())
}

/// Copies `from` to `to` atomically, as [`atomic_write`] writes (permissions as `std::fs::copy`
/// gives them).
pub(crate) fn atomic_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    let dir = parent(to);
    std::fs::create_dir_all(&dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(".zkelf-")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    std::fs::copy(from, tmp.path())?;
    tmp.as_file().sync_all()?;
    tmp.persist(to).map_err(|e| e.error)?;
    sync_dir(&dir);
    Ok(())
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes a rename durable; best effort, as some filesystems refuse to fsync directories.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Why opening a lock or state file that is a symbolic link failed (the error names the path,
/// as some callers report only the directory).
fn symlink_refused(path: &Path) -> std::io::Error {
    std::io::Error::other(format!(
        "`{}` is a symbolic link, and zkelf does not follow links for its lock and state files; remove it",
        path.display()
    ))
}

/// Refuses a symbolic link at `path` (absent is fine): lets a command fail on a linked lock
/// before it has written anything, rather than when it comes to take the lock.
pub(crate) fn refuse_symlink(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(symlink_refused(path)),
        _ => Ok(()),
    }
}

/// An exclusive advisory lock (`flock`), released when dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Blocks until the lock on `path` (created if missing) is held. A symbolic link at `path`
    /// is refused, never followed: it could make zkelf create a file outside its directory.
    pub fn acquire(path: &Path) -> std::io::Result<Self> {
        use rustix::fs::{Mode, OFlags};
        std::fs::create_dir_all(parent(path))?;
        let fd = rustix::fs::open(
            path,
            OFlags::CREATE | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o666),
        )
        .map_err(|errno| {
            if errno == rustix::io::Errno::LOOP {
                symlink_refused(path)
            } else {
                std::io::Error::from(errno)
            }
        })?;
        let file = File::from(fd);
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
        Ok(Self { _file: file })
    }

    /// Acquires the lock without blocking the async runtime.
    pub async fn acquire_async(path: PathBuf) -> std::io::Result<Self> {
        tokio::task::spawn_blocking(move || Self::acquire(&path))
            .await
            .map_err(std::io::Error::other)?
    }
}

/// A hint for a local write that failed because of the filesystem rather than zkelf: full or
/// read-only, naming the directory the write went to.
pub fn io_hint(path: &Path, error: &std::io::Error) -> Option<String> {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        parent(path)
    };
    match error.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => Some(format!(
            "no space left on the filesystem holding `{}`: free some space and run the command again",
            dir.display()
        )),
        std::io::ErrorKind::ReadOnlyFilesystem => Some(format!(
            "`{}` is on a read-only filesystem: write somewhere else or remount it read-write",
            dir.display()
        )),
        _ => None,
    }
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
}
