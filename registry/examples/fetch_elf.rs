//! Fetches a verified guest ELF the way a prover embedding zkelf would.
//!
//! `cargo run -p zkelf-registry --example fetch_elf -- <reference> <policy.toml> [guest] [zkvm]`

#![allow(clippy::print_stdout, clippy::print_stderr)] // an example program talks to its user

use std::process::ExitCode;

use zkelf_registry::api::{Config, blocking};
use zkelf_registry::verify::Expected;
use zkelf_registry::{Diagnose as _, Outcome};
use zkelf_trust::policy::Policy;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [reference, policy, rest @ ..] = args.as_slice() else {
        eprintln!("usage: fetch_elf <reference> <policy.toml> [guest] [zkvm]");
        return ExitCode::from(2);
    };
    let policy = match Policy::load(policy.as_ref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let expected = Expected {
        guest: rest.first().cloned(),
        zkvm: rest.get(1).cloned(),
        ..Expected::default()
    };
    match blocking::fetch_elf(reference, &policy, &expected, &Config::default()) {
        Ok(elf) => {
            match &elf.statement {
                Some(statement) => println!(
                    "verified {statement} ({} bytes, manifest {})",
                    elf.bytes.len(),
                    elf.manifest_digest
                ),
                None => println!(
                    "verified {} bytes held by their pin; nothing binds guest, version or zkVM (manifest {})",
                    elf.bytes.len(),
                    elf.manifest_digest
                ),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  Caused by: {s}");
                source = s.source();
            }
            ExitCode::from(match e.outcome() {
                Outcome::VerificationFailed => 1,
                Outcome::Error => 2,
            })
        }
    }
}
