//! ZisK guest: reads `{"data":"<string>","rounds":<u32>}` from its one input record and commits
//! the 32-byte digest `sha256^(rounds+1)(data)` as its first eight public output words.

#![no_std]
#![no_main]
ziskos::entrypoint!(main);

extern crate alloc;

use alloc::string::String;
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Input {
    data: String,
    rounds: u32,
}

fn main() {
    let input: Input = serde_json::from_slice(&ziskos::io::read_slice())
        .expect("input must be {\"data\":<string>,\"rounds\":<u32>} JSON");
    let mut digest: [u8; 32] = Sha256::digest(input.data.as_bytes()).into();
    for _ in 0..input.rounds {
        digest = Sha256::digest(digest).into();
    }
    ziskos::io::commit_slice(&digest);
}

/// ziskos 1.4 brings no panic handler for no_std guests. `unimp` traps, and ziskemu (like the
/// prover) ends a trapped execution as failed, so a panic never yields outputs.
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: `unimp` has no operands and never returns: it raises an illegal-instruction trap.
    unsafe { core::arch::asm!("unimp", options(noreturn)) }
}
