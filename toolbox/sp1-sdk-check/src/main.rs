//! `zkelf-toolbox-sp1-sdk-check <ELF> [<zkelf-toolbox-sp1>]`: "SP1 agrees with SP1".
//!
//! Computes the ELF's verifying key the way SP1's own SDK does,
//! `sp1_sdk::blocking::LightProver::new().setup(elf)?.verifying_key().bytes32()`, and, given the
//! path of a built `zkelf-toolbox-sp1`, runs `zkelf-toolbox-sp1 vk <ELF>` and compares. Prints
//! `{"sdk":"0x…","toolbox":"0x…","equal":true}`; exit 0 equal (or no toolbox given), 1 different,
//! 2 any error.

use std::process::{Command, ExitCode};
use std::time::Instant;

use sp1_sdk::blocking::{LightProver, Prover as _};
use sp1_sdk::{Elf, HashableKey as _, ProvingKey as _};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (elf_path, toolbox) = match args.as_slice() {
        [elf] => (elf, None),
        [elf, toolbox] => (elf, Some(toolbox)),
        _ => return Err("usage: zkelf-toolbox-sp1-sdk-check <ELF> [<zkelf-toolbox-sp1>]".into()),
    };
    let elf = std::fs::read(elf_path).map_err(|e| format!("cannot read `{elf_path}`: {e}"))?;

    let start = Instant::now();
    let prover = LightProver::new();
    let pk = prover
        .setup(Elf::from(elf))
        .map_err(|e| format!("LightProver::setup: {e}"))?;
    let sdk = pk.verifying_key().bytes32();
    let sdk_seconds = start.elapsed().as_secs_f64();

    let Some(toolbox) = toolbox else {
        println!(r#"{{"sdk":"{sdk}","sdk_seconds":{sdk_seconds:.2}}}"#);
        return Ok(true);
    };
    let start = Instant::now();
    let out = Command::new(toolbox)
        .args(["vk", elf_path])
        .output()
        .map_err(|e| format!("cannot run `{toolbox}`: {e}"))?;
    let toolbox_seconds = start.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "`{toolbox} vk` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let report = String::from_utf8_lossy(&out.stdout);
    // The report's `"vk":"<64 hex>"` field: the same number as bytes32() without its 0x.
    let vk = report
        .split(r#""vk":""#)
        .nth(1)
        .and_then(|rest| rest.get(..64))
        .ok_or_else(|| format!("no vk in the toolbox's report: {report}"))?;
    let toolbox_bytes32 = format!("0x{vk}");
    let equal = toolbox_bytes32 == sdk;
    println!(
        r#"{{"sdk":"{sdk}","toolbox":"{toolbox_bytes32}","equal":{equal},"sdk_seconds":{sdk_seconds:.2},"toolbox_seconds":{toolbox_seconds:.2}}}"#
    );
    Ok(equal)
}
