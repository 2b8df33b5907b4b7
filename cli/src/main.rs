//! `zkelf`: build, sign, publish and verify zkVM guest ELFs.

use std::process::ExitCode;

use clap::Parser;

mod args;
mod commands;
mod env;
mod error;
mod printer;
mod render;
mod reports;
mod usage;
mod version;

use args::Cli;
use error::ExitStatus;
use printer::Printer;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Before `--` only: an operand after it is never the flag.
            let json = std::env::args()
                .take_while(|a| a != "--")
                .any(|a| a == "--json");
            return usage::clap_error(err, json);
        }
    };
    let printer = Printer::new(&cli.global);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            printer.error(&anyhow::Error::new(err).context("failed to start the async runtime"));
            return ExitStatus::Error.into();
        }
    };
    match runtime.block_on(commands::run(cli.command, &printer)) {
        Ok(status) => status.into(),
        Err(err) => printer.error(&err).into(),
    }
}
