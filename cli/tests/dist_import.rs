//! `zkelf import`: a GitHub release (signatures whose trusted comment is the file name) mirrored
//! into a registry and a layout without re-signing. skopeo reads the result; pulls of it apply
//! the same rules as pulls from the download URL; a hub's attestation binds the names.

mod dist_common;

use std::process::Command;
use zkelf_testsupport::cli;

use dist_common::github::{GithubRelease, NAME};
use dist_common::*;
use zkelf_testsupport::elf::Class;
use zkelf_testsupport::minisign_tool;
use zkelf_testsupport::registry::DockerRegistry;

const GUEST: &str = "stateless-validator-reth";

fn skopeo(args: &[&str]) -> std::process::Output {
    let out = Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .output()
        .expect("`skopeo` is needed for the import tests (scripts/setup installs it)");
    assert!(
        out.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `zkelf import <release> --to <to> --key <base64> --sha256 … --vk-sha256 … --guest … …`.
fn import(w: &World, r: &GithubRelease, to: &str, extra: &[&str]) -> std::process::Output {
    let (key, url) = (w.key.public_base64(), r.elf_url());
    let mut args = vec![
        "import",
        &url,
        "--to",
        to,
        "--key",
        &key,
        "--sha256",
        &r.elf_sha256,
        "--vk-sha256",
        &r.vk_sha256,
    ];
    args.extend_from_slice(extra);
    r.run(w, &args)
}

const NAMES: [&str; 6] = ["--guest", GUEST, "--version", "0.3.0", "--zkvm", "zisk"];

#[test]
fn an_import_pulls_from_the_registry_and_a_layout_and_skopeo_reads_it() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let registry = DockerRegistry::start();
    let repo = format!("{}/hub/{GUEST}", registry.host());
    let to = format!("{repo}:0.3.0-zisk");
    cli::Output::from(&import(&w, &r, &to, &NAMES))
        .assert_exit(0)
        .stdout_has(&[
            &format!("imported {} as {GUEST} 0.3.0 for zisk (riscv64im-unknown-none-elf)", r.elf_url()),
            &format!("wrote {repo}:0.3.0-zisk sha256:"),
            &format!("vk  sha256:{} with its own signature", r.vk_sha256),
            &format!("UNBOUND: the upstream signature is kept as it is and binds no guest, version or zkVM: pulls of this artifact need `--sha256 {}`", r.elf_sha256),
        ]);

    // skopeo reads it: SPEC §5's layout, the VK's signature as a layer of its own, the source.
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{to}"),
    ]);
    let manifest: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(manifest["artifactType"], "application/vnd.zkelf.guest.v1");
    assert_eq!(manifest["config"]["size"], 2);
    let layers: Vec<(&str, &str)> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["mediaType"].as_str().unwrap(),
                l["annotations"]["org.opencontainers.image.title"]
                    .as_str()
                    .unwrap(),
            )
        })
        .collect();
    let stem = format!("{GUEST}-zisk");
    assert_eq!(
        layers,
        [
            ("application/vnd.zkelf.elf.v1", &*format!("{stem}.elf")),
            (
                "application/vnd.zkelf.minisig.v1",
                &*format!("{stem}.elf.minisig")
            ),
            ("application/vnd.zkelf.vk.v1", &*format!("{stem}.vk")),
            (
                "application/vnd.zkelf.vk.minisig.v1",
                &*format!("{stem}.vk.minisig")
            ),
        ]
    );
    let a = &manifest["annotations"];
    assert_eq!(a["dev.zkelf.import.source"], r.elf_url());
    assert_eq!(a["org.opencontainers.image.source"], r.elf_url());
    assert_eq!(a["dev.zkelf.guest"], GUEST);
    assert_eq!(a["dev.zkelf.zkvm"], "zisk");
    assert_eq!(a["org.opencontainers.image.version"], "0.3.0");
    assert_eq!(a["dev.zkelf.elf.sha256"], r.elf_sha256);

    // skopeo copies it into an `oci:` layout; the upstream signatures are there byte for byte.
    let copied = w.path("skopeo-layout");
    skopeo(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{to}"),
        &format!("oci:{}:0.3.0-zisk", copied.display()),
    ]);
    let (_, m) = layout_manifest(&copied, "0.3.0-zisk");
    let blob = |i: usize| {
        let digest = m["layers"][i]["digest"].as_str().unwrap();
        std::fs::read(copied.join("blobs/sha256").join(&digest[7..])).unwrap()
    };
    assert_eq!(blob(0), r.elf);
    assert_eq!(
        blob(1),
        std::fs::read(r.assets.join(format!("{NAME}.elf.minisig"))).unwrap()
    );
    assert_eq!(blob(2), r.vk);
    assert_eq!(
        blob(3),
        std::fs::read(r.assets.join(format!("{NAME}.vk.minisig"))).unwrap()
    );

    // A pull from the registry and one from the copied layout: the same rules as from the URL.
    let key = w.key.public_base64();
    let (elf, vk) = (w.path("out/v.elf"), w.path("out/v.vk"));
    let layout_ref = format!("oci-layout:{}:0.3.0-zisk", copied.display());
    for (name, reference) in [
        ("unpinned_pull_from_registry", to.as_str()),
        ("unpinned_pull_from_layout", layout_ref.as_str()),
    ] {
        w.rejects(name, 1, || {
            w.run(&[
                "pull",
                reference,
                "--key",
                &key,
                "-o",
                elf.to_str().unwrap(),
                "--no-cache",
            ])
        });
        cli::Output::from(&w.run(&[
            "pull",
            reference,
            "--key",
            &key,
            "--sha256",
            &r.elf_sha256,
            "-o",
            elf.to_str().unwrap(),
            "--vk-out",
            vk.to_str().unwrap(),
            "--vk-sha256",
            &r.vk_sha256,
        ]))
        .assert_exit(0)
        .stdout_has(&[
            "UNBOUND:",
            "vk signed on its own, held by its pinned sha256",
        ]);
        assert_eq!(std::fs::read(&elf).unwrap(), r.elf);
        assert_eq!(std::fs::read(&vk).unwrap(), r.vk);
        std::fs::remove_file(&elf).unwrap();
        std::fs::remove_file(&vk).unwrap();
    }

    // The same import into a layout gives the same manifest (same inputs, same digest).
    let layout = w.path("hub-layout");
    cli::Output::from(&import(
        &w,
        &r,
        &format!("oci-layout:{}:0.3.0-zisk", layout.display()),
        &NAMES,
    ))
    .assert_exit(0);
    let (direct, _) = layout_manifest(&layout, "0.3.0-zisk");
    let (via_skopeo, _) = layout_manifest(&copied, "0.3.0-zisk");
    assert_eq!(direct, via_skopeo);

    // A hub vouches for the names with an attestation; a policy trusting the hub counts it, and
    // the pull is bound (no pin needed), the upstream signature left as it was.
    let hub = minisign_tool::generate(w.dir.path(), "hub", None);
    cli::Output::from(&w.run(&[
        "attest",
        &to,
        "--key",
        hub.secret.to_str().unwrap(),
        "--push",
    ]))
    .assert_exit(0)
    .stdout_has(&[&format!(
        "kind=release guest={GUEST} version=0.3.0 zkvm=zisk"
    )]);
    let out = w.run(&[
        "pull",
        &to,
        "--key",
        &hub.public_base64(),
        "-o",
        elf.to_str().unwrap(),
        "--vk-out",
        vk.to_str().unwrap(),
    ]);
    cli::Output::from(&out).assert_exit(0).stdout_has(&[
        &format!("verified {GUEST} 0.3.0 for zisk"),
        "vk bound by the statement",
    ]);
    assert!(!stdout(&out).contains("UNBOUND"), "{}", stdout(&out));
    assert_eq!(std::fs::read(&vk).unwrap(), r.vk);
}

#[test]
fn an_import_whose_upstream_signature_fails_writes_nothing_to_the_target() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let layout = w.path("hub-layout");
    let to = format!("oci-layout:{}:0.3.0-zisk", layout.display());

    // The ELF on the server is not the one signed (its sha256 pinned, so only the signature
    // stands in the way).
    let elf_path = r.assets.join(format!("{NAME}.elf"));
    let mut tampered = r.elf.clone();
    tampered[100] ^= 1;
    std::fs::write(&elf_path, &tampered).unwrap();
    let tampered_sha = zkelf_trust::digest::Sha256Digest::of(&tampered).to_string();
    let key = w.key.public_base64();
    let url = r.elf_url();
    w.rejects("tampered_upstream_into_layout", 1, || {
        r.run(
            &w,
            &[
                "import",
                &url,
                "--to",
                &to,
                "--key",
                &key,
                "--sha256",
                &tampered_sha,
                "--guest",
                GUEST,
                "--version",
                "0.3.0",
                "--zkvm",
                "zisk",
            ],
        )
    });
    assert!(!layout.exists(), "the import wrote to the target");

    // A registry target gets nothing either.
    let registry = DockerRegistry::start();
    let repo_to = format!("{}/hub/{GUEST}:0.3.0-zisk", registry.host());
    w.rejects("tampered_upstream_into_registry", 1, || {
        r.run(
            &w,
            &[
                "import",
                &url,
                "--to",
                &repo_to,
                "--key",
                &key,
                "--sha256",
                &tampered_sha,
                "--guest",
                GUEST,
                "--version",
                "0.3.0",
                "--zkvm",
                "zisk",
            ],
        )
    });
    assert!(
        !registry
            .blob_path(&format!("sha256:{tampered_sha}"))
            .exists()
    );

    // With the signed bytes back the same import goes through, so the signature was the reason.
    std::fs::write(&elf_path, &r.elf).unwrap();
    cli::Output::from(&import(&w, &r, &to, &NAMES)).assert_exit(0);
    std::fs::remove_dir_all(&layout).unwrap();

    // Signed by a key the importer does not trust: refused, nothing written.
    let stranger = minisign_tool::generate(w.dir.path(), "stranger", None);
    r.resign(&stranger, &format!("{NAME}.elf"));
    w.rejects("upstream_signed_by_another_key", 1, || {
        import(&w, &r, &to, &NAMES)
    })
    .stderr_has(&[&format!(
        "made by key `{}`, which the policy does not trust",
        stranger.key_id()
    )]);
    assert!(!layout.exists(), "the import wrote to the target");
}

#[test]
fn an_unbound_import_must_be_named_and_pinned() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let layout = w.path("hub-layout");
    let to = format!("oci-layout:{}:0.3.0-zisk", layout.display());

    // No names: a usage error before the ELF moves.
    w.rejects("unbound_import_unnamed", 2, || import(&w, &r, &to, &[]));
    assert!(!layout.exists());
    // Only its size was asked for (one byte), never the ELF.
    let requests = r.objects.requests();
    assert!(
        requests.contains(&format!("GET /{NAME}.elf bytes=0-0")),
        "{requests:?}"
    );
    assert!(
        !requests.contains(&format!("GET /{NAME}.elf")),
        "{requests:?}"
    );

    // No pin: refused as a pull would be.
    let key = w.key.public_base64();
    let url = r.elf_url();
    let mut args = vec!["import", &url, "--to", &to, "--key", &key];
    args.extend_from_slice(&NAMES);
    w.rejects("unbound_import_unpinned", 1, || r.run(&w, &args));
    assert!(!layout.exists());

    // No VK pin: the VK cannot be carried unverified, so nothing is imported.
    args.extend_from_slice(&["--sha256", &r.elf_sha256]);
    w.rejects("unbound_import_vk_unpinned", 1, || r.run(&w, &args));
    assert!(!layout.exists());

    // `--to` needs a tag.
    w.rejects("import_target_without_tag", 2, || {
        import(&w, &r, &format!("oci-layout:{}", layout.display()), &NAMES)
    });
    assert!(!layout.exists());
}

#[test]
fn help_shows_the_flags_and_exit_codes() {
    let w = World::new();
    cli::Output::from(&w.run(&["import", "--help"])).assert_exit(0).stdout_has(&[
        "--to <REF>",
        "--key <PUB>",
        "--sha256 <HEX>",
        "--vk-sha256 <HEX>",
        "--guest <NAME>",
        "Exit codes: 0 imported, 1 the upstream release failed verification (nothing written), 2 other error.",
    ]);
    cli::Output::from(&w.run(&["pull", "--help"]))
        .assert_exit(0)
        .stdout_has(&[
            "--vk-out <PATH>",
            "--sha256 <HEX>",
            "--vk-sha256 <HEX>",
            "--allow-unbound",
            "a `.pub` file or its base64 line (`RW…`)",
        ]);
}

/// An import does not move a tag that names other bytes (exit 2, naming both manifests,
/// nothing written) unless `--replace`, which the new manifest records; importing the same
/// release again is idempotent.
#[test]
fn an_import_does_not_move_a_taken_tag_without_replace() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let layout = w.path("hub-layout");
    let other = w.dist(GUEST, "0.3.0", "zisk", Class::Elf64, "other bytes\n");
    let layout_ref = format!("oci-layout:{}", layout.display());
    assert_exit(&w.publish(&other, &layout_ref, &[]), 0);
    let (old, _) = layout_manifest(&layout, "0.3.0-zisk");
    let to = format!("{layout_ref}:0.3.0-zisk");

    let before = cli::Tree::of(std::slice::from_ref(&layout));
    w.rejects("import_over_a_taken_tag", 2, || import(&w, &r, &to, &NAMES));
    before.assert_unchanged();

    let mut extra = NAMES.to_vec();
    extra.push("--replace");
    cli::Output::from(&import(&w, &r, &to, &extra))
        .assert_exit(0)
        .stdout_has(&[&format!("replaced {old} (--replace)")]);
    let (moved, manifest) = layout_manifest(&layout, "0.3.0-zisk");
    assert_eq!(manifest["annotations"]["dev.zkelf.replaces"], old.as_str());
    assert_exit(&import(&w, &r, &to, &NAMES), 0);
    assert_eq!(layout_manifest(&layout, "0.3.0-zisk").0, moved);
}

/// A version no tag can carry, given to an import (or signed upstream): refused before anything
/// is written to the target, exit 2.
#[test]
fn an_import_of_a_version_no_tag_can_carry_is_refused_before_the_target_is_written() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let layout = w.path("hub-layout");
    let to = format!("oci-layout:{}:0.3.0-zisk", layout.display());
    w.rejects("import_refuses_build_metadata", 2, || {
        import(
            &w,
            &r,
            &to,
            &["--guest", GUEST, "--version", "0.3.0+b", "--zkvm", "zisk"],
        )
    });
    assert!(!layout.exists(), "something was imported");
}
