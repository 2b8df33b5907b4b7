//! Exit codes (SPEC §9) and how errors are classified and hinted.
//!
//! 0: ok. 1: verification failed (signature, digest, statement, policy, rollback).
//! 2: any other error (usage, I/O, network, Docker).

use std::process::ExitCode;

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

impl UsageError {
    /// A usage error with a hint.
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}

/// Classifies an error: verification failures anywhere in the chain exit 1, all else 2.
pub fn exit_status(err: &anyhow::Error) -> ExitStatus {
    // Each library names its own verification failures; list them here.
    for cause in err.chain() {
        if is_verification_failure(cause) {
            return ExitStatus::Failure;
        }
    }
    ExitStatus::Error
}

fn is_verification_failure(cause: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(e) = cause.downcast_ref::<zkelf_builder::BuilderError>() {
        return e.is_verification_failure();
    }
    if let Some(e) = cause.downcast_ref::<zkelf_registry::Error>() {
        return e.is_verification_failure();
    }
    cause.is::<zkelf_registry::VerificationError>()
        || cause
            .downcast_ref::<zkelf_zkvm::VkError>()
            .is_some_and(|e| !matches!(e, zkelf_zkvm::VkError::Read(_)))
        || is_trust_verification_failure(cause)
}

/// zkelf-trust's verification failures.
fn is_trust_verification_failure(cause: &(dyn std::error::Error + 'static)) -> bool {
    use zkelf_trust::signature::SignatureError;
    use zkelf_trust::verify::VerifyError;
    cause.is::<VerifyError>()
        || cause.is::<Box<VerifyError>>()
        // A signature file that was read but is garbage fails verification; one that cannot be
        // read is an I/O error.
        || cause
            .downcast_ref::<SignatureError>()
            .is_some_and(SignatureError::is_malformed)
}

/// Structured details for `--json` errors: for a failed verification, every signature's
/// verdict and the counts per role.
pub fn details(err: &anyhow::Error) -> Option<serde_json::Value> {
    use zkelf_trust::verify::VerifyError;
    err.chain().find_map(|cause| {
        let verify = cause
            .downcast_ref::<VerifyError>()
            .or_else(|| cause.downcast_ref::<Box<VerifyError>>().map(|b| &**b))?;
        serde_json::to_value(&verify.evaluation).ok()
    })
}

/// The first hint any error in the chain offers.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        if let Some(usage) = cause.downcast_ref::<UsageError>() {
            return usage.hint.clone();
        }
        if let Some(e) = cause.downcast_ref::<zkelf_builder::BuilderError>() {
            return e.hint();
        }
        if let Some(e) = cause.downcast_ref::<zkelf_registry::Error>() {
            return e.hint();
        }
        if let Some(e) = cause.downcast_ref::<zkelf_registry::VerificationError>() {
            return e.hint();
        }
        if let Some(e) = cause.downcast_ref::<zkelf_registry::store::StoreError>() {
            return e.hint();
        }
        if let Some(e) = cause.downcast_ref::<zkelf_registry::reference::ReferenceError>() {
            return e.hint();
        }
        if let Some(e) = cause.downcast_ref::<zkelf_zkvm::VkError>() {
            return e.hint();
        }
        if let Some(hint) = trust_hint(cause) {
            return Some(hint);
        }
        None
    })
}

/// Hints of zkelf-trust's error types.
fn trust_hint(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    use zkelf_trust::{elf, keys, policy, signature, verify};
    if let Some(err) = cause.downcast_ref::<verify::VerifyError>() {
        return err.hint();
    }
    if let Some(err) = cause.downcast_ref::<Box<verify::VerifyError>>() {
        return err.hint();
    }
    if let Some(err) = cause.downcast_ref::<signature::SignatureError>() {
        return err.hint();
    }
    if let Some(err) = cause.downcast_ref::<policy::PolicyError>() {
        return err.hint();
    }
    if let Some(err) = cause.downcast_ref::<keys::KeyError>() {
        return err.hint();
    }
    if let Some(err) = cause.downcast_ref::<elf::ElfError>() {
        return err.hint();
    }
    None
}
