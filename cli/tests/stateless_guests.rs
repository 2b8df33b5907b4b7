//! The Ethereum stateless validator (`guests/stateless-ethrex`), built by zkelf for each zkVM,
//! validates a real Hoodi block in that zkVM's own executor with every value of the fixture's
//! README, and reports `valid = 0` (halting normally, the other fields still the block's) on
//! tampered copies: a header field, a transaction, a withdrawal, a missing witness node.
//!
//! CI runs the SP1 one (build, the block, one tampered copy). The others, and SP1's full set
//! (more tampered copies, a second build from another path, `rebuild` from the provenance),
//! are heavy: `scripts/real-guests` runs them (`--ignored`) and prints the figures.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tiny_keccak::{Hasher, Keccak};
use zkelf_testsupport::cli::Zkelf;
use zkelf_testsupport::docker::{
    ensure_builder_image, guests_checkout, shared_cache_dir, zkelf_with_shared_cache,
};
use zkelf_testsupport::stateless::{self, PublicValues};
use zkelf_testsupport::toolbox::{self, ExecOutput};

/// The guests' directories and the executor and artifact of each.
const GUESTS: &[(&str, &str)] = &[
    ("sp1", "sp1"),
    ("risc0", "risc0"),
    ("openvm", "openvm"),
    ("zisk", "zisk"),
];

fn zkelf(root: &Path) -> Zkelf {
    let bin = Path::new(env!("CARGO_BIN_EXE_zkelf"));
    ensure_builder_image(bin);
    Zkelf::new(bin).isolated(root).cache_dir(shared_cache_dir())
}

/// Runs `program` on the input file `input` with `zkelf run` (the zkVM's toolbox, built once in
/// the shared cache).
fn execute(zkvm: &str, program: &Path, input: &Path) -> ExecOutput {
    let bin = Path::new(env!("CARGO_BIN_EXE_zkelf"));
    ensure_builder_image(bin);
    toolbox::run(
        zkelf_with_shared_cache(bin),
        zkvm,
        program,
        &std::fs::read(input).unwrap(),
    )
}

/// Builds the `zkvm` validator from the checkout `repo` into `out`; returns the artifact.
fn build(root: &Path, repo: &Path, zkvm: &str, out: &Path) -> PathBuf {
    zkelf(root)
        .args(["build", "--out"])
        .arg(out)
        .arg(repo.join("guests/stateless-ethrex").join(zkvm))
        .run()
        .assert_exit(0);
    out.join(format!(
        "stateless-ethrex/0.1.0/stateless-ethrex-{zkvm}.elf"
    ))
}

/// The fixture as JSON, to tamper with.
fn fixture() -> Value {
    serde_json::from_slice(&std::fs::read(stateless::fixture()).unwrap()).unwrap()
}

/// Converts `cache` into an input frame under `dir` named `name`.
fn input(dir: &Path, name: &str, cache: &Value) -> PathBuf {
    let json = dir.join(format!("{name}.json"));
    std::fs::write(&json, serde_json::to_vec(cache).unwrap()).unwrap();
    let bin = dir.join(format!("{name}.bin"));
    stateless::convert(&json, &bin);
    bin
}

/// Runs `program` on `input` in the `zkvm` executor, which must halt successfully, and checks
/// its public values are `expected` (OpenVM reveals their sha256: 32 bytes of public values).
fn assert_runs(zkvm: &str, program: &Path, input: &Path, expected: &PublicValues) -> u64 {
    let run = execute(zkvm, program, input);
    if zkvm == "openvm" {
        let digest: [u8; 32] = sha2::Sha256::digest(expected.encode()).into();
        assert_eq!(
            run.public_values, digest,
            "openvm reveals sha256 of the 113 bytes"
        );
    } else {
        assert_eq!(
            &PublicValues::decode(&run.public_values),
            expected,
            "{zkvm}"
        );
        if zkvm == "zisk" {
            assert!(
                run.public_values[113..].iter().all(|b| *b == 0),
                "zisk padding"
            );
        }
    }
    run.cycles
}

use sha2::Digest as _;

fn keccak(bytes: &[u8]) -> String {
    let mut out = [0u8; 32];
    let mut k = Keccak::v256();
    k.update(bytes);
    k.finalize(&mut out);
    out.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    let text = text.trim_start_matches("0x");
    // A quantity may have an odd number of digits (`0x0`).
    let text = &if text.len() % 2 == 1 {
        format!("0{text}")
    } else {
        text.to_owned()
    };
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The header fields in their RLP order (Prague), and whether each is an integer (RLP's
/// minimal big-endian bytes) rather than a byte string.
const HEADER_FIELDS: &[(&str, bool)] = &[
    ("parentHash", false),
    ("sha3Uncles", false),
    ("miner", false),
    ("stateRoot", false),
    ("transactionsRoot", false),
    ("receiptsRoot", false),
    ("logsBloom", false),
    ("difficulty", true),
    ("number", true),
    ("gasLimit", true),
    ("gasUsed", true),
    ("timestamp", true),
    ("extraData", false),
    ("mixHash", false),
    ("nonce", false),
    ("baseFeePerGas", true),
    ("withdrawalsRoot", false),
    ("blobGasUsed", true),
    ("excessBlobGas", true),
    ("parentBeaconBlockRoot", false),
    ("requestsHash", false),
];

/// The block hash of a header in the fixture's JSON form: keccak of its RLP encoding.
fn header_hash(header: &Value) -> String {
    fn length_prefix(out: &mut Vec<u8>, short: u8, len: usize) {
        if len <= 55 {
            out.push(short + len as u8);
        } else {
            let be = len.to_be_bytes();
            let be = &be[be.iter().position(|b| *b != 0).unwrap()..];
            out.push(short + 55 + be.len() as u8);
            out.extend_from_slice(be);
        }
    }
    let mut payload = Vec::new();
    for (field, integer) in HEADER_FIELDS {
        let mut bytes = unhex(header[field].as_str().unwrap_or_else(|| panic!("{field}")));
        if *integer {
            let zeros = bytes.iter().take_while(|b| **b == 0).count();
            bytes.drain(..zeros);
        }
        if !(bytes.len() == 1 && bytes[0] < 0x80) {
            length_prefix(&mut payload, 0x80, bytes.len());
        }
        payload.extend_from_slice(&bytes);
    }
    let mut rlp = Vec::new();
    length_prefix(&mut rlp, 0xc0, payload.len());
    rlp.extend_from_slice(&payload);
    keccak(&rlp)
}

#[test]
fn the_tests_header_hash_gives_the_fixtures_block_hash() {
    assert_eq!(
        header_hash(&fixture()["blocks"][0]["header"]),
        stateless::BLOCK_HASH
    );
}

/// The tampered copies, each with what the guest must report.
fn tampered() -> Vec<(&'static str, Value, PublicValues)> {
    let mut out = Vec::new();
    let mut withdrawal = fixture();
    withdrawal["blocks"][0]["body"]["withdrawals"][0]["amount"] = "0x1".into();
    out.push((
        "withdrawal",
        withdrawal,
        PublicValues::hoodi_rejected_body(),
    ));
    let mut transaction = fixture();
    let tx = &mut transaction["blocks"][0]["body"]["transactions"][0];
    let value = if tx.get("value").is_some() {
        "value"
    } else {
        "nonce"
    };
    tx[value] = "0x1234567".into();
    out.push((
        "transaction",
        transaction,
        PublicValues::hoodi_rejected_body(),
    ));
    // A header field: the gas used. The block executes (its real post-state root is computed
    // and reported) and then fails the gas check; the hash is the tampered header's.
    let mut header = fixture();
    header["blocks"][0]["header"]["gasUsed"] = "0x1".into();
    out.push((
        "header",
        header,
        PublicValues {
            valid: false,
            block_hash: String::new(),
            ..PublicValues::hoodi()
        },
    ));
    // The witness node of the parent's state root: nothing can be read, nothing executes.
    let mut witness = fixture();
    let nodes = witness["witness"]["state"].as_array_mut().unwrap();
    let before = nodes.len();
    nodes.retain(|n| keccak(&unhex(n.as_str().unwrap())) != stateless::PARENT_STATE_ROOT);
    assert_eq!(
        nodes.len(),
        before - 1,
        "the state root's node is in the witness"
    );
    out.push((
        "witness",
        witness,
        PublicValues {
            valid: false,
            post_state_root: "0".repeat(64),
            ..PublicValues::hoodi()
        },
    ));
    out
}

/// Validates the block and `copies` tampered copies (by name) with the `zkvm` validator built
/// from a fresh checkout; with `full`, also a second build from another path (the same bytes)
/// and `rebuild` from the provenance. Returns the block's cycles.
fn validator(zkvm: &str, copies: &[&str], full: bool) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let repo = guests_checkout(&dir.path().join("repo"), &[]);
    let program = build(dir.path(), &repo, zkvm, &dir.path().join("dist"));
    let block = input(dir.path(), "hoodi", &fixture());
    let cycles = assert_runs(zkvm, &program, &block, &PublicValues::hoodi());
    for (name, cache, mut expected) in tampered() {
        if !copies.contains(&name) {
            continue;
        }
        if expected.block_hash.is_empty() {
            // The hash of the header as given: the guest hashes the tampered header, and so
            // does the test, independently (so OpenVM's digest of the values can be checked).
            expected.block_hash = header_hash(&cache["blocks"][0]["header"]);
            assert_ne!(expected.block_hash, stateless::BLOCK_HASH);
        }
        assert_runs(zkvm, &program, &input(dir.path(), name, &cache), &expected);
    }
    if full {
        let copy = dir.path().join("elsewhere/repo");
        let status = Command::new("git")
            .args(["clone", "-q"])
            .arg(&repo)
            .arg(&copy)
            .status()
            .unwrap();
        assert!(status.success());
        // The second build is a release from the clone: built, signed, published.
        let layout = dir.path().join("layout");
        let key = zkelf_testsupport::minisign_tool::generate(&dir.path().join("keys"), "k", None);
        let policy = zkelf_testsupport::policy::PolicyFile::new()
            .key(zkelf_testsupport::policy::Key::release(
                "k",
                &key.public_base64(),
            ))
            .require(1, 0)
            .write(&dir.path().join("policy.toml"));
        zkelf(dir.path())
            .args(["release"])
            .arg(copy.join("guests/stateless-ethrex").join(zkvm))
            .args(["--key", key.secret.to_str().unwrap(), "--out"])
            .arg(dir.path().join("dist2"))
            .arg(format!("--to=oci-layout:{}", layout.display()))
            .args(["--policy", policy.to_str().unwrap()])
            .run()
            .assert_exit(0);
        let again = dir.path().join(format!(
            "dist2/stateless-ethrex/0.1.0/stateless-ethrex-{zkvm}.elf"
        ));
        assert_eq!(
            std::fs::read(&again).unwrap(),
            std::fs::read(&program).unwrap(),
            "a second build from another path"
        );
        let rebuilt = zkelf(dir.path())
            .args([
                "rebuild",
                &format!("oci-layout:{}:0.1.0-{zkvm}", layout.display()),
            ])
            .run();
        rebuilt.assert_exit(0);
        assert!(
            rebuilt.stdout.starts_with("reproduced"),
            "{}",
            rebuilt.stdout
        );
    }
    cycles
}

#[test]
fn the_sp1_validator_validates_the_hoodi_block_and_refuses_a_tampered_withdrawal() {
    validator("sp1", &["withdrawal"], false);
}

#[test]
#[ignore = "heavy (ethrex in each zkVM): scripts/real-guests runs it"]
#[allow(clippy::print_stderr)] // each zkVM's cycles: a figure `scripts/real-guests` shows
fn every_validator_validates_the_block_reproduces_and_refuses_every_tampered_copy() {
    // `scripts/real-guests sp1 zisk` runs only those (ZKELF_STATELESS_ZKVMS="sp1 zisk").
    let only = std::env::var("ZKELF_STATELESS_ZKVMS").unwrap_or_default();
    let mut failures = Vec::new();
    for (zkvm, _) in GUESTS {
        if !only.is_empty() && !only.split_whitespace().any(|z| z == *zkvm) {
            continue;
        }
        let all = ["withdrawal", "transaction", "header", "witness"];
        let result = std::panic::catch_unwind(|| validator(zkvm, &all, true));
        match result {
            Ok(cycles) => eprintln!("{zkvm}: the block in {cycles} cycles"),
            Err(_) => failures.push(*zkvm),
        }
    }
    assert!(failures.is_empty(), "failed: {failures:?}");
}
