//! A repository built to attack whoever runs git inside it: its guest directory is, as
//! ordinary committed files, a git directory of its own whose `config` names commands. Git's
//! usual discovery, started in that directory, takes it for a repository and runs them; zkelf
//! must not.

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
        std::fs::create_dir_all(fib.join("src")).unwrap();
        std::fs::create_dir_all(&marks).unwrap();
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
            (".gitattributes", "* filter=evil\n"),
        ] {
            std::fs::write(fib.join(rel), text).unwrap();
        }
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
