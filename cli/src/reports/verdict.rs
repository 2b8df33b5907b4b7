//! The verdict `verify` and `pull` share, and the lines that show a signature's verdict.

use std::io::Write;

use serde::Serialize;
use zkelf_registry::verify::SignatureReport;
use zkelf_trust::statement::Statement;

use crate::printer::escape;

/// Whether the bytes verified, and on what grounds: one shape under `"verdict"` in `verify
/// --json` and `pull --json`.
#[derive(Debug, Serialize)]
pub struct Verdict {
    /// Always true on stdout: a failed verification is an error (exit 1), not a report.
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
    /// Distinct attestations listed past the bound on how many are read (they do not count).
    pub attestations_not_read: usize,
}

/// The line saying how many attestations were listed but not read, when any were.
pub fn write_not_read(out: &mut dyn Write, not_read: usize) -> std::io::Result<()> {
    if not_read == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "  {not_read} more attestations listed were not read (at most {} are read); they do not count",
        zkelf_registry::artifact::MAX_REFERRERS
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
