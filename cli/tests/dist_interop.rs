//! Interop with skopeo and minisign: zkelf artifacts are plain OCI artifacts, zkelf signatures
//! plain minisign signatures.

mod dist_common;

use std::process::Command;

use dist_common::*;
use zkelf_testsupport::elf::Class;
use zkelf_testsupport::registry::DockerRegistry;

fn skopeo(args: &[&str]) -> std::process::Output {
    let out = Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .output()
        .expect("`skopeo` is needed for the interop tests");
    assert!(
        out.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn skopeo_reads_and_copies_zkelf_artifacts_and_minisign_verifies_the_pull() {
    let w = World::new();
    let registry = DockerRegistry::start();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "interop\n");
    let repo = format!("{}/guests/fib", registry.host());
    assert_exit(&w.publish(&dist, &repo, &[]), 0);

    // `skopeo inspect --raw` shows the artifact type and the layers.
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{repo}:1.0.0-sp1"),
    ]);
    let manifest: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(manifest["artifactType"], "application/vnd.zkelf.guest.v1");
    let media_types: Vec<&str> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(
        media_types,
        [
            "application/vnd.zkelf.elf.v1",
            "application/vnd.zkelf.minisig.v1",
            "application/vnd.in-toto+json"
        ]
    );

    // `skopeo copy` into an `oci:` layout, then zkelf pulls and verifies from that layout.
    let copied = w.path("skopeo-layout");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{repo}:1.0.0-sp1"),
        &format!("oci:{}:1.0.0-sp1", copied.display()),
    ]);
    let pulled = w.path("out/fib-sp1.elf");
    let out = w.pull(
        &format!("oci-layout:{}:1.0.0-sp1", copied.display()),
        &pulled,
        &["--guest", "fib"],
    );
    assert_exit(&out, 0);
    assert_eq!(run_qemu(Class::Elf32, &pulled), "interop\n");

    // The pulled signature (from the copied layout) verifies the pulled ELF with minisign itself.
    let (_, m) = layout_manifest(&copied, "1.0.0-sp1");
    let sig_digest = m["layers"][1]["digest"].as_str().unwrap();
    let sig = w.path("fib-sp1.elf.minisig");
    std::fs::copy(copied.join("blobs/sha256").join(&sig_digest[7..]), &sig).unwrap();
    let out = Command::new("minisign")
        .args([
            "-V",
            "-m",
            pulled.to_str().unwrap(),
            "-x",
            sig.to_str().unwrap(),
            "-P",
            &w.key.public_base64(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "minisign -V failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("kind=release guest=fib version=1.0.0 zkvm=sp1")
    );

    // And the other way: a layout zkelf wrote, copied by skopeo into a registry, pulls verified.
    let layout = w.publish_layout(&dist, "zkelf-layout");
    let other = format!("{}/mirror/fib", registry.host());
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}:1.0.0-sp1", layout.display()),
        &format!("docker://{other}:1.0.0-sp1"),
    ]);
    let pulled2 = w.path("out/mirror.elf");
    assert_exit(
        &w.pull(&format!("{other}:1.0.0-sp1"), &pulled2, &["--no-cache"]),
        0,
    );
    assert_eq!(
        std::fs::read(&pulled2).unwrap(),
        std::fs::read(&pulled).unwrap()
    );
}
