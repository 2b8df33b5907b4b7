//! Atomic writes, advisory file locks, and the checks that keep zkelf's own files (locks, state,
//! cache directories) from being links or special files.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

pub use zkelf_trust::files::{FileLock, NotOurs, STALE_AFTER, TempFile, TempKind, sweep};
pub(crate) use zkelf_trust::files::{check_own_dirs, check_own_file};

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename.
/// Creates the directory when missing.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(parent(path))?;
    write_file(path, bytes, 0o600, true)
}

/// Writes `bytes` to `path` atomically: an unnamed temporary file ([`TempFile`]) with `mode` in
/// the same directory, fsync, then given the name `path`, replacing what is there (`replace`)
/// or not (`!replace`: an existing `path` is an `AlreadyExists` error). Nothing is left behind
/// on error, nor when the process is killed; the directory must exist.
pub fn write_file(path: &Path, bytes: &[u8], mode: u32, replace: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = parent(path);
    let tmp = TempFile::new_in(&dir, TempKind::Tmp)?;
    let mut file = tmp.as_file();
    file.write_all(bytes)?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    file.sync_all()?;
    tmp.persist(path, replace)?;
    sync_dir(&dir);
    Ok(())
}

/// Copies the open file `from` to `to` atomically, as [`write_file`] writes (mode 0644).
pub(crate) fn atomic_copy(mut from: &File, to: &Path) -> std::io::Result<()> {
    use std::io::Seek as _;
    use std::os::unix::fs::PermissionsExt as _;
    let dir = parent(to);
    std::fs::create_dir_all(&dir)?;
    let tmp = TempFile::new_in(&dir, TempKind::Tmp)?;
    from.rewind()?;
    std::io::copy(&mut from, &mut tmp.as_file())?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    tmp.as_file().sync_all()?;
    tmp.persist(to, true)?;
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

/// Whether `a` and `b` name one file: the same entry once their directories are resolved, or,
/// when both exist, the same file (links followed). Outputs that alias would overwrite each
/// other.
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let entry = |p: &Path| -> Option<PathBuf> {
        let dir = parent(p).canonicalize().ok()?;
        Some(dir.join(p.file_name()?))
    };
    if let (Some(x), Some(y)) = (entry(a), entry(b))
        && x == y
    {
        return true;
    }
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// A small file zkelf rewrote under its lock file (the rollback state, `zkelf.lock`) as one
/// step of a command that may still fail: [`Rewritten::undo`] puts back what was there.
#[derive(Debug)]
pub struct Rewritten {
    path: PathBuf,
    lock_path: PathBuf,
    previous: Option<Vec<u8>>,
    written: Vec<u8>,
}

impl Rewritten {
    /// `path`, guarded by `lock_path`, held `previous` (`None`: no file) and now `written`.
    pub(crate) fn new(
        path: PathBuf,
        lock_path: PathBuf,
        previous: Option<Vec<u8>>,
        written: Vec<u8>,
    ) -> Self {
        Self {
            path,
            lock_path,
            previous,
            written,
        }
    }

    /// The file rewritten.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Puts back, under the lock, what was at the file before (removing a file that was not
    /// there), unless someone has rewritten it since: then theirs stays. Whether the file is
    /// as it was is returned (`Err` when putting it back failed).
    pub fn undo(self) -> std::io::Result<bool> {
        if self.previous.as_deref() == Some(self.written.as_slice()) {
            return Ok(true);
        }
        let _guard = FileLock::acquire(&self.lock_path)?;
        let limit = self.written.len() as u64;
        match zkelf_trust::bounded::read(&self.path, limit) {
            Ok(current) if current == self.written => {}
            Ok(_) => return Ok(false),
            Err(e) if e.is_not_found() => return Ok(false),
            Err(zkelf_trust::bounded::BoundedReadError::TooLarge { .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        match &self.previous {
            Some(bytes) => atomic_write(&self.path, bytes)?,
            None => std::fs::remove_file(&self.path)?,
        }
        Ok(true)
    }
}

/// [`FileLock::acquire`] without blocking the async runtime.
pub async fn acquire_lock(path: PathBuf) -> std::io::Result<FileLock> {
    tokio::task::spawn_blocking(move || FileLock::acquire(&path))
        .await
        .map_err(std::io::Error::other)?
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
    fn same_file_sees_through_spelling_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        assert!(same_file(&a, &dir.path().join("./a")));
        assert!(!same_file(&a, &dir.path().join("b")));
        std::fs::write(&a, "x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        assert!(same_file(&a, &link));
    }
}
