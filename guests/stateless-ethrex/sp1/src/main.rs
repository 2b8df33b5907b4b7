//! SP1 guest: validates the block in its one stdin frame (a `stateless_validator::StatelessInput`)
//! and commits the 113-byte public values.

#![no_main]
sp1_zkvm::entrypoint!(main);

fn main() {
    let public_values = stateless_validator::validate(&sp1_zkvm::io::read_vec());
    sp1_zkvm::io::commit_slice(&public_values);
}
