//! Exit codes (SPEC §9), and what a failure says: every cause of the chain is asked once,
//! through the libraries' `Diagnose` trait, for its outcome and its hint; the result is the one
//! error document (`--json`) and what the printer shows.
//!
//! 0: ok. 1: verification failed (signature, digest, statement, policy, rollback).
//! 2: any other error (usage, I/O, network, Docker).

use std::error::Error as StdError;
use std::process::ExitCode;

use serde::Serialize;
use zkelf_trust::diagnose::{Diagnose, Outcome};
use zkelf_trust::verify::VerifyError;

use crate::reports::verdict::Verdict;

/// What the process reports to its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked for was done and verified.
    Success,
    /// Verification failed: the bytes are not the release the policy accepts.
    Failure,
    /// Any other error: usage, I/O, network, Docker.
    Error,
}

impl ExitStatus {
    /// The numeric exit code of the SPEC §9 contract.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

/// An error in how zkelf was called, with a hint on how to call it instead.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    /// What was wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Diagnose for UsageError {
    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}

impl UsageError {
    /// A usage error with a hint.
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}

/// What kind of failure an error document reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// zkelf was called wrongly (exit 2): a missing or unknown argument, a bad value.
    Usage,
    /// The bytes are not the release the policy accepts (exit 1).
    Verification,
    /// Anything else (exit 2): I/O, network, Docker.
    Other,
}

/// A failure as the user sees it, in the shape of the `--json` error document
/// (`{"error": {…}}`).
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ErrorReport {
    /// The messages of the causes, outermost first, after the message.
    pub causes: Vec<String>,
    /// For a failed verification: the verdict, in the shape of the success's (`verified:
    /// false`), with every signature and why it does not count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// The exit code (SPEC §9).
    pub exit_code: u8,
    /// How to get past it: the first hint a cause offers.
    pub hint: Option<String>,
    /// `usage`, `verification` or `other`.
    pub kind: ErrorKind,
    /// The outermost message.
    pub message: String,
    /// The exit status the code stands for.
    #[serde(skip)]
    pub status: ExitStatus,
}

impl ErrorReport {
    /// Walks `err`'s chain once: a verification failure anywhere makes it exit 1, all else 2;
    /// the first hint offered is kept, and a failed policy evaluation's verdict.
    pub fn of(err: &anyhow::Error) -> Self {
        let mut status = ExitStatus::Error;
        let mut hint = None;
        let mut verdict = None;
        let mut usage = false;
        for cause in err.chain() {
            if let Some(diagnosed) = diagnosable(cause) {
                if diagnosed.outcome() == Outcome::VerificationFailed {
                    status = ExitStatus::Failure;
                }
                hint = hint.or_else(|| diagnosed.hint());
            }
            usage |= cause.is::<UsageError>();
            verdict = verdict.or_else(|| failed_verdict(cause));
        }
        let kind = match status {
            ExitStatus::Failure => ErrorKind::Verification,
            _ if usage => ErrorKind::Usage,
            _ => ErrorKind::Other,
        };
        let mut messages = err.chain().map(ToString::to_string);
        Self {
            message: messages.next().unwrap_or_default(),
            causes: messages.collect(),
            verdict,
            exit_code: status.code(),
            hint,
            kind,
            status,
        }
    }

    /// A usage error found before any command ran (clap's).
    pub fn usage(message: String, causes: Vec<String>, hint: String) -> Self {
        let status = ExitStatus::Error;
        Self {
            causes,
            verdict: None,
            exit_code: status.code(),
            hint: Some(hint),
            kind: ErrorKind::Usage,
            message,
            status,
        }
    }

    /// The `--json` error document, pretty-printed, with a final newline.
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&ErrorDocument { error: self })
            .unwrap_or_else(|_| String::from("{}"));
        text.push('\n');
        text
    }
}

/// The `--json` document of every failure: `{"error": {…}}`.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ErrorDocument<'a> {
    /// The failure.
    pub error: &'a ErrorReport,
}

/// A failed policy evaluation with the verdict its command built (each signature named by
/// where it came from); it reads, and diagnoses, as the evaluation's error.
#[derive(Debug)]
pub struct Judged {
    /// The verdict, `verified: false`.
    pub verdict: Verdict,
    error: Box<VerifyError>,
}

impl Judged {
    /// `error` with the verdict `origin` names the signatures of (by their index).
    pub fn new(error: Box<VerifyError>, origin: impl Fn(usize) -> String) -> Self {
        Self {
            verdict: Verdict::failed(&error.evaluation, origin),
            error,
        }
    }
}

impl std::fmt::Display for Judged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl StdError for Judged {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.error.source()
    }
}

impl Diagnose for Judged {
    fn outcome(&self) -> Outcome {
        self.error.outcome()
    }

    fn hint(&self) -> Option<String> {
        self.error.hint()
    }
}

/// The error types that say how they end and how to get past them, as the one trait they share:
/// the one list of downcasts (a chain's causes are `dyn Error`, which cannot be asked for a
/// trait directly). A library error type missing here is neither hinted nor counted as a
/// verification failure.
fn diagnosable<'a>(cause: &'a (dyn StdError + 'static)) -> Option<&'a dyn Diagnose> {
    use zkelf_builder::BuilderError;
    use zkelf_registry::artifact::{LayoutError, UntaggableVersion};
    use zkelf_registry::auth::{AuthError, ConfigProblem, HelperFailure};
    use zkelf_registry::error::{DistProblem, StateFileProblem, VkUnvouched};
    use zkelf_registry::fsutil::NotOurs;
    use zkelf_registry::reference::{ReferenceError, ReferenceProblem};
    use zkelf_registry::signature::SignatureProblem;
    use zkelf_registry::store::https::RedirectRefused;
    use zkelf_registry::store::{OpenProblem, ProtocolViolation, StoreError};
    use zkelf_registry::{Error as RegistryError, VerificationError};
    use zkelf_trust::bounded::{BoundedReadError, FileKind};
    use zkelf_trust::digest::{DigestParseError, OciDigestError, ReadError};
    use zkelf_trust::elf::{ElfError, ElfProblem};
    use zkelf_trust::keys::KeyError;
    use zkelf_trust::policy::PolicyError;
    use zkelf_trust::signature::{SignatureCheckError, SignatureError};
    use zkelf_trust::statement::StatementError;
    use zkelf_trust::verify::{Rejection, Uncheckable};
    use zkelf_zkvm::VkError;
    use zkelf_zkvm::risc0::Risc0Error;
    macro_rules! first_of {
        ($($error:ty),+ $(,)?) => {
            $(if let Some(e) = cause.downcast_ref::<$error>() {
                return Some(e);
            })+
        };
    }
    first_of!(
        UsageError,
        UntaggableVersion,
        Judged,
        BuilderError,
        RegistryError,
        VerificationError,
        SignatureProblem,
        VkUnvouched,
        DistProblem,
        StateFileProblem,
        StoreError,
        OpenProblem,
        ProtocolViolation,
        ReferenceError,
        ReferenceProblem,
        LayoutError,
        AuthError,
        ConfigProblem,
        HelperFailure,
        RedirectRefused,
        NotOurs,
        VkError,
        Risc0Error,
        VerifyError,
        Box<VerifyError>,
        Rejection,
        Uncheckable,
        SignatureError,
        SignatureCheckError,
        StatementError,
        PolicyError,
        KeyError,
        ElfError,
        ElfProblem,
        BoundedReadError,
        FileKind,
        DigestParseError,
        OciDigestError,
        ReadError,
    );
    None
}

/// A failed policy evaluation's verdict: the command's own when it built one ([`Judged`]), else
/// one naming each signature by its position.
fn failed_verdict(cause: &(dyn StdError + 'static)) -> Option<Verdict> {
    if let Some(judged) = cause.downcast_ref::<Judged>() {
        return Some(judged.verdict.clone());
    }
    let verify = cause
        .downcast_ref::<VerifyError>()
        .or_else(|| cause.downcast_ref::<Box<VerifyError>>().map(|b| &**b))?;
    Some(Verdict::failed(&verify.evaluation, |i| {
        format!("signature {}", i + 1)
    }))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every error type of the workspace that implements `Diagnose` is in `diagnosable`'s list:
    /// a type left out would lose its hint and its exit status without any test noticing.
    #[test]
    fn every_diagnose_implementation_is_downcast() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let this = std::fs::read_to_string(root.join("cli/src/error.rs")).unwrap();
        let list = this
            .split("first_of!(")
            .nth(1)
            .and_then(|rest| rest.split(");").next())
            .expect("the first_of! list");
        let listed: Vec<&str> = list.split(',').map(str::trim).collect();
        let mut missing = Vec::new();
        for krate in ["builder", "cli", "registry", "trust", "zkvm"] {
            for file in rust_files(&root.join(krate).join("src")) {
                let text = std::fs::read_to_string(&file).unwrap();
                for line in text.lines() {
                    let Some(rest) = line.split("Diagnose for ").nth(1) else {
                        continue;
                    };
                    if !line.trim_start().starts_with("impl") {
                        continue;
                    }
                    let ty = rest.split([' ', '{']).next().unwrap();
                    // Listed under the name this file imports it as (`Error as RegistryError`).
                    let imported = format!("{ty} as ");
                    let mut names = this
                        .split(&imported)
                        .skip(1)
                        .filter_map(|rest| rest.split(['}', ';', ',']).next())
                        .chain([ty]);
                    if ty != "Box<T>" && !names.any(|name| listed.contains(&name)) {
                        missing.push(format!("{ty} ({})", file.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "not in `diagnosable`: {missing:?}");
    }

    fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(rust_files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        out
    }
}
