//! Temporary files that do not outlive their process. A file being written (a pulled ELF, a
//! cache blob, the state) is made with `O_TMPFILE`: it has no name until it is complete, so a
//! process killed by SIGKILL leaves nothing. Where the filesystem cannot make one (or `/proc` is
//! not mounted, through which it is linked into place), it is a named file
//! (`.zkelf-pull-*.part`, `.zkelf-*.tmp`) held under an `flock` for its whole life, and
//! [`sweep`] removes those no live process holds once they are an hour old (older zkelf
//! versions left them too, and did not lock them: the registry's under these names, the
//! builder's as `.zkelf-` and six letters or digits, in `--out` and the trust directory).

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use rustix::fs::{AtFlags, CWD, FlockOperation, Mode, OFlags};

/// How old a named temporary must be before [`sweep`] may remove it (when no process holds it).
pub const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

/// The names temporaries take, which [`sweep`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TempKind {
    /// `.zkelf-pull-*.part`: a pulled ELF or VK beside its output.
    Pull,
    /// `.zkelf-*.tmp`: a file of a cache, a layout or the state, before its rename.
    Tmp,
}

impl TempKind {
    fn prefix(self) -> &'static str {
        match self {
            TempKind::Pull => ".zkelf-pull-",
            TempKind::Tmp => ".zkelf-",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            TempKind::Pull => ".part",
            TempKind::Tmp => ".tmp",
        }
    }

    /// Whether `name` is one of zkelf's temporaries: either kind, or what older builders named
    /// theirs (`.zkelf-` and six random letters or digits, tempfile's default; one of them a
    /// digit or a capital, so that a word such as `.zkelf-config` is never taken for one).
    fn matches(name: &str) -> bool {
        let legacy = name
            .strip_prefix(TempKind::Tmp.prefix())
            .is_some_and(|rest| {
                rest.len() == 6
                    && rest.bytes().all(|b| b.is_ascii_alphanumeric())
                    && rest
                        .bytes()
                        .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            });
        legacy
            || [TempKind::Pull, TempKind::Tmp]
                .iter()
                .any(|k| name.starts_with(k.prefix()) && name.ends_with(k.suffix()))
    }
}

/// A file being written in a directory, given its name only by [`TempFile::persist`].
#[derive(Debug)]
pub struct TempFile {
    file: File,
    dir: PathBuf,
    /// The name of a fallback temporary (removed when dropped); `None` for `O_TMPFILE`.
    named: Option<tempfile::TempPath>,
}

impl TempFile {
    /// An empty file (mode 0600) in `dir`, which must exist; sweeps `dir` of stale temporaries
    /// first (once per process).
    pub fn new_in(dir: &Path, kind: TempKind) -> io::Result<Self> {
        sweep_once(dir);
        match unnamed(dir) {
            Ok(file) => Ok(Self {
                file,
                dir: dir.to_path_buf(),
                named: None,
            }),
            Err(e) if unsupported(&e) => named(dir, kind),
            Err(e) => Err(e),
        }
    }

    /// The open file.
    pub fn as_file(&self) -> &File {
        &self.file
    }

    /// A path the file can be opened through while it is being written: its name, or
    /// `/proc/self/fd/<n>` for an unnamed one.
    pub fn path(&self) -> PathBuf {
        match &self.named {
            Some(path) => path.to_path_buf(),
            None => proc_path(&self.file),
        }
    }

    /// Gives the file the name `dest` (in the same directory): atomically replacing what is
    /// there (`replace`), or failing with `AlreadyExists` if something is.
    pub fn persist(self, dest: &Path, replace: bool) -> io::Result<()> {
        let Self { file, dir, named } = self;
        let result = match named {
            Some(path) if replace => path.persist(dest).map_err(|e| e.error),
            Some(path) => path.persist_noclobber(dest).map_err(|e| e.error),
            None if replace => {
                // A name for a moment, then the rename: `linkat` never replaces a file.
                let source = proc_path(&file);
                let linked = tempfile::Builder::new()
                    .prefix(TempKind::Tmp.prefix())
                    .suffix(TempKind::Tmp.suffix())
                    .make_in(&dir, |name| link(&source, name))?;
                linked.persist(dest).map_err(|e| e.error)
            }
            None => link(&proc_path(&file), dest),
        };
        drop(file);
        result
    }
}

/// `/proc/self/fd/<n>`: the path through which an open file is reached by descriptor.
fn proc_path(file: &File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

/// Links the file `/proc/self/fd/<n>` names (the file, not the link) at `name`.
fn link(source: &Path, name: &Path) -> io::Result<()> {
    rustix::fs::linkat(CWD, source, CWD, name, AtFlags::SYMLINK_FOLLOW).map_err(io::Error::from)
}

fn unnamed(dir: &Path) -> io::Result<File> {
    if !Path::new("/proc/self/fd").is_dir() {
        return Err(io::Error::from(io::ErrorKind::Unsupported));
    }
    let fd = rustix::fs::open(
        dir,
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )?;
    Ok(File::from(fd))
}

/// Whether `O_TMPFILE` is not available here (an old kernel answers `EISDIR`, a filesystem
/// without it `EOPNOTSUPP`).
fn unsupported(e: &io::Error) -> bool {
    use rustix::io::Errno;
    e.kind() == io::ErrorKind::Unsupported
        || [Errno::OPNOTSUPP, Errno::ISDIR, Errno::INVAL, Errno::NOSYS]
            .iter()
            .any(|errno| e.raw_os_error() == Some(errno.raw_os_error()))
}

/// A named temporary, locked for as long as it is open so that [`sweep`] leaves it alone.
fn named(dir: &Path, kind: TempKind) -> io::Result<TempFile> {
    let temp = tempfile::Builder::new()
        .prefix(kind.prefix())
        .suffix(kind.suffix())
        .tempfile_in(dir)?;
    rustix::fs::flock(temp.as_file(), FlockOperation::NonBlockingLockExclusive)?;
    let (file, path) = temp.into_parts();
    Ok(TempFile {
        file,
        dir: dir.to_path_buf(),
        named: Some(path),
    })
}

/// [`sweep`], at most once per directory in a process.
fn sweep_once(dir: &Path) {
    static SWEPT: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let mut swept = SWEPT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if swept
        .get_or_insert_with(HashSet::new)
        .insert(dir.to_path_buf())
    {
        drop(swept);
        sweep(dir, SystemTime::now());
    }
}

/// Removes from `dir` the temporaries a killed zkelf left: regular files named
/// `.zkelf-pull-*.part`, `.zkelf-*.tmp` or `.zkelf-XXXXXX` (links are never followed), last written at least
/// [`STALE_AFTER`] before `now`, that no process holds locked. Best effort: what cannot be
/// read or removed stays. Returns how many were removed.
pub fn sweep(dir: &Path, now: SystemTime) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_str().is_some_and(TempKind::matches) {
            continue;
        }
        let path = entry.path();
        if stale(&path, now) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether the temporary at `path` is a regular file old enough that no live process holds.
fn stale(path: &Path, now: SystemTime) -> bool {
    let Ok(fd) = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return false;
    };
    let file = File::from(fd);
    let Ok(meta) = file.metadata() else {
        return false;
    };
    let old = meta
        .modified()
        .ok()
        .and_then(|m| now.duration_since(m).ok())
        .is_some_and(|age| age >= STALE_AFTER);
    // The lock is released when `file` closes: a process that starts using this name after
    // the check cannot, since names are never reused.
    meta.is_file()
        && old
        && rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Seek as _, Write as _};

    #[test]
    fn an_unnamed_temporary_has_no_name_until_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let temp = TempFile::new_in(dir.path(), TempKind::Pull).unwrap();
        temp.as_file().write_all(b"elf").unwrap();
        // Nothing in the directory while it is written (on a filesystem with `O_TMPFILE`).
        if temp.named.is_none() {
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        }
        let mut again = File::open(temp.path()).unwrap();
        let mut bytes = String::new();
        again.read_to_string(&mut bytes).unwrap();
        assert_eq!(bytes, "elf");
        let dest = dir.path().join("out.elf");
        std::fs::write(&dest, "old").unwrap();
        temp.persist(&dest, true).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "elf");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        // Without `replace` an existing file stays and nothing is left behind.
        let temp = TempFile::new_in(dir.path(), TempKind::Tmp).unwrap();
        let mut file = temp.as_file();
        file.write_all(b"new").unwrap();
        file.rewind().unwrap();
        let err = temp.persist(&dest, false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "elf");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_named_temporary_is_locked_while_open_and_swept_once_stale() {
        let dir = tempfile::tempdir().unwrap();
        let live = named(dir.path(), TempKind::Pull).unwrap();
        let later = SystemTime::now() + STALE_AFTER + Duration::from_secs(1);
        // Held by this process: never removed, however old.
        assert_eq!(sweep(dir.path(), later), 0);
        // Left by a killed process: unlocked. Removed once stale, not before.
        let left = dir.path().join(".zkelf-pull-left.part");
        std::fs::write(&left, "partial").unwrap();
        let tmp = dir.path().join(".zkelf-abc.tmp");
        std::fs::write(&tmp, "partial").unwrap();
        // An older builder's (`--out`, the trust directory).
        let legacy = dir.path().join(".zkelf-Ab12cD");
        std::fs::write(&legacy, "partial").unwrap();
        assert_eq!(sweep(dir.path(), SystemTime::now()), 0);
        // What is not a temporary of zkelf's, or is not a regular file, stays.
        let other = dir.path().join("zkelf-pull-x.part");
        std::fs::write(&other, "user data").unwrap();
        let link = dir.path().join(".zkelf-link.tmp");
        std::os::unix::fs::symlink(&other, &link).unwrap();
        std::fs::create_dir(dir.path().join(".zkelf-dir.tmp")).unwrap();
        let not_legacy = dir.path().join(".zkelf-config");
        std::fs::write(&not_legacy, "user data").unwrap();
        assert_eq!(sweep(dir.path(), later), 3);
        assert!(!left.exists() && !tmp.exists() && !legacy.exists());
        assert!(not_legacy.exists());
        assert!(live.path().exists() && other.exists());
        assert!(link.symlink_metadata().is_ok());
        assert!(dir.path().join(".zkelf-dir.tmp").is_dir());
        live.persist(&dir.path().join("done"), false).unwrap();
    }
}
