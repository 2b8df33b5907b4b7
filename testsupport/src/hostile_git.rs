//! Repositories built to attack whoever runs git inside them: one whose guest directory is, as
//! ordinary committed files, a git directory of its own whose `config` names commands (git's
//! usual discovery, started in that directory, takes it for a repository and runs them), and
//! one whose `.gitattributes` selects filter drivers the user's own global configuration
//! defines ([`FilteringRepo`]). zkelf must run none of them.

use std::path::{Path, PathBuf};

use crate::docker::git;

/// The armed repository and where its commands leave their marks.
#[derive(Debug)]
pub struct HostileRepo {
    /// The repository (a plain checkout with `.git`).
    pub repo: PathBuf,
    /// Its commit.
    pub commit: String,
    /// The guest directory, relative to `repo`: the embedded git directory.
    pub guest: &'static str,
    /// Where a command the embedded configuration names leaves a file.
    pub marks: PathBuf,
}

impl HostileRepo {
    /// Writes the repository at `<dir>/hostile`, its marks going to `<dir>/marks`. The guest
    /// `guests/fib` is a cargo guest `fib` 1.0.0 for `rv32im`, committed in the repository;
    /// the same files are committed, with a real commit, in the embedded git directory
    /// (`HEAD`, `config`, `index`, `objects/`, `refs/`), whose `config` then names commands
    /// through `core.fsmonitor`, a clean and a smudge filter (the guest's `.gitattributes`
    /// applies them to every file) and hooks (`core.hooksPath`: `post-index-change`,
    /// `post-checkout`, `reference-transaction`).
    pub fn create(dir: &Path) -> Self {
        let repo = dir.join("hostile");
        let guest = "guests/fib";
        let fib = repo.join(guest);
        let marks = dir.join("marks");
        std::fs::create_dir_all(&marks).unwrap();
        write_fib(&fib);
        std::fs::write(fib.join(".gitattributes"), "* filter=evil\n").unwrap();
        // The inner repository and its commit, made before it is armed.
        git(&fib, &["init", "-q", "--bare", "--template=", "."]);
        git(&fib, &["config", "core.bare", "false"]);
        git(&fib, &["config", "core.worktree", "."]);
        git(
            &fib,
            &[
                "add",
                "zkelf.toml",
                "Cargo.toml",
                "Cargo.lock",
                "src",
                ".gitattributes",
            ],
        );
        git(&fib, &["commit", "-q", "-m", "inner"]);
        let mark = |name: &str| format!("touch '{}/{name}'", marks.display());
        std::fs::create_dir_all(fib.join("hooks")).unwrap();
        for hook in [
            "post-index-change",
            "post-checkout",
            "reference-transaction",
        ] {
            let path = fib.join("hooks").join(hook);
            std::fs::write(&path, format!("#!/bin/sh\n{}\n", mark(hook))).unwrap();
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::write(
            fib.join("config"),
            format!(
                "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = .\n\
                 \tfsmonitor = \"{}; false\"\n\thooksPath = hooks\n\
                 [filter \"evil\"]\n\tclean = \"{}; cat\"\n\tsmudge = \"{}; cat\"\n",
                mark("fsmonitor"),
                mark("filter-clean"),
                mark("filter-smudge"),
            ),
        )
        .unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "outer"]);
        let commit = git(&repo, &["rev-parse", "HEAD"]);
        Self {
            repo,
            commit,
            guest,
            marks,
        }
    }

    /// The marks left so far, sorted.
    pub fn marks_left(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.marks)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Shows the repository is armed: git's usual discovery, started in the guest directory
    /// of a plain clone (at `<clone>`), runs the configured commands. Clears the marks after.
    pub fn assert_armed(&self, clone: &Path) {
        let status = std::process::Command::new("git")
            .args(["clone", "-q"])
            .arg(&self.repo)
            .arg(clone)
            .status()
            .unwrap();
        assert!(status.success());
        let status = std::process::Command::new("git")
            .args(["status", "--porcelain"])
            .current_dir(clone.join(self.guest))
            .output()
            .unwrap();
        assert!(status.status.success(), "{status:?}");
        let armed = self.marks_left();
        for mark in ["filter-clean", "fsmonitor", "post-index-change"] {
            assert!(
                armed.contains(&mark.to_string()),
                "{mark} not run: {armed:?}"
            );
        }
        std::fs::remove_dir_all(&self.marks).unwrap();
        std::fs::create_dir(&self.marks).unwrap();
    }

    /// Asserts that no configured command ran.
    #[track_caller]
    pub fn assert_nothing_ran(&self) {
        assert_eq!(
            self.marks_left(),
            Vec::<String>::new(),
            "git ran the hostile repository's commands"
        );
    }
}

/// A plain repository (no git directory inside) whose `.gitattributes` selects filter drivers
/// that only the auditor's own global git configuration defines: `lfs` (as git-lfs installs it,
/// `required`) for `*.rs` and `corp` for `*.toml`, each a command that leaves a mark. Git runs
/// them on checkout (smudge) and status (clean) in any clone made with that configuration;
/// zkelf must not, in a tree it cloned.
#[derive(Debug)]
pub struct FilteringRepo {
    /// The repository (a plain checkout with `.git`).
    pub repo: PathBuf,
    /// Its commit.
    pub commit: String,
    /// The guest directory, relative to `repo`.
    pub guest: &'static str,
    /// Where the drivers' commands leave their marks.
    pub marks: PathBuf,
    /// The home whose `.gitconfig` defines the drivers (the auditor's).
    pub home: PathBuf,
}

impl FilteringRepo {
    /// Writes the repository at `<dir>/filtering` (committed without the drivers) and
    /// `<home>/.gitconfig` defining them, the marks going to `<dir>/filter-marks`.
    pub fn create(dir: &Path, home: &Path) -> Self {
        let repo = dir.join("filtering");
        let guest = "guests/fib";
        let fib = repo.join(guest);
        let marks = dir.join("filter-marks");
        std::fs::create_dir_all(&marks).unwrap();
        write_fib(&fib);
        std::fs::write(
            repo.join(".gitattributes"),
            "*.rs filter=lfs diff=lfs merge=lfs -text\n*.toml filter=corp\n",
        )
        .unwrap();
        // Committed where no driver is defined, so the blobs are the files as written.
        let clean_home = dir.join("filtering-setup-home");
        std::fs::create_dir_all(&clean_home).unwrap();
        git_as(&clean_home, &repo, &["init", "-q", "-b", "main"]);
        git_as(&clean_home, &repo, &["add", "-A"]);
        git_as(&clean_home, &repo, &["commit", "-q", "-m", "filtered"]);
        let commit = git_as(&clean_home, &repo, &["rev-parse", "HEAD"]);
        let mark = |name: &str| format!("touch '{}/{name}'; cat", marks.display());
        std::fs::create_dir_all(home).unwrap();
        std::fs::write(
            home.join(".gitconfig"),
            format!(
                "[filter \"lfs\"]\n\tsmudge = \"{}\"\n\tclean = \"{}\"\n\trequired = true\n\
                 [filter \"corp\"]\n\tsmudge = \"{}\"\n\tclean = \"{}\"\n",
                mark("filter-lfs-smudge"),
                mark("filter-lfs-clean"),
                mark("filter-corp-smudge"),
                mark("filter-corp-clean"),
            ),
        )
        .unwrap();
        Self {
            repo,
            commit,
            guest,
            marks,
            home: home.to_path_buf(),
        }
    }

    /// The marks left so far, sorted.
    pub fn marks_left(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.marks)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Shows the drivers are armed: a plain `git clone` (at `<clone>`) with the auditor's home
    /// runs both smudge commands. Clears the marks after.
    pub fn assert_armed(&self, clone: &Path) {
        git_as(
            &self.home,
            self.repo.parent().unwrap(),
            &[
                "clone",
                "-q",
                self.repo.to_str().unwrap(),
                clone.to_str().unwrap(),
            ],
        );
        let armed = self.marks_left();
        for mark in ["filter-corp-smudge", "filter-lfs-smudge"] {
            assert!(
                armed.contains(&mark.to_string()),
                "{mark} not run: {armed:?}"
            );
        }
        std::fs::remove_dir_all(&self.marks).unwrap();
        std::fs::create_dir(&self.marks).unwrap();
    }

    /// Asserts that no driver's command ran.
    #[track_caller]
    pub fn assert_nothing_ran(&self) {
        assert_eq!(
            self.marks_left(),
            Vec::<String>::new(),
            "git ran a filter driver of the user's configuration"
        );
    }
}

/// `git -C <dir> <args>` with `home` as `HOME` and no system configuration; stdout trimmed.
fn git_as(home: &Path, dir: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "zkelf test")
        .env("GIT_AUTHOR_EMAIL", "test@zkelf.invalid")
        .env("GIT_COMMITTER_NAME", "zkelf test")
        .env("GIT_COMMITTER_EMAIL", "test@zkelf.invalid")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The guest both repositories hold at `guests/fib`: a cargo guest `fib` 1.0.0 for `rv32im`.
fn write_fib(fib: &Path) {
    std::fs::create_dir_all(fib.join("src")).unwrap();
    for (rel, text) in [
        (
            "zkelf.toml",
            "name = \"fib\"\nversion = \"1.0.0\"\nbuild = \"cargo\"\n\n[[artifact]]\nprofile = \"rv32im\"\n",
        ),
        (
            "Cargo.toml",
            "[package]\nname = \"fib\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
        ),
        (
            "Cargo.lock",
            "version = 4\n\n[[package]]\nname = \"fib\"\nversion = \"1.0.0\"\n",
        ),
        ("src/main.rs", "fn main() {}\n"),
    ] {
        std::fs::write(fib.join(rel), text).unwrap();
    }
}
