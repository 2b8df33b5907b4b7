//! Content-addressed directories in the builder's cache (the sysroot, and the zkVM
//! toolboxes): an entry is built in a `.partial-*` directory beside the entries, sealed with a
//! manifest of every file (path, size, sha256) written last, renamed into place under its key,
//! and re-hashed against that manifest on every use.
//!
//! A manifest in the entry proves nothing to whoever can write the entry (a CI cache that
//! untrusted pull-request builds fill, restored by the release job): they can regenerate it
//! byte for byte. So the digest of every entry this machine built is also recorded in a
//! [`Trust`] directory, kept where a restored cache cannot reach (the state directory, not the
//! cache), and an entry is used only when its manifest hashes to that record. An entry that
//! does not verify, or that this machine did not record, is removed with a note naming why,
//! and its caller builds it again.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use zkelf_trust::bounded::{self, BoundedReadError, FileKind};
use zkelf_trust::digest::Sha256Digest;
use zkelf_trust::files::FileLock;

use crate::error::BuilderError;
use crate::fsutil::{sha256_read, write_atomic};

mod partial;
mod trust;

use partial::{PARTIAL, PARTIAL_LOCK, sweep_partials};
pub use trust::Trust;
pub(crate) use trust::{own_dir, root};

/// Bumped whenever the entry layout changes: old entries stop matching.
pub(crate) const FORMAT: u32 = 1;
/// The manifest file of an entry, written last: an entry without it is partial.
pub(crate) const MANIFEST: &str = "zkelf-sysroot.json";
/// Largest entry manifest read (a sysroot's lists about a hundred files in some 30 KiB): a
/// link to `/dev/zero` or a huge file there cannot fill memory.
const MAX_MANIFEST_LEN: u64 = 16 << 20;

/// One file of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ManifestFile {
    /// Relative path, `/`-separated.
    pub path: String,
    pub size: u64,
    pub sha256: Sha256Digest,
}

/// An entry's manifest: its key and every file (sorted by path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EntryManifest {
    pub format: u32,
    pub key: String,
    pub files: Vec<ManifestFile>,
}

impl EntryManifest {
    /// Hashes every regular file under `dir` (but the manifest). Anything else there (a
    /// symbolic link, a FIFO, a device, a socket) makes the entry [`Invalid::Corrupt`], named:
    /// nothing in an entry is followed, nor opened where the open or the read could block or
    /// never end.
    pub fn of_dir(dir: &Path, key: &str) -> Result<Result<Self, Invalid>, BuilderError> {
        let mut files = Vec::new();
        let mut stack = vec![PathBuf::new()];
        while let Some(rel) = stack.pop() {
            let abs = dir.join(&rel);
            let entries =
                std::fs::read_dir(&abs).map_err(|e| BuilderError::io("cannot read", &abs, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| BuilderError::io("cannot read", &abs, e))?;
                let name = rel.join(entry.file_name());
                // The entry's own type: a link is not followed.
                let ft = entry
                    .file_type()
                    .map_err(|e| BuilderError::io("cannot read", entry.path(), e))?;
                if ft.is_dir() {
                    stack.push(name);
                } else if name.as_os_str() != MANIFEST {
                    let hashed = if ft.is_file() {
                        hash_regular(&entry.path())?
                    } else if ft.is_symlink() {
                        Err(FileKind::Symlink)
                    } else {
                        Err(FileKind::of(ft).unwrap_or(FileKind::Other))
                    };
                    let (sha256, size) = match hashed {
                        Ok(hashed) => hashed,
                        Err(kind) => {
                            return Ok(Err(Invalid::Corrupt(format!(
                                "`{}` is {kind}, not a regular file",
                                name.display()
                            ))));
                        }
                    };
                    files.push(ManifestFile {
                        path: name.to_string_lossy().into_owned(),
                        size,
                        sha256,
                    });
                }
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Ok(Self {
            format: FORMAT,
            key: key.into(),
            files,
        }))
    }

    /// Canonical bytes (pretty JSON, trailing newline).
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// Why an entry cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// No manifest (an interrupted write).
    Partial,
    /// The manifest does not parse or names another key or format.
    BadManifest(String),
    /// A file differs from the manifest, is missing, or is not listed.
    Corrupt(String),
    /// It verifies, but this machine has no record of building it.
    Unrecorded,
    /// It verifies, but its digest is not the one this machine recorded.
    NotRecorded(String),
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Partial => write!(f, "it has no manifest (a partial entry)"),
            Invalid::BadManifest(m) => write!(f, "its manifest {m}"),
            Invalid::Corrupt(m) => write!(f, "{m}"),
            Invalid::Unrecorded => write!(
                f,
                "this machine did not build it (no digest recorded for it), so a cache restored from elsewhere may have made it"
            ),
            Invalid::NotRecorded(recorded) => write!(
                f,
                "its manifest is not the one this machine recorded (`{recorded}`)"
            ),
        }
    }
}

/// sha256 and size of the regular file at `path`, opened without following a link or waiting
/// (`O_NOFOLLOW | O_NONBLOCK`) and checked to be regular once open; `Err` with what it is
/// when it is not (it changed since it was listed).
fn hash_regular(path: &Path) -> Result<Result<(Sha256Digest, u64), FileKind>, BuilderError> {
    match bounded::open_no_follow(path) {
        Ok((file, _)) => sha256_read(file, path).map(Ok),
        Err(BoundedReadError::NotRegular(kind)) => Ok(Err(kind)),
        Err(BoundedReadError::Io(e)) => Err(BuilderError::io("cannot open", path, e)),
        Err(e) => Err(BuilderError::Read {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

/// What is at `path` when it is there and not a directory (a link is not followed).
fn not_a_directory(path: &Path) -> Result<Option<FileKind>, BuilderError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(None),
        Ok(meta) => Ok(Some(
            zkelf_trust::files::kind_of(&meta).unwrap_or(FileKind::Other),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(BuilderError::io("cannot read", path, e)),
    }
}

/// Removes what is at `path`: a directory and all it holds, or a link or file (never followed).
fn remove_entry(path: &Path) -> Result<(), BuilderError> {
    let removed = match not_a_directory(path)? {
        None => std::fs::remove_dir_all(path),
        Some(_) => std::fs::remove_file(path),
    };
    removed.map_err(|e| BuilderError::io("cannot remove", path, e))
}

/// A sealed entry's manifest: its bytes (what the provenance carries) and its sha256 (the
/// entry's digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sealed {
    pub digest: Sha256Digest,
    pub manifest: Vec<u8>,
}

impl Sealed {
    fn of(manifest: &EntryManifest) -> Self {
        let manifest = manifest.to_json();
        Self {
            digest: Sha256Digest::of(&manifest),
            manifest,
        }
    }
}

/// Re-hashes the entry at `dir` against its manifest; returns the manifest when every file
/// matches and nothing else is there. The entry must be a directory and its manifest a
/// regular file of at most [`MAX_MANIFEST_LEN`] bytes, neither a link: read bounded, without
/// following or waiting.
pub(crate) fn verify(dir: &Path, key: &str) -> Result<Result<Sealed, Invalid>, BuilderError> {
    if let Some(kind) = not_a_directory(dir)? {
        return Ok(Err(Invalid::Corrupt(format!(
            "it is {kind}, not a directory"
        ))));
    }
    let path = dir.join(MANIFEST);
    let bytes = match bounded::read_no_follow(&path, MAX_MANIFEST_LEN) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(Err(Invalid::Partial)),
        Err(BoundedReadError::Io(e)) => return Err(BuilderError::io("cannot read", &path, e)),
        Err(e) => {
            return Ok(Err(Invalid::BadManifest(format!(
                "`{MANIFEST}` is refused: {e}"
            ))));
        }
    };
    let recorded: EntryManifest = match serde_json::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => return Ok(Err(Invalid::BadManifest(format!("does not parse: {e}")))),
    };
    if recorded.format != FORMAT || recorded.key != key {
        return Ok(Err(Invalid::BadManifest(format!(
            "is for key `{}` format {}, not `{key}` format {FORMAT}",
            recorded.key, recorded.format
        ))));
    }
    if recorded.to_json() != bytes {
        return Ok(Err(Invalid::BadManifest("is not in canonical form".into())));
    }
    let actual = match EntryManifest::of_dir(dir, key)? {
        Ok(actual) => actual,
        Err(why) => return Ok(Err(why)),
    };
    if actual.files != recorded.files {
        let what = first_difference(&recorded.files, &actual.files);
        return Ok(Err(Invalid::Corrupt(what)));
    }
    Ok(Ok(Sealed::of(&recorded)))
}

/// The first file two entries' manifests (their bytes) disagree on, for a message.
pub(crate) fn difference(first: &[u8], second: &[u8]) -> String {
    match (
        serde_json::from_slice::<EntryManifest>(first),
        serde_json::from_slice::<EntryManifest>(second),
    ) {
        (Ok(a), Ok(b)) => first_difference(&a.files, &b.files),
        _ => "the manifests do not parse".into(),
    }
}

fn first_difference(recorded: &[ManifestFile], actual: &[ManifestFile]) -> String {
    for r in recorded {
        match actual.iter().find(|a| a.path == r.path) {
            None => return format!("`{}` is missing", r.path),
            Some(a) if a != r => {
                return format!(
                    "`{}` has sha256 {} ({} bytes), the manifest {} ({} bytes)",
                    r.path, a.sha256, a.size, r.sha256, r.size
                );
            }
            Some(_) => {}
        }
    }
    match actual
        .iter()
        .find(|a| !recorded.iter().any(|r| r.path == a.path))
    {
        Some(a) => format!("`{}` is not in the manifest", a.path),
        None => "the files differ from the manifest".into(),
    }
}

/// Writes the manifest of the files already in `dir` (last, atomically) and returns it.
pub(crate) fn seal(dir: &Path, key: &str) -> Result<Sealed, BuilderError> {
    // Only regular files and directories are staged ([`copy_readable_tree`]).
    let manifest = EntryManifest::of_dir(dir, key)?.map_err(|why| {
        BuilderError::io(
            "cannot seal",
            dir,
            std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string()),
        )
    })?;
    let sealed = Sealed::of(&manifest);
    write_atomic(&dir.join(MANIFEST), &sealed.manifest, 0o644)?;
    Ok(sealed)
}

/// Moves the entry at `staged` (a directory in the cache's directory for `kind`), just built
/// and sealed as `sealed`, to `<root>/<key>`, and records its digest in `trust`. Losing the
/// race to another writer is fine when theirs has the same digest (the build is
/// reproducible); otherwise ours replaces it. Returns the entry's path and manifest.
pub(crate) fn insert(
    root: &Path,
    key: &str,
    kind: &str,
    trust: &Trust,
    staged: &Path,
    sealed: Sealed,
) -> Result<(PathBuf, Sealed), BuilderError> {
    let dest = root.join(key);
    if std::fs::rename(staged, &dest).is_err() {
        let same = matches!(verify(&dest, key)?, Ok(theirs) if theirs == sealed);
        if same {
            let _ = std::fs::remove_dir_all(staged);
        } else {
            remove_entry(&dest)?;
            std::fs::rename(staged, &dest)
                .map_err(|e| BuilderError::io("cannot rename into", &dest, e))?;
        }
    }
    trust.record(kind, key, &sealed.digest);
    Ok((dest, sealed))
}

/// Stores the directory `built` as the entry `key` of `kind`, under `<entry>/<subdir>`: staged
/// where it will live (a `.partial-*` directory in the cache's `root`, or `scratch/<kind>`
/// without a cache), copied as readable files ([`copy_readable_tree`]), sealed, then renamed
/// into place and recorded in `trust` ([`insert`]): a reader never sees a partial entry under
/// its key. Returns the entry's path and manifest.
pub(crate) fn store(
    built: &Path,
    subdir: &str,
    scratch: &Path,
    cache: Option<(&Path, &Trust)>,
    kind: &str,
    key: &str,
) -> Result<(PathBuf, Sealed), BuilderError> {
    let (staged, lock) = match cache {
        Some((root, trust)) => {
            own_dir(root)?;
            trust.check(kind)?;
            std::fs::create_dir_all(root)
                .map_err(|e| BuilderError::io("cannot create", root, e))?;
            sweep_partials(root, SystemTime::now());
            let staged = tempfile::Builder::new()
                .prefix(PARTIAL)
                .tempdir_in(root)
                .map_err(|e| BuilderError::io("cannot create a temporary directory in", root, e))?
                .keep();
            // Held until the entry has its name: a sweep leaves a locked partial alone.
            let path = staged.join(PARTIAL_LOCK);
            let lock =
                FileLock::acquire(&path).map_err(|e| BuilderError::io("cannot lock", &path, e));
            if lock.is_err() {
                let _ = std::fs::remove_dir_all(&staged);
            }
            (staged, Some((lock?, path)))
        }
        None => {
            let dir = scratch.join(kind);
            std::fs::create_dir(&dir).map_err(|e| BuilderError::io("cannot create", &dir, e))?;
            (dir, None)
        }
    };
    // The lock file is no file of the entry: it goes before the seal, the lock stays held (and
    // the directory, just changed, is fresh to a sweep).
    let sealed = copy_readable_tree(built, &staged.join(subdir))
        .and_then(|()| match &lock {
            Some((_, path)) => {
                std::fs::remove_file(path).map_err(|e| BuilderError::io("cannot remove", path, e))
            }
            None => Ok(()),
        })
        .and_then(|()| seal(&staged, key));
    let sealed = match sealed {
        Ok(sealed) => sealed,
        Err(e) => {
            if cache.is_some() {
                let _ = std::fs::remove_dir_all(&staged);
            }
            return Err(e);
        }
    };
    let stored = match cache {
        Some((root, trust)) => insert(root, key, kind, trust, &staged, sealed),
        None => Ok((staged, sealed)),
    };
    drop(lock);
    stored
}

/// Copies the regular files and directories under `from` to `to` (which must not exist), as
/// ours: 0755 directories, 0644 files (0755 for files executable by their owner): what a
/// container may read and run. Anything else (a link a container made) is left out.
fn copy_readable_tree(from: &Path, to: &Path) -> Result<(), BuilderError> {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![(from.to_path_buf(), to.to_path_buf())];
    while let Some((src, dest)) = stack.pop() {
        std::fs::create_dir(&dest).map_err(|e| BuilderError::io("cannot create", &dest, e))?;
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| BuilderError::io("cannot set permissions of", &dest, e))?;
        let entries =
            std::fs::read_dir(&src).map_err(|e| BuilderError::io("cannot read", &src, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| BuilderError::io("cannot read", &src, e))?;
            let meta = entry
                .metadata()
                .map_err(|e| BuilderError::io("cannot read", entry.path(), e))?;
            let target = dest.join(entry.file_name());
            if meta.is_dir() {
                stack.push((entry.path(), target));
            } else if meta.is_file() {
                std::fs::copy(entry.path(), &target)
                    .map_err(|e| BuilderError::io("cannot copy", entry.path(), e))?;
                let mode = if meta.permissions().mode() & 0o100 != 0 {
                    0o755
                } else {
                    0o644
                };
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| BuilderError::io("cannot set permissions of", &target, e))?;
            }
        }
    }
    Ok(())
}

/// Looks `key` up under `root`: the entry's path and manifest when it verifies and `trust`
/// recorded its digest; any other entry is removed (with `note` saying why) and `None`
/// returned, so the caller rebuilds it (and [`insert`]s, which records it).
pub(crate) fn lookup(
    root: &Path,
    key: &str,
    kind: &str,
    trust: &Trust,
    note: &dyn Fn(&str),
) -> Result<Option<(PathBuf, Sealed)>, BuilderError> {
    own_dir(root)?;
    trust.check(kind)?;
    sweep_partials(root, SystemTime::now());
    let dir = root.join(key);
    match std::fs::symlink_metadata(&dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(BuilderError::io("cannot read", &dir, e)),
        Ok(_) => {}
    }
    let checked = verify(&dir, key)?.and_then(|sealed| match trust.recorded(kind, key) {
        Some(Ok(recorded)) if recorded == sealed.digest => Ok(sealed),
        Some(Ok(recorded)) => Err(Invalid::NotRecorded(recorded.to_string())),
        Some(Err(garbage)) => Err(Invalid::NotRecorded(garbage)),
        None => Err(Invalid::Unrecorded),
    });
    match checked {
        Ok(sealed) => Ok(Some((dir, sealed))),
        Err(why) => {
            note(&format!(
                "note: the cached {kind} `{}` cannot be used: {why}; rebuilding it",
                dir.display()
            ));
            remove_entry(&dir)?;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use zkelf_trust::files::STALE_AFTER;

    use super::*;

    fn entry(root: &Path, key: &str) -> (PathBuf, Sealed) {
        let staged = root.join(format!(".partial-{key}"));
        let lib = staged.join("lib/rustlib/t/lib");
        std::fs::create_dir_all(&lib).unwrap();
        std::fs::write(lib.join("libcore-1.rlib"), b"core bytes").unwrap();
        std::fs::write(lib.join("liballoc-1.rlib"), b"alloc bytes").unwrap();
        let sealed = seal(&staged, key).unwrap();
        (staged, sealed)
    }

    fn trust(root: &Path) -> Trust {
        Trust::new(Some(root.join("trusted")))
    }

    fn inserted(root: &Path, key: &str) -> PathBuf {
        let (staged, sealed) = entry(root, key);
        insert(root, key, "sysroot", &trust(root), &staged, sealed)
            .unwrap()
            .0
    }

    #[test]
    fn a_sealed_entry_verifies_and_keeps_its_digest() {
        let root = tempfile::tempdir().unwrap();
        let (staged, sealed) = entry(root.path(), "k1");
        assert_eq!(verify(&staged, "k1").unwrap(), Ok(sealed.clone()));
        let t = trust(root.path());
        let (dir, inserted) = insert(root.path(), "k1", "sysroot", &t, &staged, sealed).unwrap();
        assert_eq!(dir, root.path().join("k1"));
        let found = lookup(root.path(), "k1", "sysroot", &t, &|_| panic!("no note")).unwrap();
        assert_eq!(found, Some((dir, inserted.clone())));
        assert_eq!(
            inserted.digest,
            Sha256Digest::of(&std::fs::read(root.path().join("k1").join(MANIFEST)).unwrap())
        );
        // The same files give the same digest.
        let again = tempfile::tempdir().unwrap();
        let (staged, _) = entry(again.path(), "k1");
        assert_eq!(verify(&staged, "k1").unwrap(), Ok(inserted.clone()));
        // Another writer's entry already in place: used, not replaced.
        let (staged, sealed) = entry(root.path(), "k1");
        assert_eq!(
            insert(root.path(), "k1", "sysroot", &t, &staged, sealed)
                .unwrap()
                .1,
            inserted
        );
        assert!(!staged.exists());
    }

    #[test]
    fn an_entry_this_machine_did_not_record_is_not_used() {
        let root = tempfile::tempdir().unwrap();
        let t = trust(root.path());
        let dir = inserted(root.path(), "k");
        let notes = std::cell::RefCell::new(Vec::<String>::new());
        let note = |m: &str| notes.borrow_mut().push(m.to_string());
        // Whoever can write the cache rewrites a file and regenerates the manifest: the entry
        // verifies against itself, not against the record.
        std::fs::write(dir.join("lib/rustlib/t/lib/libcore-1.rlib"), b"evil core").unwrap();
        seal(&dir, "k").unwrap();
        assert!(verify(&dir, "k").unwrap().is_ok());
        assert_eq!(
            lookup(root.path(), "k", "sysroot", &t, &note).unwrap(),
            None
        );
        assert!(notes.borrow()[0].contains("is not the one this machine recorded"));
        assert!(!dir.exists());
        // An entry restored from elsewhere, never recorded here; and no trust at all.
        let dir = inserted(root.path(), "k");
        std::fs::remove_dir_all(root.path().join("trusted")).unwrap();
        assert_eq!(
            lookup(root.path(), "k", "sysroot", &t, &note).unwrap(),
            None
        );
        assert!(notes.borrow()[1].contains("this machine did not build it"));
        assert!(!dir.exists());
        inserted(root.path(), "k");
        let none = Trust::new(None);
        assert_eq!(
            lookup(root.path(), "k", "sysroot", &none, &note).unwrap(),
            None
        );
    }

    /// Runs `f` on another thread and fails the test if it takes more than a few seconds: a
    /// FIFO opened for reading would block it for ever, `/dev/zero` read whole fill memory.
    fn quickly<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(20))
            .expect("the check hung")
    }

    fn mkfifo(path: &Path) {
        let made = std::process::Command::new("mkfifo").arg(path).status();
        assert!(made.unwrap().success());
    }

    /// `lookup` of `key` under `root` on another thread, [`quickly`]: what it found and its notes.
    fn lookup_quickly(root: &Path, key: &'static str) -> (Option<PathBuf>, Vec<String>) {
        let root = root.to_path_buf();
        quickly(move || {
            let notes = std::cell::RefCell::new(Vec::<String>::new());
            let note = |m: &str| notes.borrow_mut().push(m.to_string());
            let found = lookup(&root, key, "sysroot", &trust(&root), &note).unwrap();
            (found.map(|(dir, _)| dir), notes.into_inner())
        })
    }

    #[test]
    fn links_fifos_and_an_endless_manifest_in_an_entry_are_refused_at_once() {
        let root = tempfile::tempdir().unwrap();
        let rel = "lib/rustlib/t/lib/libcore-1.rlib";
        let note = |dir: &Path, why: &str| {
            vec![format!(
                "note: the cached sysroot `{}` cannot be used: {why}; rebuilding it",
                dir.display()
            )]
        };

        // A FIFO where a file was: named, not opened for a read that would wait for ever.
        let dir = inserted(root.path(), "k");
        std::fs::remove_file(dir.join(rel)).unwrap();
        mkfifo(&dir.join(rel));
        let (found, notes) = lookup_quickly(root.path(), "k");
        assert_eq!(found, None);
        assert_eq!(
            notes,
            note(&dir, &format!("`{rel}` is a FIFO, not a regular file"))
        );
        assert!(!dir.exists());

        // A link to a file with the very bytes listed: judged as the link it is, not as the
        // host file it names.
        let dir = inserted(root.path(), "k");
        let outside = root.path().join("outside.rlib");
        std::fs::write(&outside, b"core bytes").unwrap();
        std::fs::remove_file(dir.join(rel)).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join(rel)).unwrap();
        let (found, notes) = lookup_quickly(root.path(), "k");
        assert_eq!(found, None);
        assert_eq!(
            notes,
            note(
                &dir,
                &format!("`{rel}` is a symbolic link, not a regular file")
            )
        );
        assert!(!dir.exists() && outside.exists());

        // A manifest that is a link to `/dev/zero`, or a FIFO: refused, never read.
        for (make, what) in [
            (
                (|m: &Path| std::os::unix::fs::symlink("/dev/zero", m).unwrap()) as fn(&Path),
                "a symbolic link",
            ),
            (mkfifo as fn(&Path), "a FIFO"),
        ] {
            let dir = inserted(root.path(), "k");
            std::fs::remove_file(dir.join(MANIFEST)).unwrap();
            make(&dir.join(MANIFEST));
            let (found, notes) = lookup_quickly(root.path(), "k");
            assert_eq!(found, None);
            assert_eq!(
                notes,
                note(
                    &dir,
                    &format!(
                        "its manifest `{MANIFEST}` is refused: it is {what}, not a regular file"
                    )
                )
            );
            assert!(!dir.exists());
        }

        // The entry itself a link to a good entry elsewhere: the link goes, the target stays.
        let real = inserted(root.path(), "k");
        let elsewhere = root.path().join("elsewhere");
        std::fs::rename(&real, &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &real).unwrap();
        let (found, notes) = lookup_quickly(root.path(), "k");
        assert_eq!(found, None);
        assert_eq!(notes, note(&real, "it is a symbolic link, not a directory"));
        assert!(real.symlink_metadata().is_err());
        assert!(elsewhere.join(MANIFEST).is_file());
    }

    #[test]
    fn store_holds_its_lock_while_building_and_leaves_no_partial() {
        let root = tempfile::tempdir().unwrap();
        let t = trust(root.path());
        let built = tempfile::tempdir().unwrap();
        std::fs::write(built.path().join("libcore.rlib"), b"core").unwrap();
        let scratch = tempfile::tempdir().unwrap();
        // A partial a killed build left an hour ago, unlocked: swept by the next store.
        let left = root.path().join(".partial-left");
        std::fs::create_dir(&left).unwrap();
        std::fs::File::open(&left)
            .unwrap()
            .set_modified(SystemTime::now() - STALE_AFTER - Duration::from_secs(1))
            .unwrap();
        let (dir, sealed) = store(
            built.path(),
            "lib",
            scratch.path(),
            Some((root.path(), &t)),
            "sysroot",
            "k",
        )
        .unwrap();
        assert_eq!(dir, root.path().join("k"));
        let mut names: Vec<String> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["k", "trusted"]);
        // The lock file is not part of the entry.
        assert!(!dir.join(PARTIAL_LOCK).exists());
        assert_eq!(verify(&dir, "k").unwrap(), Ok(sealed));
    }

    #[test]
    fn corrupt_partial_and_foreign_entries_are_removed() {
        let root = tempfile::tempdir().unwrap();
        let notes = std::cell::RefCell::new(Vec::<String>::new());
        let note = |m: &str| notes.borrow_mut().push(m.to_string());

        // A flipped byte.
        let dir = inserted(root.path(), "k");
        let rlib = dir.join("lib/rustlib/t/lib/libcore-1.rlib");
        std::fs::write(&rlib, b"core bytez").unwrap();
        assert!(matches!(
            verify(&dir, "k").unwrap(),
            Err(Invalid::Corrupt(_))
        ));
        let t = trust(root.path());
        assert_eq!(
            lookup(root.path(), "k", "sysroot", &t, &note).unwrap(),
            None
        );
        assert!(!dir.exists());

        // No manifest.
        let dir = inserted(root.path(), "k");
        std::fs::remove_file(dir.join(MANIFEST)).unwrap();
        assert_eq!(verify(&dir, "k").unwrap(), Err(Invalid::Partial));
        assert_eq!(
            lookup(root.path(), "k", "sysroot", &t, &note).unwrap(),
            None
        );

        // An extra file, a missing file.
        let dir = inserted(root.path(), "k");
        std::fs::write(dir.join("lib/rustlib/t/lib/libevil.rlib"), b"x").unwrap();
        assert!(
            matches!(verify(&dir, "k").unwrap(), Err(Invalid::Corrupt(m)) if m.contains("libevil"))
        );
        std::fs::remove_file(dir.join("lib/rustlib/t/lib/libevil.rlib")).unwrap();
        std::fs::remove_file(dir.join("lib/rustlib/t/lib/liballoc-1.rlib")).unwrap();
        assert!(
            matches!(verify(&dir, "k").unwrap(), Err(Invalid::Corrupt(m)) if m.contains("missing"))
        );

        // Renamed under another key.
        let dir = inserted(root.path(), "k2");
        std::fs::rename(&dir, root.path().join("k3")).unwrap();
        assert!(matches!(
            verify(&root.path().join("k3"), "k3").unwrap(),
            Err(Invalid::BadManifest(_))
        ));
        assert_eq!(notes.borrow().len(), 2);
    }
}
