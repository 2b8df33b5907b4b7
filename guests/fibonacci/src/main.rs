//! Reads `n` in decimal from stdin and writes `fib(n)` (fib(0) = 0, fib(1) = 1), n ≤ 186.
#![no_std]
#![no_main]

use zkelf_guest_rt as rt;

rt::entry!(main);

fn main() {
    let mut buf = [0u8; 32];
    let len = rt::read_stdin(&mut buf);
    let mut n: u32 = 0;
    for &b in buf[..len].iter().filter(|b| b.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(u32::from(b - b'0'));
    }
    if n > 186 {
        rt::write_stdout(b"n too large\n");
        rt::exit(1);
    }
    let (mut a, mut b) = (0u128, 1u128);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    rt::write_u128(a);
    rt::write_stdout(b"\n");
}
