//! `zkelf-exec-openvm <ELF> <INPUT>`: runs an OpenVM 2.0 guest with openvm-sdk's `Sdk::execute`
//! under the RV32IM + IO app config, with the input as one input stream
//! (`StdIn::write_bytes`, read by `openvm::io::read_vec`), and prints its public values.

use std::process::ExitCode;

use openvm_sdk::config::AppConfig;
use openvm_sdk::openvm_circuit::arch::instructions::exe::VmExe;
use openvm_sdk::types::ExecutableFormat;
use openvm_sdk::{Sdk, StdIn, F};
use openvm_stark_sdk::config::{app_params_with_100_bits_security, MAX_APP_LOG_STACKED_HEIGHT};
use openvm_transpiler::elf::Elf;
use openvm_transpiler::openvm_platform::memory::MEM_SIZE;
use zkelf_exec_cli::{Execution, Failure};

fn main() -> ExitCode {
    zkelf_exec_cli::main("openvm", run)
}

fn run(elf: &[u8], input: &[u8]) -> Result<Execution, Failure> {
    let elf = Elf::decode(elf, MEM_SIZE as u32)
        .map_err(|e| Failure::executor("not an OpenVM guest ELF", e))?;
    // A guest that uses only the base RV32IM extension and the IO extension (`openvm.toml` with
    // `[app_vm_config.rv32i]`, `rv32m`, `io`). The params only matter for proving.
    let app = AppConfig::riscv32(app_params_with_100_bits_security(
        MAX_APP_LOG_STACKED_HEIGHT,
    ));
    let sdk = Sdk::new(app, Default::default())
        .map_err(|e| Failure::executor("cannot set up the OpenVM SDK", e))?;
    let exe = sdk
        .convert_to_exe(elf)
        .map_err(|e| Failure::executor("cannot transpile the ELF for OpenVM", e))?;
    let stdin = || {
        let mut stdin = StdIn::default();
        stdin.write_bytes(input);
        stdin
    };
    // The program transpiled, so an error from here on is the guest's.
    let public_values = sdk
        .execute(ExecutableFormat::SharedVmExe(exe.clone()), stdin())
        .map_err(|e| Failure::Guest(e.to_string()))?;
    Ok(Execution {
        public_values,
        cycles: instructions(&sdk, &exe, stdin())?,
        image_id: None,
    })
}

/// The instructions a run executes, as `Sdk::execute_metered_cost` counts them, but without the
/// app proving key that method generates first (minutes of keygen): the cost-metering
/// interpreter with every chip mapped to one zero-width AIR, so the trace cost stays zero, the
/// run is never suspended, and only the instruction counter moves.
fn instructions(sdk: &Sdk, exe: &VmExe<F>, stdin: StdIn) -> Result<u64, Failure> {
    const ANY_EXECUTOR: [usize; 1024] = [0; 1024];
    let interpreter = sdk
        .executor()
        .metered_cost_instance(exe, &ANY_EXECUTOR)
        .map_err(|e| Failure::executor("cannot set up OpenVM's cost-metering interpreter", e))?;
    let ctx = sdk.executor().build_metered_cost_ctx(&[0]);
    let (ctx, _) = interpreter
        .execute_metered_cost(stdin, ctx)
        .map_err(|e| Failure::Guest(e.to_string()))?;
    Ok(ctx.instret)
}
