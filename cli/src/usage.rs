//! Clap's own errors as zkelf reports them. Help and version go to stdout and exit 0; everything
//! else is a usage error, exit 2, `zkelf` without a command included (its help goes to stderr).
//! Text mode shows clap's rendering; `--json` prints the one error document with
//! `"kind": "usage"`, built from the error's parts (the arguments as the usage line writes them,
//! `--output <PATH>`, `<REF>`), never from clap's rendered text.

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::error::{ErrorReport, ExitStatus};
use crate::printer::{write_stderr, write_stdout};

/// Prints what clap stopped on and returns the exit code it stands for.
pub fn clap_error(err: clap::Error, json: bool) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        _ if json => {
            let _ = write_stdout(&report(&err).json());
        }
        _ => write_stderr(&err.render().to_string()),
    }
    ExitStatus::Error.into()
}

/// The error document of a usage error.
pub fn report(err: &clap::Error) -> ErrorReport {
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
