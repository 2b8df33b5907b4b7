//! Attestations through the referrers fallback index, and `zkelf.lock` pins.

mod dist_common;

use dist_common::*;
use zkelf_testsupport::cli::{self, Tree};
use zkelf_testsupport::elf::Class;
use zkelf_testsupport::minisign_tool;
use zkelf_testsupport::policy::{Key, PolicyFile};
use zkelf_testsupport::registry::DockerRegistry;

/// A rebuild attestation of `elf` by a fresh auditor key; returns (signature text, auditor public base64).
fn rebuild_signature(w: &World, elf: &std::path::Path, name: &str) -> (Vec<u8>, String) {
    let key = minisign_tool::generate(w.dir.path(), name, None);
    let statement = rebuild_statement(elf, "sha256-builder-image");
    let sig = w.path(&format!("{name}.minisig"));
    minisign_tool::sign(&key, elf, &sig, &statement.render(), false);
    (std::fs::read(&sig).unwrap(), key.public_base64())
}

#[test]
fn rebuild_attestations_count_once_attached() {
    let w = World::new();
    let registry = DockerRegistry::start();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "attested\n");
    let elf = dist.join("fib-sp1.elf");
    let (sig_a, pub_a) = rebuild_signature(&w, &elf, "auditor-a");
    let (sig_b, pub_b) = rebuild_signature(&w, &elf, "auditor-b");
    let strict = PolicyFile::new()
        .key(Key::release("release", &w.key.public_base64()))
        .key(Key::rebuild("auditor-a", &pub_a))
        .key(Key::rebuild("auditor-b", &pub_b))
        .require(1, 2)
        .write(&w.path("strict.toml"));
    for (store, repo) in [
        ("registry", format!("{}/fib", registry.host())),
        (
            "layout",
            format!("oci-layout:{}", w.path("layout").display()),
        ),
    ] {
        assert_exit(&w.publish(&dist, &repo, &[]), 0);
        let out = w.path("out/fib.elf");
        let reference = format!("{repo}:1.0.0-sp1");
        let pull = |policy: &std::path::Path| {
            w.run(&[
                "--json",
                "pull",
                &reference,
                "-o",
                out.to_str().unwrap(),
                "--policy",
                policy.to_str().unwrap(),
                "--no-cache",
            ])
        };
        w.rejects(
            &format!("rebuilds_not_yet_attached_from_{store}"),
            1,
            || pull(&strict),
        );

        attach_raw(&reference, &sig_a, "fib-sp1.elf.auditor-a.minisig");
        attach_raw(&reference, &sig_b, "fib-sp1.elf.auditor-b.minisig");
        // Attaching again changes nothing (the fallback index has no duplicates).
        attach_raw(&reference, &sig_a, "fib-sp1.elf.auditor-a.minisig");

        let output = pull(&strict);
        let report = json_report(&output, 0);
        let roles: Vec<&str> = report["verdict"]["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["counts_for"].as_str())
            .collect();
        assert_eq!(roles, ["release", "rebuild", "rebuild"], "{report}");
        std::fs::remove_file(&out).unwrap();

        let output = w.run(&["inspect", &reference, "--policy", strict.to_str().unwrap()]);
        cli::Output::from(&output)
            .assert_exit(0)
            .stdout_has(&["(auditor-a) counts for rebuild"]);
    }
}

#[test]
fn lock_pins_refuse_a_moved_release() {
    let w = World::new();
    let registry = DockerRegistry::start();
    let repo = format!("{}/fib", registry.host());
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "pinned\n");
    assert_exit(&w.publish(&dist, &repo, &[]), 0);
    let lock = w.path("zkelf.lock");
    let out = w.path("out/fib.elf");
    let reference = format!("{repo}:1.0.0-sp1");
    assert_exit(
        &w.pull(&reference, &out, &["--lock", lock.to_str().unwrap()]),
        0,
    );
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(
        text.contains(&reference) && text.contains("manifest = \"sha256:"),
        "{text}"
    );
    std::fs::remove_file(&out).unwrap();
    assert_exit(
        &w.pull(&reference, &out, &["--lock", lock.to_str().unwrap()]),
        0,
    );
    std::fs::remove_file(&out).unwrap();

    // The release is re-signed with other bytes and re-published under the same tag
    // (`--replace`: a publisher moving a version's tag must say so).
    w.dist("fib", "1.0.0", "sp1", Class::Elf32, "moved\n");
    assert_exit(&w.publish(&dist, &repo, &["--replace"]), 0);
    let pinned = Tree::of(&[&lock]);
    w.rejects("lock_pin_of_a_moved_release", 1, || {
        w.pull(&reference, &out, &["--lock", lock.to_str().unwrap()])
    });
    pinned.assert_unchanged();
    // Without the lock the (validly signed) new bytes are accepted.
    assert_exit(&w.pull(&reference, &out, &[]), 0);
}
