//! All output goes through here: data on stdout (human or `--json`), messages on stderr.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

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

/// A string from a store or a file zkelf does not trust, made safe to print on one line: C0
/// controls (ESC, CR, LF, tab…), DEL, C1 controls and the bidi overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069, and the marks U+200E, U+200F, U+061C) are shown as escapes
/// (`\x1b`, `\r`, `\u{202e}`), so such a string cannot move the cursor, clear the screen,
/// reorder the text or start a line of its own. JSON output needs none of this: serde escapes.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_with(text, false)
}

/// Like [`escape`] for text of several lines: newlines are kept.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    escape_with(text, true)
}

fn escape_with(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && !(keep_newlines && c == '\n'))
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}')
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if !unsafe_char(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// Prints a statement's fields, one per line.
pub fn write_statement(
    out: &mut dyn Write,
    s: &zkelf_trust::statement::Statement,
) -> std::io::Result<()> {
    let dash = |d: &Option<zkelf_trust::digest::Sha256Digest>| {
        d.map_or_else(|| "-".to_string(), |d| d.to_string())
    };
    writeln!(out, "  kind        {}", s.kind)?;
    writeln!(out, "  guest       {}", s.guest)?;
    writeln!(out, "  version     {}", s.version)?;
    writeln!(out, "  zkvm        {}", s.zkvm)?;
    writeln!(out, "  target      {}", s.target)?;
    writeln!(out, "  sha256      {}", s.sha256)?;
    writeln!(out, "  size        {}", s.size)?;
    writeln!(out, "  provenance  {}", dash(&s.provenance))?;
    writeln!(out, "  vk          {}", dash(&s.vk))?;
    if let Some(builder) = &s.builder {
        writeln!(out, "  builder     {builder}")?;
    }
    writeln!(out, "  created     {}", s.created)
}

/// Clap's own errors: help and version go to stdout with 0, usage errors exit 2.
pub fn clap_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let code = match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
        _ => error::ExitStatus::Error.code(),
    };
    if code != 0 && std::env::args().any(|arg| arg == "--json") {
        let report = error::ErrorReport::usage(
            err.kind().to_string().to_lowercase(),
            err.render().to_string(),
            "run `zkelf --help` for usage",
        );
        let _ = write_stdout(&report.json());
        return ExitCode::from(code);
    }
    let _ = err.print();
    ExitCode::from(code)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_act_on() {
        assert!(matches!(escape("fib 1.0.0 ünïcode"), Cow::Borrowed(_)));
        assert_eq!(
            escape("a\x1b[2J\x1b[H\rverdict ok\nb\tc\x7f\u{9b}31m"),
            "a\\x1b[2J\\x1b[H\\rverdict ok\\nb\\tc\\x7f\\u{9b}31m"
        );
        assert_eq!(
            escape("\u{202e}gpj.exe\u{2066}x\u{2069}\u{200f}"),
            "\\u{202e}gpj.exe\\u{2066}x\\u{2069}\\u{200f}"
        );
        assert_eq!(escape_lines("one\ntwo\x1b[1A\r"), "one\ntwo\\x1b[1A\\r");
    }
}
