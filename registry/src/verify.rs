//! The bridge to zkelf-trust: the claimed statement checked against what the caller asked,
//! and the policy evaluation (`zkelf_trust::verify::evaluate`) of every signature a pull fetched
//! (each parsed once, in `crate::signature`).

use serde::Serialize;
use zkelf_trust::policy::Policy;
use zkelf_trust::statement::Statement;
pub use zkelf_trust::verify::{Expected, Labels, Options, Subject, Verified, VerifyError};

use crate::error::VerificationError;
use crate::signature::FetchedSignature;

/// Checks the claimed (not yet verified) statement against what the caller asked for, so the
/// wrong software is refused before its ELF is downloaded; `evaluate` checks again afterwards.
pub fn check_expectation(
    claimed: &Statement,
    expected: &Expected,
) -> Result<(), VerificationError> {
    let mismatch = |field, expected: String, found: String| VerificationError::Unexpected {
        field,
        expected,
        found,
    };
    if let Some(g) = expected.guest.as_ref().filter(|g| **g != claimed.guest) {
        return Err(mismatch("guest", g.clone(), claimed.guest.clone()));
    }
    if let Some(v) = expected.version.as_ref().filter(|v| **v != claimed.version) {
        return Err(mismatch(
            "version",
            v.to_string(),
            claimed.version.to_string(),
        ));
    }
    if let Some(z) = expected.zkvm.as_ref().filter(|z| **z != claimed.zkvm) {
        return Err(mismatch("zkvm", z.clone(), claimed.zkvm.clone()));
    }
    Ok(())
}

/// One signature and whether it counts.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SignatureReport {
    /// Where it came from (`release layer`, `attestation sha256:…`).
    pub origin: String,
    /// The key that made it (16 hex digits).
    pub key_id: Option<String>,
    /// The key's name in the policy.
    pub key_name: Option<String>,
    /// `release` or `rebuild`, when its statement parses.
    pub kind: Option<String>,
    /// The role it counts for, if it counts.
    pub counts_for: Option<String>,
    /// Why it does not count.
    pub reason: Option<String>,
}

impl SignatureReport {
    /// The report of one evaluated signature, which came from `origin`.
    pub fn of(check: &zkelf_trust::verify::SignatureCheck, origin: String) -> Self {
        Self {
            origin,
            key_id: Some(check.key_id.to_string()),
            key_name: check.key_name.clone(),
            kind: check.statement.as_ref().map(|s| s.kind.to_string()),
            counts_for: check.counts_for.map(|r| r.as_str().to_owned()),
            reason: check.rejection.as_ref().map(|r| r.full_message()),
        }
    }
}

/// The policy's evaluation of a pull's signatures.
#[derive(Debug)]
pub struct Evaluated {
    /// Every signature with whether it counts, in the order fetched.
    pub reports: Vec<SignatureReport>,
    /// The verdict.
    pub outcome: Result<Verified, Box<VerifyError>>,
}

/// Evaluates every fetched signature for `subject` under `policy`.
pub fn evaluate(
    policy: &Policy,
    subject: &Subject,
    fetched: &[FetchedSignature],
    expected: &Expected,
    options: &Options,
) -> Evaluated {
    let mut unreadable = Vec::new();
    let mut parsed = Vec::new();
    let mut origins = Vec::new();
    for f in fetched {
        match f.parsed() {
            Ok(sig) => {
                parsed.push(sig.clone());
                origins.push(f.origin.clone());
            }
            Err(e) => unreadable.push(SignatureReport {
                origin: f.origin.clone(),
                key_id: None,
                key_name: None,
                kind: None,
                counts_for: None,
                reason: Some(e.to_string()),
            }),
        }
    }
    let evaluation = zkelf_trust::verify::evaluate(policy, subject, &parsed, expected, options);
    let mut reports: Vec<SignatureReport> = evaluation
        .checks
        .iter()
        .map(|c| SignatureReport::of(c, origins.get(c.index).cloned().unwrap_or_default()))
        .collect();
    reports.extend(unreadable);
    Evaluated {
        reports,
        outcome: evaluation.into_verified(),
    }
}
