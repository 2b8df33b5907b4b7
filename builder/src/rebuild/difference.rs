//! One way this builder differs from the one a provenance records: a typed value the caller
//! renders (as sigstore's policy mismatches are).

use serde::Serialize;

/// One way this builder differs from the one a provenance records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Difference {
    /// What differs (`rustc -vV`, `Debian package \`lld\``, `environment variable \`TZ\``).
    pub what: String,
    /// The recorded value (its first differing line), or `<none>`.
    pub recorded: String,
    /// This builder's value, or `<none>`.
    pub ours: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: recorded `{}`, this builder has `{}`",
            self.what, self.recorded, self.ours
        )
    }
}
