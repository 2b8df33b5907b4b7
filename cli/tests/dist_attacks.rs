//! Attacks on a registry: each is refused with exit 1 and nothing is written.

mod dist_common;

use std::path::Path;

use dist_common::*;
use zkelf_registry::Reference;
use zkelf_registry::artifact::{ArtifactSpec, Descriptor, MANIFEST_MEDIA_TYPE};
use zkelf_registry::reference::Target;
use zkelf_registry::store::{self, NetworkOptions, Store};
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::minisign_tool;
use zkelf_testsupport::registry::{DockerRegistry, Fault};

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Runs one registry operation through zkelf's own store client.
fn with_store<T>(repo: &str, f: impl AsyncFnOnce(&dyn Store) -> T) -> T {
    let reference: Reference = repo.parse().unwrap();
    let store = store::open(&reference, &NetworkOptions::default()).unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(f(store.as_ref()))
}

/// Points `tag` at the manifest `from` names (as an attacker with push rights, or a compromised
/// registry, would).
fn retag(repo: &str, from: &str, tag: &str) {
    let bytes = with_store(repo, async |s: &dyn Store| {
        s.get_manifest(&Target::Tag(from.into()))
            .await
            .unwrap()
            .unwrap()
    });
    put_manifest(repo, tag, &bytes);
}

fn put_manifest(repo: &str, tag: &str, bytes: &[u8]) {
    with_store(repo, async |s: &dyn Store| {
        s.put_manifest(bytes, MANIFEST, Some(tag)).await.unwrap()
    });
}

fn layout_digest(layout: &Path, tag: &str, layer: usize) -> String {
    layout_manifest(layout, tag).1["layers"][layer]["digest"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_flipped_byte_in_the_stored_blob_is_refused() {
    let w = World::new();
    let registry = DockerRegistry::start();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "genuine\n");
    let repo = format!("{}/fib", registry.host());
    assert_exit(&w.publish(&dist, &repo, &[]), 0);
    let layout = w.publish_layout(&dist, "layout");
    let blob = registry.blob_path(&layout_digest(&layout, "1.0.0-sp1", 0));
    let mut bytes = std::fs::read(&blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x80;
    std::fs::write(&blob, bytes).unwrap();
    w.rejects("flipped_byte_in_stored_blob", 1, || {
        w.pull(&format!("{repo}:1.0.0-sp1"), &w.path("out/fib.elf"), &[])
    });
}

#[test]
fn rollback_and_moved_release_tags_are_refused() {
    let w = World::new();
    let registry = DockerRegistry::start();
    let repo = format!("{}/fib", registry.host());
    for (version, message) in [("1.0.0", "old\n"), ("1.1.0", "new\n")] {
        let dist = w.dist("fib", version, "sp1", Class::Elf32, message);
        assert_exit(&w.publish(&dist, &repo, &[]), 0);
    }
    retag(&repo, "1.1.0-sp1", "stable");
    assert_exit(
        &w.pull(&format!("{repo}:stable"), &w.path("out/fib.elf"), &[]),
        0,
    );
    std::fs::remove_file(w.path("out/fib.elf")).unwrap();

    // `stable` moved back to the older signed release: refused as a rollback.
    retag(&repo, "1.0.0-sp1", "stable");
    w.rejects("rollback_of_a_moved_tag", 1, || {
        w.pull(&format!("{repo}:stable"), &w.path("out/fib.elf"), &[])
    });

    // A release tag moved to another version: refused whatever the state says.
    retag(&repo, "1.0.0-sp1", "1.1.0-sp1");
    w.rejects("release_tag_moved_to_another_version", 1, || {
        w.pull(
            &format!("{repo}:1.1.0-sp1"),
            &w.path("out/fib.elf"),
            &["--allow-downgrade"],
        )
    });

    // Deliberate downgrade.
    assert_exit(
        &w.pull(
            &format!("{repo}:stable"),
            &w.path("out/fib.elf"),
            &["--allow-downgrade"],
        ),
        0,
    );
}

#[test]
fn a_tag_moved_to_another_guest_or_zkvm_is_refused() {
    let w = World::new();
    let registry = DockerRegistry::start();
    let repo = format!("{}/fib", registry.host());
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "fib sp1\n");
    w.dist("fib", "1.0.0", "risc0", Class::Elf64, "fib risc0\n");
    assert_exit(&w.publish(&dist, &repo, &[]), 0);
    // Another guest's signed artifact lands in this repository (under its own tags).
    let evil = w.dist("evil", "6.6.6", "sp1", Class::Elf32, "evil\n");
    assert_exit(&w.publish(&evil, &repo, &[]), 0);
    retag(&repo, "6.6.6-sp1", "stable");
    w.rejects("tag_moved_to_another_guest", 1, || {
        w.pull(
            &format!("{repo}:stable"),
            &w.path("out/fib.elf"),
            &["--guest", "fib"],
        )
    });

    // The sp1 tag moved to the risc0 artifact of the same release.
    retag(&repo, "1.0.0-risc0", "1.0.0-sp1");
    w.rejects("release_tag_moved_to_another_zkvm", 1, || {
        w.pull(&format!("{repo}:1.0.0-sp1"), &w.path("out/fib.elf"), &[])
    });
    retag(&repo, "1.0.0-risc0", "latest");
    w.rejects("tag_of_another_zkvm", 1, || {
        w.pull(
            &format!("{repo}:latest"),
            &w.path("out/fib.elf"),
            &["--zkvm", "sp1"],
        )
    });
}

#[test]
fn a_manifest_pairing_one_elf_with_another_elfs_signature_is_refused() {
    let w = World::new();
    let registry = DockerRegistry::start();
    let repo = format!("{}/fib", registry.host());
    let layout = w.path("layout");
    for (version, message) in [("1.0.0", "one\n"), ("1.0.1", "two\n")] {
        let dist = w.dist("fib", version, "sp1", Class::Elf32, message);
        assert_exit(&w.publish(&dist, &repo, &[]), 0);
        assert_exit(
            &w.publish(&dist, &format!("oci-layout:{}", layout.display()), &[]),
            0,
        );
    }
    let (_, one) = layout_manifest(&layout, "1.0.0-sp1");
    let (_, two) = layout_manifest(&layout, "1.0.1-sp1");
    let desc = |v: &serde_json::Value| {
        Descriptor::new(
            v["mediaType"].as_str().unwrap(),
            v["digest"].as_str().unwrap().parse().unwrap(),
            v["size"].as_u64().unwrap(),
        )
    };
    let spec = ArtifactSpec {
        guest: "fib".into(),
        version: "1.0.0".into(),
        zkvm: "sp1".into(),
        target: "riscv32im-unknown-none-elf".into(),
        revision: None,
        source: None,
        created: 0,
        elf: desc(&one["layers"][0]),
        signature: desc(&two["layers"][1]),
        provenance: Some(desc(&two["layers"][2])),
        vk: None,
        vk_signature: None,
        annotations: Default::default(),
    };
    let (bytes, _) = spec.manifest();
    assert_eq!(MANIFEST_MEDIA_TYPE, MANIFEST);
    put_manifest(&repo, "mixed", &bytes);
    w.rejects("elf_paired_with_another_elfs_signature", 1, || {
        w.pull(&format!("{repo}:mixed"), &w.path("out/fib.elf"), &[])
    });
    // `attest` fetches through the same verified path, without a policy: it will not co-sign
    // the pair either.
    let cosigner = minisign_tool::generate(w.dir.path(), "cosigner", None);
    w.rejects(
        "attest_of_an_elf_paired_with_another_elfs_signature",
        1,
        || {
            w.run(&[
                "attest",
                &format!("{repo}:mixed"),
                "--key",
                cosigner.secret.to_str().unwrap(),
                "--output",
                w.path("out/cosigned.minisig").to_str().unwrap(),
            ])
        },
    );
}

#[test]
fn a_server_sending_more_bytes_than_the_descriptor_is_cut_off() {
    let w = World::new();
    // The faulty server misbehaves on blobs of at least 1 KiB.
    let dist = w.dist_spec(
        "fib",
        "1.0.0",
        "sp1",
        ElfSpec::new(Class::Elf32)
            .message("endless\n")
            .padding(64 << 10),
    );
    let server = w.serve_faulty(&dist, Fault::Endless);
    w.rejects("blob_larger_than_its_descriptor", 1, || {
        w.pull(
            &format!("{}/fib:1.0.0-sp1", server.host()),
            &w.path("out/fib.elf"),
            &[],
        )
    });
}

#[test]
fn an_endless_manifest_is_cut_off_at_4_mib() {
    let w = World::new();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "endless manifest\n");
    let server = w.serve_faulty(&dist, Fault::EndlessManifest);
    w.rejects("endless_manifest", 1, || {
        w.pull(
            &format!("{}/fib:1.0.0-sp1", server.host()),
            &w.path("out/fib.elf"),
            &[],
        )
    });
}

#[test]
fn an_elf_over_max_size_is_refused_before_it_moves() {
    // The one size bound a user sets: its refusal says how to raise it.
    let w = World::new();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "over max size\n");
    let layout = w.publish_layout(&dist, "layout");
    let reference = format!("oci-layout:{}:1.0.0-sp1", layout.display());
    w.rejects("elf_over_max_size_pull", 1, || {
        w.pull(&reference, &w.path("out/fib.elf"), &["--max-size", "100"])
    });
    w.rejects("elf_over_max_size_inspect", 1, || {
        w.run(&[
            "inspect",
            &reference,
            "--policy",
            w.policy.to_str().unwrap(),
            "--max-size",
            "100",
        ])
    });
}

#[test]
fn a_server_sending_other_bytes_is_refused() {
    let w = World::new();
    let spec = ElfSpec::new(Class::Elf32)
        .message("wrong digest\n")
        .padding(64 << 10);
    let dist = w.dist_spec("fib", "1.0.0", "sp1", spec);
    let server = w.serve_faulty(&dist, Fault::WrongDigest);
    w.rejects("server_sending_other_bytes", 1, || {
        w.pull(
            &format!("{}/fib:1.0.0-sp1", server.host()),
            &w.path("out/fib.elf"),
            &[],
        )
    });
}
