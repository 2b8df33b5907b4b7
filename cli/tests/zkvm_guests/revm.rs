//! The large SP1 guest: revm, with hundreds of crates in its lock, and the EVM figures its
//! public values must show.

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use zkelf_testsupport::run::json_report;

use super::fixture::{Fixture, hex};

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
