//! `zkelf-exec-risc0 <PROGRAM> <INPUT>`: runs a RISC Zero 3.0 guest in risc0-zkvm's local CPU
//! executor with the input as one stdin frame (`ExecutorEnvBuilder::write_frame`), and prints its
//! journal and image id. PROGRAM is the R0BF program binary (user ELF + v1compat kernel), or a
//! plain user ELF, which is wrapped here the way the builder wraps it.

use std::process::ExitCode;

use risc0_binfmt::ProgramBinary;
use risc0_zkvm::{default_executor, ExecutorEnv, ExitCode as GuestExit};
use zkelf_exec_cli::{Execution, Failure};

fn main() -> ExitCode {
    zkelf_exec_cli::main("risc0", run)
}

fn run(program: &[u8], input: &[u8]) -> Result<Execution, Failure> {
    let program = if program.starts_with(b"\x7fELF") {
        ProgramBinary::new(program, risc0_zkos_v1compat::V1COMPAT_ELF).encode()
    } else {
        program.to_vec()
    };
    // Also checks the blob before the executor sees it: the executor unwraps its decode.
    let image_id = risc0_binfmt::compute_image_id(&program)
        .map_err(|e| Failure::executor("not a RISC Zero program binary", e))?;
    let env = ExecutorEnv::builder()
        .write_frame(input)
        // stdout carries the JSON report alone; the guest's own output goes to stderr.
        .stdout(std::io::stderr())
        .build()
        .map_err(|e| Failure::executor("cannot set up the executor", e))?;
    // The program loaded, so an error from here on is the guest's: a panic, a trap, a limit.
    let session = default_executor()
        .execute(env, &program)
        .map_err(|e| Failure::Guest(format!("{e:#}")))?;
    match session.exit_code {
        GuestExit::Halted(0) => Ok(Execution {
            cycles: session.cycles(),
            public_values: session.journal.bytes,
            image_id: Some(image_id.to_string()),
        }),
        other => Err(Failure::Guest(format!("ended with {other:?}"))),
    }
}
