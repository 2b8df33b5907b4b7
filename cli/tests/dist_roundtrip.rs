//! Publish → pull round trips through every store: OCI layout, docker-registry (open and with
//! basic auth), and the https sidecar source; the pulled ELF is byte-identical and runs.

mod dist_common;

use dist_common::*;
use zkelf_testsupport::elf::Class;
use zkelf_testsupport::registry::{DockerRegistry, Fault, FaultyRegistry};

#[test]
fn oci_layout_round_trip_is_byte_identical_and_deterministic() {
    let w = World::new();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "fib on sp1\n");
    let layout = w.path("layout");
    let to = format!("oci-layout:{}", layout.display());
    let out = w.publish(&dist, &to, &[]);
    assert_exit(&out, 0);
    assert!(stdout(&out).contains("1.0.0-sp1"), "{}", stdout(&out));

    let pulled = w.path("out/fib.elf");
    let out = w.pull(&format!("{to}:1.0.0-sp1"), &pulled, &[]);
    assert_exit(&out, 0);
    assert_eq!(
        std::fs::read(&pulled).unwrap(),
        std::fs::read(dist.join("fib-sp1.elf")).unwrap()
    );
    assert_eq!(run_qemu(Class::Elf32, &pulled), "fib on sp1\n");

    // Through the release index, choosing the zkVM; the second pull comes from the cache.
    let via_index = w.path("out/fib-index.elf");
    let out = w.pull(
        &format!("{to}:1.0.0"),
        &via_index,
        &["--zkvm", "sp1", "--json"],
    );
    let report = json_report(&out, 0);
    assert_eq!(report["from_cache"], true);
    assert!(report["index"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(
        std::fs::read(&via_index).unwrap(),
        std::fs::read(&pulled).unwrap()
    );

    // Same inputs, same manifest bytes: a second layout gets the same digests.
    let layout2 = w.publish_layout(&dist, "layout2");
    assert_eq!(
        layout_manifest(&layout, "1.0.0-sp1").0,
        layout_manifest(&layout2, "1.0.0-sp1").0
    );
    assert_eq!(
        layout_manifest(&layout, "1.0.0").0,
        layout_manifest(&layout2, "1.0.0").0
    );

    // The manifest is the SPEC §5 artifact.
    let (_, m) = layout_manifest(&layout, "1.0.0-sp1");
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m["artifactType"], "application/vnd.zkelf.guest.v1");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(m["config"]["size"], 2);
    assert_eq!(
        m["layers"][0]["annotations"]["org.opencontainers.image.title"],
        "fib-sp1.elf"
    );
    assert_eq!(
        m["layers"][1]["mediaType"],
        "application/vnd.zkelf.minisig.v1"
    );
    assert_eq!(m["layers"][2]["mediaType"], "application/vnd.in-toto+json");
    assert_eq!(
        m["annotations"]["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(
        m["annotations"]["org.opencontainers.image.revision"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(m["annotations"]["dev.zkelf.zkvm"], "sp1");
}

#[test]
fn docker_registry_round_trip_skips_blobs_it_has() {
    let w = World::new();
    let registry = DockerRegistry::start();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "fib via registry\n");
    // Same dist directory: a second zkVM of the same release.
    w.dist("fib", "1.0.0", "risc0", Class::Elf64, "fib on risc0\n");
    let to = format!("{}/guests/fib", registry.host());
    let out = w.publish(&dist, &to, &["--json"]);
    let first = json_report(&out, 0);
    assert!(first["uploaded_blobs"].as_u64().unwrap() >= 4, "{first}");

    let out = w.publish(&dist, &to, &["--json"]);
    let second = json_report(&out, 0);
    assert_eq!(second["uploaded_blobs"], 0, "{second}");
    assert_eq!(second["index_digest"], first["index_digest"]);

    for (zkvm, class, message) in [
        ("sp1", Class::Elf32, "fib via registry\n"),
        ("risc0", Class::Elf64, "fib on risc0\n"),
    ] {
        let pulled = w.path(&format!("out/fib-{zkvm}.elf"));
        let out = w.pull(
            &format!("{to}:1.0.0"),
            &pulled,
            &[
                "--zkvm",
                zkvm,
                "--guest",
                "fib",
                "--version",
                "1.0.0",
                "--no-cache",
            ],
        );
        assert_exit(&out, 0);
        assert_eq!(
            std::fs::read(&pulled).unwrap(),
            std::fs::read(dist.join(format!("fib-{zkvm}.elf"))).unwrap()
        );
        assert_eq!(run_qemu(class, &pulled), message);
    }

    // `inspect` shows the statement and the signature that counts, and writes nothing.
    let out = w.run(&[
        "inspect",
        &format!("{to}:1.0.0-sp1"),
        "--policy",
        w.policy.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("zkelf/1 kind=release guest=fib version=1.0.0 zkvm=sp1"),
        "{text}"
    );
    assert!(text.contains("counts for release"), "{text}");
    assert!(text.contains("verdict    verified"), "{text}");
}

#[test]
fn registry_with_basic_auth_uses_flags_or_docker_config() {
    let w = World::new();
    let registry = DockerRegistry::start_with_auth("alice", "correct horse");
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "fib with auth\n");
    let to = format!("{}/fib", registry.host());

    // No credentials: 401, exit 2, a hint, nothing written.
    w.rejects("publish_without_credentials", 2, || {
        w.publish(&dist, &to, &[])
    });

    let out = w
        .publish_command(&dist, &to, &["--username", "alice"])
        .env("ZKELF_REGISTRY_PASSWORD", "correct horse")
        .output()
        .unwrap();
    assert_exit(&out, 0);

    // The password on standard input.
    let mut child = w
        .publish_command(&dist, &to, &["--username", "alice", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"correct horse\n").unwrap();
    assert_exit(&child.wait_with_output().unwrap(), 0);

    let pulled = w.path("out/fib.elf");
    w.rejects("pull_without_credentials", 2, || {
        w.pull(&format!("{to}:1.0.0-sp1"), &pulled, &[])
    });

    // `docker login` left an `auths` entry: used without flags.
    registry.write_docker_config(&w.path("home/.docker"));
    let out = w.pull(&format!("{to}:1.0.0-sp1"), &pulled, &[]);
    assert_exit(&out, 0);
    assert_eq!(run_qemu(Class::Elf32, &pulled), "fib with auth\n");
    std::fs::remove_file(&pulled).unwrap();

    // A credential helper named in `credHelpers` is asked (`docker-credential-<name> get`).
    let bin = w.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-zkelftest");
    std::fs::write(
        &helper,
        "#!/bin/sh\nread host\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"correct horse\"}' \"$host\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let docker = w.path("docker-helper");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"credHelpers":{{"{}":"zkelftest"}}}}"#, registry.host()),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = w
        .zkelf()
        .env("PATH", path)
        .env("DOCKER_CONFIG", &docker)
        .args([
            "pull",
            &format!("{to}:1.0.0-sp1"),
            "-o",
            pulled.to_str().unwrap(),
            "--policy",
            w.policy.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_exit(&out, 0);
}

#[test]
fn https_sidecar_source_round_trip() {
    let w = World::new();
    let dist = w.dist(
        "fib",
        "2.0.0",
        "sp1",
        Class::Elf32,
        "fib from a release page\n",
    );
    let server = FaultyRegistry::serve(&dist, Fault::None);
    let url = format!("http://{}/fib-sp1.elf", server.host());
    let pulled = w.path("out/fib.elf");
    let out = w.pull(&url, &pulled, &["--guest", "fib"]);
    assert_exit(&out, 0);
    assert_eq!(run_qemu(Class::Elf32, &pulled), "fib from a release page\n");

    // A signature for other bytes is refused (exit 1), nothing written.
    std::fs::remove_file(&pulled).unwrap();
    let other = w.dist("fib", "2.0.1", "sp1", Class::Elf32, "other\n");
    std::fs::copy(
        other.join("fib-sp1.elf.minisig"),
        dist.join("fib-sp1.elf.minisig"),
    )
    .unwrap();
    w.rejects("sidecar_signature_for_other_bytes", 1, || {
        w.pull(&url, &pulled, &[])
    });
}

#[test]
fn publish_refuses_what_the_policy_does_not_accept() {
    let w = World::new();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "unsigned?\n");
    let other = zkelf_testsupport::minisign_tool::generate(w.dir.path(), "stranger", None);
    let layout = w.path("layout");
    w.rejects("publish_under_a_key_that_did_not_sign", 1, || {
        w.run(&[
            "publish",
            dist.to_str().unwrap(),
            "--to",
            &format!("oci-layout:{}", layout.display()),
            "--key",
            other.public.to_str().unwrap(),
        ])
    });
    assert!(!layout.exists(), "something was published");

    // A tampered ELF next to a valid signature is refused too.
    let elf = dist.join("fib-sp1.elf");
    let mut bytes = std::fs::read(&elf).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&elf, bytes).unwrap();
    w.rejects("publish_of_a_tampered_elf", 1, || {
        w.publish(&dist, &format!("oci-layout:{}", layout.display()), &[])
    });
    assert!(!layout.exists(), "something was published");
}

/// A published version is immutable: other bytes under its tag are refused before anything is
/// uploaded (exit 2, naming both manifests), unless `--replace`, which the new manifest records
/// (`dev.zkelf.replaces`) and the report says; the same bytes again are published again.
#[test]
fn a_version_tag_is_not_moved_to_other_bytes_without_replace() {
    use zkelf_testsupport::cli::{Output, Tree};
    let w = World::new();
    let first = w.dist("fib", "1.0.0", "zisk", Class::Elf64, "first\n");
    let layout = w.path("layout");
    let to = format!("oci-layout:{}", layout.display());
    assert_exit(&w.publish(&first, &to, &[]), 0);
    let (old, _) = layout_manifest(&layout, "1.0.0-zisk");
    assert_exit(&w.publish(&first, &to, &[]), 0);
    assert_eq!(layout_manifest(&layout, "1.0.0-zisk").0, old);

    let second = w.dist("fib", "1.0.0", "zisk", Class::Elf64, "second\n");
    let before = Tree::of(std::slice::from_ref(&layout));
    let out = Output::from(w.publish(&second, &to, &[]));
    zkelf_testsupport::assert_cli_snapshot!("publish_over_a_taken_tag", out.assert_exit(2));
    before.assert_unchanged();
    // Both manifests by digest (the snapshot filters digests).
    let new = out
        .stderr
        .split('`')
        .find(|s| s.starts_with("sha256:") && *s != old)
        .unwrap_or_else(|| panic!("{}", out.stderr))
        .to_owned();
    assert!(
        out.stderr
            .contains(&format!("names manifest `{old}`, not `{new}`"))
    );

    let out = Output::from(w.publish(&second, &to, &["--replace"]));
    out.assert_exit(0)
        .stdout_has(&[&format!("replaced {old} (--replace)")]);
    let (moved, manifest) = layout_manifest(&layout, "1.0.0-zisk");
    assert_eq!(manifest["annotations"]["dev.zkelf.replaces"], old.as_str());
    // The same bytes again, with or without `--replace`: nothing moves.
    for extra in [&["--replace"][..], &[]] {
        let out = Output::from(w.publish(&second, &to, extra));
        out.assert_exit(0);
        assert!(!out.stdout.contains("replaced"), "{}", out.stdout);
        assert_eq!(layout_manifest(&layout, "1.0.0-zisk").0, moved);
    }
    let pulled = w.path("out/fib.elf");
    assert_exit(&w.pull(&format!("{to}:1.0.0-zisk"), &pulled, &[]), 0);
    assert_eq!(
        std::fs::read(&pulled).unwrap(),
        std::fs::read(second.join("fib-zisk.elf")).unwrap()
    );
}

/// `release` refuses a version no tag can carry before it builds anything (no Docker is
/// reached), as `sign` does.
#[test]
fn release_refuses_a_version_no_tag_can_carry_before_building() {
    let w = World::new();
    let guest = w.path("guest");
    std::fs::create_dir_all(&guest).unwrap();
    std::fs::write(
        guest.join("zkelf.toml"),
        "name = \"fib\"\nversion = \"1.0.0+build.1\"\nbuild = \"cargo\"\n\n[[artifact]]\nprofile = \"rv32im\"\n",
    )
    .unwrap();
    let layout = w.path("layout");
    let to = format!("oci-layout:{}", layout.display());
    w.rejects("release_refuses_build_metadata", 2, || {
        w.zkelf()
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .arg("release")
            .arg(&guest)
            .arg("--key")
            .arg(&w.key.secret)
            .args(["--to", &to, "--policy"])
            .arg(&w.policy)
            .arg("--out")
            .arg(w.path("out/dist"))
            .output()
            .unwrap()
    });
    assert!(!layout.exists());
}

/// A release signed elsewhere (`zkelf sign` refuses these) with a version no tag can carry:
/// `publish` refuses it before anything is uploaded or tagged, naming the version, exit 2.
#[test]
fn publish_refuses_a_signed_version_no_tag_can_carry() {
    let w = World::new();
    let long = format!("1.0.0-{}", "r".repeat(120));
    for (name, version) in [
        ("publish_refuses_build_metadata", "1.0.0+b"),
        ("publish_refuses_a_tag_too_long", long.as_str()),
    ] {
        let dist = w.dist("fib", version, "zisk", Class::Elf64, "signed elsewhere\n");
        let layout = w.path(&format!("layout-{name}"));
        let to = format!("oci-layout:{}", layout.display());
        w.rejects(name, 2, || w.publish(&dist, &to, &[]));
        assert!(!layout.exists(), "something was published");
    }
}

/// The release index tag `<version>` is not moved to this guest's index when it names another
/// guest's index, or a manifest that is no release index, without `--replace` (exit 2, before
/// anything is uploaded); `--replace` moves it and the new index records what it replaced.
#[test]
fn a_version_index_tag_naming_something_else_is_not_moved_without_replace() {
    use zkelf_testsupport::cli::{Output, Tree};
    let w = World::new();
    let layout = w.path("layout");
    let to = format!("oci-layout:{}", layout.display());
    // Another guest published its 1.0.0 into the same repository first.
    let other = w.dist("fob", "1.0.0", "zisk", Class::Elf64, "fob\n");
    assert_exit(&w.publish(&other, &to, &[]), 0);
    let (old, _) = layout_manifest(&layout, "1.0.0");
    let fib = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "fib\n");
    let before = Tree::of(std::slice::from_ref(&layout));
    let out = Output::from(w.publish(&fib, &to, &[]));
    zkelf_testsupport::assert_cli_snapshot!(
        "publish_over_another_guests_index",
        out.assert_exit(2)
    );
    before.assert_unchanged();
    assert!(
        out.stderr.contains("tag `1.0.0` of `") && out.stderr.contains(&old),
        "{}",
        out.stderr
    );

    let out = Output::from(w.publish(&fib, &to, &["--replace"]));
    out.assert_exit(0)
        .stdout_has(&[&format!("replaced {old} (--replace)")]);
    let (moved, index) = layout_manifest(&layout, "1.0.0");
    assert_eq!(index["annotations"]["dev.zkelf.replaces"], old.as_str());
    assert_eq!(index["annotations"]["dev.zkelf.guest"], "fib");
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    // This guest's version again: its own index, kept with its record, nothing moves.
    for extra in [&["--replace"][..], &[]] {
        let out = Output::from(w.publish(&fib, &to, extra));
        out.assert_exit(0);
        assert!(!out.stdout.contains("replaced"), "{}", out.stdout);
        assert_eq!(layout_manifest(&layout, "1.0.0").0, moved);
    }
    let pulled = w.path("out/fib.elf");
    let reference = format!("{to}:1.0.0");
    assert_exit(&w.pull(&reference, &pulled, &["--zkvm", "sp1"]), 0);

    // A manifest that is no release index under `2.0.0` (here fob's artifact, tagged by hand).
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use zkelf_registry::reference::Target;
        let store = zkelf_registry::store::open(
            &to.parse().unwrap(),
            &zkelf_registry::store::NetworkOptions::default(),
        )
        .unwrap();
        let bytes = store
            .get_manifest(&Target::Tag("1.0.0-zisk".into()))
            .await
            .unwrap()
            .unwrap();
        let media_type = zkelf_registry::artifact::MANIFEST_MEDIA_TYPE;
        store
            .put_manifest(&bytes, media_type, Some("2.0.0"))
            .await
            .unwrap();
    });
    let fib2 = w.dist("fib", "2.0.0", "sp1", Class::Elf32, "fib 2\n");
    let before = Tree::of(std::slice::from_ref(&layout));
    let out = Output::from(w.publish(&fib2, &to, &[]));
    zkelf_testsupport::assert_cli_snapshot!("publish_over_a_foreign_manifest", out.assert_exit(2));
    before.assert_unchanged();
}
