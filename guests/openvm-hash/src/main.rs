//! OpenVM guest: reads `{"data":"<string>","rounds":<u32>}` from its one input stream and reveals
//! the 32-byte digest `sha256^(rounds+1)(data)` as the first 32 bytes of its public values.

// With the `std` feature rustc's own `main` is the entry point and this macro expands to nothing;
// it stays so that the guest reads like every OpenVM guest.
openvm::entry!(main);

use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Input {
    data: String,
    rounds: u32,
}

fn main() {
    let input: Input = serde_json::from_slice(&openvm::io::read_vec())
        .expect("input must be {\"data\":<string>,\"rounds\":<u32>} JSON");
    let mut digest: [u8; 32] = Sha256::digest(input.data.as_bytes()).into();
    for _ in 0..input.rounds {
        digest = Sha256::digest(digest).into();
    }
    openvm::io::reveal_bytes32(digest);
}
