//! Proof that a directory holds exactly the tree of a locked git commit, computed by zkelf from
//! the files themselves: the commit object must hash to the commit id the lock pins, and the
//! directory, hashed as git hashes trees (blobs, modes, symbolic links, submodule links, git's
//! order), must give the tree that commit names. Neither a git mirror, a cache restored from an
//! untrusted build, nor git itself is trusted for this: only SHA-1 second preimages could fool it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use sha1::{Digest as _, Sha1};

/// Why a directory is not the commit's tree.
#[derive(Debug, thiserror::Error)]
pub enum TreeProblem {
    /// The commit object does not hash to the commit id.
    #[error("the commit object does not hash to `{commit}`")]
    CommitObject {
        /// The locked commit.
        commit: String,
    },
    /// The commit object names no tree.
    #[error("the commit object of `{commit}` names no tree")]
    Malformed {
        /// The locked commit.
        commit: String,
    },
    /// The files are not the tree the commit names.
    #[error(
        "its files are not the tree `{expected}` of commit `{commit}` (they hash to `{found}`)"
    )]
    Mismatch {
        /// The locked commit.
        commit: String,
        /// The tree the commit names.
        expected: String,
        /// What the files hash to.
        found: String,
    },
    /// A directory that is empty and no submodule link: git never checks one out.
    #[error("`{}` is an empty directory, which no git tree holds", path.display())]
    EmptyDirectory {
        /// The directory, relative to the tree.
        path: PathBuf,
    },
    /// Something else than a file, directory or link.
    #[error("`{}` is neither a file, a directory nor a symbolic link", path.display())]
    Special {
        /// The entry, relative to the tree.
        path: PathBuf,
    },
    /// A file could not be read.
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Checks that `dir` is the tree of `commit`, whose raw object (what `git cat-file commit`
/// prints) is `commit_object`; `gitlinks` maps each submodule path (relative, an empty
/// directory in `dir`) to the commit it links.
pub(crate) fn verify(
    dir: &Path,
    commit: &str,
    commit_object: &[u8],
    gitlinks: &BTreeMap<PathBuf, String>,
) -> Result<(), TreeProblem> {
    if hex(&object_id("commit", commit_object)) != commit {
        return Err(TreeProblem::CommitObject {
            commit: commit.to_string(),
        });
    }
    let expected = commit_object
        .split(|&b| b == b'\n')
        .next()
        .and_then(|line| line.strip_prefix(b"tree "))
        .and_then(|id| std::str::from_utf8(id).ok())
        .filter(|id| id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| TreeProblem::Malformed {
            commit: commit.to_string(),
        })?;
    let found = hex(&tree_id(dir, Path::new(""), gitlinks)?);
    if found != expected {
        return Err(TreeProblem::Mismatch {
            commit: commit.to_string(),
            expected: expected.to_string(),
            found,
        });
    }
    Ok(())
}

/// The id of the tree at `dir/rel`.
fn tree_id(
    dir: &Path,
    rel: &Path,
    gitlinks: &BTreeMap<PathBuf, String>,
) -> Result<[u8; 20], TreeProblem> {
    let abs = dir.join(rel);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TreeProblem::Io { path, source }
    };
    // (sort key, mode, name, id): git orders a tree's entries by name, a subtree's name
    // compared as if it ended with `/`.
    let mut entries: Vec<(Vec<u8>, &str, OsString, [u8; 20])> = Vec::new();
    for entry in std::fs::read_dir(&abs).map_err(io(&abs))? {
        let entry = entry.map_err(io(&abs))?;
        let name = entry.file_name();
        let child = rel.join(&name);
        let meta = entry.metadata().map_err(io(&child))?;
        let kind = meta.file_type();
        let mut key = name.as_bytes().to_vec();
        let (mode, id) = if let Some(linked) = gitlinks.get(&child) {
            ("160000", unhex(linked).unwrap_or([0; 20]))
        } else if kind.is_symlink() {
            let target = std::fs::read_link(entry.path()).map_err(io(&child))?;
            ("120000", object_id("blob", target.as_os_str().as_bytes()))
        } else if kind.is_dir() {
            key.push(b'/');
            ("40000", tree_id(dir, &child, gitlinks)?)
        } else if kind.is_file() {
            let mode = if meta.permissions().mode() & 0o100 != 0 {
                "100755"
            } else {
                "100644"
            };
            (
                mode,
                blob_id(&entry.path(), meta.len()).map_err(io(&child))?,
            )
        } else {
            return Err(TreeProblem::Special { path: child });
        };
        entries.push((key, mode, name, id));
    }
    if entries.is_empty() && !rel.as_os_str().is_empty() {
        return Err(TreeProblem::EmptyDirectory {
            path: rel.to_path_buf(),
        });
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut body = Vec::new();
    for (_, mode, name, id) in entries {
        body.extend_from_slice(mode.as_bytes());
        body.push(b' ');
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(&id);
    }
    Ok(object_id("tree", &body))
}

/// The id of a blob object holding `path`'s `len` bytes, read in chunks.
fn blob_id(path: &Path, len: u64) -> std::io::Result<[u8; 20]> {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {len}\0").as_bytes());
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut read = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        read += n as u64;
        hasher.update(&buf[..n]);
    }
    if read != len {
        return Err(std::io::Error::other(
            "the file changed while it was hashed",
        ));
    }
    Ok(hasher.finalize().into())
}

/// The id of a git object of `kind` with `body`.
fn object_id(kind: &str, body: &[u8]) -> [u8; 20] {
    let mut hasher = Sha1::new();
    hasher.update(format!("{kind} {}\0", body.len()).as_bytes());
    hasher.update(body);
    hasher.finalize().into()
}

fn hex(id: &[u8; 20]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 20]> {
    let mut out = [0u8; 20];
    if text.len() != 40 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        out.stdout
    }

    #[test]
    fn a_checkout_hashes_to_its_commit_and_any_change_is_caught() {
        let repo = tempfile::tempdir().unwrap();
        let r = repo.path();
        std::fs::create_dir_all(r.join("src/deep")).unwrap();
        std::fs::write(r.join("Cargo.toml"), "[package]\n").unwrap();
        std::fs::write(r.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        std::fs::write(r.join("src/deep/x"), [0u8, 1, 2]).unwrap();
        std::fs::write(r.join("src-a"), "sorts between `src` and `src/`\n").unwrap();
        std::fs::write(r.join("run.sh"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(r.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("src/lib.rs", r.join("link")).unwrap();
        git(r, &["init", "-q"]);
        git(r, &["add", "-A"]);
        git(r, &["commit", "-qm", "x"]);
        let commit = String::from_utf8(git(r, &["rev-parse", "HEAD"]))
            .unwrap()
            .trim()
            .to_string();
        let object = git(r, &["cat-file", "commit", &commit]);
        let out = tempfile::tempdir().unwrap();
        let tar = git(r, &["archive", "--format=tar", &commit]);
        tar::Archive::new(tar.as_slice())
            .unpack(out.path())
            .unwrap();
        let links = BTreeMap::new();
        verify(out.path(), &commit, &object, &links).unwrap();

        let err = verify(out.path(), &"0".repeat(40), &object, &links).unwrap_err();
        assert!(matches!(err, TreeProblem::CommitObject { .. }), "{err}");
        std::fs::write(out.path().join("src/lib.rs"), "pub fn g() {}\n").unwrap();
        let err = verify(out.path(), &commit, &object, &links).unwrap_err();
        assert!(matches!(err, TreeProblem::Mismatch { .. }), "{err}");
        std::fs::write(out.path().join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        std::fs::set_permissions(
            out.path().join("run.sh"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert!(verify(out.path(), &commit, &object, &links).is_err());
        std::fs::set_permissions(
            out.path().join("run.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::fs::create_dir(out.path().join("extra")).unwrap();
        let err = verify(out.path(), &commit, &object, &links).unwrap_err();
        assert!(matches!(err, TreeProblem::EmptyDirectory { .. }), "{err}");
        std::fs::remove_dir(out.path().join("extra")).unwrap();
        std::fs::write(out.path().join("extra"), "").unwrap();
        assert!(verify(out.path(), &commit, &object, &links).is_err());
    }
}
