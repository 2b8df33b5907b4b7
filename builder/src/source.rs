//! The git checkout a guest is built from: commit, commit time, dirtiness, and copies of it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::BuilderError;
use crate::manifest::{BuildKind, Manifest};

/// Where a guest's source is and which commit it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Absolute path of the git checkout on this host.
    pub git_root: PathBuf,
    /// The directory mounted into the build, relative to `git_root`: the cargo workspace root
    /// (where `Cargo.lock` is) or, for make guests, the guest directory.
    pub source_root: PathBuf,
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
    /// Inspects the checkout containing `guest_dir` for `manifest`'s guest.
    pub fn inspect(guest_dir: &Path, manifest: &Manifest) -> Result<Self, BuilderError> {
        let guest_dir = guest_dir
            .canonicalize()
            .map_err(|e| BuilderError::io("cannot resolve", guest_dir, e))?;
        let git_root = match git(&guest_dir, &["rev-parse", "--show-toplevel"]) {
            Ok(out) => PathBuf::from(out),
            Err(_) => return Err(BuilderError::NotGitCheckout { dir: guest_dir }),
        };
        let git_root = git_root
            .canonicalize()
            .map_err(|e| BuilderError::io("cannot resolve", &git_root, e))?;
        let commit = git(&git_root, &["rev-parse", "--verify", "HEAD"]).map_err(|_| {
            BuilderError::NotGitCheckout {
                dir: guest_dir.clone(),
            }
        })?;
        let commit_time = git(&git_root, &["log", "-1", "--format=%ct", "HEAD"])?
            .parse::<u64>()
            .map_err(|e| BuilderError::Git {
                args: "log -1 --format=%ct HEAD".into(),
                dir: git_root.clone(),
                message: e.to_string(),
            })?;
        let guest_path = guest_dir
            .strip_prefix(&git_root)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let source_root = match manifest.build {
            BuildKind::Make => guest_path.clone(),
            BuildKind::Cargo => guest_dir
                .ancestors()
                .take_while(|dir| dir.starts_with(&git_root))
                .find(|dir| dir.join("Cargo.lock").is_file())
                .and_then(|dir| dir.strip_prefix(&git_root).ok())
                .map(Path::to_path_buf)
                .ok_or_else(|| BuilderError::NoCargoLock {
                    guest: manifest.name.clone(),
                    dir: guest_dir.clone(),
                })?,
        };
        let scope = pathspec(&source_root);
        let status = git(
            &git_root,
            &[
                "status",
                "--porcelain=v1",
                "-z",
                "--untracked-files=all",
                "--",
                &scope,
            ],
        )?;
        // `XY path` entries; a rename adds its source path as a bare entry, skipped here.
        let changes: Vec<String> = status
            .split('\0')
            .filter(|entry| entry.len() > 3 && entry.as_bytes()[2] == b' ')
            .map(|entry| entry[3..].to_string())
            .collect();
        let uri = git(&git_root, &["config", "--get", "remote.origin.url"])
            .ok()
            .filter(|url| !url.is_empty())
            .map(|url| without_userinfo(&url))
            .unwrap_or_else(|| format!("file://{}", git_root.display()));
        Ok(Self {
            dirty: !changes.is_empty(),
            changes,
            git_root,
            source_root,
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
        let list = git(
            &self.git_root,
            &[
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
                "--",
                &pathspec(&self.source_root),
            ],
        )?;
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
/// [`check_commit`] and passed after `--`.
pub fn checkout(uri: &str, commit: &str, dest: &Path) -> Result<(), BuilderError> {
    check_remote(uri)?;
    check_commit(commit)?;
    let parent = dest.parent().unwrap_or(Path::new("."));
    let dest_str = dest.to_string_lossy();
    git(
        parent,
        &["clone", "--quiet", "--no-checkout", "--", uri, &dest_str],
    )?;
    git(dest, &["checkout", "--quiet", "--detach", commit, "--"])?;
    Ok(())
}

/// Refuses a source git could read as an option (`--upload-pack=…`) or hand to a transport
/// helper that runs commands (`ext::sh -c …`): only `https://`, `ssh://`, `file://`,
/// `git@host:path` and local paths pass.
pub fn check_remote(uri: &str) -> Result<(), BuilderError> {
    let refuse = |reason| BuilderError::UnsafeSource {
        action: "clone",
        value: uri.to_string(),
        reason,
    };
    if uri.is_empty() {
        return Err(refuse("it is empty"));
    }
    if uri.starts_with('-') {
        return Err(refuse(
            "it starts with `-`, so git would take it as an option",
        ));
    }
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refuse("it contains whitespace or control characters"));
    }
    let host_ok = |authority: &str| {
        let host = authority.rsplit('@').next().unwrap_or_default();
        !host.is_empty() && !host.starts_with('-')
    };
    for scheme in ["https://", "ssh://"] {
        if let Some(rest) = uri.strip_prefix(scheme) {
            let authority = rest.split('/').next().unwrap_or_default();
            return if host_ok(authority) {
                Ok(())
            } else {
                Err(refuse("its host is empty or starts with `-`"))
            };
        }
    }
    if let Some(rest) = uri.strip_prefix("git@") {
        return match rest.split_once(':') {
            Some((host, path)) if host_ok(host) && !host.contains('/') && !path.is_empty() => {
                Ok(())
            }
            _ => Err(refuse("it is not `git@host:path`")),
        };
    }
    // A local path: `file://`, absolute or explicitly relative, or anything without a `:`
    // (with one, git may read `host:path` as ssh or `name::address` as a transport helper).
    let local = uri.starts_with("file://")
        || uri.starts_with('/')
        || uri.starts_with("./")
        || uri.starts_with("../")
        || !uri.contains(':');
    if local {
        Ok(())
    } else {
        Err(refuse(
            "it is neither `https://`, `ssh://`, `file://`, `git@host:path` nor a local path",
        ))
    }
}

/// Refuses a commit that is not a full hex object id (SHA-1 or SHA-256).
pub fn check_commit(commit: &str) -> Result<(), BuilderError> {
    if matches!(commit.len(), 40 | 64) && commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(BuilderError::UnsafeSource {
            action: "check out commit",
            value: commit.to_string(),
            reason: "it is not a full hex commit id (40 or 64 hex digits)",
        })
    }
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

/// Runs git in `dir`; stdout trimmed.
fn git(dir: &Path, args: &[&str]) -> Result<String, BuilderError> {
    let fail = |message: String| BuilderError::Git {
        args: args.join(" "),
        dir: dir.to_path_buf(),
        message,
    };
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| fail(e.to_string()))?;
    if !output.status.success() {
        return Err(fail(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(if args.contains(&"-z") {
        text.into_owned()
    } else {
        text.trim().to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::{check_commit, check_remote, without_userinfo};

    #[test]
    fn only_plain_remotes_and_paths_are_cloned() {
        for ok in [
            "https://github.com/zkelf/zkelf.git",
            "ssh://git@github.com/zkelf/zkelf.git",
            "git@github.com:zkelf/zkelf.git",
            "file:///srv/git/zkelf",
            "/srv/git/zkelf",
            "./zkelf",
            "../zkelf",
            "zkelf",
        ] {
            check_remote(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (bad, reason) in [
            ("--upload-pack=touch /tmp/pwned", "starts with `-`"),
            ("-u", "starts with `-`"),
            ("", "empty"),
            ("ext::sh -c touch% /tmp/pwned", "whitespace"),
            ("ext::sh%20-c%20id", "neither"),
            ("fd::17", "neither"),
            ("http://example.com/r.git", "neither"),
            ("ssh://-oProxyCommand=id/r", "host"),
            ("git@-oProxyCommand=id:r", "not `git@host:path`"),
            ("host:path", "neither"),
            ("https://x/\u{1b}[2J", "control"),
        ] {
            let err = check_remote(bad).unwrap_err().to_string();
            assert!(err.starts_with("refusing to clone `"), "{bad}: {err}");
            assert!(err.contains(reason), "{bad}: {err}");
        }
        check_commit(&"0a".repeat(20)).unwrap();
        check_commit(&"0a".repeat(32)).unwrap();
        for bad in ["--orphan=x", "HEAD", "0123abc", &"g".repeat(40)] {
            assert!(check_commit(bad).is_err(), "{bad}");
        }
    }

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
