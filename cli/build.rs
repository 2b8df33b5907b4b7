//! Records the commit zkelf is built from, and whether the tree had changes, for `--version`
//! and the provenance (`ZKELF_BUILD_COMMIT`, read by `src/version.rs`).
//!
//! Git is named explicitly (`--git-dir`, `--work-tree`) at the workspace root, never discovered,
//! and the configuration that runs commands is switched off, as the builder's git calls do. No
//! git, no repository (a source tarball, `cargo install` from crates.io) or a git that refuses
//! (another user's tree) gives `unknown`, never a failed build.

use std::path::Path;
use std::process::Command;

/// `-c` settings that keep `git status` from running anything a config file names.
const NEUTRAL_CONFIG: &[&str] = &[
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.untrackedCache=false",
    "safe.bareRepository=explicit",
];

fn main() {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it");
    let root = Path::new(&manifest).join("..");
    let git_dir = root.join(".git");
    let described = describe(&root, &git_dir).unwrap_or_else(|| "unknown commit".to_owned());
    println!("cargo::rustc-env=ZKELF_BUILD_COMMIT={described}");
    println!("cargo::rerun-if-env-changed=ZKELF_BUILD_COMMIT");
    // An edit to the code touches a crate's sources (which rebuild this crate anyway); a new
    // commit moves HEAD or the branch it names; a staged change touches the index. Only paths
    // that exist are named: cargo reruns a script for a missing one on every build.
    let mut watched = vec![root.join("Cargo.lock")];
    for dir in [
        "cli/src",
        "trust/src",
        "zkvm/src",
        "builder/src",
        "registry/src",
    ] {
        watched.push(root.join(dir));
    }
    let paths = git(
        &root,
        &git_dir,
        &[
            "rev-parse",
            "--path-format=absolute",
            "--git-dir",
            "--git-common-dir",
            "--symbolic-full-name",
            "HEAD",
        ],
    );
    if let Some(paths) = paths {
        let lines: Vec<&str> = paths.lines().collect();
        if let [dir, common, head] = lines[..] {
            let (dir, common) = (Path::new(dir), Path::new(common));
            watched.extend([
                dir.join("HEAD"),
                dir.join("index"),
                common.join("packed-refs"),
            ]);
            watched.push(common.join(head));
        }
    }
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo::rerun-if-changed={}", path.display());
    }
}

/// `<commit>` or `<commit>, dirty`; `None` when git cannot say.
fn describe(root: &Path, git_dir: &Path) -> Option<String> {
    // Set by a build from a source archive that knows its commit (scripts/dist exports it).
    if let Ok(given) = std::env::var("ZKELF_BUILD_COMMIT")
        && !given.is_empty()
    {
        return Some(given);
    }
    if std::fs::symlink_metadata(git_dir).is_err() {
        return None;
    }
    let commit = git(root, git_dir, &["rev-parse", "--verify", "HEAD"])?;
    if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let status = git(
        root,
        git_dir,
        &["status", "--porcelain", "--untracked-files=normal"],
    )?;
    Some(if status.is_empty() {
        commit
    } else {
        format!("{commit}, dirty")
    })
}

/// One git command's trimmed stdout, or `None` when git is missing or fails.
fn git(root: &Path, git_dir: &Path, args: &[&str]) -> Option<String> {
    let mut command = Command::new("git");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GIT_") {
            command.env_remove(name);
        }
    }
    command.arg("--git-dir").arg(git_dir);
    command.arg("--work-tree").arg(root);
    for setting in NEUTRAL_CONFIG {
        command.args(["-c", setting]);
    }
    let out = command.args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_owned())
}
