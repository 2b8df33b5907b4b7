//! RISC Zero guest: validates the block in its one input frame (a
//! `stateless_validator::StatelessInput`) and commits the 113-byte public values as its journal.

#![no_main]
risc0_zkvm::guest::entry!(main);

use risc0_zkvm::guest::env;

fn main() {
    let public_values = stateless_validator::validate(&read_frame());
    env::commit_slice(&public_values);
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
