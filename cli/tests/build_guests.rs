//! Every bare RISC-V example guest, built from two copies of the repository at different host
//! paths: the first with `--check-reproducible` (a second build with another uid, hostname,
//! umask, env, CPU count, timezone, locale and file times), the second later and plainly. All
//! three builds must give the same sha256, which must be the golden one below, and the ELF must
//! compute under qemu what the host computes. (The zkVM guests: `zkvm_guests.rs`.)

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use tiny_keccak::{Hasher, Keccak};
use zkelf_testsupport::docker::{
    ensure_builder_image, guests_checkout, run_qemu, zkelf_with_shared_cache,
};

fn zkelf() -> Command {
    let bin = Path::new(env!("CARGO_BIN_EXE_zkelf"));
    ensure_builder_image(bin);
    zkelf_with_shared_cache(bin)
}

/// The sha256 of each guest's ELF, as every build since buildType v3 (std compiled once into a
/// sysroot, the guest with `--sysroot`) has given them: a change here is a change of the bytes
/// provers run, so it must be on purpose (a new guest version, a new toolchain pin, a new build
/// type) and said so in the commit. `sha256-c` (make, no sysroot) kept its v2 bytes.
const GOLDEN: &[(&str, &str, &str)] = &[
    (
        "fibonacci",
        "rv32im",
        "38255886a70ac0d9d523ba03ed373a85be0ebd4d81ba6eef84a56a4641231670",
    ),
    (
        "keccak",
        "rv32im",
        "ed41b5d90c1a9377d80b2b27f766bc665526199a7532f0f070f4ee633eb92968",
    ),
    (
        "keccak",
        "rv64im",
        "abc64ab6a5c580b621f77ca00449b1145fed4346a20e86b5ab53f9ba0ffba2d7",
    ),
    (
        "sha256-c",
        "rv32im",
        "056e114c790ff0fb10482b7cf025e19ae85f57c6be9640d4da03cda15bc28d6a",
    ),
];

/// One built artifact as `--json` reports it.
#[derive(Debug)]
struct Built {
    zkvm: String,
    target: String,
    elf: PathBuf,
    sha256: String,
}

fn build(guest_dir: &Path, out: &Path, check: bool) -> Vec<Built> {
    let mut command = zkelf();
    command
        .args(["build", "--json", "--out"])
        .arg(out)
        .arg(guest_dir);
    if check {
        command.arg("--check-reproducible");
    }
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "zkelf build {}:\n{}\n{}",
        guest_dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            if check {
                assert_eq!(a["reproduced"], true, "{a}");
            }
            Built {
                zkvm: a["zkvm"].as_str().unwrap().into(),
                target: a["target"].as_str().unwrap().into(),
                elf: a["elf"].as_str().unwrap().into(),
                sha256: a["sha256"].as_str().unwrap().into(),
            }
        })
        .collect()
}

/// Builds `guest` from two checkouts and returns the artifacts, checked to be identical.
fn build_twice(guest: &str) -> Vec<Built> {
    let tmp = tempfile::tempdir().unwrap();
    let a = guests_checkout(&tmp.path().join("first/checkout"), &[]);
    let b = guests_checkout(&tmp.path().join("second/elsewhere/deeper"), &[]);
    let first = build(
        &a.join("guests").join(guest),
        &tmp.path().join("dist-a"),
        true,
    );
    let second = build(
        &b.join("guests").join(guest),
        &tmp.path().join("dist-b"),
        false,
    );
    assert_eq!(first.len(), second.len());
    for (x, y) in first.iter().zip(&second) {
        assert_eq!(x.zkvm, y.zkvm);
        assert_eq!(
            x.sha256, y.sha256,
            "{guest} {} differs between checkouts",
            x.zkvm
        );
        let bytes = std::fs::read(&x.elf).unwrap();
        assert_eq!(hex(&Sha256::digest(&bytes)), x.sha256);
        let golden = GOLDEN
            .iter()
            .find(|(g, z, _)| *g == guest && *z == x.zkvm)
            .map(|(_, _, sha)| *sha);
        assert_eq!(
            Some(x.sha256.as_str()),
            golden,
            "{guest} {} is not its golden ELF",
            x.zkvm
        );
        let provenance = x
            .elf
            .with_file_name(format!("{guest}-{}.provenance.json", x.zkvm));
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(provenance).unwrap()).unwrap();
        assert_eq!(doc["subject"][0]["digest"]["sha256"], x.sha256.as_str());
        assert_eq!(doc["predicateType"], "https://slsa.dev/provenance/v1");
    }
    // Keep the ELFs past the temp dir for the qemu runs.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("built-{guest}"));
    std::fs::create_dir_all(&keep).unwrap();
    first
        .into_iter()
        .map(|b| {
            let dest = keep.join(b.elf.file_name().unwrap());
            std::fs::copy(&b.elf, &dest).unwrap();
            Built { elf: dest, ..b }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn fibonacci_is_reproducible_and_computes_fib() {
    let built = build_twice("fibonacci");
    assert_eq!(built.len(), 1);
    let fib = |n: u32| {
        (0..n)
            .fold((0u128, 1u128), |(a, b), _| (b, a.wrapping_add(b)))
            .0
    };
    for n in [0, 1, 10, 90, 186] {
        let out = run_qemu(&built[0].elf, &built[0].target, format!("{n}\n").as_bytes());
        assert_eq!(out, format!("{}\n", fib(n)), "fib({n})");
    }
}

#[test]
fn keccak_is_reproducible_on_both_targets_and_computes_keccak256() {
    let built = build_twice("keccak");
    let targets: Vec<&str> = built.iter().map(|b| b.target.as_str()).collect();
    assert_eq!(
        targets,
        ["riscv32im-unknown-none-elf", "riscv64im-unknown-none-elf"]
    );
    let inputs: [&[u8]; 3] = [b"", b"abc", &[0x5a; 5000]];
    for b in &built {
        for input in inputs {
            let mut hasher = Keccak::v256();
            hasher.update(input);
            let mut digest = [0u8; 32];
            hasher.finalize(&mut digest);
            assert_eq!(
                run_qemu(&b.elf, &b.target, input),
                format!("{}\n", hex(&digest)),
                "{}",
                b.zkvm
            );
        }
    }
}

#[test]
fn sha256_c_is_reproducible_and_computes_sha256() {
    let built = build_twice("sha256-c");
    assert_eq!(built.len(), 1);
    let inputs: [&[u8]; 3] = [b"", b"abc", &[7u8; 3000]];
    for input in inputs {
        let out = run_qemu(&built[0].elf, &built[0].target, input);
        assert_eq!(out, format!("{}\n", hex(&Sha256::digest(input))));
    }
}
