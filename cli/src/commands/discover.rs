//! `zkelf completions` and `zkelf man`: generated from the command line's own definition
//! (`clap_complete`, `clap_mangen`), so they never drift from `--help`. Their output is a shell
//! script and roff, never a JSON document: with `--json` they are a usage error.

use std::path::Path;

use anyhow::Context as _;
use clap::CommandFactory as _;

use super::shared::files::persist_atomically;
use crate::args::Cli;
use crate::args::discover::{CompletionsArgs, ManArgs};
use crate::error::{ExitStatus, UsageError};
use crate::printer::{OutputFormat, Printer, write_stdout_bytes};

/// Prints the completion script for a shell.
pub fn completions(args: CompletionsArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    refuse_json(printer, "completions", "a shell script")?;
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "zkelf", &mut script);
    write_stdout_bytes(&script)?;
    Ok(ExitStatus::Success)
}

/// Prints `zkelf.1`, or writes every page into a directory.
pub fn man(args: ManArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    refuse_json(printer, "man", "roff man pages")?;
    let mut command = Cli::command();
    command.build();
    let Some(dir) = args.dir else {
        write_stdout_bytes(&render(&command)?)?;
        return Ok(ExitStatus::Success);
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut written = 0;
    for (name, page) in pages(&command)? {
        write_page(&dir, &name, &page)?;
        written += 1;
    }
    printer.info(format!("wrote {written} pages into `{}`", dir.display()));
    Ok(ExitStatus::Success)
}

/// `--json` asks for a document `command` does not print: refused before anything is written.
fn refuse_json(printer: &Printer, command: &str, what: &str) -> Result<(), UsageError> {
    if printer.format() == OutputFormat::Json {
        return Err(UsageError::new(
            format!("`{command}` prints {what}, not JSON: `--json` cannot be used with it"),
            format!("run `zkelf {command}` without `--json`"),
        ));
    }
    Ok(())
}

/// `(file name, roff)` of a built `command` and of each subcommand, depth first: clap names
/// them `zkelf-builder-base` once built.
fn pages(command: &clap::Command) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let name = command.get_display_name().unwrap_or(command.get_name());
    let mut out = vec![(format!("{name}.1"), render(command)?)];
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        out.extend(pages(&sub.clone().version(crate::version::VERSION))?);
    }
    Ok(out)
}

fn render(command: &clap::Command) -> anyhow::Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut page)
        .context("cannot render the man page")?;
    Ok(page)
}

fn write_page(dir: &Path, name: &str, page: &[u8]) -> anyhow::Result<()> {
    persist_atomically(&dir.join(name), page, 0o644, true)
}
