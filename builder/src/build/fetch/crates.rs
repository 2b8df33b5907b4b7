//! crates.io packages: their `.crate` archives, kept in a store (the cache, or a temporary
//! directory) where each is checked against the sha256 `Cargo.lock` pins on every use, and
//! unpacked afresh for every build into the vendor directory cargo reads, with the
//! `.cargo-checksum.json` cargo checks. A store restored from an untrusted build can therefore
//! not change a build: a tampered archive is named, removed and fetched again.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

use zkelf_trust::digest::{Sha256Digest, Sha256Hasher};

use crate::error::BuilderError;
use crate::error::problem::ArchiveProblem;

/// A crate's name and version.
pub(crate) type CrateId = (String, String);

/// `.crate` archives by name and version, under `root`.
#[derive(Debug, Clone)]
pub(crate) struct CrateStore {
    root: PathBuf,
}

impl CrateStore {
    /// The store at `root` (created when missing). A `root` that is a symbolic link or not a
    /// directory is refused: archives are never read from, or written to, elsewhere.
    pub fn open(root: &Path) -> Result<Self, BuilderError> {
        crate::cache::own_dir(root)?;
        std::fs::create_dir_all(root).map_err(|e| BuilderError::io("cannot create", root, e))?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    fn path(&self, (name, version): &CrateId) -> PathBuf {
        self.root.join(format!("{name}-{version}.crate"))
    }

    /// The crates of `wanted` the store does not hold with the pinned sha256. An archive that
    /// does not match is removed, and `note` says so: it is fetched again.
    pub fn missing(
        &self,
        wanted: &BTreeMap<CrateId, Sha256Digest>,
        note: &dyn Fn(&str),
    ) -> Result<Vec<CrateId>, BuilderError> {
        let mut missing = Vec::new();
        for (id, pinned) in wanted {
            let path = self.path(id);
            match sha256_of(&path)? {
                None => missing.push(id.clone()),
                Some(found) if found == *pinned => {}
                Some(found) => {
                    note(&format!(
                        "note: the cached `{}` has sha256 `{found}`, not the `{pinned}` `Cargo.lock` pins; fetching it again",
                        path.display()
                    ));
                    std::fs::remove_file(&path)
                        .map_err(|e| BuilderError::io("cannot remove", &path, e))?;
                    missing.push(id.clone());
                }
            }
        }
        Ok(missing)
    }

    /// Moves the archives a fetch left in `downloaded` into the store, each checked against
    /// its pinned sha256 first: a registry (or a proxy) serving other bytes fails the build.
    pub fn adopt(
        &self,
        downloaded: &Path,
        crates: &[CrateId],
        wanted: &BTreeMap<CrateId, Sha256Digest>,
    ) -> Result<(), BuilderError> {
        for id in crates {
            let (name, version) = id;
            let from = downloaded.join(format!("{name}-{version}.crate"));
            let found = sha256_of(&from)?.ok_or_else(|| {
                BuilderError::io(
                    "cannot read",
                    &from,
                    std::io::Error::from(std::io::ErrorKind::NotFound),
                )
            })?;
            let pinned = wanted[id];
            if found != pinned {
                return Err(BuilderError::CrateChecksum {
                    name: name.clone(),
                    version: version.clone(),
                    pinned,
                    found,
                });
            }
            let to = self.path(id);
            std::fs::rename(&from, &to)
                .or_else(|_| std::fs::copy(&from, &to).map(drop))
                .map_err(|e| BuilderError::io("cannot store", &to, e))?;
        }
        Ok(())
    }

    /// Unpacks every crate of `wanted` into `vendor/<name>-<version>/` with its
    /// `.cargo-checksum.json`, re-checking each archive's sha256 as it is read.
    pub fn unpack_all(
        &self,
        wanted: &BTreeMap<CrateId, Sha256Digest>,
        vendor: &Path,
    ) -> Result<(), BuilderError> {
        let jobs: Vec<(&CrateId, &Sha256Digest)> = wanted.iter().collect();
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let chunk = jobs.len().div_ceil(workers).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = jobs
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        for (id, pinned) in part {
                            self.unpack(id, **pinned, vendor)?;
                        }
                        Ok::<(), BuilderError>(())
                    })
                })
                .collect();
            for handle in handles {
                handle
                    .join()
                    .map_err(|_| BuilderError::Worker("unpacking crates"))??;
            }
            Ok(())
        })
    }

    fn unpack(
        &self,
        id: &CrateId,
        pinned: Sha256Digest,
        vendor: &Path,
    ) -> Result<(), BuilderError> {
        let (name, version) = id;
        let archive = self.path(id);
        let bytes =
            std::fs::read(&archive).map_err(|e| BuilderError::io("cannot read", &archive, e))?;
        let found = Sha256Digest::of(&bytes);
        if found != pinned {
            return Err(BuilderError::CrateChecksum {
                name: name.clone(),
                version: version.clone(),
                pinned,
                found,
            });
        }
        let prefix = format!("{name}-{version}");
        let dest = vendor.join(&prefix);
        let bad = |problem| BuilderError::CrateArchive {
            name: name.clone(),
            version: version.clone(),
            problem,
        };
        let mut files = BTreeMap::new();
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let entries = tar
            .entries()
            .map_err(|e| bad(ArchiveProblem::NotTar(e.to_string())))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| bad(ArchiveProblem::Entry(e.to_string())))?;
            let path = entry
                .path()
                .map_err(|e| bad(ArchiveProblem::Entry(e.to_string())))?
                .into_owned();
            let rel = match path.strip_prefix(&prefix) {
                Ok(rel) if rel.components().all(|c| matches!(c, Component::Normal(_))) => {
                    rel.to_path_buf()
                }
                _ => {
                    return Err(bad(ArchiveProblem::Outside {
                        path,
                        prefix: prefix.clone(),
                    }));
                }
            };
            let kind = entry.header().entry_type();
            if kind.is_dir() {
                create_dir(&dest.join(&rel))?;
                continue;
            }
            if !kind.is_file() {
                return Err(bad(ArchiveProblem::Kind(path)));
            }
            if rel.as_os_str().is_empty() || !vendored(&rel) {
                continue;
            }
            let mode = entry.header().mode().unwrap_or(0o644);
            let mut content = Vec::new();
            entry
                .read_to_end(&mut content)
                .map_err(|e| bad(ArchiveProblem::Entry(format!("{}: {e}", path.display()))))?;
            let target = dest.join(&rel);
            if let Some(parent) = target.parent() {
                create_dir(parent)?;
            }
            write_file(&target, &content, mode & 0o100 != 0)?;
            files.insert(
                rel.to_string_lossy().into_owned(),
                Sha256Digest::of(&content).to_string(),
            );
        }
        create_dir(&dest)?;
        let checksums = serde_json::json!({ "files": files, "package": pinned.to_string() });
        write_file(
            &dest.join(".cargo-checksum.json"),
            checksums.to_string().as_bytes(),
            false,
        )
    }
}

/// Whether a file of a package is vendored: not git's files, not cargo's marker (what
/// `cargo vendor` leaves out).
pub(crate) fn vendored(rel: &Path) -> bool {
    let git = rel.components().any(|c| c.as_os_str() == ".git");
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    !git && !matches!(name, ".gitattributes" | ".gitignore") && rel != Path::new(".cargo-ok")
}

/// A directory (and its parents) a container's user may read.
pub(crate) fn create_dir(dir: &Path) -> Result<(), BuilderError> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(|e| BuilderError::io("cannot create", dir, e))
}

/// A file a container's user may read (and run, when `executable`).
pub(crate) fn write_file(path: &Path, bytes: &[u8], executable: bool) -> Result<(), BuilderError> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, bytes).map_err(|e| BuilderError::io("cannot write", path, e))?;
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| BuilderError::io("cannot set permissions of", path, e))
}

/// The sha256 of the file at `path`, `None` when there is none. A path that is not a regular
/// file (a link, a FIFO planted in a cache) is an error.
fn sha256_of(path: &Path) -> Result<Option<Sha256Digest>, BuilderError> {
    use zkelf_trust::bounded::{BoundedReadError, FileKind};
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(BuilderError::io("cannot read", path, e)),
        Ok(m) if m.file_type().is_symlink() => {
            return Err(BuilderError::Read {
                path: path.to_path_buf(),
                source: BoundedReadError::NotRegular(FileKind::Symlink),
            });
        }
        Ok(_) => {}
    }
    let (mut file, _) =
        zkelf_trust::bounded::open_regular(path).map_err(|source| BuilderError::Read {
            path: path.to_path_buf(),
            source,
        })?;
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
    Ok(Some(hasher.finalize().0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_archive(prefix: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (path, content) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, format!("{prefix}/{path}"), *content)
                .unwrap();
        }
        let tar = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn archives_are_checked_against_the_lock_and_unpacked_as_cargo_vendors_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = CrateStore::open(&dir.path().join("store")).unwrap();
        let good = crate_archive(
            "itoa-1.0.15",
            &[
                ("Cargo.toml", b"[package]\n"),
                ("src/lib.rs", b"//! x\n"),
                (".gitignore", b"target\n"),
                (".cargo-ok", b"ok"),
            ],
        );
        let id: CrateId = ("itoa".into(), "1.0.15".into());
        let wanted = BTreeMap::from([(id.clone(), Sha256Digest::of(&good))]);
        let none = |_: &str| panic!("no note");
        assert_eq!(store.missing(&wanted, &none).unwrap(), vec![id.clone()]);
        let downloads = dir.path().join("downloads");
        std::fs::create_dir(&downloads).unwrap();
        // A registry serving other bytes.
        std::fs::write(downloads.join("itoa-1.0.15.crate"), b"other").unwrap();
        let err = store
            .adopt(&downloads, std::slice::from_ref(&id), &wanted)
            .unwrap_err();
        assert!(matches!(err, BuilderError::CrateChecksum { .. }), "{err}");
        std::fs::write(downloads.join("itoa-1.0.15.crate"), &good).unwrap();
        store
            .adopt(&downloads, std::slice::from_ref(&id), &wanted)
            .unwrap();
        assert!(store.missing(&wanted, &none).unwrap().is_empty());
        let vendor = dir.path().join("vendor");
        store.unpack_all(&wanted, &vendor).unwrap();
        let unpacked = vendor.join("itoa-1.0.15");
        assert!(unpacked.join("src/lib.rs").is_file());
        assert!(!unpacked.join(".gitignore").exists());
        assert!(!unpacked.join(".cargo-ok").exists());
        let sums: serde_json::Value =
            serde_json::from_slice(&std::fs::read(unpacked.join(".cargo-checksum.json")).unwrap())
                .unwrap();
        assert_eq!(sums["package"], Sha256Digest::of(&good).to_string());
        assert_eq!(
            sums["files"]["src/lib.rs"],
            Sha256Digest::of(b"//! x\n").to_string()
        );

        // A store restored from an untrusted build: the archive swapped for another.
        let evil = crate_archive("itoa-1.0.15", &[("src/lib.rs", b"//! evil\n")]);
        std::fs::write(store.path(&id), &evil).unwrap();
        let notes = std::cell::RefCell::new(Vec::new());
        let note = |m: &str| notes.borrow_mut().push(m.to_string());
        assert_eq!(store.missing(&wanted, &note).unwrap(), vec![id.clone()]);
        assert!(
            notes.borrow()[0].contains("not the `"),
            "{:?}",
            notes.borrow()
        );
        assert!(!store.path(&id).exists());
        // And one swapped after the check, as the build reads it.
        std::fs::write(store.path(&id), &evil).unwrap();
        let err = store
            .unpack_all(&wanted, &dir.path().join("vendor2"))
            .unwrap_err();
        assert!(matches!(err, BuilderError::CrateChecksum { .. }), "{err}");
    }

    #[test]
    fn a_store_that_is_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let root = dir.path().join("crates");
        std::os::unix::fs::symlink(&elsewhere, &root).unwrap();
        let err = CrateStore::open(&root).unwrap_err();
        assert_eq!(err.to_string(), format!("cannot use `{}`", root.display()));
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert_eq!(
            cause,
            format!(
                "`{}` is a symbolic link, not a directory, and zkelf does not follow links inside its cache; remove it",
                root.display()
            )
        );
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    }

    #[test]
    fn an_archive_that_leaves_its_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = CrateStore::open(dir.path()).unwrap();
        let evil = crate_archive("other-1.0.0", &[("src/lib.rs", b"x")]);
        let id: CrateId = ("x".into(), "1.0.0".into());
        std::fs::write(store.path(&id), &evil).unwrap();
        let wanted = BTreeMap::from([(id, Sha256Digest::of(&evil))]);
        let err = store
            .unpack_all(&wanted, &dir.path().join("v"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not under `x-1.0.0/`"), "{err}");
    }
}
