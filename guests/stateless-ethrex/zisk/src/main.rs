//! ZisK guest, std: validates the block in its one input record (a
//! `stateless_validator::StatelessInput`) and commits the 113-byte public values as its first
//! 29 output words (the last one zero-padded).
//!
//! It needs a std profile (`target_os = "zkvm"`, `target_vendor = "zisk"`); see the README. As
//! in ethrex's own ZisK guest, ziskos provides `_start`, the allocator and most of the `sys_*`
//! functions std calls, and `entrypoint!` the C `main` that `_start` runs.

#![no_main]
ziskos::entrypoint!(main);

fn main() {
    let public_values = stateless_validator::validate(&ziskos::io::read_slice());
    ziskos::io::commit_slice(&public_values);
}

/// The one `sys_*` function of Rust std's zkvm platform layer that ziskos 1.4 lacks: std's
/// `panic_abort` on `target_os = "zkvm"` hands it the panic message, after std's panic hook has
/// already written the message out (through ziskos's `sys_write`). `unimp` traps, and ZisK
/// ends a trapped execution as failed, so a panic never yields outputs.
#[cfg(target_os = "zkvm")]
#[no_mangle]
extern "C" fn sys_panic(_msg_ptr: *const u8, _len: usize) -> ! {
    // SAFETY: `unimp` has no operands and never returns: it raises an illegal-instruction trap.
    unsafe { core::arch::asm!("unimp", options(noreturn)) }
}
