//! The command line shared by the `zkelf-exec-<zkvm>` executors.
//!
//! `zkelf-exec-<zkvm> <PROGRAM> <INPUT>` reads both files, runs the program with the input's bytes
//! as its one stdin frame, and prints one JSON object on stdout:
//! `{"zkvm":"sp1","public_values":"<hex>","cycles":N}` (plus `"image_id":"<hex>"` for risc0).
//! Exit codes: 0 the guest ran to a successful halt; 1 the guest panicked or halted with a
//! non-zero code; 2 anything else (usage, I/O, a program the executor refuses), with `error: …`
//! on stderr.

use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

/// What a successful run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// The public values (sp1), journal (risc0), revealed bytes (openvm) or outputs (zisk).
    pub public_values: Vec<u8>,
    /// The cycles the executor counted, in its own unit.
    pub cycles: u64,
    /// The risc0 image id, hex.
    pub image_id: Option<String>,
}

/// Why a run did not produce an [`Execution`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The guest itself failed: it panicked or halted with a non-zero exit code (exit 1).
    Guest(String),
    /// The executor could not run the program (exit 2).
    Executor(String),
}

impl Failure {
    /// An executor failure from any error, its cause chain on one line (`{:#}` for anyhow and
    /// eyre reports).
    pub fn executor(context: &str, err: impl std::fmt::Display) -> Self {
        Failure::Executor(format!("{context}: {err:#}"))
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The one JSON object an executor prints for `execution`.
pub fn render(zkvm: &str, execution: &Execution) -> String {
    let mut out = format!(
        r#"{{"zkvm":"{zkvm}","public_values":"{}","cycles":{}"#,
        hex(&execution.public_values),
        execution.cycles
    );
    if let Some(id) = &execution.image_id {
        let _ = write!(out, r#","image_id":"{id}""#);
    }
    out.push('}');
    out
}

/// Parses the arguments, reads both files, calls `run(program, input)` and reports the result.
///
/// A panic inside `run` (an executor crate refusing a program by panicking) is reported as an
/// executor failure, exit 2.
pub fn main(zkvm: &str, run: impl FnOnce(&[u8], &[u8]) -> Result<Execution, Failure>) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [program_path, input_path] = args.as_slice() else {
        eprintln!("error: usage: zkelf-exec-{zkvm} <PROGRAM> <INPUT-FILE>");
        return ExitCode::from(2);
    };
    let read = |path: &str| {
        std::fs::read(path).map_err(|e| Failure::Executor(format!("cannot read `{path}`: {e}")))
    };
    let outcome = read(program_path).and_then(|program| {
        let input = read(input_path)?;
        panic::catch_unwind(AssertUnwindSafe(|| run(&program, &input))).unwrap_or_else(|_| {
            Err(Failure::Executor(format!(
                "the {zkvm} executor panicked on `{program_path}`"
            )))
        })
    });
    match outcome {
        Ok(execution) => {
            println!("{}", render(zkvm, &execution));
            ExitCode::SUCCESS
        }
        Err(Failure::Guest(msg)) => {
            eprintln!("error: guest failed: {msg}");
            ExitCode::from(1)
        }
        Err(Failure::Executor(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_json_object() {
        let mut e = Execution {
            public_values: vec![0x00, 0xab, 0xff],
            cycles: 42,
            image_id: None,
        };
        assert_eq!(
            render("sp1", &e),
            r#"{"zkvm":"sp1","public_values":"00abff","cycles":42}"#
        );
        e.image_id = Some("0102".into());
        assert_eq!(
            render("risc0", &e),
            r#"{"zkvm":"risc0","public_values":"00abff","cycles":42,"image_id":"0102"}"#
        );
    }
}
