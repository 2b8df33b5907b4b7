//! Clap's own errors as zkelf reports them. Help and version go to stdout and exit 0; everything
//! else is a usage error, exit 2, `zkelf` without a command included (its help goes to stderr).
//! Text mode shows clap's rendering; `--json` prints the one error document with
//! `"kind": "usage"`, built from the error's parts (the arguments as the usage line writes them,
//! `--output <PATH>`, `<REF>`), never from clap's rendered text. An argument that is not UTF-8
//! is such an error too, named with its bytes escaped.
//!
//! `--json` and `--color` are read from the raw arguments first ([`Early`]), since clap's help
//! and errors are printed before there is a parsed command line to ask.

use std::ffi::{OsStr, OsString};
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::args::ColorChoice;
use crate::env::EnvVars;
use crate::error::{ErrorReport, ExitStatus};
use crate::printer::{use_color, write_stderr, write_stdout};

/// The global flags that decide how clap's own output looks, read before clap parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Early {
    /// `--json`: a usage error is the JSON error document.
    pub json: bool,
    /// `--color`, the last one given; `auto` when absent or not one of the values (clap then
    /// refuses it).
    pub color: ColorChoice,
}

impl Early {
    /// `--json` and `--color <WHEN>`/`--color=<WHEN>` among `args` (the program's name first),
    /// before `--` only: an operand after it is never a flag.
    pub fn scan(args: &[OsString]) -> Self {
        let mut early = Self {
            json: false,
            color: ColorChoice::Auto,
        };
        let mut rest = args.iter().skip(1).map(OsString::as_os_str);
        while let Some(arg) = rest.next() {
            if arg == "--" {
                break;
            }
            let value = if arg == "--json" {
                early.json = true;
                continue;
            } else if arg == "--color" {
                rest.next()
            } else {
                arg.to_str()
                    .and_then(|a| a.strip_prefix("--color="))
                    .map(OsStr::new)
            };
            if let Some(value) = value {
                early.color = match value.to_str() {
                    Some("always") => ColorChoice::Always,
                    Some("never") => ColorChoice::Never,
                    _ => ColorChoice::Auto,
                };
            }
        }
        early
    }
}

/// clap's color choice for its help (on stdout) and errors: `auto` leaves the terminal test to
/// clap, after `NO_COLOR` (set and not empty) has had its say.
pub fn clap_color(choice: ColorChoice) -> clap::ColorChoice {
    match choice {
        ColorChoice::Always => clap::ColorChoice::Always,
        ColorChoice::Never => clap::ColorChoice::Never,
        ColorChoice::Auto if std::env::var_os(EnvVars::NO_COLOR).is_some_and(|v| !v.is_empty()) => {
            clap::ColorChoice::Never
        }
        ColorChoice::Auto => clap::ColorChoice::Auto,
    }
}

/// Prints what clap stopped on and returns the exit code it stands for.
pub fn clap_error(err: clap::Error, early: &Early, args: &[OsString]) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        _ if early.json => {
            let _ = write_stdout(&report(&err, args).json());
        }
        _ => {
            let rendered = err.render();
            let mut text = if use_color(early.color) {
                rendered.ansi().to_string()
            } else {
                rendered.to_string()
            };
            // clap does not say which argument; the snapshot of this error shows if its
            // wording ever changes.
            if err.kind() == ErrorKind::InvalidUtf8
                && let Some(arg) = not_utf8(args)
            {
                text = text.replacen(
                    "invalid UTF-8 was detected in one or more arguments",
                    &format!("argument `{arg}` is not valid UTF-8"),
                    1,
                );
            }
            write_stderr(&text);
        }
    }
    ExitStatus::Error.into()
}

/// The first of `args` (after the program's name) that is not UTF-8, its bytes escaped
/// (`\xff`).
fn not_utf8(args: &[OsString]) -> Option<String> {
    args.iter()
        .skip(1)
        .find(|a| a.to_str().is_none())
        .map(|a| a.as_encoded_bytes().escape_ascii().to_string())
}

/// The error document of a usage error; `args` are the arguments clap was given.
pub fn report(err: &clap::Error, args: &[OsString]) -> ErrorReport {
    let strings = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(v)) => v.clone(),
        _ => Vec::new(),
    };
    let quoted = |kind| {
        strings(kind)
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let arg = quoted(ContextKind::InvalidArg);
    let value = quoted(ContextKind::InvalidValue);
    let mut causes = Vec::new();
    let message = match err.kind() {
        ErrorKind::MissingRequiredArgument => {
            let n = strings(ContextKind::InvalidArg).len();
            let plural = if n == 1 { "" } else { "s" };
            format!("missing required argument{plural}: {arg}")
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "no command given".to_owned()
        }
        ErrorKind::InvalidSubcommand => {
            format!("unknown command {}", quoted(ContextKind::InvalidSubcommand))
        }
        ErrorKind::UnknownArgument => format!("unexpected argument {arg}"),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            if let Some(source) = std::error::Error::source(err) {
                causes.push(source.to_string());
            }
            let valid = quoted(ContextKind::ValidValue);
            if !valid.is_empty() {
                causes.push(format!("possible values: {valid}"));
            }
            if value.is_empty() {
                format!("a value is required for {arg}")
            } else {
                format!("invalid value {value} for {arg}")
            }
        }
        ErrorKind::InvalidUtf8 => match not_utf8(args) {
            Some(arg) => format!("argument `{arg}` is not valid UTF-8"),
            None => "an argument is not valid UTF-8".to_owned(),
        },
        ErrorKind::ArgumentConflict => format!(
            "{arg} cannot be used with {}",
            quoted(ContextKind::PriorArg)
        ),
        kind if arg.is_empty() => kind.to_string(),
        kind => format!("{kind}: {arg}"),
    };
    let suggested = [
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedArg,
        ContextKind::SuggestedValue,
    ]
    .into_iter()
    .map(quoted)
    .find(|s| !s.is_empty());
    let hint = match suggested {
        Some(s) => format!("did you mean {s}?"),
        None => "run `zkelf --help`, or `zkelf <command> --help`, for usage".to_owned(),
    };
    ErrorReport::usage(message, causes, hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(args: &[&str]) -> Early {
        let args: Vec<OsString> = std::iter::once("zkelf")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        Early::scan(&args)
    }

    #[test]
    fn early_flags_are_read_before_clap_and_before_double_dash_only() {
        let early = |json, color| Early { json, color };
        assert_eq!(scan(&[]), early(false, ColorChoice::Auto));
        assert_eq!(
            scan(&["--json", "pull", "--color", "never"]),
            early(true, ColorChoice::Never)
        );
        assert_eq!(scan(&["--color=always"]), early(false, ColorChoice::Always));
        // The last one given wins; a value clap will refuse reads as `auto`.
        assert_eq!(
            scan(&["--color=always", "--color", "sometimes"]),
            early(false, ColorChoice::Auto)
        );
        assert_eq!(
            scan(&["pull", "--", "--json", "--color=always"]),
            early(false, ColorChoice::Auto)
        );
        // `--color` as the last word has no value.
        assert_eq!(scan(&["--color"]), early(false, ColorChoice::Auto));
    }

    #[test]
    fn an_argument_that_is_not_utf8_is_named_escaped() {
        use std::os::unix::ffi::OsStringExt as _;
        let args = vec![
            OsString::from("zkelf"),
            OsString::from("pull"),
            OsString::from_vec(b"a\xffb`".to_vec()),
        ];
        assert_eq!(not_utf8(&args).as_deref(), Some("a\\xffb`"));
        assert_eq!(not_utf8(&args[..2]), None);
    }
}
