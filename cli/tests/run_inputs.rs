//! `zkelf run` before anything runs: which zkVM and which version of it a guest is for, for a
//! local file without `--zkvm` (its `.minisig` statement, its `.provenance.json`, its name) and
//! for a pulled reference (its provenance), and the refusal of a guest built for a zkVM version
//! zkelf has no toolbox for (exit 2, naming both). Docker is never reached here: every run is
//! pointed at a socket that does not exist, so a refusal is proved to come before any
//! container, and a guest zkelf accepts stops at the engine (exit 2) after its note.

mod dist_common;

use std::path::{Path, PathBuf};

use dist_common::World;
use dist_common::provenance::{self, Zkvm};
use zkelf_testsupport::cli;
use zkelf_testsupport::elf::{Class, ElfSpec};

const NO_DOCKER: &str = "unix:///nonexistent/docker.sock";

/// `zkelf run <target> --input <input> <extra>` with no reachable Docker engine.
fn run(w: &World, target: &Path, extra: &[&str]) -> std::process::Output {
    let input = w.path("input.json");
    std::fs::write(&input, b"{}").unwrap();
    w.zkelf()
        .env("DOCKER_HOST", NO_DOCKER)
        .arg("run")
        .arg(target)
        .arg("--input")
        .arg(&input)
        .args(extra)
        .output()
        .unwrap()
}

/// A guest ELF at `guests/<name>` (not a zkVM's, which no run here needs).
fn elf(w: &World, name: &str) -> PathBuf {
    let dir = w.path("guests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    ElfSpec::new(Class::Elf64).write_to(&path).unwrap();
    path
}

/// Writes `<stem>.provenance.json` beside `elf` (`<stem>.elf`).
fn provenance_beside(elf: &Path, zkvm: &Zkvm<'_>) {
    let stem = elf.to_str().unwrap().strip_suffix(".elf").unwrap();
    let json = provenance::of(elf, "guest", zkvm).to_json();
    std::fs::write(format!("{stem}.provenance.json"), json).unwrap();
}

#[test]
fn a_file_without_zkvm_takes_its_zkvm_from_its_minisig_statement() {
    let w = World::new();
    // The name names no zkVM: only the statement does.
    let elf = elf(&w, "guest.elf");
    w.sign(&elf, "guest", "0.1.0", "sp1", Class::Elf64, None);
    w.rejects("from_statement", 2, || run(&w, &elf, &[]))
        .stderr_has(&[
            "(its `.minisig` statement)",
            "sp1 version is unknown",
            "assuming sp1-6.10.0",
        ]);
}

#[test]
fn a_file_without_zkvm_takes_its_zkvm_and_version_from_its_provenance() {
    let w = World::new();
    let elf = elf(&w, "guest.elf");
    provenance_beside(&elf, &provenance::sp1());
    w.rejects("from_provenance", 2, || run(&w, &elf, &[]))
        .stderr_has(&[
            "(its `.provenance.json`)",
            "`sp1-zkvm` 6.10.0, VK by sp1-6.10.0",
        ]);
}

#[test]
fn a_file_without_zkvm_takes_its_zkvm_from_its_name() {
    let w = World::new();
    let elf = elf(&w, "hash-openvm.elf");
    w.rejects("from_name", 2, || run(&w, &elf, &[]))
        .stderr_has(&[
            "(its file name)",
            "openvm version is unknown",
            "assuming openvm-2.0.2",
        ]);
    // A provenance about other bytes says nothing of these.
    let other = w.path("other.elf");
    ElfSpec::new(Class::Elf64)
        .message("other")
        .write_to(&other)
        .unwrap();
    let json = provenance::of(&other, "guest", &provenance::sp1()).to_json();
    std::fs::write(w.path("guests/hash-openvm.provenance.json"), json).unwrap();
    w.rejects("from_name_other_provenance", 2, || run(&w, &elf, &[]))
        .stderr_has(&["`hash-openvm.provenance.json` describes other bytes"]);
}

#[test]
fn a_file_of_nothing_zkelf_can_tell_is_a_usage_error() {
    let w = World::new();
    let elf = elf(&w, "guest.bin");
    w.rejects("no_zkvm", 2, || run(&w, &elf, &[]))
        .stderr_has(&["cannot tell which zkVM runs"]);
}

#[test]
fn a_guest_of_a_zkvm_version_without_toolbox_is_refused_before_any_container() {
    let w = World::new();
    // Its lock pinned another SP1: refused whether the zkVM comes from the name or `--zkvm`.
    let elf = elf(&w, "guest-sp1.elf");
    let old = Zkvm {
        guest_crate: Some(("sp1-zkvm", "6.9.1")),
        vk: None,
        ..provenance::sp1()
    };
    provenance_beside(&elf, &old);
    w.rejects("old_sp1", 2, || run(&w, &elf, &[]))
        .stderr_has(&["`sp1-zkvm` 6.9.1", "`sp1-zkvm` =6.10.0"]);
    w.rejects("old_sp1_zkvm_flag", 2, || run(&w, &elf, &["--zkvm", "sp1"]));

    // Its VK was derived by another toolbox version.
    let other_toolbox = Zkvm {
        vk: Some(("sp1-6.11.0", serde_json::json!({}))),
        ..provenance::sp1()
    };
    provenance_beside(&elf, &other_toolbox);
    w.rejects("other_toolbox", 2, || run(&w, &elf, &[]))
        .stderr_has(&["`sp1-6.11.0`", "(sp1-6.10.0)"]);
}

/// Publishes `guest-sp1.elf` signed for `sp1` with `zkvm`'s provenance into the layout `name`.
fn publish(w: &World, name: &str, zkvm: &Zkvm<'_>) -> String {
    let dir = w.path(&format!("dist-{name}/guest/0.1.0"));
    std::fs::create_dir_all(&dir).unwrap();
    let elf = dir.join("guest-sp1.elf");
    ElfSpec::new(Class::Elf64)
        .message(name)
        .write_to(&elf)
        .unwrap();
    let json = provenance::of(&elf, "guest", zkvm).to_json();
    std::fs::write(dir.join("guest-sp1.provenance.json"), &json).unwrap();
    let provenance = zkelf_trust::digest::Sha256Digest::of(&json);
    w.sign(
        &elf,
        "guest",
        "0.1.0",
        "sp1",
        Class::Elf64,
        Some(provenance),
    );
    let layout = w.publish_layout(&dir, name);
    format!("oci-layout:{}:0.1.0-sp1", layout.display())
}

#[test]
fn a_reference_takes_its_version_from_its_verified_provenance() {
    let w = World::new();
    let policy = w.policy.to_str().unwrap().to_owned();
    let good = publish(&w, "good", &provenance::sp1());
    let out = cli::Output::from(run(&w, Path::new(&good), &["--policy", &policy]));
    out.assert_exit(2).stderr_has(&[
        "(its verified statement)",
        "`sp1-zkvm` 6.10.0, VK by sp1-6.10.0",
        "cannot reach the Docker engine",
    ]);

    let old = Zkvm {
        guest_crate: Some(("sp1-zkvm", "6.9.1")),
        ..provenance::sp1()
    };
    let old = publish(&w, "old", &old);
    // The pull verified the release, so the rollback state records it, as `pull` would; the
    // output and the cache stay as they were.
    let untouched = cli::Tree::of(&[w.path("out"), w.path("cache")])
        .allowing_lock_files_under(w.path("cache/locks"));
    zkelf_testsupport::rejects!(untouched, "reference_old_sp1", 2, || {
        run(&w, Path::new(&old), &["--policy", &policy])
    })
    .stderr_has(&["was not run", "`sp1-zkvm` 6.9.1"]);
}
