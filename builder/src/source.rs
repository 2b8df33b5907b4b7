//! The git checkout a guest is built from: commit, commit time, dirtiness, and copies of it.

use std::path::{Path, PathBuf};

use crate::error::BuilderError;
use crate::git::Repo;
use crate::manifest::{BuildKind, Manifest};

pub use crate::git::{check_commit, check_remote};

/// Where a guest's source is and which commit it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Absolute path of the git checkout on this host.
    pub git_root: PathBuf,
    /// The repository, named on every git command zkelf runs on it.
    pub repo: Repo,
    /// The directory mounted into the build, relative to `git_root`: for cargo guests the
    /// nearest directory holding the workspace and every path package it reaches
    /// ([`crate::workspace`]), for make guests the guest directory.
    pub source_root: PathBuf,
    /// The cargo workspace (the directory holding `Cargo.lock`), relative to `git_root`; the
    /// guest directory for make guests.
    pub workspace_root: PathBuf,
    /// The path packages the workspace reaches outside itself, relative to `git_root`.
    pub outside: std::collections::BTreeSet<PathBuf>,
    /// The git dependencies its manifests declare: key and lock source id
    /// ([`crate::workspace::Needs::git`]).
    pub git_dependencies: std::collections::BTreeSet<(String, String)>,
    /// The guest directory, relative to `git_root`.
    pub guest_path: PathBuf,
    /// `HEAD`'s commit id.
    pub commit: String,
    /// `HEAD`'s committer time: the build's `SOURCE_DATE_EPOCH`.
    pub commit_time: u64,
    /// Whether `source_root` has uncommitted or untracked (not ignored) changes.
    pub dirty: bool,
    /// The first few changed paths when dirty.
    pub changes: Vec<String>,
    /// `remote.origin.url`, or a `file://` URL of the checkout.
    pub uri: String,
}

impl Source {
    /// Inspects the checkout containing `guest_dir` for `manifest`'s guest: the user's own
    /// guest (`zkelf build`), whose repository git finds by discovery.
    pub fn inspect(guest_dir: &Path, manifest: &Manifest) -> Result<Self, BuilderError> {
        let guest_dir = guest_dir
            .canonicalize()
            .map_err(|e| BuilderError::io("cannot resolve", guest_dir, e))?;
        let not_checkout = || BuilderError::NotGitCheckout {
            dir: guest_dir.clone(),
        };
        let mut repo = Repo::discover(&guest_dir).map_err(|_| not_checkout())?;
        repo.work_tree = repo
            .work_tree
            .canonicalize()
            .map_err(|e| BuilderError::io("cannot resolve", &repo.work_tree, e))?;
        let commit = repo.head().map_err(|_| not_checkout())?;
        let guest_path = guest_dir
            .strip_prefix(&repo.work_tree)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Self::describe(repo, guest_path, commit, manifest, &guest_dir)
    }

    /// The guest at `guest_path` in a tree zkelf cloned at `commit` (a rebuild: everything in
    /// it is the release's, hostile until proven otherwise). The commit is checked before
    /// anything reads the tree, and `guest_path` must stay inside it: relative, no `..`, no
    /// symbolic link on the way.
    pub fn of_clone(
        root: &Path,
        guest_path: &Path,
        commit: &str,
        manifest: impl FnOnce(&Path) -> Result<Manifest, BuilderError>,
    ) -> Result<(Self, Manifest), BuilderError> {
        let repo = Repo::of_clone(root);
        let head = repo.head()?;
        if !head.eq_ignore_ascii_case(commit) {
            return Err(BuilderError::Provenance {
                problem: crate::error::problem::ProvenanceProblem::Commit {
                    recorded: commit.to_string(),
                    checkout: head,
                },
            });
        }
        let guest_dir = crate::workspace::contained_dir(root, guest_path, "source.path")?;
        let manifest = manifest(&guest_dir)?;
        let source = Self::describe(repo, guest_path.to_path_buf(), head, &manifest, &guest_dir)?;
        Ok((source, manifest))
    }

    /// Commit time, source root, changes and origin of the guest at `guest_path` in `repo`.
    fn describe(
        repo: Repo,
        guest_path: PathBuf,
        commit: String,
        manifest: &Manifest,
        guest_dir: &Path,
    ) -> Result<Self, BuilderError> {
        let git_root = repo.work_tree.clone();
        let commit_time = repo
            .git(&[
                "log",
                "-1",
                "--no-show-signature",
                "--format=%ct",
                &commit,
                "--",
            ])?
            .parse::<u64>()
            .map_err(|e| BuilderError::Git {
                args: "log -1 --format=%ct".into(),
                dir: git_root.clone(),
                stderr: format!("it printed no commit time ({e})"),
            })?;
        let workspace_root = match manifest.build {
            BuildKind::Make => guest_path.clone(),
            // The nearest directory holding a `Cargo.lock`, from the guest up to the checkout's
            // root. Found without following it: reading it refuses a link or a FIFO.
            BuildKind::Cargo => guest_path
                .ancestors()
                .find(|rel| {
                    std::fs::symlink_metadata(git_root.join(rel).join("Cargo.lock")).is_ok()
                })
                .map(Path::to_path_buf)
                .ok_or_else(|| BuilderError::NoCargoLock {
                    guest: manifest.name.clone(),
                    dir: guest_dir.to_path_buf(),
                })?,
        };
        let (source_root, outside, git_dependencies) = match manifest.build {
            BuildKind::Make => (
                workspace_root.clone(),
                Default::default(),
                Default::default(),
            ),
            BuildKind::Cargo => {
                let needs = crate::workspace::needs(&git_root, &workspace_root)?;
                (needs.mount, needs.outside, needs.git)
            }
        };
        let scope = pathspec(&source_root);
        let status = repo.git(&[
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignore-submodules=none",
            "--",
            &scope,
        ])?;
        // `XY path` entries; a rename adds its source path as a bare entry, skipped here.
        let changes: Vec<String> = status
            .split('\0')
            .filter(|entry| entry.len() > 3 && entry.as_bytes()[2] == b' ')
            .map(|entry| entry[3..].to_string())
            .collect();
        let uri = repo
            .git(&["config", "--get", "remote.origin.url"])
            .ok()
            .filter(|url| !url.is_empty())
            .map(|url| without_userinfo(&url))
            .unwrap_or_else(|| format!("file://{}", git_root.display()));
        Ok(Self {
            dirty: !changes.is_empty(),
            changes,
            git_root,
            repo,
            source_root,
            workspace_root,
            outside,
            git_dependencies,
            guest_path,
            commit,
            commit_time,
            uri,
        })
    }

    /// The host directory mounted as the build's source.
    pub fn host_source_root(&self) -> PathBuf {
        self.git_root.join(&self.source_root)
    }

    /// Copies the files git knows (tracked and untracked, not ignored) under `source_root` to
    /// `dest`, keeping their paths relative to the checkout.
    pub fn copy_to(&self, dest: &Path) -> Result<(), BuilderError> {
        let list = self.repo.git(&[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            &pathspec(&self.source_root),
        ])?;
        for rel in list.split('\0').filter(|s| !s.is_empty()) {
            let from = self.git_root.join(rel);
            let meta = match std::fs::symlink_metadata(&from) {
                Ok(meta) => meta,
                // Deleted in the working tree but still in the index.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(BuilderError::io("cannot read", from, e)),
            };
            let to = dest.join(rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| BuilderError::io("cannot create", parent, e))?;
            }
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&from)
                    .map_err(|e| BuilderError::io("cannot read", &from, e))?;
                std::os::unix::fs::symlink(target, &to)
                    .map_err(|e| BuilderError::io("cannot create", &to, e))?;
            } else if meta.is_file() {
                std::fs::copy(&from, &to).map_err(|e| BuilderError::io("cannot copy", &from, e))?;
            }
        }
        Ok(())
    }
}

/// Clones `uri` into `dest` and checks out `commit` (for rebuilds from provenance). Both come
/// from a release the auditor does not trust yet: they are checked with [`check_remote`] and
/// [`check_commit`] first.
pub fn checkout(uri: &str, commit: &str, dest: &Path) -> Result<(), BuilderError> {
    check_remote(uri)?;
    check_commit(commit)?;
    crate::git::clone_at(uri, commit, dest).map(drop)
}

/// `https://user:token@host/x` → `https://host/x`: credentials never reach the provenance.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

fn pathspec(rel: &Path) -> String {
    if rel.as_os_str().is_empty() {
        ".".into()
    } else {
        rel.to_string_lossy().into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::without_userinfo;

    #[test]
    fn strips_credentials_from_remote_urls() {
        assert_eq!(
            without_userinfo("https://bot:ghp_secret@github.com/zkelf/zkelf.git"),
            "https://github.com/zkelf/zkelf.git"
        );
        assert_eq!(
            without_userinfo("https://github.com/a/b"),
            "https://github.com/a/b"
        );
        assert_eq!(
            without_userinfo("git@github.com:a/b.git"),
            "git@github.com:a/b.git"
        );
        assert_eq!(without_userinfo("ssh://git@host/a@b"), "ssh://host/a@b");
    }
}
