//! SP1 guest: reads `{"data":"<string>","rounds":<u32>}` from its one stdin frame and commits the
//! 32-byte digest `sha256^(rounds+1)(data)` as its public values.

#![no_main]
sp1_zkvm::entrypoint!(main);

use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Input {
    data: String,
    rounds: u32,
}

fn main() {
    let input: Input = serde_json::from_slice(&sp1_zkvm::io::read_vec())
        .expect("input must be {\"data\":<string>,\"rounds\":<u32>} JSON");
    let mut digest: [u8; 32] = Sha256::digest(input.data.as_bytes()).into();
    for _ in 0..input.rounds {
        digest = Sha256::digest(digest).into();
    }
    sp1_zkvm::io::commit_slice(&digest);
}
