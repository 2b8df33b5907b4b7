//! The EVM part of the guest: a fixed contract, run by revm against an in-memory database.

use revm::bytecode::Bytecode;
use revm::context::{Context, TxEnv};
use revm::context_interface::result::{ExecutionResult, Output};
use revm::database::{CacheDB, EmptyDB};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{address, Address, Bytes, TxKind, U256};
use revm::state::AccountInfo;
use revm::{ExecuteEvm, MainBuilder, MainContext};

/// Where the contract lives, and who calls it.
pub const CONTRACT: Address = address!("0x00000000000000000000000000000000000f1b00");
pub const CALLER: Address = address!("0x0000000000000000000000000000000000ca11e7");

/// The contract: `fib(calldata[0..32])` over wrapping 256-bit words, returned as one 32-byte
/// word. The stack holds `[n, a, b]` (top last), starting at `[n, 0, 1]`; each turn of the loop
/// makes it `[n-1, b, a+b]`, and at `n == 0` it returns `a`.
pub const FIB: &[u8] = &[
    0x60, 0x00, // 00 PUSH1 0
    0x35, //       02 CALLDATALOAD          [n]
    0x60, 0x00, // 03 PUSH1 0               [n, a=0]
    0x60, 0x01, // 05 PUSH1 1               [n, a, b=1]
    0x5b, //       07 JUMPDEST (loop)
    0x82, //       08 DUP3                  [n, a, b, n]
    0x15, //       09 ISZERO
    0x60, 0x1c, // 0a PUSH1 0x1c (done)
    0x57, //       0c JUMPI                 [n, a, b]
    0x80, //       0d DUP1                  [n, a, b, b]
    0x91, //       0e SWAP2                 [n, b, b, a]
    0x01, //       0f ADD                   [n, b, a+b]
    0x91, //       10 SWAP2                 [a+b, b, n]
    0x60, 0x01, // 11 PUSH1 1
    0x90, //       13 SWAP1                 [a+b, b, 1, n]
    0x03, //       14 SUB                   [a+b, b, n-1]
    0x91, //       15 SWAP2                 [n-1, b, a+b]
    0x60, 0x07, // 16 PUSH1 0x07 (loop)
    0x56, //       18 JUMP
    0x00, 0x00, 0x00, // 19 padding (STOP, never reached)
    0x5b, //       1c JUMPDEST (done)       [n, a, b]
    0x50, //       1d POP                   [n, a]
    0x60, 0x00, // 1e PUSH1 0
    0x52, //       20 MSTORE                memory[0..32] = a
    0x60, 0x20, // 21 PUSH1 32
    0x60, 0x00, // 23 PUSH1 0
    0xf3, //       25 RETURN memory[0..32]
];

/// Calls the contract with `n` as its calldata (one big-endian word) in a fresh in-memory
/// state, and returns the transaction's gas used and the 32 bytes it returned.
pub fn fib(n: u64) -> (u64, [u8; 32]) {
    let mut db = CacheDB::new(EmptyDB::default());
    db.insert_account_info(
        CONTRACT,
        AccountInfo::from_bytecode(Bytecode::new_legacy(Bytes::from_static(FIB))),
    );
    db.insert_account_info(
        CALLER,
        AccountInfo::from_balance(U256::from(1_000_000_000u64)),
    );

    let mut evm = Context::mainnet()
        .modify_cfg_chained(|cfg| cfg.set_spec_and_mainnet_gas_params(SpecId::PRAGUE))
        .with_db(db)
        .build_mainnet();
    let tx = TxEnv::builder()
        .caller(CALLER)
        .kind(TxKind::Call(CONTRACT))
        .data(Bytes::copy_from_slice(&U256::from(n).to_be_bytes::<32>()))
        .gas_limit(30_000_000)
        .build()
        .expect("a valid transaction");
    let result = evm.transact(tx).expect("the transaction executes").result;
    match &result {
        ExecutionResult::Success {
            output: Output::Call(out),
            ..
        } if out.len() == 32 => (
            result.tx_gas_used(),
            out.as_ref().try_into().expect("32 bytes"),
        ),
        other => panic!("the contract did not return one word: {other:?}"),
    }
}
