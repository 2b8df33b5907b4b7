//! Docker and builder fixtures: the builder image once per test run, throwaway git checkouts of
//! guests, and running built ELFs under qemu-user. Never skips: without dockerd, tests fail
//! with a message saying how to start it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The repository root (where `guests/` and `Dockerfile.builder` are).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The variable naming the cache the Docker-build tests share.
pub const TEST_CACHE_ENV: &str = "ZKELF_TEST_CACHE_DIR";

/// The `zkelf` cache every Docker-build test shares: `$ZKELF_TEST_CACHE_DIR`, default
/// `~/.cache/zkelf/test-cache`, outside the clone so that a machine keeps the crates, sysroots
/// and zkVM toolboxes between runs (a toolbox takes minutes to build). Its trust records are
/// kept beside it ([`trust_dir_of`]).
pub fn shared_cache_dir() -> PathBuf {
    match std::env::var_os(TEST_CACHE_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME").expect("HOME is set");
            Path::new(&home).join(".cache/zkelf/test-cache")
        }
    }
}

/// Where the builder's trust records of the cache `cache` are kept: beside it, not in it.
pub fn trust_dir_of(cache: &Path) -> PathBuf {
    let name = cache
        .file_name()
        .map(|n| format!("{}-trust", n.to_string_lossy()))
        .unwrap_or_else(|| "zkelf-trust".into());
    cache.with_file_name(name)
}

/// `zkelf` (the binary at `bin`) using the cache [`shared_cache_dir`] names (and its trust
/// records).
pub fn zkelf_with_shared_cache(bin: &Path) -> Command {
    let mut command = Command::new(bin);
    let cache = shared_cache_dir();
    command
        .env("ZKELF_BUILDER_TRUST_DIR", trust_dir_of(&cache))
        .env("ZKELF_CACHE_DIR", cache);
    command
}

/// Panics with a clear message unless a Docker engine answers.
pub fn require_docker() {
    let ok = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "these tests need a running Docker engine: run `scripts/setup` (starts dockerd) or set DOCKER_HOST"
    );
}

/// Makes sure the base and builder images exist, once per test binary, with the given `zkelf`
/// binary (`zkelf builder base` only when no base image exists; `builder image` is a no-op when
/// the image is there).
pub fn ensure_builder_image(zkelf: &Path) {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        require_docker();
        let has_base = Command::new("docker")
            .args(["image", "inspect", "zkelf-base:bookworm"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_base {
            run_ok(
                Command::new(zkelf).args(["builder", "base"]),
                "zkelf builder base",
            );
        }
        run_ok(
            Command::new(zkelf).args(["builder", "image"]),
            "zkelf builder image",
        );
    });
}

fn run_ok(command: &mut Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs git in `dir` with a fixed identity; panics on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = run_ok(
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "zkelf test")
            .env("GIT_AUTHOR_EMAIL", "test@zkelf.invalid")
            .env("GIT_COMMITTER_NAME", "zkelf test")
            .env("GIT_COMMITTER_EMAIL", "test@zkelf.invalid")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z"),
        &format!("git {}", args.join(" ")),
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Copies a directory tree (files and directories; `target/` skipped).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A fresh git checkout at `dest` holding a copy of the repository's `guests/` (and, when
/// given, extra files written at relative paths), committed at a fixed date.
pub fn guests_checkout(dest: &Path, extra: &[(&str, &str)]) -> PathBuf {
    copy_tree(&repo_root().join("guests"), &dest.join("guests"));
    for (rel, text) in extra {
        let path = dest.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(dest, &["init", "-q", "-b", "main"]);
    git(dest, &["add", "-A"]);
    git(dest, &["commit", "-q", "-m", "guests"]);
    dest.to_path_buf()
}

/// A fresh git checkout at `dest` with the given files, committed.
pub fn checkout_with(dest: &Path, files: &[(&str, &str)]) -> PathBuf {
    for (rel, text) in files {
        let path = dest.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(dest, &["init", "-q", "-b", "main"]);
    git(dest, &["add", "-A"]);
    git(dest, &["commit", "-q", "-m", "fixture"]);
    dest.to_path_buf()
}

/// Runs a RISC-V ELF under `qemu-riscv32`/`qemu-riscv64` (by target) with `input` on stdin;
/// returns stdout. Panics when qemu is missing or the program fails.
pub fn run_qemu(elf: &Path, target: &str, input: &[u8]) -> String {
    let qemu = if target.starts_with("riscv64") {
        "qemu-riscv64"
    } else {
        "qemu-riscv32"
    };
    let mut child = Command::new(qemu)
        .arg(elf)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {qemu} (apt-get install qemu-user): {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{qemu} {} failed: {}\n{}",
        elf.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
