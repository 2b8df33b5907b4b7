//! One module per command; `run` dispatches.

use crate::args::Command;
use crate::error::ExitStatus;
use crate::printer::Printer;

mod attest;
mod build;
mod builder;
mod diff;
mod discover;
mod import;
mod inspect;
mod keygen;
mod publish;
mod pull;
mod rebuild;
mod release;
mod run;
mod shared;
mod sign;
mod verify;

/// Runs one command to completion.
pub async fn run(command: Command, printer: &Printer) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Keygen(args) => keygen::keygen(args, printer),
        Command::Sign(args) => sign::sign(args, printer),
        Command::Verify(args) => verify::verify(args, printer),
        Command::Build(args) => build::build(args, printer).await,
        Command::Diff(args) => diff::diff(args, printer),
        Command::Builder(command) => builder::builder(command, printer).await,
        Command::Publish(args) => publish::publish(args, printer).await,
        Command::Release(args) => release::release(args, printer).await,
        Command::Pull(args) => pull::pull(args, printer).await,
        Command::Run(args) => run::run(args, printer).await,
        Command::Import(args) => import::import(args, printer).await,
        Command::Inspect(args) => inspect::inspect(args, printer).await,
        Command::Rebuild(args) => rebuild::rebuild(args, printer).await,
        Command::Attest(args) => attest::attest(args, printer).await,
        Command::Completions(args) => discover::completions(args, printer),
        Command::Man(args) => discover::man(args, printer),
    }
}
