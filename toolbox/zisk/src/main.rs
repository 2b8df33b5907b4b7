//! `zkelf-toolbox-zisk`: ZisK 1.4's emulator and program verification key, from ZisK's own crates.
//!
//! - `exec <ELF> <INPUT>`: transpiles the guest to a ZisK ROM and runs it in ziskemu with the input
//!   as its one input record (`ziskos::io::read_slice`), and prints the public outputs: all 64
//!   output words, little-endian, as ziskemu reports them.
//! - `vk <ELF> [--hash-mode <MODE>]`: the program verification key, the Merkle root of the ROM
//!   trace's low-degree extension, 4 Goldilocks elements as 4 × u64 little-endian (the bytes of
//!   ZisK's own `.verkey.bin` and of ere-guests' `.vk`). It is zisk-rom-setup's
//!   `rom_merkle_setup` (what `cargo-zisk program-setup` and the prover backend run), without
//!   the `ProofCtx` it only takes device buffers from and without writing the ROM cache file.
//!   The key is only valid for one hash mode, the proving key's (`pilout.globalInfo.json`
//!   `hash`); the default is ZisK 1.4's default mode, `HashMode::default()` (blake3).

use std::process::ExitCode;
use std::str::FromStr as _;

use proofman_fields::{Field as _, Goldilocks, PrimeField64 as _};
use zisk_common::{EmuTrace, HashMode};
use zisk_pil::PILOUT_HASH;
use zisk_sm_rom::CustomRom;
use ziskemu::{Emu, EmuOptions};
use zkelf_toolbox_cli::{Execution, Failure, Json, Request, ToolOption, Toolbox, Vk};

fn main() -> ExitCode {
    Toolbox {
        zkvm: "zisk",
        primary_crate: "ziskemu",
        crates: &[
            "ziskemu",
            "zisk-core",
            "zisk-common",
            "zisk-transpiler-common",
            "zisk-sm-rom",
            "zisk-pil",
            "proofman-common",
            "proofman-starks-lib-c",
        ],
        lock: include_str!("../Cargo.lock"),
        package: (env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        options: &[ToolOption {
            name: "hash-mode",
            value: "blake3|poseidon2|poseidon1",
        }],
        exec,
        vk,
    }
    .main()
}

fn exec(request: &Request, input: &[u8]) -> Result<Execution, Failure> {
    if request.option("hash-mode").is_some() {
        return Err(Failure::Tool("`--hash-mode` is an option of `vk`".into()));
    }
    let rom = zisk_transpiler_common::program2rom(&request.program)
        .map_err(|e| Failure::tool("cannot transpile the ELF to a ZisK ROM", e))?;
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

fn vk(request: &Request) -> Result<Vk, Failure> {
    let hash_mode = match request.option("hash-mode") {
        Some(mode) => HashMode::from_str(mode).map_err(|e| Failure::tool("--hash-mode", e))?,
        None => HashMode::default(),
    };
    // zisk-rom-setup 1.4.0-alpha src/utils.rs `gen_elf_hash`: the ROM trace of the ELF…
    let mut trace = CustomRom::build::<Goldilocks>(&request.program)
        .map_err(|e| Failure::tool("not a ZisK program", e))?;
    // …and proofman-common 1.4.0-alpha src/custom_commits.rs `write_custom_commit_trace`.
    let buffer: Vec<Goldilocks> = trace.get_buffer();
    let arity = hash_mode.merkle_tree_arity();
    let n = trace.num_rows() as u64;
    let n_extended = hash_mode.blowup_factor() * n;
    let n_bits = u64::from(n.trailing_zeros());
    let n_bits_ext = u64::from(n_extended.trailing_zeros());
    let n_cols = trace.num_cols() as u64;
    let mut root = [Goldilocks::ZERO; 4];
    // What the proving key's GlobalInfo::load does first (proofman-common global_info.rs): the
    // C++ library's process-wide hash family, here the requested mode's. CPU backend.
    proofman_starks_lib_c::set_hash_family_c(hash_mode.as_str());
    proofman_starks_lib_c::set_gpu_mode_c(false);
    proofman_starks_lib_c::write_custom_commit_c(
        root.as_mut_ptr() as *mut u8,
        arity,
        n_bits,
        n_bits_ext,
        n_cols,
        // Device buffers: only the GPU backend reads them (ere's compute_program_vk passes none).
        std::ptr::null_mut(),
        buffer.as_ptr() as *mut u8,
        // No cache file: the root is computed before the file would be written.
        "",
    );
    let mut vk = [0u8; 32];
    for (chunk, element) in vk.chunks_exact_mut(8).zip(root) {
        chunk.copy_from_slice(&element.as_canonical_u64().to_le_bytes());
    }
    Ok(Vk {
        vk,
        extras: vec![
            ("hash_mode".into(), Json::str(hash_mode.as_str())),
            ("merkle_tree_arity".into(), Json::U64(arity)),
            ("blowup_factor".into(), Json::U64(hash_mode.blowup_factor())),
            ("rom_rows".into(), Json::U64(n)),
            ("rom_cols".into(), Json::U64(n_cols)),
            ("pilout_hash".into(), Json::str(PILOUT_HASH)),
        ],
    })
}
