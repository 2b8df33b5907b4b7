//! All output goes through here: data on stdout (human or `--json`), messages on stderr.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::args::GlobalArgs;
use crate::env::EnvVars;
use crate::error;

/// Whether stdout carries human text or one JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Plain text for people.
    Human,
    /// One JSON document on stdout, errors included.
    Json,
}

/// Writes reports, messages and errors in the format and verbosity the user chose.
#[derive(Debug)]
pub struct Printer {
    format: OutputFormat,
    quiet: bool,
    verbose: u8,
    /// Whether `error:`/`warning:`/`hint:` prefixes on stderr are colored.
    color: bool,
}

/// A command's result: serialized as-is for `--json`, rendered by `human` otherwise.
pub trait Report: Serialize {
    /// Writes the human rendering (data only; it goes to stdout).
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()>;
}

impl Printer {
    /// A printer for the global flags.
    pub fn new(global: &GlobalArgs) -> Self {
        Self {
            format: if global.json {
                OutputFormat::Json
            } else {
                OutputFormat::Human
            },
            quiet: global.quiet,
            verbose: global.verbose,
            color: std::env::var_os(EnvVars::NO_COLOR).is_none() && std::io::stderr().is_terminal(),
        }
    }

    /// The output format in force.
    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Whether `-v` was given (at least `level` times).
    pub fn verbose(&self, level: u8) -> bool {
        self.verbose >= level
    }

    /// Writes a command's result to stdout.
    pub fn report<R: Report>(&self, report: &R) -> anyhow::Result<()> {
        let mut buf = Vec::new();
        match self.format {
            OutputFormat::Json => {
                serde_json::to_writer_pretty(&mut buf, report)?;
                buf.push(b'\n');
            }
            OutputFormat::Human => report.human(&mut buf)?,
        }
        write_stdout_bytes(&buf)?;
        Ok(())
    }

    /// A progress line on stderr (human mode, not `-q`).
    pub fn info(&self, message: impl std::fmt::Display) {
        if !self.quiet && self.format == OutputFormat::Human {
            write_stderr(&format!("{message}\n"));
        }
    }

    /// A warning on stderr, shown unless `-q`.
    pub fn warn(&self, message: impl std::fmt::Display) {
        if !self.quiet {
            write_stderr(&format!("{} {message}\n", self.paint("warning:", YELLOW)));
        }
    }

    /// Whether a progress bar may be drawn: stderr is a terminal, human mode, not quiet.
    pub fn progress_enabled(&self) -> bool {
        !self.quiet && self.format == OutputFormat::Human && std::io::stderr().is_terminal()
    }

    /// Prints an error: `error:`, `Caused by:` lines and a `hint:` (or one JSON document).
    pub fn error(&self, err: &anyhow::Error) {
        let status = error::exit_status(err);
        let hint = error::hint(err);
        let mut chain = err.chain().map(ToString::to_string);
        let message = chain.next().unwrap_or_default();
        let causes: Vec<String> = chain.collect();
        match self.format() {
            OutputFormat::Json => {
                let mut doc = serde_json::json!({
                    "error": {
                        "message": message,
                        "causes": causes,
                        "hint": hint,
                        "exit_code": status.code(),
                    }
                });
                if let Some(details) = error::details(err) {
                    doc["error"]["details"] = details;
                }
                let _ = write_stdout(&format!("{doc:#}\n"));
            }
            OutputFormat::Human => {
                let mut text = format!("{} {message}\n", self.paint("error:", RED));
                for cause in &causes {
                    text.push_str(&format!("  Caused by: {cause}\n"));
                }
                if let Some(hint) = hint {
                    text.push_str(&format!("{} {hint}\n", self.paint("hint:", CYAN)));
                }
                write_stderr(&text);
            }
        }
    }
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const CYAN: &str = "\x1b[1;36m";

impl Printer {
    /// `label` in `color` when stderr is a terminal and `NO_COLOR` is unset.
    fn paint(&self, label: &str, color: &str) -> String {
        if self.color {
            format!("{color}{label}\x1b[0m")
        } else {
            label.to_string()
        }
    }
}

/// Writes to stdout, tolerating a closed pipe.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    write_stdout_bytes(text.as_bytes())
}

fn write_stdout_bytes(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
