//! Minimal runtime for the example guests: the `_start` entry point, I/O over the Linux RISC-V
//! syscall ABI (so `qemu-riscv32`/`qemu-riscv64` run the guests), and a panic handler.
#![no_std]
// `ecall` needs inline assembly; this is the one place the guests use `unsafe`.
#![allow(unsafe_code)]

use core::arch::asm;

const SYS_READ: usize = 63;
const SYS_WRITE: usize = 64;
const SYS_EXIT: usize = 93;

fn syscall3(number: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret: isize;
    // SAFETY: the Linux RISC-V syscall ABI; the callers pass valid buffers for read and write.
    unsafe {
        asm!("ecall", inlateout("a0") a0 as isize => ret, in("a1") a1, in("a2") a2,
             in("a7") number, options(nostack));
    }
    ret
}

/// Reads all of stdin into `buf`; returns how many bytes were read (at most `buf.len()`).
pub fn read_stdin(buf: &mut [u8]) -> usize {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        let n = syscall3(SYS_READ, 0, rest.as_mut_ptr() as usize, rest.len());
        if n <= 0 {
            break;
        }
        filled += n as usize;
    }
    filled
}

/// Writes all of `bytes` to stdout.
pub fn write_stdout(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let n = syscall3(SYS_WRITE, 1, bytes.as_ptr() as usize, bytes.len());
        if n <= 0 {
            exit(3);
        }
        bytes = &bytes[n as usize..];
    }
}

/// Ends the program with `code`.
pub fn exit(code: i32) -> ! {
    syscall3(SYS_EXIT, code as usize, 0, 0);
    loop {}
}

/// Writes `value` in decimal.
pub fn write_u128(mut value: u128) {
    let mut digits = [0u8; 40];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    write_stdout(&digits[at..]);
}

/// Declares the guest's `fn main()` as the program entry point.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        pub extern "C" fn _start() -> ! {
            let main: fn() = $main;
            main();
            $crate::exit(0)
        }
    };
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    write_stdout(b"panic\n");
    exit(101)
}
