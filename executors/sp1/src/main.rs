//! `zkelf-exec-sp1 <ELF> <INPUT>`: runs an SP1 v6 guest in sp1-core-executor's minimal executor
//! with the input as its one stdin frame (`sp1_zkvm::io::read_vec`), and prints the committed
//! public values.

use std::process::ExitCode;
use std::sync::Arc;

use sp1_core_executor::{MinimalExecutorEnum, Program};
use zkelf_exec_cli::{Execution, Failure};

fn main() -> ExitCode {
    zkelf_exec_cli::main("sp1", run)
}

fn run(elf: &[u8], input: &[u8]) -> Result<Execution, Failure> {
    let program = Program::from(elf).map_err(|e| Failure::executor("not an SP1 program", e))?;
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
            image_id: None,
        }),
        code => Err(Failure::Guest(format!("halted with exit code {code}"))),
    }
}
