//! The zkVMs' own CPU executors (`executors/<zkvm>/`, each its own cargo workspace outside the
//! zkelf one): built on first use per test process by `scripts/build-executors`, then run on a
//! program and an input. Never skips: a build that fails panics, naming `scripts/setup`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use crate::docker::repo_root;

/// The variable naming the executors' shared target directory (read by `scripts/build-executors`
/// too); default `~/.cache/zkelf/executors-target`, outside the clone so a machine keeps it.
pub const TARGET_DIR_ENV: &str = "ZKELF_EXECUTORS_TARGET_DIR";

/// What an executor reported for a run that ended in a successful halt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Public values (sp1), journal (risc0), public values (openvm) or the 64 output words (zisk).
    pub public_values: Vec<u8>,
    /// Cycles, in the executor's own unit (instructions for sp1 and zisk, user cycles for risc0).
    pub cycles: u64,
    /// The risc0 image id, lowercase hex.
    pub image_id: Option<String>,
}

/// The executors' shared target directory.
pub fn target_dir() -> PathBuf {
    match std::env::var_os(TARGET_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME").expect("HOME is set");
            Path::new(&home).join(".cache/zkelf/executors-target")
        }
    }
}

/// The built `zkelf-exec-<zkvm>` binary, building it first if this process has not yet (cargo
/// itself makes concurrent test processes wait for each other, and finds nothing to do when the
/// binary is fresh).
pub fn binary(zkvm: &str) -> PathBuf {
    static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    // Held while building: one heavy build at a time, even from parallel tests.
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(bin) = built.get(zkvm) {
        return bin.clone();
    }
    let script = repo_root().join("scripts/build-executors");
    let out = Command::new("bash")
        .arg(&script)
        .arg(zkvm)
        .env(TARGET_DIR_ENV, target_dir())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{}`: {e}", script.display()));
    assert!(
        out.status.success(),
        "building the {zkvm} executor (`scripts/build-executors {zkvm}`) failed; `scripts/setup` \
         installs the Debian packages the executors build against (zisk's: OpenMPI, libclang, \
         GMP, libsodium, libomp, OpenSSL, nlohmann-json, nasm)\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = target_dir()
        .join("release")
        .join(format!("zkelf-exec-{zkvm}"));
    assert!(
        bin.is_file(),
        "`scripts/build-executors {zkvm}` built no `{}`",
        bin.display()
    );
    built.insert(zkvm.to_owned(), bin.clone());
    bin
}

/// Runs `program` with `input` in the `zkvm` executor and returns its exit status and output,
/// whatever they are (for tests of guests that must fail: exit code 1).
pub fn execute(zkvm: &str, program: &Path, input: &[u8]) -> Output {
    let bin = binary(zkvm);
    let mut input_file = tempfile::NamedTempFile::new().expect("create input file");
    input_file.write_all(input).expect("write input file");
    Command::new(&bin)
        .arg(program)
        .arg(input_file.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{}`: {e}", bin.display()))
}

/// Runs `program` with `input` in the `zkvm` executor; panics unless the guest halted
/// successfully.
pub fn run(zkvm: &str, program: &Path, input: &[u8]) -> ExecOutput {
    let out = execute(zkvm, program, input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "`{}` in the {zkvm} executor exited with {}:\n{stderr}",
        program.display(),
        out.status
    );
    parse_report(zkvm, &out.stdout)
        .unwrap_or_else(|e| panic!("the {zkvm} executor's report: {e}\nstderr:\n{stderr}"))
}

/// Parses the one JSON object an executor prints.
fn parse_report(zkvm: &str, stdout: &[u8]) -> Result<ExecOutput, String> {
    let doc: serde_json::Value =
        serde_json::from_slice(stdout).map_err(|e| format!("not one JSON object: {e}"))?;
    if doc["zkvm"] != zkvm {
        return Err(format!("`zkvm` is {}, expected `{zkvm}`", doc["zkvm"]));
    }
    let public_values = doc["public_values"]
        .as_str()
        .and_then(decode_hex)
        .ok_or("`public_values` is not lowercase hex")?;
    let cycles = doc["cycles"].as_u64().ok_or("`cycles` is not a u64")?;
    let image_id = match &doc["image_id"] {
        serde_json::Value::Null => None,
        id => Some(
            id.as_str()
                .filter(|s| decode_hex(s).is_some())
                .ok_or("bad `image_id`")?,
        ),
    };
    Ok(ExecOutput {
        public_values,
        cycles,
        image_id: image_id.map(str::to_owned),
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
            br#"{"zkvm":"risc0","public_values":"00ff","cycles":7,"image_id":"ab"}"#,
        );
        let expected = ExecOutput {
            public_values: vec![0, 0xff],
            cycles: 7,
            image_id: Some("ab".into()),
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
            br#"{"zkvm":"risc0","public_values":"00ff","cycles":7,"image_id":"xy"}"#,
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
