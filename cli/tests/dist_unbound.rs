//! Unbound signatures (the trusted comment is only a file name) confirm nothing they cannot
//! check (SPEC §2): a guest, version or zkVM asked of one is a verification failure (exit 1)
//! naming it, in `verify`, `pull` and `inspect`, whatever pin or `--allow-unbound` is given; a
//! bound attestation can still confirm them.

mod dist_common;

use dist_common::github::{GithubRelease, NAME};
use dist_common::*;
use zkelf_testsupport::cli;
use zkelf_testsupport::minisign_tool;
use zkelf_testsupport::policy::{Key, PolicyFile};

const GUEST: &str = "stateless-validator-reth";

#[test]
fn a_name_asked_of_an_unbound_download_is_refused_not_ignored() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let key = r.public_key_file();
    let elf = w.path("out/validator.elf").display().to_string();
    let url = r.elf_url();
    for (name, asked) in [
        ("pull_asks_guest", ["--guest", GUEST]),
        ("pull_asks_version", ["--version", "0.3.0"]),
        ("pull_asks_zkvm", ["--zkvm", "zisk"]),
    ] {
        w.rejects(name, 1, || {
            r.run(
                &w,
                &[
                    "pull",
                    &url,
                    "--key",
                    key.to_str().unwrap(),
                    "--sha256",
                    &r.elf_sha256,
                    "-o",
                    &elf,
                    asked[0],
                    asked[1],
                ],
            )
        });
    }
    // `inspect --zkvm` asks it too: the report is printed, and it exits 1.
    let output = w.rejects("inspect_asks_zkvm", 1, || {
        r.run(
            &w,
            &[
                "inspect",
                &url,
                "--key",
                key.to_str().unwrap(),
                "--sha256",
                &r.elf_sha256,
                "--zkvm",
                "zisk",
            ],
        )
    });
    output.stdout_has(&["the zkvm `zisk` asked for cannot be checked"]);
}

#[test]
fn verify_of_an_unbound_signature_refuses_names_and_a_vk_is_no_guest() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let key = w.key.public_base64();
    let (elf, vk) = (
        r.assets.join(format!("{NAME}.elf")),
        r.assets.join(format!("{NAME}.vk")),
    );
    let (elf, vk) = (elf.to_str().unwrap(), vk.to_str().unwrap());
    w.rejects("verify_pinned_asks_guest", 1, || {
        w.run(&[
            "verify",
            elf,
            "--key",
            &key,
            "--sha256",
            &r.elf_sha256,
            "--guest",
            GUEST,
        ])
    });
    // The release's VK file, signed the same way, does not verify as the guest either.
    let vk_sig = format!("{vk}.minisig");
    w.rejects("verify_vk_as_the_guest", 1, || {
        w.run(&[
            "verify",
            vk,
            "--sig",
            &vk_sig,
            "--key",
            &key,
            "--allow-unbound",
            "--guest",
            GUEST,
            "--zkvm",
            "zisk",
        ])
    });
    // Without names, `--allow-unbound` accepts it and says that nothing binds it.
    cli::Output::from(&w.run(&[
        "verify",
        vk,
        "--sig",
        &vk_sig,
        "--key",
        &key,
        "--allow-unbound",
    ]))
    .assert_exit(0)
    .stderr_has(&["nothing binds guest, version or zkVM"]);
}

#[test]
fn an_unbound_artifact_confirms_no_name_but_a_bound_attestation_does() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let layout = w.path("hub");
    let to = format!("oci-layout:{}:0.3.0-zisk", layout.display());
    let key = w.key.public_base64();
    cli::Output::from(&r.run(
        &w,
        &[
            "import",
            &r.elf_url(),
            "--to",
            &to,
            "--key",
            &key,
            "--sha256",
            &r.elf_sha256,
            "--vk-sha256",
            &r.vk_sha256,
            "--guest",
            GUEST,
            "--version",
            "0.3.0",
            "--zkvm",
            "zisk",
        ],
    ))
    .assert_exit(0);
    let elf = w.path("out/v.elf");
    let pull = |policy: &[&str], extra: &[&str]| {
        let mut args = vec!["pull", &to, "-o", elf.to_str().unwrap(), "--no-cache"];
        args.extend_from_slice(policy);
        args.extend_from_slice(extra);
        w.run(&args)
    };
    // The manifest's annotations say `zisk`, but nothing signed does.
    w.rejects("layout_allow_unbound_asks_zkvm", 1, || {
        pull(&["--key", &key], &["--allow-unbound", "--zkvm", "zisk"])
    });
    w.rejects("layout_pinned_asks_version", 1, || {
        pull(
            &["--key", &key],
            &["--sha256", &r.elf_sha256, "--version", "0.3.0"],
        )
    });

    // A hub's bound attestation names them: under a policy trusting upstream and hub, the
    // names are confirmed by the hub's statement, the upstream signature does not count.
    let hub = minisign_tool::generate(w.dir.path(), "hub", None);
    cli::Output::from(&w.run(&[
        "attest",
        &to,
        "--key",
        hub.secret.to_str().unwrap(),
        "--push",
    ]))
    .assert_exit(0);
    let policy = PolicyFile::new()
        .key(Key::release("upstream", &key))
        .key(Key::release("hub", &hub.public_base64()))
        .require(1, 0)
        .write(&w.path("both.toml"));
    let output = pull(
        &["--policy", policy.to_str().unwrap()],
        &["--guest", GUEST, "--version", "0.3.0", "--zkvm", "zisk"],
    );
    cli::Output::from(&output).assert_exit(0).stdout_has(&[
        &format!("verified {GUEST} 0.3.0 for zisk"),
        "the guest `stateless-validator-reth` asked for cannot be checked",
    ]);
    assert!(!stdout(&output).contains("UNBOUND"), "{}", stdout(&output));
}
