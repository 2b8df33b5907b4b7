//! `zkelf`: build, sign, publish and verify zkVM guest ELFs.

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

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
    // `args_os`: an argument that is not UTF-8 is clap's usage error, never a panic.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `--json` and `--color` before clap parses, so its own help and errors follow them.
    let early = usage::Early::scan(&args);
    let mut command = Cli::command().color(usage::clap_color(early.color));
    let cli = match command
        .try_get_matches_from_mut(&args)
        .and_then(|mut matches| Cli::from_arg_matches_mut(&mut matches))
    {
        Ok(cli) => cli,
        Err(err) => return usage::clap_error(err.format(&mut command), &early, &args),
    };
    init_tracing(&cli.global);
    // indicatif draws through `console`, which decides colors on its own otherwise.
    console::set_colors_enabled_stderr(printer::use_color(cli.global.color));
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

/// `-vv`: debug traces on stderr from zkelf's crates and oci-client (HTTP requests, cache hits,
/// Docker calls); `-vvv`: every crate's, at trace level. Quiet otherwise: only the binary
/// installs a subscriber, the libraries just emit `tracing` events.
fn init_tracing(global: &args::GlobalArgs) {
    use tracing::Level;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = match global.verbose {
        0 | 1 => return,
        2 => Targets::new().with_targets([
            ("zkelf", Level::DEBUG),
            ("zkelf_trust", Level::DEBUG),
            ("zkelf_registry", Level::DEBUG),
            ("zkelf_builder", Level::DEBUG),
            ("zkelf_zkvm", Level::DEBUG),
            ("oci_client", Level::DEBUG),
        ]),
        _ => Targets::new().with_default(Level::TRACE),
    };
    let format = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(printer::use_color(global.color))
        .without_time();
    let _ = tracing_subscriber::registry()
        .with(format)
        .with(filter)
        .try_init();
}
