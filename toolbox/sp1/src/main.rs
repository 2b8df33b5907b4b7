//! `zkelf-toolbox-sp1`: SP1 v6's CPU executor and verification key, from SP1's own crates.
//!
//! - `exec <ELF> <INPUT>`: runs the guest in sp1-core-executor's minimal executor with the input
//!   as its one stdin frame (`sp1_zkvm::io::read_vec`) and prints the committed public values.
//! - `vk <ELF>`: the program's verifying key as SP1's SDK computes it
//!   (`LightProver::setup(elf)` → `SP1LightNode::setup` → the core `CpuShardProver`'s
//!   `AirProver::setup`), reported as `SP1VerifyingKey::bytes32()` decoded: the on-chain
//!   `programVKey`. The core prover is built here exactly as sp1-prover's
//!   `CoreProver::verifier` builds it (core FRI config, log stacking height 21, max log row
//!   count 22), without sp1-prover's recursion, gnark and SDK dependencies.

use std::process::ExitCode;
use std::sync::Arc;

use sp1_core_executor::{MinimalExecutorEnum, Program};
use sp1_core_machine::riscv::RiscvAir;
use sp1_hypercube::prover::{AirProver, CpuShardProver, ProverSemaphore, SP1InnerPcsProver};
use sp1_hypercube::{HashableKey, PrimeField32, SP1Pcs, SP1VerifyingKey, ShardVerifier};
use sp1_primitives::fri_params::core_fri_config;
use sp1_primitives::{SP1Field, SP1GlobalContext};
use zkelf_toolbox_cli::{Execution, Failure, Json, Request, Toolbox, Vk};

/// sp1-prover 6.10.0 `src/components.rs`: `CORE_LOG_STACKING_HEIGHT` and
/// `CORE_MAX_LOG_ROW_COUNT`, the parameters `CoreProver::verifier` gives the core shard verifier
/// (and so the prover `SP1LightNode` sets up with). Re-check them on every SP1 version: they are
/// part of the VK's definition, and `toolbox/sp1-sdk-check` compares the result with the SDK's.
const CORE_LOG_STACKING_HEIGHT: u32 = 21;
const CORE_MAX_LOG_ROW_COUNT: usize = 22;

/// sp1-prover's `CpuSP1ProverComponents::CoreProver`.
type CoreProver = CpuShardProver<
    SP1GlobalContext,
    SP1Pcs<SP1GlobalContext>,
    SP1InnerPcsProver,
    RiscvAir<SP1Field>,
>;

fn main() -> ExitCode {
    Toolbox {
        zkvm: "sp1",
        primary_crate: "sp1-core-machine",
        crates: &[
            "sp1-core-executor",
            "sp1-core-machine",
            "sp1-hypercube",
            "sp1-primitives",
            "sp1-jit",
            "slop-basefold",
            "slop-merkle-tree",
        ],
        lock: include_str!("../Cargo.lock"),
        package: (env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        options: &[],
        exec,
        vk,
    }
    .main()
}

fn exec(request: &Request, input: &[u8]) -> Result<Execution, Failure> {
    let program =
        Program::from(&request.program).map_err(|e| Failure::tool("not an SP1 program", e))?;
    // No trace buffer, no debug: plain execution to the halt.
    let mut executor = MinimalExecutorEnum::new(Arc::new(program), false, None);
    executor.with_input(input);
    while !executor.is_done() {
        executor
            .try_execute_chunk()
            .map_err(|e| Failure::Guest(format!("execution failed: {e}")))?;
    }
    match executor.exit_code() {
        0 => Ok(Execution {
            cycles: executor.global_clk(),
            public_values: executor.into_public_values_stream(),
        }),
        code => Err(Failure::Guest(format!("halted with exit code {code}"))),
    }
}

fn vk(request: &Request) -> Result<Vk, Failure> {
    // What SP1LightNode::setup does (sp1-prover 6.10.0 src/worker/node/light.rs:89-96).
    let program =
        Program::from(&request.program).map_err(|e| Failure::tool("not an SP1 program", e))?;
    let fri = core_fri_config();
    let verifier = ShardVerifier::from_basefold_parameters(
        fri,
        CORE_LOG_STACKING_HEIGHT,
        CORE_MAX_LOG_ROW_COUNT,
        RiscvAir::machine(),
    );
    let prover = CoreProver::new(verifier);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| Failure::tool("cannot start the async runtime", e))?;
    let (_, vk) = runtime.block_on(AirProver::setup(
        &prover,
        Arc::new(program),
        ProverSemaphore::new(1),
    ));
    let pc_start = vk.pc_start.map(|f| u64::from(f.as_canonical_u32()));
    let vk = SP1VerifyingKey { vk };
    let bytes32 = vk.bytes32();
    Ok(Vk {
        vk: decode_bytes32(&bytes32)?,
        extras: vec![
            ("bytes32".into(), Json::Str(bytes32)),
            // Off in this build (Cargo.toml enables no `mprotect` feature of any sp1 crate).
            ("mprotect".into(), Json::Bool(false)),
            (
                "core".into(),
                Json::obj([
                    ("log_blowup", Json::U64(fri.log_blowup as u64)),
                    ("num_queries", Json::U64(fri.num_queries as u64)),
                    (
                        "proof_of_work_bits",
                        Json::U64(fri.proof_of_work_bits as u64),
                    ),
                    (
                        "log_stacking_height",
                        Json::U64(CORE_LOG_STACKING_HEIGHT.into()),
                    ),
                    (
                        "max_log_row_count",
                        Json::U64(CORE_MAX_LOG_ROW_COUNT as u64),
                    ),
                ]),
            ),
            (
                "pc_start".into(),
                Json::Arr(pc_start.into_iter().map(Json::U64).collect()),
            ),
        ],
    })
}

/// `bytes32()` is `0x` and 64 hex digits (the BN254 value, zero-padded): its 32 bytes.
fn decode_bytes32(text: &str) -> Result<[u8; 32], Failure> {
    let digits = text
        .strip_prefix("0x")
        .filter(|d| d.len() == 64)
        .ok_or_else(|| {
            Failure::Tool(format!("bytes32() gave `{text}`, not 0x and 64 hex digits"))
        })?;
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16)
            .map_err(|e| Failure::tool("bytes32() is not hex", e))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_bytes32() {
        let text = format!("0x00{}", "ab".repeat(31));
        let bytes = decode_bytes32(&text).unwrap();
        assert_eq!(bytes[0], 0);
        assert!(bytes[1..].iter().all(|b| *b == 0xab));
        assert!(decode_bytes32("0xab").is_err());
        assert!(decode_bytes32(&"0".repeat(66)).is_err());
    }
}
