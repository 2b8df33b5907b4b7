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
//! and published, refused by `rebuild`), `run` of a reference (and of one the policy refuses:
//! nothing runs), `pull --vk-only` and `pull --derive-vk` (the VK derived anew from the pulled
//! ELF: the release's is accepted, the forged ones refused). The others need their own toolbox (minutes to build
//! each, cold): `scripts/zkvm-figures` runs them (`--ignored`). The RISC Zero test goes on with
//! its in-process VK: a VK of another program, bound by a signature, is refused by `sign`,
//! `verify` and `pull`.

// Each step prints its duration and the executor's cycles (`--nocapture`): the budget matters.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use sha2::{Digest, Sha256};
use zkelf_registry::Reference;
use zkelf_registry::artifact::{self, ArtifactSpec, Descriptor};
use zkelf_registry::store::{self, NetworkOptions};
use zkelf_testsupport::cli;
use zkelf_testsupport::docker::{
    ensure_builder_image, guests_checkout, shared_cache_dir, trust_dir_of,
};
use zkelf_testsupport::minisign_tool::{self, ToolKeyPair};
use zkelf_testsupport::policy::{Key, PolicyFile};
use zkelf_testsupport::run::{assert_nothing_written, json_report};
use zkelf_testsupport::toolbox::{self, ExecOutput};

/// The input every example guest takes, and the digest chain it must commit.
const INPUT: &[u8] = br#"{"data":"zkelf: the same bytes for every prover","rounds":7}"#;

fn expected_public_values() -> Vec<u8> {
    let mut digest: [u8; 32] = Sha256::digest(b"zkelf: the same bytes for every prover").into();
    for _ in 0..7 {
        digest = Sha256::digest(digest).into();
    }
    digest.to_vec()
}

struct Fixture {
    dir: tempfile::TempDir,
    key: ToolKeyPair,
    policy: PathBuf,
    repo: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = minisign_tool::generate(dir.path(), "release", None);
        let policy = PolicyFile::new()
            .key(Key::release("release", &key.public_base64()))
            .require(1, 0)
            .write(&dir.path().join("policy.toml"));
        for sub in ["home", "state", "out"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let repo = guests_checkout(&dir.path().join("release-manager/checkout"), &[]);
        Self {
            dir,
            key,
            policy,
            repo,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn zkelf(&self) -> Command {
        let bin = Path::new(env!("CARGO_BIN_EXE_zkelf"));
        ensure_builder_image(bin);
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("ZKELF_STATE_DIR", self.path("state"))
            // Shared with the other build tests (crates, sysroots, toolboxes stay warm), with
            // the trust records that let a run use what another run built.
            .env("ZKELF_CACHE_DIR", shared_cache_dir())
            .env("ZKELF_BUILDER_TRUST_DIR", trust_dir_of(&shared_cache_dir()))
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        if let Some(host) = std::env::var_os("DOCKER_HOST") {
            cmd.env("DOCKER_HOST", host);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let started = Instant::now();
        let output = self.zkelf().args(args).output().unwrap();
        eprintln!(
            "zkelf {} -> {:?} in {:.1}s",
            args.join(" "),
            output.status.code(),
            started.elapsed().as_secs_f64()
        );
        output
    }

    /// `zkelf run` of `program` on `input` in the `zkvm` executor, which must halt successfully.
    fn execute(&self, zkvm: &str, program: &Path, input: &[u8]) -> ExecOutput {
        let started = Instant::now();
        let run = toolbox::run(self.zkelf(), zkvm, program, input);
        eprintln!(
            "{} in the {zkvm} executor: {} cycles, {} bytes, {:.1}s",
            program.display(),
            run.cycles,
            std::fs::metadata(program).unwrap().len(),
            started.elapsed().as_secs_f64()
        );
        run
    }

    fn layout_ref(&self, tag: &str) -> String {
        format!("oci-layout:{}:{tag}", self.path("oci").display())
    }
}

/// What the release of one guest left behind.
struct Released {
    /// `<dist>/<guest>/0.1.0/`.
    dist: PathBuf,
    /// The pulled, verified artifact.
    pulled: PathBuf,
    sha256: String,
    /// The VK `build` derived.
    vk: Vec<u8>,
}

/// Releases `guest` (profile `zkvm`), pulls it back verified, runs it in the zkVM's executor
/// and rebuilds it from its provenance.
fn release_run_rebuild(f: &Fixture, guest: &str, zkvm: &str) -> Released {
    let guest_dir = f.repo.join("guests").join(guest);
    let dist_root = f.path("dist");
    let release = f.run(&[
        "--json",
        "release",
        guest_dir.to_str().unwrap(),
        "--key",
        f.key.secret.to_str().unwrap(),
        "--policy",
        f.policy.to_str().unwrap(),
        "--out",
        dist_root.to_str().unwrap(),
        "--to",
        &format!("oci-layout:{}", f.path("oci").display()),
        "--check-reproducible",
    ]);
    let report = json_report(&release, 0);
    let built = &report["built"][0];
    assert_eq!(built["reproduced"], true, "{built}");
    assert_eq!(built["profile"], zkvm);
    let sha256 = built["sha256"].as_str().unwrap().to_owned();
    let dist = dist_root.join(guest).join("0.1.0");

    // The VK: 32 bytes, derived from the ELF, its sha256 bound by the release statement.
    let vk = std::fs::read(dist.join(format!("{guest}-{zkvm}.vk"))).unwrap();
    assert_eq!(vk.len(), 32, "{guest}'s VK");
    let vk_sha256 = hex(&Sha256::digest(&vk));
    assert_eq!(built["vk_sha256"], vk_sha256.as_str(), "{built}");
    let signature =
        std::fs::read_to_string(dist.join(format!("{guest}-{zkvm}.elf.minisig"))).unwrap();
    assert!(
        signature.contains(&format!(" vk={vk_sha256} ")),
        "the statement binds the VK:\n{signature}"
    );

    // The provenance records the whole profile.
    let provenance: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dist.join(format!("{guest}-{zkvm}.provenance.json"))).unwrap(),
    )
    .unwrap();
    let recorded = &provenance["predicate"]["buildDefinition"]["externalParameters"]["profile"];
    assert_eq!(recorded["name"], zkvm, "{recorded}");
    assert_eq!(recorded["target"], built["target"]);
    if let Some(spec) = recorded.get("targetSpec") {
        let content = spec["content"].as_str().unwrap();
        assert_eq!(spec["sha256"], hex(&Sha256::digest(content.as_bytes())));
    }

    let pulled = f.path(&format!("out/{guest}-{zkvm}.elf"));
    let pull = f.run(&[
        "--json",
        "pull",
        &f.layout_ref(&format!("0.1.0-{zkvm}")),
        "--policy",
        f.policy.to_str().unwrap(),
        "--guest",
        guest,
        "--zkvm",
        zkvm,
        "-o",
        pulled.to_str().unwrap(),
    ]);
    json_report(&pull, 0);
    assert_eq!(
        hex(&Sha256::digest(std::fs::read(&pulled).unwrap())),
        sha256
    );

    let run = f.execute(zkvm, &pulled, INPUT);
    // ZisK reports all 64 output words; the guest sets the first eight.
    let (committed, rest) = run.public_values.split_at(32.min(run.public_values.len()));
    assert_eq!(
        hex(committed),
        hex(&expected_public_values()),
        "{guest}'s public values in the {zkvm} executor"
    );
    assert!(
        rest.iter().all(|b| *b == 0) && (zkvm == "zisk" || rest.is_empty()),
        "{guest} committed more than its digest: {}",
        hex(rest)
    );

    let rebuild = f.run(&["--json", "rebuild", &f.layout_ref(&format!("0.1.0-{zkvm}"))]);
    let rebuilt = json_report(&rebuild, 0);
    assert_eq!(rebuilt["matches"], true, "{rebuilt}");
    assert_eq!(rebuilt["rebuilt_sha256"], sha256.as_str());
    // The same VK from a clone at another path.
    assert_eq!(rebuilt["rebuilt_vk"], hex(&vk).as_str(), "{rebuilt}");
    Released {
        dist,
        pulled,
        sha256,
        vk,
    }
}

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

/// The VK of another program: `sp1-hash` with one string of its code changed, built by zkelf.
fn other_program_vk(f: &Fixture) -> Vec<u8> {
    let main = std::fs::read_to_string(f.repo.join("guests/sp1-hash/src/main.rs")).unwrap();
    let changed = main.replace("input must be", "the input must be");
    assert_ne!(changed, main);
    let repo = guests_checkout(
        &f.path("other-program/checkout"),
        &[("guests/sp1-hash/src/main.rs", changed.as_str())],
    );
    let out = f.path("other-program/dist");
    let build = f.run(&[
        "--json",
        "build",
        repo.join("guests/sp1-hash").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    json_report(&build, 0);
    std::fs::read(out.join("sp1-hash/0.1.0/sp1-hash-sp1.vk")).unwrap()
}

/// Publishes, to a layout of its own, the released SP1 artifact with `vk` as its VK, signed by
/// the release key with a statement binding that VK (what a compromised release job could
/// ship); returns its reference.
fn publish_forged_vk(f: &Fixture, released: &Released, name: &str, vk: &[u8]) -> String {
    publish_sp1(f, released, name, Some(vk))
}

/// Publishes, to a layout of its own, the released SP1 artifact with `vk` as its VK (none:
/// without one), signed by the release key with a statement binding it; returns its reference.
fn publish_sp1(f: &Fixture, released: &Released, name: &str, vk: Option<&[u8]>) -> String {
    let dist = f.path(&format!("forged/{name}/sp1-hash/0.1.0"));
    std::fs::create_dir_all(&dist).unwrap();
    for file in ["sp1-hash-sp1.elf", "sp1-hash-sp1.provenance.json"] {
        std::fs::copy(released.dist.join(file), dist.join(file)).unwrap();
    }
    let vk_path = dist.join("sp1-hash-sp1.vk");
    if let Some(vk) = vk {
        std::fs::write(&vk_path, vk).unwrap();
    }
    let elf = dist.join("sp1-hash-sp1.elf");
    let provenance = dist.join("sp1-hash-sp1.provenance.json");
    let mut sign = vec![
        "sign",
        elf.to_str().unwrap(),
        "--key",
        f.key.secret.to_str().unwrap(),
        "--guest",
        "sp1-hash",
        "--version",
        "0.1.0",
        "--zkvm",
        "sp1",
        "--target",
        "riscv64im-succinct-zkvm-elf",
        "--provenance",
        provenance.to_str().unwrap(),
    ];
    if vk.is_some() {
        sign.extend(["--vk", vk_path.to_str().unwrap()]);
    }
    cli::Output::from(&f.run(&sign)).assert_exit(0);
    let layout = f.path(&format!("forged/{name}/oci"));
    let publish = f.run(&[
        "publish",
        dist.to_str().unwrap(),
        "--to",
        &format!("oci-layout:{}", layout.display()),
        "--policy",
        f.policy.to_str().unwrap(),
    ]);
    cli::Output::from(&publish).assert_exit(0);
    format!("oci-layout:{}:0.1.0-sp1", layout.display())
}

/// `n` for the large guest, and what its contract must spend and return for it.
const REVM_N: u64 = 1000;

/// `fib(n)` modulo 2^256, big-endian: what the EVM's wrapping 256-bit `ADD` computes.
fn fib_u256(n: u64) -> [u8; 32] {
    // Little-endian 64-bit limbs.
    let (mut a, mut b) = ([0u64; 4], [1u64, 0, 0, 0]);
    for _ in 0..n {
        let mut sum = [0u64; 4];
        let mut carry = false;
        for i in 0..4 {
            let (s, c1) = a[i].overflowing_add(b[i]);
            let (s, c2) = s.overflowing_add(u64::from(carry));
            sum[i] = s;
            carry = c1 || c2;
        }
        (a, b) = (b, sum);
    }
    let mut word = [0u8; 32];
    for (i, limb) in a.iter().rev().enumerate() {
        word[i * 8..i * 8 + 8].copy_from_slice(&limb.to_be_bytes());
    }
    word
}

/// The gas the guest's transaction uses under Prague, counted from the contract
/// (`guests/revm-sp1/src/evm.rs`): 21000, calldata (one 32-byte word: 16 per non-zero byte, 4
/// per zero byte), 12 before the loop, 55 per turn, 20 for the last test and 18 to return
/// (memory expansion to one word included); at least EIP-7623's calldata floor.
fn revm_gas(n: u64) -> u64 {
    let mut calldata = [0u8; 32];
    calldata[24..].copy_from_slice(&n.to_be_bytes());
    let nonzero = calldata.iter().filter(|b| **b != 0).count() as u64;
    let zero = 32 - nonzero;
    let execution = 12 + 55 * n + 20 + 18;
    let standard = 21_000 + 16 * nonzero + 4 * zero + execution;
    let floor = 21_000 + 10 * (zero + 4 * nonzero);
    standard.max(floor)
}

/// The large guest: revm, with hundreds of crates in its lock, built once (no second build: it
/// takes minutes at this size) and run in SP1's executor on a fixed EVM contract.
#[test]
#[ignore = "heavy (a 150-crate guest): scripts/zkvm-figures runs it"]
fn large_revm_guest_builds_and_runs_in_sp1s_executor() {
    let f = Fixture::new();
    let guest_dir = f.repo.join("guests/revm-sp1");

    let lock: toml::Table =
        toml::from_str(&std::fs::read_to_string(guest_dir.join("Cargo.lock")).unwrap()).unwrap();
    let packages = lock["package"].as_array().unwrap();
    assert!(
        packages.len() >= 150,
        "revm-sp1's Cargo.lock has {} packages, issue 12 asks for at least 150",
        packages.len()
    );
    assert!(
        packages
            .iter()
            .any(|p| p["name"].as_str() == Some("revm") && p["version"].as_str() == Some("43.0.3")),
        "revm-sp1's Cargo.lock pins no revm 43.0.3"
    );

    let dist = f.path("dist");
    let build = f.run(&[
        "--json",
        "build",
        guest_dir.to_str().unwrap(),
        "--out",
        dist.to_str().unwrap(),
    ]);
    let report = json_report(&build, 0);
    let built = &report["artifacts"][0];
    assert_eq!(built["profile"], "sp1", "{built}");
    let elf = PathBuf::from(built["elf"].as_str().unwrap());
    assert!(
        elf.ends_with("revm-sp1/0.1.0/revm-sp1-sp1.elf"),
        "{}",
        elf.display()
    );
    let bytes = std::fs::read(&elf).unwrap();
    assert_eq!(built["size"], bytes.len() as u64);
    assert_eq!(built["sha256"], hex(&Sha256::digest(&bytes)).as_str());

    let run = f.execute("sp1", &elf, &REVM_N.to_le_bytes());
    let mut expected = revm_gas(REVM_N).to_le_bytes().to_vec();
    expected.extend_from_slice(&fib_u256(REVM_N));
    assert_eq!(
        hex(&run.public_values),
        hex(&expected),
        "revm-sp1's public values (gas used, u64 LE; fib(n) mod 2^256, BE)"
    );
}

#[test]
fn fib_u256_and_revm_gas_agree_with_known_values() {
    // fib(10) = 55, fib(186) < 2^128 < fib(187), and a value past 2^256 wraps.
    assert_eq!(fib_u256(10)[31], 55);
    assert_eq!(
        hex(&fib_u256(186)),
        "00000000000000000000000000000000fa63c8d9fa216a8fc8a7213b333270f8"
    );
    assert_eq!(
        hex(&fib_u256(1000)),
        "2e3510283c1d60b00930b7e8803c312b4c8e6d5286805fc70b594dc75cc0604b"
    );
    // What revm 43 reported on the host for the same contract (n = 0 and 1: the floor).
    for (n, gas) in [(0, 21_320), (1, 21_350), (90, 26_140), (1000, 76_202)] {
        assert_eq!(revm_gas(n), gas, "n = {n}");
    }
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

#[test]
#[ignore = "heavy (RISC Zero's toolbox): scripts/zkvm-figures runs it"]
fn risc0_guest_builds_reproducibly_runs_in_risc0s_executor_and_its_vk_is_bound() {
    let f = Fixture::new();
    let released = release_run_rebuild(&f, "risc0-hash", "risc0");
    let program = std::fs::read(&released.pulled).unwrap();
    assert!(zkelf_zkvm::risc0::is_program_binary(&program));

    // The VK zkelf derived is the program's image id.
    let vk_path = released.dist.join("risc0-hash-risc0.vk");
    let vk = released.vk.clone();
    let id = zkelf_zkvm::risc0::image_id(&program).unwrap();
    assert_eq!(id.as_bytes().as_slice(), vk.as_slice());

    // Another program: the same kernel around a user ELF one byte different, in the middle of
    // its code (bytes that are not loaded, such as the section headers, leave the id alone).
    let (user, kernel) = zkelf_zkvm::risc0::parts(&program).unwrap();
    let mut other_user = user.to_vec();
    let middle = other_user.len() / 2;
    other_user[middle] ^= 1;
    let other = zkelf_zkvm::risc0::wrap(&other_user, kernel);
    let other_id = zkelf_zkvm::risc0::image_id(&other).unwrap();
    assert_ne!(other_id.as_bytes().as_slice(), vk.as_slice());
    let other_vk = f.path("other.vk");
    std::fs::write(&other_vk, other_id.as_bytes()).unwrap();
    let ids = [hex(other_id.as_bytes()), hex(&vk)];
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();

    // `sign` refuses to bind it.
    let sig = f.path("out/wrong-vk.minisig");
    let signed = f.run(&[
        "sign",
        released.pulled.to_str().unwrap(),
        "--key",
        f.key.secret.to_str().unwrap(),
        "--guest",
        "risc0-hash",
        "--version",
        "0.1.0",
        "--zkvm",
        "risc0",
        "--vk",
        other_vk.to_str().unwrap(),
        "-o",
        sig.to_str().unwrap(),
    ]);
    cli::Output::from(&signed).assert_exit(1).stderr_has(&ids);
    assert!(!sig.exists());

    // A signature that binds it anyway (made by the minisign tool) fails `verify`…
    let d = zkelf_trust::digest::hash_file(&released.pulled).unwrap();
    let provenance =
        zkelf_trust::digest::hash_file(&released.dist.join("risc0-hash-risc0.provenance.json"))
            .unwrap();
    let statement = format!(
        "zkelf/1 kind=release guest=risc0-hash version=0.1.0 zkvm=risc0 target=riscv32im-risc0-zkvm-elf sha256={} size={} provenance={} vk={} created=1700000000",
        d.sha256,
        d.size,
        provenance.sha256,
        hex(&Sha256::digest(other_id.as_bytes()))
    );
    let sig = f.path("wrong-vk.minisig");
    minisign_tool::sign(&f.key, &released.pulled, &sig, &statement, false);
    let verified = f.run(&[
        "verify",
        released.pulled.to_str().unwrap(),
        "--sig",
        sig.to_str().unwrap(),
        "--policy",
        f.policy.to_str().unwrap(),
        "--vk",
        other_vk.to_str().unwrap(),
    ]);
    cli::Output::from(&verified).assert_exit(1).stderr_has(&ids);
    // …and with the right VK the statement's `vk=` no longer matches.
    let verified = f.run(&[
        "verify",
        released.pulled.to_str().unwrap(),
        "--sig",
        sig.to_str().unwrap(),
        "--policy",
        f.policy.to_str().unwrap(),
        "--vk",
        vk_path.to_str().unwrap(),
    ]);
    cli::Output::from(&verified).assert_exit(1);

    // …and `pull` of an artifact that ships it with that signature.
    let reference = publish_with_vk(&f, &released, &sig, other_id.as_bytes());
    let out = f.path("out/pulled-wrong-vk.elf");
    let pull = f.run(&[
        "pull",
        &reference,
        "--policy",
        f.policy.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    cli::Output::from(&pull).assert_exit(1).stderr_has(&ids);
    assert!(!out.exists());
    std::fs::remove_file(&released.pulled).unwrap();
    assert_nothing_written(&f.path("out"));
}

/// Pushes, into the release's layout under tag `wrong-vk`, the released artifact with `vk` as
/// its VK layer and `signature` as its release signature (what a publisher's mistake or a
/// hostile store would serve).
fn publish_with_vk(f: &Fixture, released: &Released, signature: &Path, vk: &[u8]) -> String {
    let reference: Reference = f.layout_ref("wrong-vk").parse().unwrap();
    let sig = std::fs::read(signature).unwrap();
    let provenance = std::fs::read(released.dist.join("risc0-hash-risc0.provenance.json")).unwrap();
    let elf = std::fs::read(&released.pulled).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = store::open(&reference, &NetworkOptions::default()).unwrap();
        for (media_type, bytes) in [
            (artifact::MINISIG_MEDIA_TYPE, &sig),
            (artifact::VK_MEDIA_TYPE, &vk.to_vec()),
            (artifact::PROVENANCE_MEDIA_TYPE, &provenance),
        ] {
            let d = Descriptor::of(media_type, bytes);
            let source = store::BlobSource::Bytes(bytes.clone().into());
            store.put_blob(&d, source).await.unwrap();
        }
        let spec = ArtifactSpec {
            guest: "risc0-hash".into(),
            version: "0.1.0".into(),
            zkvm: "risc0".into(),
            target: "riscv32im-risc0-zkvm-elf".into(),
            revision: None,
            source: None,
            created: 1_700_000_000,
            elf: Descriptor::new(
                artifact::ELF_MEDIA_TYPE,
                format!("sha256:{}", released.sha256).parse().unwrap(),
                elf.len() as u64,
            ),
            signature: Descriptor::of(artifact::MINISIG_MEDIA_TYPE, &sig),
            provenance: Some(Descriptor::of(artifact::PROVENANCE_MEDIA_TYPE, &provenance)),
            vk: Some(Descriptor::of(artifact::VK_MEDIA_TYPE, vk)),
            vk_signature: None,
            annotations: Default::default(),
        };
        let (bytes, _) = spec.manifest();
        store
            .put_manifest(&bytes, artifact::MANIFEST_MEDIA_TYPE, Some("wrong-vk"))
            .await
            .unwrap();
    });
    f.layout_ref("wrong-vk")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
