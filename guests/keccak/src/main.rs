//! Reads up to 64 KiB from stdin and writes their Keccak-256 in lowercase hex.
#![no_std]
#![no_main]

use tiny_keccak::{Hasher, Keccak};
use zkelf_guest_rt as rt;

rt::entry!(main);

static mut INPUT: [u8; 65536] = [0; 65536];

fn main() {
    // The guest is single-threaded and `main` runs once, so this is the only reference.
    let input = unsafe_input();
    let len = rt::read_stdin(input);
    let mut hasher = Keccak::v256();
    hasher.update(&input[..len]);
    let mut digest = [0u8; 32];
    hasher.finalize(&mut digest);
    let mut hex = [0u8; 65];
    for (i, byte) in digest.iter().enumerate() {
        hex[2 * i] = b"0123456789abcdef"[usize::from(byte >> 4)];
        hex[2 * i + 1] = b"0123456789abcdef"[usize::from(byte & 0xf)];
    }
    hex[64] = b'\n';
    rt::write_stdout(&hex);
}

#[allow(unsafe_code)]
fn unsafe_input() -> &'static mut [u8] {
    // SAFETY: called once from the single-threaded `main`.
    unsafe { &mut *core::ptr::addr_of_mut!(INPUT) }
}
