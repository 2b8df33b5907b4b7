//! Every git command zkelf runs. A repository is always named explicitly (`--git-dir`,
//! `--work-tree`), never discovered inside a tree zkelf did not create, and configuration that
//! runs commands is switched off on the command line, which outranks every config file.
//!
//! Why: a cloned tree may hold, as ordinary files, a directory that *is* a git directory
//! (`HEAD`, `config`, `objects/`, `refs/`). Git's discovery, started inside it, would take it for
//! a repository and run what its `config` names (`core.fsmonitor`, hooks, filters).
//!
//! A cloned tree's own `.gitattributes` could still select a filter driver that the user's
//! global configuration defines (git-lfs's smudge, which downloads from a URL the tree's
//! `.lfsconfig` names; any other): so a clone's `info/attributes`, which outranks every
//! `.gitattributes`, unsets `filter` (and `diff`, `merge`) for every path before anything is
//! checked out, and its commands run with no global attributes file, git-lfs's driver emptied
//! and `GIT_LFS_SKIP_SMUDGE=1` besides. The user's own repository (`zkelf build`) keeps its
//! filters: its attributes and its configuration are both the user's.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::BuilderError;

pub(crate) mod remote;

/// Settings given with `-c` to every git command. `core.fsmonitor` and `core.hooksPath` name
/// commands git would run during `status` and `checkout`; `safe.bareRepository=explicit` keeps
/// discovery from ever taking a bare-looking directory for a repository; `protocol.ext.allow`
/// refuses the transport that runs a shell command.
const NEUTRAL_CONFIG: &[&str] = &[
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "safe.bareRepository=explicit",
    "protocol.ext.allow=never",
    "advice.detachedHead=false",
];

/// Settings given with `-c` to every git command on a tree zkelf cloned, on top of
/// [`NEUTRAL_CONFIG`]: no global attributes file, and git-lfs's filter driver (which the user's
/// global configuration usually defines) emptied, which git takes for no driver.
const CLONE_CONFIG: &[&str] = &[
    "core.attributesFile=/dev/null",
    "filter.lfs.process=",
    "filter.lfs.smudge=",
    "filter.lfs.clean=",
    "filter.lfs.required=false",
];

/// A cloned repository's `info/attributes`: it outranks every `.gitattributes` of the tree, and
/// selects no filter, diff or merge driver for any path.
const CLONE_ATTRIBUTES: &str = "# zkelf: a tree it cloned selects no driver of the user's configuration\n* -filter -diff -merge\n";

/// Environment variables that would point git at another repository, index or config than the
/// one named, or let it prompt.
const SCRUBBED_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_EXTERNAL_DIFF",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
];

/// A git repository and its working tree, both named on every command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// The repository (`.git`).
    pub git_dir: PathBuf,
    /// Its working tree.
    pub work_tree: PathBuf,
    /// Whether zkelf cloned it (a tree it does not trust: [`CLONE_CONFIG`]).
    pub cloned: bool,
}

impl Repo {
    /// The repository zkelf cloned into `root` (its `.git` is git's own, written by the clone).
    pub fn of_clone(root: &Path) -> Self {
        Self {
            git_dir: root.join(".git"),
            work_tree: root.to_path_buf(),
            cloned: true,
        }
    }

    /// The repository that holds `dir`, for the user's own guest (`zkelf build`): the nearest
    /// directory at or above `dir` with a `.git` (a directory, or a worktree's or submodule's
    /// `.git` file). zkelf looks for it itself rather than through git's discovery, which
    /// would take a bare-looking directory on the way (files named `HEAD`, `config`,
    /// `objects/`, `refs/`) for a repository and run its configuration.
    pub fn discover(dir: &Path) -> Result<Self, BuilderError> {
        let found = dir
            .ancestors()
            .find(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())
            .ok_or_else(|| BuilderError::Git {
                args: "rev-parse".into(),
                dir: dir.to_path_buf(),
                stderr: "no `.git` in it or any parent".into(),
            })?;
        let repo = Self {
            git_dir: found.join(".git"),
            work_tree: found.to_path_buf(),
            cloned: false,
        };
        // A `.git` file names the real directory; git resolves it.
        let git_dir = repo.git(&["rev-parse", "--absolute-git-dir"])?;
        Ok(Self {
            git_dir: PathBuf::from(git_dir),
            ..repo
        })
    }

    /// Runs `git <args>` on this repository, from its working tree; stdout, trimmed unless `-z`.
    pub fn git(&self, args: &[&str]) -> Result<String, BuilderError> {
        run(Some(&self.work_tree), Some(self), args)
    }

    /// `HEAD`'s commit id.
    pub fn head(&self) -> Result<String, BuilderError> {
        self.git(&["rev-parse", "--verify", "--end-of-options", "HEAD^{commit}"])
    }
}

/// Clones `uri` into `dest` (which must not exist) without checking anything out, then checks
/// out `commit`, detached. The caller has checked both with [`check_remote`] and
/// [`check_commit`]; they are passed after `--` all the same.
pub fn clone_at(uri: &str, commit: &str, dest: &Path) -> Result<Repo, BuilderError> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    let dest_str = dest.to_string_lossy();
    run(
        Some(parent),
        None,
        &["clone", "--quiet", "--no-checkout", "--", uri, &dest_str],
    )?;
    let repo = Repo::of_clone(dest);
    let info = repo.git_dir.join("info");
    std::fs::create_dir_all(&info)
        .and_then(|()| std::fs::write(info.join("attributes"), CLONE_ATTRIBUTES))
        .map_err(|e| BuilderError::io("cannot write", info.join("attributes"), e))?;
    repo.git(&["checkout", "--quiet", "--detach", commit, "--"])?;
    Ok(repo)
}

/// Runs git in `cwd` (on `repo` when given); stdout trimmed, unless `-z` asked for NUL-separated
/// output.
fn run(cwd: Option<&Path>, repo: Option<&Repo>, args: &[&str]) -> Result<String, BuilderError> {
    let dir = cwd.map(Path::to_path_buf).unwrap_or_default();
    let fail = |stderr: String| BuilderError::Git {
        args: args.join(" "),
        dir: dir.clone(),
        stderr,
    };
    let mut command = Command::new("git");
    command.arg("--no-pager");
    if let Some(repo) = repo {
        command
            .arg("--git-dir")
            .arg(&repo.git_dir)
            .arg("--work-tree")
            .arg(&repo.work_tree);
    }
    let cloned = repo.is_some_and(|r| r.cloned);
    let clone_config = if cloned { CLONE_CONFIG } else { &[] };
    for setting in NEUTRAL_CONFIG.iter().chain(clone_config) {
        command.args(["-c", setting]);
    }
    if cloned {
        command.env("GIT_LFS_SKIP_SMUDGE", "1");
    }
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    for var in SCRUBBED_ENV {
        command.env_remove(var);
    }
    let output = command
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        // `status` then never rewrites the index, which would run an index hook.
        .env("GIT_OPTIONAL_LOCKS", "0")
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

/// Refuses a source git could read as an option (`--upload-pack=…`) or hand to a transport
/// helper that runs commands (`ext::sh -c …`): only `https://`, `ssh://`, `file://`,
/// `git@host:path` and local paths pass.
pub fn check_remote(uri: &str) -> Result<(), BuilderError> {
    match remote::refusal(uri) {
        None => Ok(()),
        Some(reason) => Err(BuilderError::UnsafeSource {
            action: "clone",
            value: uri.to_string(),
            reason,
        }),
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

#[cfg(test)]
mod tests {
    use super::{check_commit, check_remote};

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
}
