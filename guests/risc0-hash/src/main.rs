//! RISC Zero guest: reads `{"data":"<string>","rounds":<u32>}` from one stdin frame and commits
//! the 32-byte digest `sha256^(rounds+1)(data)` as its journal.

#![no_main]
risc0_zkvm::guest::entry!(main);

use risc0_zkvm::guest::env;
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Input {
    data: String,
    rounds: u32,
}

fn main() {
    let input: Input = serde_json::from_slice(&read_frame())
        .expect("input must be {\"data\":<string>,\"rounds\":<u32>} JSON");
    let mut digest: [u8; 32] = Sha256::digest(input.data.as_bytes()).into();
    for _ in 0..input.rounds {
        digest = Sha256::digest(digest).into();
    }
    env::commit_slice(&digest);
}

/// One frame as the host's `ExecutorEnvBuilder::write_frame` writes it: a little-endian `u32`
/// length, then the bytes. (`env::read_frame` does the same but is unstable in risc0-zkvm 3.0.)
fn read_frame() -> Vec<u8> {
    let mut len = 0u32;
    env::read_slice(core::slice::from_mut(&mut len));
    let mut bytes = vec![0u8; len as usize];
    env::read_slice(&mut bytes);
    bytes
}
