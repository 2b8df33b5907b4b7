//! Bad inputs to `zkelf build` fail early with a clear error, exit 2, and write nothing; and
//! `zkelf diff` exits 0 on identical ELFs, 1 on different ones, 2 on a file it cannot compare.

use std::path::Path;
use std::process::{Command, Output};

use zkelf_testsupport::docker::{
    checkout_with, ensure_builder_image, git, guests_checkout, require_docker,
    zkelf_with_shared_cache,
};
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::run::text;

fn zkelf() -> Command {
    zkelf_with_shared_cache(
        Path::new(env!("CARGO_BIN_EXE_zkelf")),
        Path::new(env!("CARGO_TARGET_TMPDIR")),
    )
}

/// Runs `zkelf build <guest> --out <tmp>/dist`, expects exit 2 with `message` and `hint` on
/// stderr, and that `dist` was not created.
fn build_fails(guest: &Path, extra: &[&str], message: &str, hint: &str) -> Output {
    ensure_builder_image(Path::new(env!("CARGO_BIN_EXE_zkelf")));
    let out = guest.parent().unwrap().join("dist-should-not-exist");
    let output = zkelf()
        .args(["build", "--out"])
        .arg(&out)
        .arg(guest)
        .args(extra)
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(all.contains(message), "expected `{message}` in:\n{all}");
    assert!(
        all.contains(&format!("hint: {hint}")),
        "expected hint `{hint}` in:\n{all}"
    );
    assert!(!out.exists(), "{} was created", out.display());
    output
}

#[test]
fn no_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = checkout_with(tmp.path(), &[("guest/README", "no manifest here")]);
    build_fails(
        &repo.join("guest"),
        &[],
        "no `zkelf.toml` in",
        "a guest directory needs a `zkelf.toml`",
    );
}

/// Replaces `from` by `to` in the manifest of `guest` in a fresh checkout and commits it.
fn checkout_with_manifest(tmp: &Path, guest: &str, from: &str, to: &str) -> std::path::PathBuf {
    let repo = guests_checkout(tmp, &[]);
    let manifest = repo.join("guests").join(guest).join("zkelf.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        text.contains(from),
        "`{from}` not in {}",
        manifest.display()
    );
    std::fs::write(&manifest, text.replace(from, to)).unwrap();
    git(&repo, &["commit", "-qam", "edit the manifest"]);
    repo.join("guests").join(guest)
}

#[test]
fn unknown_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let guest = checkout_with_manifest(
        tmp.path(),
        "fibonacci",
        "profile = \"rv32im\"",
        "profile = \"jolt\"",
    );
    build_fails(
        &guest,
        &[],
        "unknown profile `jolt` in",
        "the builder knows the profiles `rv32im`, `rv64im`, `sp1`, `risc0`, `openvm`, `zisk`",
    );
}

#[test]
fn a_target_the_profile_does_not_build() {
    let tmp = tempfile::tempdir().unwrap();
    let guest = checkout_with_manifest(
        tmp.path(),
        "fibonacci",
        "profile = \"rv32im\"",
        "profile = \"rv32im\"\ntarget = \"thumbv7em-none-eabi\"",
    );
    let all = text(&build_fails(
        &guest,
        &[],
        "artifact `rv32im` in",
        "drop `target` (the profile implies it)",
    ));
    assert!(
        all.contains(
            "names target `thumbv7em-none-eabi`, but profile `rv32im` builds for `riscv32im-unknown-none-elf`"
        ),
        "{all}"
    );
}

#[test]
fn a_zkvm_guest_under_the_wrong_profile_fails_with_the_compilers_error() {
    let tmp = tempfile::tempdir().unwrap();
    // An std SP1 guest built as a bare rv64im one: no `std` for that target.
    let guest = checkout_with_manifest(
        tmp.path(),
        "sp1-hash",
        "profile = \"sp1\"",
        "profile = \"rv64im\"",
    );
    ensure_builder_image(Path::new(env!("CARGO_BIN_EXE_zkelf")));
    let out = guest.parent().unwrap().join("dist-should-not-exist");
    let output = zkelf()
        .args(["build", "--out"])
        .arg(&out)
        .arg(&guest)
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(
        all.contains("building guest `sp1-hash` for `rv64im` failed"),
        "{all}"
    );
    assert!(all.contains("can't find crate for `std`"), "{all}");
    assert!(!out.exists(), "{} was created", out.display());
}

#[test]
fn unknown_artifact() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = guests_checkout(tmp.path(), &[]);
    let out = tmp.path().join("dist");
    let output = zkelf()
        .args(["build", "--artifact", "sp1", "--out"])
        .arg(&out)
        .arg(repo.join("guests/keccak"))
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(
        all.contains("guest `keccak` has no artifact for zkvm `sp1` (it has: `rv32im`, `rv64im`)"),
        "{all}"
    );
    assert!(!out.exists());
}

#[test]
fn no_cargo_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = guests_checkout(tmp.path(), &[]);
    git(&repo, &["rm", "-q", "guests/Cargo.lock"]);
    git(&repo, &["commit", "-qm", "drop the lock file"]);
    build_fails(
        &repo.join("guests/fibonacci"),
        &[],
        "no `Cargo.lock` for guest `fibonacci`",
        "run `cargo generate-lockfile`",
    );
}

#[test]
fn dirty_tree_without_allow_dirty() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = guests_checkout(tmp.path(), &[]);
    let main = repo.join("guests/fibonacci/src/main.rs");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, text + "\n// local change\n").unwrap();
    build_fails(
        &repo.join("guests/fibonacci"),
        &[],
        "the source of guest `fibonacci` has uncommitted changes: `guests/fibonacci/src/main.rs`",
        "commit the changes, or pass `--allow-dirty`",
    );
}

#[test]
fn not_a_git_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    zkelf_testsupport::docker::copy_tree(
        &zkelf_testsupport::docker::repo_root().join("guests"),
        &tmp.path().join("guests"),
    );
    build_fails(
        &tmp.path().join("guests/fibonacci"),
        &[],
        "is not inside a git checkout",
        "builds are recorded by git commit",
    );
}

#[test]
fn docker_not_reachable() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = guests_checkout(tmp.path(), &[]);
    let out = tmp.path().join("dist");
    for json in [false, true] {
        let mut command = zkelf();
        command
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .args(["build", "--out"])
            .arg(&out)
            .arg(repo.join("guests/fibonacci"));
        if json {
            command.arg("--json");
        }
        let output = command.output().unwrap();
        let all = text(&output);
        assert_eq!(output.status.code(), Some(2), "{all}");
        if json {
            let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect(&all);
            assert_eq!(
                doc["error"]["message"],
                "cannot reach the Docker engine at `unix:///nonexistent/docker.sock`"
            );
            assert!(
                doc["error"]["hint"]
                    .as_str()
                    .unwrap()
                    .contains("scripts/setup")
            );
        } else {
            assert!(
                all.contains(
                    "error: cannot reach the Docker engine at `unix:///nonexistent/docker.sock`"
                ),
                "{all}"
            );
            assert!(
                all.contains("hint: start dockerd (`scripts/setup` does), or point `DOCKER_HOST`"),
                "{all}"
            );
        }
    }
    assert!(!out.exists());
}

#[test]
fn builder_image_without_a_base_image_says_how_to_make_one() {
    require_docker();
    let output = zkelf()
        .args(["builder", "image", "--suite", "no-such-suite"])
        .output()
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(
        all.contains("base image `zkelf-base:no-such-suite` does not exist"),
        "{all}"
    );
    assert!(
        all.contains("hint: bootstrap it with `zkelf builder base`"),
        "{all}"
    );
}

#[test]
fn diff_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.elf");
    let same = tmp.path().join("same.elf");
    let b = tmp.path().join("b.elf");
    ElfSpec::new(Class::Elf32)
        .message("built in /build/src/guest at 12:00:01\n")
        .write_to(&a)
        .unwrap();
    ElfSpec::new(Class::Elf32)
        .message("built in /build/src/guest at 12:00:01\n")
        .write_to(&same)
        .unwrap();
    ElfSpec::new(Class::Elf32)
        .message("built in /home/alice/guest at 17:45:09\n")
        .write_to(&b)
        .unwrap();

    let output = zkelf().arg("diff").arg(&a).arg(&same).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("identical:"));

    let output = zkelf().arg("diff").arg(&a).arg(&b).output().unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("first difference at file offset"), "{all}");
    assert!(
        all.contains("\"built in /home/alice/guest at 17:45:09\""),
        "{all}"
    );

    let output = zkelf()
        .args(["diff", "--json"])
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["identical"], false);
    let kinds: Vec<&str> = doc["strings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"path"), "{doc}");

    let not_elf = tmp.path().join("not.elf");
    std::fs::write(&not_elf, b"#!/bin/sh\n").unwrap();
    let output = zkelf().arg("diff").arg(&a).arg(&not_elf).output().unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(all.contains("is not an ELF file"), "{all}");
}
