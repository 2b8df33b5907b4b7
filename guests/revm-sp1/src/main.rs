//! SP1 guest: reads a little-endian u64 `n` (its one stdin frame, 8 bytes), runs the fixed EVM
//! contract [`evm::FIB`] on it in revm against an in-memory database, and commits 40 bytes of
//! public values: the transaction's gas used (u64, little-endian) and the contract's 32-byte
//! return data, `fib(n)` modulo 2^256, big-endian.

#![no_main]
sp1_zkvm::entrypoint!(main);

mod evm;

fn main() {
    let frame = sp1_zkvm::io::read_vec();
    let n = u64::from_le_bytes(
        frame
            .as_slice()
            .try_into()
            .expect("input must be n as 8 little-endian bytes"),
    );
    let (gas_used, word) = evm::fib(n);
    sp1_zkvm::io::commit_slice(&gas_used.to_le_bytes());
    sp1_zkvm::io::commit_slice(&word);
}
