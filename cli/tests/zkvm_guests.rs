//! Real zkVM guests, end to end, one test per profile: `zkelf release --check-reproducible` of
//! the example guest from a checkout (a second build from a copy at another path, with another
//! uid, hostname, umask, environment, CPU count, timezone, locale and file times, must give the
//! same bytes), its VK derived by the zkVM's toolbox (32 bytes, bound by the statement's `vk=`),
//! a verified `zkelf pull` from the OCI layout it published to, `zkelf run` of the pulled
//! artifact in the zkVM's own executor (the public values must be the host's sha256 chain), and
//! `zkelf rebuild` from the provenance alone, which clones the source afresh at yet another path
//! and must give the same bytes and the same VK.
//!
//! CI runs the SP1 one, which goes on with forged VKs (another program's, random bytes: signed
//! and published, refused by `rebuild` and by `pull --derive-vk`), a release without a VK
//! (rebuilt and attested for its ELF alone), `run` of a reference (and of one the policy
//! refuses: nothing runs), `pull --vk-only` and `pull --derive-vk` of the release (its VK
//! derived anew from the pulled ELF). The others need their own toolbox (minutes to build each,
//! cold): `scripts/zkvm-figures` runs them (`--ignored`). The RISC Zero test goes on with its
//! in-process VK: a VK of another program, bound by a signature, is refused by `sign`, `verify`
//! and `pull`.
//!
//! The files: `zkvm_guests/fixture.rs` (the fixture and the steps every guest goes through,
//! with what its provenance must record of its VK and toolbox), `zkvm_guests/forged.rs` (the
//! SP1 releases with forged VKs), `zkvm_guests/risc0.rs` and `zkvm_guests/revm.rs` (the RISC
//! Zero guest and the large SP1 guest).

// Each step prints its duration and the executor's cycles (`--nocapture`): the budget matters.
#![allow(clippy::print_stderr)]

#[path = "zkvm_guests/fixture.rs"]
mod fixture;
#[path = "zkvm_guests/forged.rs"]
mod forged;
#[path = "zkvm_guests/revm.rs"]
mod revm;
#[path = "zkvm_guests/risc0.rs"]
mod risc0;

use sha2::{Digest, Sha256};
use zkelf_testsupport::cli;
use zkelf_testsupport::minisign_tool;
use zkelf_testsupport::policy::{Key, PolicyFile};
use zkelf_testsupport::run::{assert_nothing_written, json_report};

use fixture::{Fixture, INPUT, expected_public_values, hex, release_run_rebuild};
use forged::{other_program_vk, publish_forged_vk, publish_sp1};

#[test]
fn sp1_guest_builds_reproducibly_runs_in_sp1s_executor_and_its_vk_is_checked() {
    let f = Fixture::new();
    let released = release_run_rebuild(&f, "sp1-hash", "sp1");
    // What SP1's SDK gives for this ELF (`LightProver::setup(elf).verifying_key().bytes32()`;
    // `toolbox/sp1-sdk-check` compares them, docs/toolbox.md): the ELF is byte-identical on
    // every machine, so its key is too.
    assert_eq!(
        hex(&released.vk),
        "00008026494b0dd010dbd605a6d61768f5fbb9efc0af23a363643723b927f3a2"
    );

    // A reference runs after pull's checks, from memory.
    let reference = f.layout_ref("0.1.0-sp1");
    let policy = f.policy.to_str().unwrap();
    let input = f.path("input.json");
    std::fs::write(&input, INPUT).unwrap();
    let run = f.run(&[
        "--json",
        "run",
        &reference,
        "--policy",
        policy,
        "--input",
        input.to_str().unwrap(),
    ]);
    let report = json_report(&run, 0);
    assert_eq!(
        report["public_values"],
        hex(&expected_public_values()).as_str()
    );
    assert_eq!(report["zkvm"], "sp1");

    // One the policy refuses runs nothing: it fails before zkelf asks Docker for anything.
    let stranger = minisign_tool::generate(&f.path("stranger"), "stranger", None);
    let other_policy = PolicyFile::new()
        .key(Key::release("stranger", &stranger.public_base64()))
        .require(1, 0)
        .write(&f.path("stranger/policy.toml"));
    let refused = f
        .zkelf()
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .args([
            "run",
            &reference,
            "--input",
            input.to_str().unwrap(),
            "--policy",
        ])
        .arg(&other_policy)
        .output()
        .unwrap();
    cli::Output::from(&refused)
        .assert_exit(1)
        .stderr_has(&["was not run"]);

    // A verifier takes the VK alone, verified, and no ELF.
    let vk_out = f.path("out/verifier.vk");
    let pulled = f.run(&[
        "pull",
        &reference,
        "--policy",
        policy,
        "--vk-only",
        "--vk-out",
        vk_out.to_str().unwrap(),
    ]);
    cli::Output::from(&pulled).assert_exit(0);
    assert_eq!(std::fs::read(&vk_out).unwrap(), released.vk);
    std::fs::remove_file(&vk_out).unwrap();

    // …or derives it anew from the ELF with SP1's toolbox before anything is written.
    let derived = f.run(&[
        "--json",
        "pull",
        &reference,
        "--policy",
        policy,
        "--vk-only",
        "--vk-out",
        vk_out.to_str().unwrap(),
        "--derive-vk",
    ]);
    let report = json_report(&derived, 0);
    assert_eq!(report["vk"]["derived_by"], "sp1-6.10.0", "{report}");
    assert_eq!(std::fs::read(&vk_out).unwrap(), released.vk);
    std::fs::remove_file(&vk_out).unwrap();
    std::fs::remove_file(&released.pulled).unwrap();
    assert_nothing_written(&f.path("out"));

    // Forged VKs: another program's (the same guest with one string changed), and random
    // bytes. Each is signed and published; `rebuild` refuses it, naming both keys, and
    // attests nothing.
    let other = other_program_vk(&f);
    assert_ne!(other, released.vk);
    let random: Vec<u8> = Sha256::digest(b"not a verification key").to_vec();
    for (name, forged) in [("other-program", other), ("random", random)] {
        let reference = publish_forged_vk(&f, &released, name, &forged);
        let attestation = f.path(&format!("out/{name}.rebuild.minisig"));
        let rebuild = f.run(&[
            "rebuild",
            &reference,
            "--attest",
            "--key",
            f.key.secret.to_str().unwrap(),
            "-o",
            attestation.to_str().unwrap(),
        ]);
        cli::Output::from(&rebuild).assert_exit(1).stderr_has(&[
            &hex(&released.vk),
            &hex(&forged),
            "verification key",
        ]);
        assert!(!attestation.exists(), "{name}: nothing attested");

        // `pull --derive-vk` refuses it too, naming both, and writes nothing.
        let out = f.path(&format!("out/{name}.elf"));
        let pull = f.run(&[
            "pull",
            &reference,
            "--policy",
            f.policy.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--derive-vk",
        ]);
        cli::Output::from(&pull).assert_exit(1).stderr_has(&[
            &hex(&released.vk),
            &hex(&forged),
            "does not belong to it",
        ]);
        assert!(!out.exists(), "{name}: nothing pulled");
    }
    assert_nothing_written(&f.path("out"));

    // A release without a VK: the rebuild reproduces it and attests it, warns which VK its ELF
    // derives (by sha256, as a statement would bind it), and says the attestation confirms the
    // ELF alone (`vk=-`: nothing binds a key the release does not carry).
    let reference = publish_sp1(&f, &released, "no-vk", None);
    let attestation = f.path("out/no-vk.rebuild.minisig");
    let rebuild = f.run(&[
        "--json",
        "rebuild",
        &reference,
        "--attest",
        "--key",
        f.key.secret.to_str().unwrap(),
        "-o",
        attestation.to_str().unwrap(),
    ]);
    let report = json_report(&rebuild, 0);
    assert_eq!(report["published_vk"], serde_json::Value::Null, "{report}");
    assert_eq!(report["rebuilt_vk"], hex(&released.vk).as_str(), "{report}");
    assert_eq!(report["attestation_confirms"], "elf", "{report}");
    cli::Output::from(&rebuild).stderr_has(&[
        "carries no verification key",
        &hex(&Sha256::digest(&released.vk)),
        "confirms the ELF alone",
    ]);
    let attested = std::fs::read_to_string(&attestation).unwrap();
    assert!(attested.contains(" vk=- "), "{attested}");
}

#[test]
#[ignore = "heavy (OpenVM's toolbox and key generation): scripts/zkvm-figures runs it"]
fn openvm_guest_builds_reproducibly_and_runs_in_openvms_executor() {
    let f = Fixture::new();
    release_run_rebuild(&f, "openvm-hash", "openvm");
}

#[test]
#[ignore = "heavy (ZisK's toolbox): scripts/zkvm-figures runs it"]
fn zisk_guest_builds_reproducibly_and_runs_in_ziskemu() {
    let f = Fixture::new();
    release_run_rebuild(&f, "zisk-hash", "zisk");
}
