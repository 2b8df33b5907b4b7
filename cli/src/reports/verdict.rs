//! The verdict `verify` and `pull` share, and the lines that show a signature's verdict.

use std::io::Write;

use serde::Serialize;
use zkelf_registry::verify::SignatureReport;
use zkelf_trust::policy::Role;
use zkelf_trust::statement::Statement;
use zkelf_trust::verify::Evaluation;

use crate::render::escape;

/// Whether the bytes verified, and on what grounds: one shape under `"verdict"` in `verify
/// --json` and `pull --json`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Verdict {
    /// True in a report; false under the error document's `verdict` (exit 1).
    pub verified: bool,
    /// True when no counting signature carries a zkelf statement: the pin alone names the
    /// bytes, and nothing binds guest, version or zkVM (`statement` is then `null`).
    pub unbound: bool,
    /// What held the bytes when unbound: `sha256`, `lock` or `allow_unbound`; `null` otherwise.
    pub pinned_by: Option<&'static str>,
    /// The statement of the signature that counted; `null` when unbound.
    pub statement: Option<Statement>,
    /// Every signature, whether it counts (`counts_for`) and why not (`reason`).
    pub signatures: Vec<SignatureReport>,
    /// Distinct attestations listed but not read (they do not count): past the bound on how
    /// many are read, or not read within `--attestation-timeout`.
    pub attestations_not_read: usize,
    /// Of those, the ones not read within `--attestation-timeout`.
    pub attestations_out_of_time: usize,
}

impl Verdict {
    /// The verdict of a failed evaluation: every signature as evaluated, `origin` naming each by
    /// its index.
    pub fn failed(evaluation: &Evaluation, origin: impl Fn(usize) -> String) -> Self {
        let counting = || evaluation.checks.iter().filter(|c| c.counts_for.is_some());
        Self {
            verified: false,
            unbound: counting().next().is_some() && counting().all(|c| c.unbound),
            pinned_by: None,
            statement: counting()
                .filter(|c| c.counts_for == Some(Role::Release))
                .find_map(|c| c.statement.clone()),
            signatures: evaluation
                .checks
                .iter()
                .map(|c| SignatureReport::of(c, origin(c.index)))
                .collect(),
            attestations_not_read: 0,
            attestations_out_of_time: 0,
        }
    }
}

/// The line saying how many attestations were listed but not read, when any were.
pub fn write_not_read(
    out: &mut dyn Write,
    not_read: usize,
    out_of_time: usize,
) -> std::io::Result<()> {
    if not_read == 0 {
        return Ok(());
    }
    let see = if out_of_time > 0 {
        " (see `--attestation-timeout`)"
    } else {
        ""
    };
    writeln!(
        out,
        "  {not_read} more attestations listed were not read ({}); they do not count{see}",
        zkelf_registry::artifact::why_not_read(not_read, out_of_time)
    )
}

/// One line per signature: who signed, whether it counts, and why not.
pub fn write_signature(out: &mut dyn Write, s: &SignatureReport) -> std::io::Result<()> {
    let key = escape(s.key_id.as_deref().unwrap_or("?"));
    let name = s
        .key_name
        .as_deref()
        .map(|n| format!(" ({})", escape(n)))
        .unwrap_or_default();
    // `release by key …` / `rebuild by key …`: the kind the statement claims.
    let by = s
        .kind
        .as_deref()
        .map_or_else(|| "key".to_owned(), |k| format!("{} by key", escape(k)));
    let origin = escape(&s.origin);
    match (&s.counts_for, &s.reason) {
        (Some(role), _) => writeln!(out, "  {origin}: {by} {key}{name} counts for {role}"),
        (None, Some(reason)) => writeln!(
            out,
            "  {origin}: {by} {key}{name} does not count: {}",
            escape(reason)
        ),
        (None, None) => writeln!(out, "  {origin}: {by} {key}{name} does not count"),
    }
}

/// One line per signature listed without a policy: who signed and what it claims.
pub fn write_unjudged_signature(out: &mut dyn Write, s: &SignatureReport) -> std::io::Result<()> {
    let key = escape(s.key_id.as_deref().unwrap_or("?"));
    let kind = escape(s.kind.as_deref().unwrap_or("unbound"));
    let origin = escape(&s.origin);
    match &s.reason {
        Some(reason) => writeln!(out, "  {origin}: unreadable: {}", escape(reason)),
        None => writeln!(out, "  {origin}: {kind} by key {key}, not judged"),
    }
}
