//! `zkelf-toolbox-risc0`: RISC Zero 3.0's CPU executor and image id, from RISC Zero's own crates.
//!
//! PROGRAM is the R0BF program binary (user ELF + v1compat kernel, what zkelf's `risc0` profile
//! writes and `risc0-build` writes), or a plain user ELF, wrapped here the way both wrap it
//! (`ProgramBinary::new(user_elf, V1COMPAT_ELF)`).
//!
//! - `exec <PROGRAM> <INPUT>`: runs it in risc0-zkvm's local executor with the input as one stdin
//!   frame (`ExecutorEnvBuilder::write_frame`) and prints its journal.
//! - `vk <PROGRAM>`: the image id, `risc0_binfmt::compute_image_id` of the program binary, in
//!   `Digest::as_bytes()` order: what a RISC Zero receipt is verified against.

use std::process::ExitCode;

use risc0_binfmt::ProgramBinary;
use risc0_zkvm::{default_executor, ExecutorEnv, ExitCode as GuestExit};
use zkelf_toolbox_cli::{locked_versions, Execution, Failure, Json, Request, Toolbox, Vk};

const LOCK: &str = include_str!("../Cargo.lock");

fn main() -> ExitCode {
    Toolbox {
        zkvm: "risc0",
        primary_crate: "risc0-zkvm",
        crates: &[
            "risc0-zkvm",
            "risc0-binfmt",
            "risc0-zkos-v1compat",
            "risc0-zkp",
            "risc0-circuit-rv32im",
        ],
        lock: LOCK,
        package: (env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        options: &[],
        exec,
        vk,
    }
    .main()
}

/// The program binary of `program`, and whether it had to be wrapped (a plain ELF).
fn program_binary(program: &[u8]) -> (Vec<u8>, bool) {
    if program.starts_with(b"\x7fELF") {
        let binary = ProgramBinary::new(program, risc0_zkos_v1compat::V1COMPAT_ELF).encode();
        (binary, true)
    } else {
        (program.to_vec(), false)
    }
}

fn image_id(program: &[u8]) -> Result<[u8; 32], Failure> {
    let digest = risc0_binfmt::compute_image_id(program)
        .map_err(|e| Failure::tool("not a RISC Zero program binary", e))?;
    digest
        .as_bytes()
        .try_into()
        .map_err(|_| Failure::Tool("the image id is not 32 bytes".into()))
}

fn exec(request: &Request, input: &[u8]) -> Result<Execution, Failure> {
    let (program, _) = program_binary(&request.program);
    // Checks the blob before the executor sees it: the executor unwraps its decode.
    image_id(&program)?;
    let env = ExecutorEnv::builder()
        .write_frame(input)
        // stdout carries the JSON report alone; the guest's own output goes to stderr.
        .stdout(std::io::stderr())
        .build()
        .map_err(|e| Failure::tool("cannot set up the executor", e))?;
    // The program loaded, so an error from here on is the guest's: a panic, a trap, a limit.
    let session = default_executor()
        .execute(env, &program)
        .map_err(|e| Failure::Guest(format!("{e:#}")))?;
    match session.exit_code {
        GuestExit::Halted(0) => Ok(Execution {
            cycles: session.cycles(),
            public_values: session.journal.bytes,
        }),
        other => Err(Failure::Guest(format!("ended with {other:?}"))),
    }
}

fn vk(request: &Request) -> Result<Vk, Failure> {
    let (program, wrapped) = program_binary(&request.program);
    let vk = image_id(&program)?;
    let mut extras = vec![(
        "program".to_owned(),
        Json::str(if wrapped { "elf" } else { "R0BF" }),
    )];
    if wrapped {
        // The kernel is part of the image: record which one this toolbox wrapped in.
        let kernel = locked_versions(LOCK, "risc0-zkos-v1compat").join(",");
        extras.push((
            "kernel".to_owned(),
            Json::Str(format!("risc0-zkos-v1compat {kernel} V1COMPAT_ELF")),
        ));
    }
    Ok(Vk { vk, extras })
}
