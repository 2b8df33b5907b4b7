//! Pulling today's guest releases: GitHub release assets whose minisign signatures carry only
//! the file name as trusted comment, served over https (a test CA the run trusts through
//! `SSL_CERT_FILE`) behind a redirect to another host. Such a signature binds no guest, version
//! or zkVM, so it counts only for pinned bytes; its VK is signed on its own.

mod dist_common;

use dist_common::github::{GithubRelease, NAME, RELEASE_PATH};
use dist_common::*;
use zkelf_registry::{Diagnose as _, Outcome};
use zkelf_testsupport::cli;
use zkelf_testsupport::https::FileServer;
use zkelf_testsupport::minisign_tool;

fn out(w: &World, name: &str) -> String {
    w.path(&format!("out/{name}")).display().to_string()
}

#[test]
fn a_release_pulls_with_its_sha256_and_its_vk_with_its_own_pin() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let key = r.public_key_file();
    let (elf, vk) = (out(&w, "validator.elf"), out(&w, "validator.vk"));
    let output = r.run(
        &w,
        &[
            "pull",
            &r.elf_url(),
            "--key",
            key.to_str().unwrap(),
            "--sha256",
            &r.elf_sha256,
            "-o",
            &elf,
            "--vk-out",
            &vk,
            "--vk-sha256",
            &r.vk_sha256,
        ],
    );
    cli::Output::from(&output)
        .assert_exit(0)
        .stdout_has(&[
            &format!("verified {} bytes with sha256 {} (pinned by `--sha256`)", r.elf.len(), r.elf_sha256),
            "UNBOUND: the signature's trusted comment is not a zkelf statement: nothing binds guest, version or zkVM",
            &format!("vk signed on its own, held by its pinned sha256 (64 bytes, sha256 {})", r.vk_sha256),
        ])
        .stderr_has(&["warning:", "nothing binds guest, version or zkVM"]);
    assert_eq!(std::fs::read(&elf).unwrap(), r.elf);
    assert_eq!(std::fs::read(&vk).unwrap(), r.vk);
    // The download went through GitHub's redirect to the other host.
    let objects = r.objects.requests();
    assert!(
        r.github
            .requests()
            .contains(&format!("GET {RELEASE_PATH}{NAME}.elf")),
        "{:?}",
        r.github.requests()
    );
    assert!(objects.contains(&format!("GET /{NAME}.elf")), "{objects:?}");

    // `--json` says the same plainly: no guest, version or zkVM, and how the VK is held.
    std::fs::remove_file(&elf).unwrap();
    std::fs::remove_file(&vk).unwrap();
    let output = r.run(
        &w,
        &[
            "pull",
            &r.elf_url(),
            "--key",
            key.to_str().unwrap(),
            "--sha256",
            &r.elf_sha256,
            "-o",
            &elf,
            "--vk-out",
            &vk,
            "--vk-sha256",
            &r.vk_sha256,
            "--json",
        ],
    );
    let report = json_report(&output, 0);
    assert_eq!(report["verdict"]["unbound"], true);
    assert_eq!(report["verdict"]["pinned_by"], "sha256");
    assert!(report["guest"].is_null() && report["version"].is_null() && report["zkvm"].is_null());
    assert_eq!(report["sha256"], r.elf_sha256);
    assert_eq!(report["vk"]["by"], "signature");
    assert_eq!(report["vk"]["unbound"], true);
    assert_eq!(report["vk"]["sha256"], r.vk_sha256);
    assert_eq!(report["verdict"]["signatures"][0]["counts_for"], "release");
}

#[test]
fn without_a_pin_the_release_is_refused_and_nothing_is_written() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let elf = out(&w, "validator.elf");
    let (url, key) = (r.elf_url(), r.public_key_file());
    let args = ["pull", &url, "--key", key.to_str().unwrap(), "-o", &elf];
    w.rejects("unpinned_release", 1, || r.run(&w, &args));
    // Refused before the ELF moved: only the sidecars were asked for.
    assert!(
        !r.objects.requests().contains(&format!("GET /{NAME}.elf")),
        "{:?}",
        r.objects.requests()
    );

    // In JSON the error is exit 1 too, not "misbehaved".
    let mut json = args.to_vec();
    json.push("--json");
    let report = json_report(&r.run(&w, &json), 1);
    assert_eq!(report["error"]["exit_code"], 1);
    assert!(!report.to_string().contains("misbehaved"));

    // `--allow-unbound` cannot stand in for a pin: nothing else names a download's bytes.
    let mut allow = args.to_vec();
    allow.push("--allow-unbound");
    w.rejects("allow_unbound_is_not_a_pin", 1, || r.run(&w, &allow));
}

#[test]
fn a_lock_pin_stands_in_for_sha256() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let key = r.public_key_file();
    let elf = out(&w, "validator.elf");
    let lock = w.path("zkelf.lock");
    let url = r.elf_url();
    let pull = |extra: &[&str]| {
        let mut args = vec![
            "pull",
            &url,
            "--key",
            key.to_str().unwrap(),
            "-o",
            &elf,
            "--lock",
            lock.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        r.run(&w, &args)
    };
    // A reviewed lock file that pins the ELF (and VK) digests only, as deployments keep them.
    std::fs::write(
        &lock,
        format!(
            "version = 1\n\n[[pin]]\nreference = \"{}\"\nelf = \"sha256:{}\"\nvk = \"sha256:{}\"\n",
            r.elf_url(),
            r.elf_sha256,
            r.vk_sha256
        ),
    )
    .unwrap();
    let vk = out(&w, "validator.vk");
    cli::Output::from(&pull(&["--vk-out", &vk]))
        .assert_exit(0)
        .stdout_has(&["(pinned by `zkelf.lock`)", "UNBOUND:"]);
    assert_eq!(std::fs::read(&elf).unwrap(), r.elf);
    assert_eq!(std::fs::read(&vk).unwrap(), r.vk);

    // A pin written by a first pull with `--sha256` serves the next pull alone.
    std::fs::remove_file(&lock).unwrap();
    for f in [&elf, &vk] {
        std::fs::remove_file(f).unwrap();
    }
    cli::Output::from(&pull(&["--sha256", &r.elf_sha256])).assert_exit(0);
    let written = std::fs::read_to_string(&lock).unwrap();
    assert!(
        written.contains(&format!("elf = \"sha256:{}\"", r.elf_sha256)),
        "{written}"
    );
    std::fs::remove_file(&elf).unwrap();
    cli::Output::from(&pull(&[])).assert_exit(0);
    assert_eq!(std::fs::read(&elf).unwrap(), r.elf);

    // A lock that pins other bytes refuses the release.
    std::fs::remove_file(&elf).unwrap();
    std::fs::write(
        &lock,
        format!(
            "version = 1\n\n[[pin]]\nreference = \"{}\"\nelf = \"sha256:{}\"\n",
            r.elf_url(),
            "ab".repeat(32)
        ),
    )
    .unwrap();
    w.rejects("lock_pin_mismatch", 1, || pull(&[]));
}

#[test]
fn a_wrong_pin_is_refused_and_nothing_is_written() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let key = r.public_key_file();
    let (elf, vk) = (out(&w, "validator.elf"), out(&w, "validator.vk"));
    let wrong = "0".repeat(64);
    let output = w.rejects("wrong_elf_pin", 1, || {
        r.run(
            &w,
            &[
                "pull",
                &r.elf_url(),
                "--key",
                key.to_str().unwrap(),
                "--sha256",
                &wrong,
                "-o",
                &elf,
            ],
        )
    });
    // The snapshot filters digests: which is which is checked here.
    output.stderr_has(&[&format!(
        "hashes to `{}`, not the pinned `{wrong}`",
        r.elf_sha256
    )]);

    // The right ELF pin with a wrong VK pin writes neither file.
    let output = w.rejects("wrong_vk_pin", 1, || {
        r.run(
            &w,
            &[
                "pull",
                &r.elf_url(),
                "--key",
                key.to_str().unwrap(),
                "--sha256",
                &r.elf_sha256,
                "-o",
                &elf,
                "--vk-out",
                &vk,
                "--vk-sha256",
                &wrong,
            ],
        )
    });
    output.stderr_has(&[&format!(
        "the verification key of `{}` hashes to `{}`, not the pinned `{wrong}`",
        r.elf_url(),
        r.vk_sha256
    )]);

    // A malformed pin is a usage error.
    w.rejects("malformed_pin", 2, || {
        r.run(
            &w,
            &[
                "pull",
                &r.elf_url(),
                "--key",
                key.to_str().unwrap(),
                "--sha256",
                "xyz",
                "-o",
                &elf,
            ],
        )
    });
}

#[test]
fn a_vk_signed_by_another_key_is_refused_and_neither_file_is_written() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let stranger = minisign_tool::generate(w.dir.path(), "stranger", None);
    r.resign(&stranger, &format!("{NAME}.vk"));
    let key = r.public_key_file();
    let (elf, vk) = (out(&w, "validator.elf"), out(&w, "validator.vk"));
    let output = w.rejects("vk_signed_by_another_key", 1, || {
        r.run(
            &w,
            &[
                "pull",
                &r.elf_url(),
                "--key",
                key.to_str().unwrap(),
                "--sha256",
                &r.elf_sha256,
                "-o",
                &elf,
                "--vk-out",
                &vk,
                "--vk-sha256",
                &r.vk_sha256,
            ],
        )
    });
    // The snapshot filters key ids: that the stranger is named is checked here.
    output.stderr_has(&[&format!(
        "made by key `{}`, which the policy does not trust",
        stranger.key_id()
    )]);

    // Without `--vk-out` the VK is not asked for: the ELF alone pulls, and the VK (up to
    // 64 MiB nobody asked for) is not even downloaded.
    let vk_gets = || {
        r.objects
            .requests()
            .iter()
            .filter(|l| l.starts_with(&format!("GET /{NAME}.vk")))
            .count()
    };
    let before = vk_gets();
    let output = r.run(
        &w,
        &[
            "pull",
            &r.elf_url(),
            "--key",
            key.to_str().unwrap(),
            "--sha256",
            &r.elf_sha256,
            "-o",
            &elf,
        ],
    );
    cli::Output::from(&output).assert_exit(0);
    assert!(!stdout(&output).contains("vk "), "{}", stdout(&output));
    assert_eq!(vk_gets(), before, "{:?}", r.objects.requests());
}

#[test]
fn a_redirect_to_plain_http_is_refused() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let plain = FileServer::http(&r.assets);
    let downgrade = FileServer::https(&w.path("home"), &r.ca);
    downgrade.redirect("/", &plain.url("/"));
    let url = downgrade.url(&format!("/{NAME}.elf"));
    let elf = out(&w, "validator.elf");
    let output = w.rejects("redirect_to_plain_http", 2, || {
        r.run(
            &w,
            &[
                "pull",
                &url,
                "--key",
                r.public_key_file().to_str().unwrap(),
                "--sha256",
                &r.elf_sha256,
                "-o",
                &elf,
            ],
        )
    });
    // The snapshot filters ports: that the plain server is the one named is checked here.
    output.stderr_has(&[&format!(
        "redirect to plain http `{}` refused",
        plain.url(&format!("/{NAME}.elf.minisig"))
    )]);
    assert!(plain.requests().is_empty(), "{:?}", plain.requests());
}

#[test]
fn plain_http_to_a_download_host_names_that_host_in_its_hint() {
    let w = World::new();
    let out = w.path("out/x.elf");
    // Refused before any connection: `example.com` is neither loopback nor `--insecure-registry`.
    let output = w.rejects("plain_http_download", 2, || {
        w.pull(
            "http://example.com/x.elf",
            &out,
            &["--sha256", &"ab".repeat(32)],
        )
    });
    output.stderr_has(&["pass `--insecure-registry example.com`"]);
}

#[test]
fn a_download_that_wants_credentials_names_its_host_in_the_hint() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let server = FileServer::http(&r.assets);
    server.deny("/");
    let url = server.url(&format!("/{NAME}.elf"));
    let elf = out(&w, "validator.elf");
    let output = w.rejects("download_unauthorized", 2, || {
        r.run(
            &w,
            &[
                "pull",
                &url,
                "--key",
                r.public_key_file().to_str().unwrap(),
                "--sha256",
                &r.elf_sha256,
                "-o",
                &elf,
            ],
        )
    });
    // The snapshot filters the port: that the hint names this server is checked here.
    let host = url.trim_start_matches("http://").split('/').next().unwrap();
    output.stderr_has(&[&format!("a download from `{host}`")]);
}

#[test]
fn tls_trusts_a_test_ca_only_when_ssl_cert_file_names_it() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let elf = out(&w, "validator.elf");
    // `World::zkelf` clears the environment: no `SSL_CERT_FILE`, the system's store only.
    w.rejects("untrusted_certificate", 2, || {
        w.run(&[
            "pull",
            &r.elf_url(),
            "--key",
            r.public_key_file().to_str().unwrap(),
            "--sha256",
            &r.elf_sha256,
            "-o",
            &elf,
        ])
    });
}

#[test]
fn the_library_takes_the_same_pins() {
    use zkelf_registry::api::{Config, blocking};
    use zkelf_registry::store::NetworkOptions;
    use zkelf_registry::verify::Expected;
    use zkelf_trust::keys::PublicKey;
    use zkelf_trust::policy::Policy;

    let w = World::new();
    let r = GithubRelease::publish(&w);
    let policy = Policy::from_public_key(PublicKey::from_file(&r.public_key_file()).unwrap());
    // The test CA reaches the library as an extra root, not through the environment.
    let config = Config {
        network: NetworkOptions {
            ca_certificates: vec![r.ca.pem_path()],
            ..NetworkOptions::default()
        },
        require_vk: true,
        ..Config::default()
    };
    let pinned = Expected {
        sha256: Some(r.elf_sha256.parse().unwrap()),
        vk_sha256: Some(r.vk_sha256.parse().unwrap()),
        ..Expected::default()
    };
    let release = blocking::fetch_elf(&r.elf_url(), &policy, &pinned, &config).unwrap();
    assert!(release.unbound() && release.statement.is_none());
    assert_eq!(release.bytes, r.elf);
    assert_eq!(release.vk.as_deref(), Some(&r.vk[..]));

    // Unpinned: a verification failure, and the file API writes neither file.
    let err =
        blocking::fetch_elf(&r.elf_url(), &policy, &Expected::default(), &config).unwrap_err();
    assert_eq!(err.outcome(), Outcome::VerificationFailed, "{err}");
    let (elf, vk) = (w.path("out/v.elf"), w.path("out/v.vk"));
    let unpinned_vk = Expected {
        vk_sha256: None,
        ..pinned.clone()
    };
    let err = blocking::fetch_elf_to_file(
        &r.elf_url(),
        &policy,
        &unpinned_vk,
        &config,
        &elf,
        Some(&vk),
    )
    .unwrap_err();
    assert_eq!(err.outcome(), Outcome::VerificationFailed, "{err}");
    assert_nothing_written(&w.path("out"));
    let file =
        blocking::fetch_elf_to_file(&r.elf_url(), &policy, &pinned, &config, &elf, Some(&vk))
            .unwrap();
    assert_eq!(file.vk_path.as_deref(), Some(vk.as_path()));
    assert_eq!(std::fs::read(&vk).unwrap(), r.vk);
}
