//! All output goes through here: data on stdout (human or `--json`), messages on stderr.

use std::io::{IsTerminal, Write};

use crate::args::{ColorChoice, GlobalArgs};
use crate::env::EnvVars;
use crate::error;
use crate::render::{Report, escape_lines};

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
            color: use_color(global.color),
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
            OutputFormat::Human => {
                report.human(&mut buf)?;
                // Reports carry strings from stores and files zkelf does not trust: whatever a
                // renderer missed, no escape sequence reaches the terminal.
                buf = escape_lines(&String::from_utf8_lossy(&buf))
                    .into_owned()
                    .into_bytes();
            }
        }
        write_stdout_bytes(&buf)?;
        Ok(())
    }

    /// A progress line on stderr (human mode, not `-q`).
    pub fn info(&self, message: impl std::fmt::Display) {
        if !self.quiet && self.format == OutputFormat::Human {
            write_stderr(&format!("{}\n", escape_lines(&message.to_string())));
        }
    }

    /// A warning on stderr, shown unless `-q`.
    pub fn warn(&self, message: impl std::fmt::Display) {
        if !self.quiet {
            write_stderr(&format!(
                "{} {}\n",
                self.paint("warning:", YELLOW),
                escape_lines(&message.to_string())
            ));
        }
    }

    /// Whether a progress bar may be drawn: stderr is a terminal, human mode, not quiet.
    pub fn progress_enabled(&self) -> bool {
        !self.quiet && self.format == OutputFormat::Human && std::io::stderr().is_terminal()
    }

    /// Prints an error: `error:`, `Caused by:` lines and a `hint:` (or one JSON document);
    /// returns the exit status it stands for.
    pub fn error(&self, err: &anyhow::Error) -> error::ExitStatus {
        let report = error::ErrorReport::of(err);
        match self.format() {
            OutputFormat::Json => {
                let _ = write_stdout(&report.json());
            }
            OutputFormat::Human => {
                let mut text = format!(
                    "{} {}\n",
                    self.paint("error:", RED),
                    escape_lines(&report.message)
                );
                for cause in &report.causes {
                    text.push_str(&format!("  Caused by: {}\n", escape_lines(cause)));
                }
                if let Some(hint) = &report.hint {
                    text.push_str(&format!(
                        "{} {}\n",
                        self.paint("hint:", CYAN),
                        escape_lines(hint)
                    ));
                }
                write_stderr(&text);
            }
        }
        report.status
    }
}

/// Whether stderr's labels are colored: `--color`, and for `auto` a terminal without
/// `NO_COLOR` (set and not empty, as <https://no-color.org> defines it).
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os(EnvVars::NO_COLOR).is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
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

/// Writes bytes to stdout, tolerating a closed pipe.
pub fn write_stdout_bytes(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes to stderr, ignoring failure (there is nowhere left to report it).
pub fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
