//! `zkelf pull --derive-vk` before its zkVM's toolbox runs: what cannot be derived (no VK, no
//! statement naming the zkVM, no toolbox, no version or an unsupported one) is refused with
//! what cannot be checked, and nothing is written (no ELF, no VK, no rollback state, no
//! cache entry). Docker is never reached here (every pull points at a socket that does not
//! exist), so each refusal is proved to come before any container, and a release that could be
//! derived stops at the engine, still before anything is committed. The derivation itself (a
//! VK that is the ELF's, and one that is not) runs in `zkvm_guests`' SP1 test.

mod dist_common;

use std::path::Path;

use dist_common::World;
use dist_common::github::GithubRelease;
use dist_common::provenance::{self, Zkvm};
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::minisign_tool;
use zkelf_trust::digest::{Sha256Digest, hash_file};
use zkelf_trust::statement::{Kind, Statement};

const NO_DOCKER: &str = "unix:///nonexistent/docker.sock";

/// Publishes `guest-<zkvm>.elf` 0.1.0 into the layout `name`, signed with a statement binding
/// its provenance (`zkvm`'s when given, else none) and a 32-byte VK (unless `vk` is false).
fn publish(w: &World, name: &str, label: &str, zkvm: Option<&Zkvm<'_>>, vk: bool) -> String {
    let dir = w.path(&format!("dist-{name}/guest/0.1.0"));
    std::fs::create_dir_all(&dir).unwrap();
    let elf = dir.join(format!("guest-{label}.elf"));
    ElfSpec::new(Class::Elf64)
        .message(name)
        .write_to(&elf)
        .unwrap();
    let provenance = zkvm.map(|zkvm| {
        let json = provenance::of(&elf, "guest", zkvm).to_json();
        std::fs::write(dir.join(format!("guest-{label}.provenance.json")), &json).unwrap();
        Sha256Digest::of(&json)
    });
    let vk = vk.then(|| {
        let bytes = [7u8; 32];
        std::fs::write(dir.join(format!("guest-{label}.vk")), bytes).unwrap();
        Sha256Digest::of(&bytes)
    });
    let digests = hash_file(&elf).unwrap();
    let statement = Statement {
        kind: Kind::Release,
        guest: "guest".into(),
        version: "0.1.0".parse().unwrap(),
        zkvm: label.into(),
        target: Class::Elf64.default_target().into(),
        sha256: digests.sha256,
        size: digests.size,
        provenance,
        vk,
        builder: None,
        created: 1_700_000_000,
    };
    let sig = dir.join(format!("guest-{label}.elf.minisig"));
    minisign_tool::sign(&w.key, &elf, &sig, &statement.render(), false);
    let layout = w.publish_layout(&dir, name);
    format!("oci-layout:{}:0.1.0-{label}", layout.display())
}

/// `zkelf pull <reference> -o out/guest.elf --derive-vk <extra>` with no reachable Docker.
fn pull(w: &World, reference: &str, extra: &[&str]) -> std::process::Output {
    w.zkelf()
        .env("DOCKER_HOST", NO_DOCKER)
        .args(["pull", reference, "-o"])
        .arg(w.path("out/guest.elf"))
        .args(["--derive-vk", "--policy"])
        .arg(&w.policy)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn what_cannot_be_derived_is_refused_before_any_container_and_nothing_is_written() {
    let w = World::new();
    // No VK to compare with.
    let no_vk = publish(&w, "no-vk", "sp1", Some(&provenance::sp1()), false);
    w.rejects("no_vk", 2, || pull(&w, &no_vk, &[]))
        .stderr_has(&["a verification key"]);

    // No toolbox for the zkVM the statement names.
    let rv32im = publish(&w, "rv32im", "rv32im", None, true);
    w.rejects("no_toolbox", 2, || pull(&w, &rv32im, &[]))
        .stderr_has(&["no toolbox for `rv32im`"]);

    // No version to derive with: no provenance, or one that records none.
    let bare = publish(&w, "bare", "sp1", None, true);
    w.rejects("no_provenance", 2, || pull(&w, &bare, &[]))
        .stderr_has(&["the release carries no provenance"]);
    let unrecorded = Zkvm {
        guest_crate: None,
        vk: None,
        ..provenance::sp1()
    };
    let unrecorded = publish(&w, "unrecorded", "sp1", Some(&unrecorded), true);
    w.rejects("no_version", 2, || pull(&w, &unrecorded, &[]))
        .stderr_has(&["its provenance records none"]);

    // A version the toolbox does not support: both named.
    let old = Zkvm {
        guest_crate: Some(("sp1-zkvm", "6.9.1")),
        ..provenance::sp1()
    };
    let old = publish(&w, "old", "sp1", Some(&old), true);
    w.rejects("old_version", 2, || {
        pull(&w, &old, &["--vk-out", "out/guest.vk"])
    })
    .stderr_has(&["`sp1-zkvm` 6.9.1", "`sp1-zkvm` =6.10.0"]);
}

#[test]
fn a_release_signed_without_statement_names_no_zkvm_to_derive_with() {
    // As GitHub releases of guests are signed: the file name as trusted comment, the VK signed
    // on its own; both pinned, so every check of the pull passes but this one.
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let (key, url, out) = (w.key.public_base64(), r.elf_url(), w.path("out/v.elf"));
    w.rejects("unbound", 2, || {
        r.zkelf(&w)
            .env("DOCKER_HOST", NO_DOCKER)
            .args(["pull", &url, "--key", &key, "--sha256", &r.elf_sha256])
            .args(["--vk-sha256", &r.vk_sha256, "--derive-vk", "-o"])
            .arg(&out)
            .output()
            .unwrap()
    })
    .stderr_has(&["binds no statement", "nothing names the zkVM"]);
}

#[test]
fn a_release_that_can_be_derived_reaches_the_toolbox_before_anything_is_committed() {
    let w = World::new();
    let good = publish(&w, "good", "sp1", Some(&provenance::sp1()), true);
    let vk_out = w.path("out/guest.vk");
    w.rejects("docker_unreachable", 2, || {
        pull(&w, &good, &["--vk-out", vk_out.to_str().unwrap()])
    })
    .stderr_has(&[
        "cannot derive the verification key",
        "cannot reach the Docker engine",
    ]);
    assert!(!Path::new(&vk_out).exists());
}

#[test]
fn a_pull_without_derive_vk_asks_no_docker() {
    let w = World::new();
    let good = publish(&w, "good", "sp1", Some(&provenance::sp1()), true);
    let out = w
        .zkelf()
        .env("DOCKER_HOST", NO_DOCKER)
        .args(["pull", &good, "-o"])
        .arg(w.path("out/guest.elf"))
        .arg("--policy")
        .arg(&w.policy)
        .output()
        .unwrap();
    zkelf_testsupport::cli::Output::from(&out).assert_exit(0);
}
