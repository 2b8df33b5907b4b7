//! OpenVM guest: validates the block in its one input stream (a
//! `stateless_validator::StatelessInput`) and reveals `sha256` of the 113-byte public values.
//!
//! OpenVM's default system configuration has 32 bytes of public values (`num_public_values`),
//! too few for the 113 bytes themselves; their digest is what fits, as OpenVM recommends for
//! larger outputs. A verifier holding the 113 bytes checks them against it.

// With the `std` feature rustc's own `main` is the entry point and this macro expands to nothing;
// it stays so that the guest reads like every OpenVM guest.
openvm::entry!(main);

use sha2::{Digest, Sha256};

fn main() {
    let public_values = stateless_validator::validate(&openvm::io::read_vec());
    openvm::io::reveal_bytes32(Sha256::digest(public_values).into());
}
