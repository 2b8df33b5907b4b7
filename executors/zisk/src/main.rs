//! `zkelf-exec-zisk <ELF> <INPUT>`: transpiles a ZisK 1.4 guest to a ZisK ROM and runs it in
//! ziskemu with the input as its one input record (`ziskos::io::read_slice`), and prints the
//! public outputs: all 64 output words, little-endian, as ziskemu reports them.

use std::process::ExitCode;

use zisk_common::EmuTrace;
use ziskemu::{Emu, EmuOptions};
use zkelf_exec_cli::{Execution, Failure};

fn main() -> ExitCode {
    zkelf_exec_cli::main("zisk", run)
}

fn run(elf: &[u8], input: &[u8]) -> Result<Execution, Failure> {
    let rom = zisk_transpiler_common::program2rom(elf)
        .map_err(|e| Failure::executor("cannot transpile the ELF to a ZisK ROM", e))?;
    let mut emu = Emu::new(&rom);
    emu.run(
        input_record(input),
        &EmuOptions::default(),
        None::<fn(EmuTrace)>,
    );
    if let Some((reason, step, pc)) = emu.failure() {
        return Err(Failure::Guest(format!(
            "{reason:?} at step {step}, pc {pc:#x}"
        )));
    }
    if !emu.terminated() {
        return Err(Failure::Guest(format!(
            "did not end within {} steps",
            emu.number_of_steps()
        )));
    }
    Ok(Execution {
        public_values: emu.get_output_8(),
        cycles: emu.number_of_steps(),
        image_id: None,
    })
}

/// One input record as ziskos reads it after the emulator's free-input word: the length as a
/// little-endian u64, then the bytes, zero-padded to a multiple of 8 (what `ziskemu
/// --legacy-inputs FILE` builds from a file).
fn input_record(input: &[u8]) -> Vec<u8> {
    let mut record = (input.len() as u64).to_le_bytes().to_vec();
    record.extend_from_slice(input);
    record.resize(record.len().next_multiple_of(8), 0);
    record
}
