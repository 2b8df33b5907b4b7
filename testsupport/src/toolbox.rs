//! Guests run in their zkVM's executor the way users run them: `zkelf run <program> --input
//! <file> --zkvm <zkvm> --json`, through the toolbox zkelf builds (once per cache, in Docker)
//! and verifies on every use. Never skips: a failure panics with zkelf's own error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// What a run that halted successfully reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Public values (sp1, openvm), journal (risc0) or the 64 output words (zisk).
    pub public_values: Vec<u8>,
    /// Cycles, in the executor's own unit.
    pub cycles: u64,
}

/// The variable naming the directory host tools the tests build (the stateless fixture's
/// converter) are kept in; default `~/.cache/zkelf/host-target`, outside the clone so a
/// machine keeps them between runs.
pub const HOST_TARGET_DIR_ENV: &str = "ZKELF_HOST_TARGET_DIR";

/// The host tools' target directory.
pub fn host_target_dir() -> PathBuf {
    match std::env::var_os(HOST_TARGET_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME").expect("HOME is set");
            Path::new(&home).join(".cache/zkelf/host-target")
        }
    }
}

/// Runs `program` on `input` with `zkelf` (a command for the zkelf binary, its cache set) and
/// returns how it ended, whatever that is (for guests that must fail: exit code 1).
pub fn execute(mut zkelf: Command, zkvm: &str, program: &Path, input: &[u8]) -> Output {
    let mut file = tempfile::NamedTempFile::new().expect("create input file");
    file.write_all(input).expect("write input file");
    zkelf
        .args(["run", "--json", "-q", "--zkvm", zkvm, "--input"])
        .arg(file.path())
        .arg(program)
        .output()
        .unwrap_or_else(|e| panic!("cannot run zkelf: {e}"))
}

/// Runs `program` on `input` in the `zkvm` executor; panics unless the guest halted
/// successfully.
pub fn run(zkelf: Command, zkvm: &str, program: &Path, input: &[u8]) -> ExecOutput {
    let out = execute(zkelf, zkvm, program, input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "`zkelf run {}` ({zkvm}) exited with {}:\n{}\n{stderr}",
        program.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
    );
    parse_report(zkvm, &out.stdout)
        .unwrap_or_else(|e| panic!("`zkelf run`'s report: {e}\nstderr:\n{stderr}"))
}

/// Parses `zkelf run --json`'s document.
fn parse_report(zkvm: &str, stdout: &[u8]) -> Result<ExecOutput, String> {
    let doc: serde_json::Value =
        serde_json::from_slice(stdout).map_err(|e| format!("not one JSON document: {e}"))?;
    if doc["zkvm"] != zkvm {
        return Err(format!("`zkvm` is {}, expected `{zkvm}`", doc["zkvm"]));
    }
    let public_values = doc["public_values"]
        .as_str()
        .and_then(decode_hex)
        .ok_or("`public_values` is not lowercase hex")?;
    let cycles = doc["cycles"].as_u64().ok_or("`cycles` is not a u64")?;
    Ok(ExecOutput {
        public_values,
        cycles,
    })
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_report() {
        let out = parse_report(
            "risc0",
            br#"{"zkvm":"risc0","public_values":"00ff","cycles":7}"#,
        );
        let expected = ExecOutput {
            public_values: vec![0, 0xff],
            cycles: 7,
        };
        assert_eq!(out, Ok(expected));
    }

    #[test]
    fn rejects_near_misses() {
        for bad in [
            &br#"{"zkvm":"sp1","public_values":"00ff","cycles":7}"#[..],
            br#"{"zkvm":"risc0","public_values":"0ff","cycles":7}"#,
            br#"{"zkvm":"risc0","public_values":"00FF","cycles":7}"#,
            br#"{"zkvm":"risc0","public_values":"00ff","cycles":-1}"#,
            br#"{"zkvm":"risc0","public_values":"00ff","cycles":7} {}"#,
        ] {
            assert!(
                parse_report("risc0", bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
