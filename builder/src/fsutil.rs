//! File helpers: streaming hashes, atomic writes, copies of a source tree.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use zkelf_trust::digest::{Sha256Digest, Sha256Hasher};

use crate::error::BuilderError;

/// A guest's input file, read whole within `limit`: a regular file, not a link (it is mounted
/// into containers, where a link out of its tree would not be what the host read).
pub(crate) fn read_input(path: &Path, limit: u64) -> Result<Vec<u8>, BuilderError> {
    zkelf_trust::bounded::read_no_follow(path, limit).map_err(|source| BuilderError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// sha256 and size of a file, read in chunks.
pub(crate) fn sha256_file(path: &Path) -> Result<(Sha256Digest, u64), BuilderError> {
    let file = File::open(path).map_err(|e| BuilderError::io("cannot open", path, e))?;
    sha256_read(file, path)
}

/// sha256 and size of what is left to read in `file` (opened from `path`), in chunks.
pub(crate) fn sha256_read(
    mut file: File,
    path: &Path,
) -> Result<(Sha256Digest, u64), BuilderError> {
    let mut hasher = Sha256Hasher::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| BuilderError::io("cannot read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize())
}

/// Copies `from` to `to` atomically: a temporary file in `to`'s directory, fsync, rename.
pub(crate) fn install_file(from: &Path, to: &Path, mode: u32) -> Result<(), BuilderError> {
    use std::os::unix::fs::PermissionsExt;
    let dir = to.parent().unwrap_or(Path::new("."));
    let mut source = File::open(from).map_err(|e| BuilderError::io("cannot open", from, e))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".zkelf-")
        .tempfile_in(dir)
        .map_err(|e| BuilderError::io("cannot create a temporary file in", dir, e))?;
    std::io::copy(&mut source, temp.as_file_mut())
        .map_err(|e| BuilderError::io("cannot write", temp.path().to_path_buf(), e))?;
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| BuilderError::io("cannot set permissions of", temp.path().to_path_buf(), e))?;
    temp.as_file_mut()
        .flush()
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| BuilderError::io("cannot sync", temp.path().to_path_buf(), e))?;
    temp.persist(to)
        .map_err(|e| BuilderError::io("cannot rename into", to, e.error))?;
    sync_dir(dir);
    Ok(())
}

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), BuilderError> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".zkelf-")
        .tempfile_in(dir)
        .map_err(|e| BuilderError::io("cannot create a temporary file in", dir, e))?;
    temp.write_all(bytes)
        .and_then(|()| {
            temp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(mode))
        })
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| BuilderError::io("cannot write", temp.path().to_path_buf(), e))?;
    temp.persist(path)
        .map_err(|e| BuilderError::io("cannot rename into", path, e.error))?;
    sync_dir(dir);
    Ok(())
}

/// Makes a rename durable; best effort, as some filesystems refuse to fsync directories.
fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// Writes `files` into a new directory `dir`, readable by a container's user (0755/0644).
pub(crate) fn write_readable_dir<'a>(
    dir: &Path,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<(), BuilderError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).map_err(|e| BuilderError::io("cannot create", dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| BuilderError::io("cannot set permissions of", dir, e))?;
    for (name, content) in files {
        write_atomic(&dir.join(name), content, 0o644)?;
    }
    Ok(())
}

/// A fresh temporary directory, removed on drop.
pub(crate) fn tempdir(prefix: &str) -> Result<tempfile::TempDir, BuilderError> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| {
            BuilderError::io(
                "cannot create a temporary directory",
                std::env::temp_dir(),
                e,
            )
        })
}

/// A directory any container uid may write to (build outputs land here).
pub(crate) fn world_writable_tempdir(prefix: &str) -> Result<tempfile::TempDir, BuilderError> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir(prefix)?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
        .map_err(|e| BuilderError::io("cannot set permissions of", dir.path(), e))?;
    Ok(dir)
}
