//! File helpers: streaming hashes, atomic writes, copies of a source tree.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use zkelf_trust::digest::{Sha256Digest, Sha256Hasher};
use zkelf_trust::files::{TempFile, TempKind};

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
/// The temporary has no name until it is complete where the filesystem allows
/// ([`TempFile`]: `O_TMPFILE`), so a killed build leaves nothing in `--out`; elsewhere it is a
/// locked `.zkelf-*.tmp`, swept once stale.
pub(crate) fn install_file(from: &Path, to: &Path, mode: u32) -> Result<(), BuilderError> {
    let mut source = File::open(from).map_err(|e| BuilderError::io("cannot open", from, e))?;
    write_with(to, mode, |file| std::io::copy(&mut source, file).map(drop))
}

/// Writes `bytes` to `path` atomically, as [`install_file`] does.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), BuilderError> {
    write_with(path, mode, |file| file.write_all(bytes))
}

/// A temporary file beside `path`, filled by `fill`, given `mode`, synced, then named `path`
/// (replacing what is there).
fn write_with(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut &File) -> std::io::Result<()>,
) -> Result<(), BuilderError> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let temp = TempFile::new_in(dir, TempKind::Tmp)
        .map_err(|e| BuilderError::io("cannot create a temporary file in", dir, e))?;
    let mut file = temp.as_file();
    fill(&mut file)
        .and_then(|()| file.set_permissions(std::fs::Permissions::from_mode(mode)))
        .and_then(|()| file.sync_all())
        .map_err(|e| BuilderError::io("cannot write", path, e))?;
    temp.persist(path, true)
        .map_err(|e| BuilderError::io("cannot rename into", path, e))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;
    use std::time::{Duration, SystemTime};

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn outputs_leave_no_temporary_and_stale_ones_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        // What an older zkelf killed mid-write left two hours ago, and what one writing now has.
        let stale = out.join(".zkelf-Ab12cD");
        std::fs::write(&stale, "half an ELF").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(2 * 60 * 60))
            .unwrap();
        let fresh = out.join(".zkelf-Xy34zW");
        std::fs::write(&fresh, "being written").unwrap();

        write_atomic(&out.join("fib.elf"), b"new elf", 0o755).unwrap();
        let staged = dir.path().join("staged.vk");
        std::fs::write(&staged, b"vk").unwrap();
        install_file(&staged, &out.join("fib.vk"), 0o644).unwrap();
        install_file(&staged, &out.join("fib.vk"), 0o644).unwrap();

        assert_eq!(names(&out), [".zkelf-Xy34zW", "fib.elf", "fib.vk"]);
        assert_eq!(std::fs::read(out.join("fib.elf")).unwrap(), b"new elf");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out.join("fib.elf")), 0o755);
        assert_eq!(mode(&out.join("fib.vk")), 0o644);
        assert_eq!(std::fs::read(out.join("fib.vk")).unwrap(), b"vk");
    }
}
