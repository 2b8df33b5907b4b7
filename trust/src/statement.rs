//! The signed statement (SPEC §2): the trusted comment of a zkelf signature.
//!
//! ```text
//! zkelf/1 kind=release guest=<name> version=<semver> zkvm=<id> target=<triple> sha256=<hex> size=<bytes> provenance=<sha256-hex|-> vk=<sha256-hex|-> created=<unix-seconds>
//! ```
//!
//! `kind=rebuild` adds `builder=<image-id>` before `created`. Parsing is strict: exactly this
//! order, single spaces, no unknown or missing field, every value in its canonical form, so that
//! `parse(render(s)) == s` and `render(parse(t)) == t` for every accepted `t`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::diagnose::Diagnose;
use crate::digest::Sha256Digest;
use crate::name::is_valid_name;

/// The first word of every statement of this format.
pub const HEADER: &str = "zkelf/1";
/// Upper bound on a statement's length in bytes.
pub const MAX_LEN: usize = 8192;

/// What a statement attests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The release manager's signature of the released ELF.
    Release,
    /// An auditor's attestation that a rebuild produced the same bytes.
    Rebuild,
}

impl Kind {
    /// The word used in the statement.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Release => "release",
            Kind::Rebuild => "rebuild",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A zkelf statement: what a signature binds to the ELF bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Statement {
    /// Release signature or rebuild attestation.
    pub kind: Kind,
    /// Guest name, `[a-z0-9][a-z0-9._-]{0,63}`.
    pub guest: String,
    /// Guest version.
    pub version: semver::Version,
    /// zkVM identifier, same pattern as `guest`.
    pub zkvm: String,
    /// Target triple the ELF was built for.
    pub target: String,
    /// SHA-256 of the ELF.
    pub sha256: Sha256Digest,
    /// Size of the ELF in bytes.
    pub size: u64,
    /// SHA-256 of the provenance document published with it, if any.
    pub provenance: Option<Sha256Digest>,
    /// SHA-256 of the verification key published with it, if any.
    pub vk: Option<Sha256Digest>,
    /// Builder image id; present exactly when `kind` is `rebuild`.
    pub builder: Option<String>,
    /// Unix seconds at signing (SOURCE_DATE_EPOCH when set).
    pub created: u64,
}

/// Why a text is not a valid statement, or a statement cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// Longer than [`MAX_LEN`].
    #[error("statement is {len} bytes long, more than the {MAX_LEN} allowed")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// Empty.
    #[error("statement is empty")]
    Empty,
    /// Leading or trailing whitespace.
    #[error("statement has leading or trailing whitespace")]
    SurroundingWhitespace,
    /// A byte outside printable ASCII (newline, tab, non-ASCII…).
    #[error("statement has a byte that is not printable ASCII at offset {offset}")]
    NotPrintable {
        /// Byte offset.
        offset: usize,
    },
    /// Two spaces in a row.
    #[error("statement has an empty field (two spaces in a row)")]
    EmptyField,
    /// Does not start with `zkelf/1`.
    #[error("statement does not start with `{HEADER}` but with `{found}`")]
    Header {
        /// The first word.
        found: String,
    },
    /// A field is missing at the end.
    #[error("statement is missing field `{field}`")]
    Missing {
        /// The field expected next.
        field: &'static str,
    },
    /// A field other than the one due at this position (reordered or unknown).
    #[error("statement has `{found}` where field `{expected}` belongs")]
    Unexpected {
        /// The field due here.
        expected: &'static str,
        /// What is there (its key, or the whole word if it has no `=`).
        found: String,
    },
    /// Words after the last field.
    #[error("statement has unexpected `{found}` after its last field")]
    Trailing {
        /// The first extra word.
        found: String,
    },
    /// A field whose value is not in its allowed form.
    #[error("statement field `{field}` has invalid value `{value}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// The value (truncated to 80 characters).
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `builder` present on a release statement or absent from a rebuild one.
    #[error("statement of kind `{kind}` {problem}")]
    Builder {
        /// The kind.
        kind: Kind,
        /// `has a builder` or `lacks a builder`.
        problem: &'static str,
    },
}

impl Diagnose for StatementError {}

impl Statement {
    /// Renders the statement as the one-line trusted comment.
    ///
    /// Call [`Statement::validate`] first for a statement built from untrusted parts; `sign`
    /// does.
    pub fn render(&self) -> String {
        let dash = |d: &Option<Sha256Digest>| d.map_or_else(|| "-".to_string(), |d| d.to_string());
        let mut out = format!(
            "{HEADER} kind={} guest={} version={} zkvm={} target={} sha256={} size={} provenance={} vk={}",
            self.kind,
            self.guest,
            self.version,
            self.zkvm,
            self.target,
            self.sha256,
            self.size,
            dash(&self.provenance),
            dash(&self.vk),
        );
        if let Some(builder) = &self.builder {
            out.push_str(" builder=");
            out.push_str(builder);
        }
        out.push_str(&format!(" created={}", self.created));
        out
    }

    /// Checks that the statement renders to text that parses back to itself.
    pub fn validate(&self) -> Result<(), StatementError> {
        check_name("guest", &self.guest)?;
        check_name("zkvm", &self.zkvm)?;
        check_target(&self.target)?;
        let version = self.version.to_string();
        if version.contains(' ') {
            return Err(invalid("version", &version, "must not contain spaces"));
        }
        match (self.kind, &self.builder) {
            (Kind::Release, Some(_)) => {
                return Err(StatementError::Builder {
                    kind: self.kind,
                    problem: "has a builder",
                });
            }
            (Kind::Rebuild, None) => {
                return Err(StatementError::Builder {
                    kind: self.kind,
                    problem: "lacks a builder",
                });
            }
            (Kind::Rebuild, Some(builder)) => check_builder(builder)?,
            (Kind::Release, None) => {}
        }
        let len = self.render().len();
        if len > MAX_LEN {
            return Err(StatementError::TooLong { len });
        }
        Ok(())
    }

    /// Whether a trusted comment claims to be a zkelf statement (of any format version).
    ///
    /// Such a comment must parse strictly; one that does not claim it is "unbound": it binds no
    /// guest, version or zkVM.
    pub fn is_claimed_by(comment: &str) -> bool {
        comment.starts_with("zkelf/")
    }

    /// Parses a trusted comment strictly.
    pub fn parse(text: &str) -> Result<Statement, StatementError> {
        if text.len() > MAX_LEN {
            return Err(StatementError::TooLong { len: text.len() });
        }
        if text.is_empty() {
            return Err(StatementError::Empty);
        }
        if let Some(offset) = text.bytes().position(|b| !(b' '..=b'~').contains(&b)) {
            return Err(StatementError::NotPrintable { offset });
        }
        if text.starts_with(' ') || text.ends_with(' ') {
            return Err(StatementError::SurroundingWhitespace);
        }
        let mut words = text.split(' ');
        let header = words.next().unwrap_or_default();
        if header != HEADER {
            return Err(StatementError::Header {
                found: truncate(header),
            });
        }
        let mut fields = Fields { words };

        let kind = match fields.next("kind")? {
            "release" => Kind::Release,
            "rebuild" => Kind::Rebuild,
            other => return Err(invalid("kind", other, "must be `release` or `rebuild`")),
        };
        let guest = fields.next("guest")?;
        check_name("guest", guest)?;
        let version_text = fields.next("version")?;
        let version = semver::Version::parse(version_text)
            .map_err(|_| invalid("version", version_text, "is not a semantic version"))?;
        if version.to_string() != version_text {
            return Err(invalid("version", version_text, "is not in canonical form"));
        }
        let zkvm = fields.next("zkvm")?;
        check_name("zkvm", zkvm)?;
        let target = fields.next("target")?;
        check_target(target)?;
        let sha256 = digest("sha256", fields.next("sha256")?)?;
        let size = number("size", fields.next("size")?)?;
        let provenance = optional_digest("provenance", fields.next("provenance")?)?;
        let vk = optional_digest("vk", fields.next("vk")?)?;
        let builder = match kind {
            Kind::Rebuild => {
                let builder = fields.next("builder")?;
                check_builder(builder)?;
                Some(builder.to_string())
            }
            Kind::Release => None,
        };
        let created = number("created", fields.next("created")?)?;
        if let Some(extra) = fields.words.next() {
            return Err(if extra.is_empty() {
                StatementError::EmptyField
            } else {
                StatementError::Trailing {
                    found: truncate(extra),
                }
            });
        }
        Ok(Statement {
            kind,
            guest: guest.to_string(),
            version,
            zkvm: zkvm.to_string(),
            target: target.to_string(),
            sha256,
            size,
            provenance,
            vk,
            builder,
            created,
        })
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl FromStr for Statement {
    type Err = StatementError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Statement::parse(s)
    }
}

struct Fields<'a> {
    words: std::str::Split<'a, char>,
}

impl<'a> Fields<'a> {
    /// The value of the next word, which must be `<field>=<value>`.
    fn next(&mut self, field: &'static str) -> Result<&'a str, StatementError> {
        let word = self.words.next().ok_or(StatementError::Missing { field })?;
        if word.is_empty() {
            return Err(StatementError::EmptyField);
        }
        match word.split_once('=') {
            Some((key, value)) if key == field => Ok(value),
            Some((key, _)) => Err(StatementError::Unexpected {
                expected: field,
                found: truncate(key),
            }),
            None => Err(StatementError::Unexpected {
                expected: field,
                found: truncate(word),
            }),
        }
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

fn invalid(field: &'static str, value: &str, reason: &'static str) -> StatementError {
    StatementError::Invalid {
        field,
        value: truncate(value),
        reason,
    }
}

fn check_name(field: &'static str, value: &str) -> Result<(), StatementError> {
    if is_valid_name(value) {
        Ok(())
    } else {
        Err(invalid(
            field,
            value,
            "must match `[a-z0-9][a-z0-9._-]{0,63}`",
        ))
    }
}

/// Whether `target` looks like a target triple: 2 to 5 `-`-separated parts of `[a-z0-9_.]`.
pub fn is_valid_target(target: &str) -> bool {
    let parts: Vec<&str> = target.split('-').collect();
    (2..=5).contains(&parts.len())
        && target.len() <= 128
        && parts.iter().all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.".contains(&b))
        })
}

fn check_target(value: &str) -> Result<(), StatementError> {
    if is_valid_target(value) {
        Ok(())
    } else {
        Err(invalid("target", value, "is not a target triple"))
    }
}

fn check_builder(value: &str) -> Result<(), StatementError> {
    let ok = !value.is_empty()
        && value.len() <= 512
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:@/+-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid("builder", value, "is not an image id"))
    }
}

fn digest(field: &'static str, value: &str) -> Result<Sha256Digest, StatementError> {
    value
        .parse()
        .map_err(|_| invalid(field, value, "is not 64 lowercase hex digits"))
}

fn optional_digest(
    field: &'static str,
    value: &str,
) -> Result<Option<Sha256Digest>, StatementError> {
    if value == "-" {
        Ok(None)
    } else {
        digest(field, value).map(Some)
    }
}

fn number(field: &'static str, value: &str) -> Result<u64, StatementError> {
    let n: u64 = value
        .parse()
        .map_err(|_| invalid(field, value, "is not a decimal number"))?;
    if n.to_string() != value {
        return Err(invalid(field, value, "is not in canonical decimal form"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn sample() -> Statement {
        Statement {
            kind: Kind::Release,
            guest: "stateless-validator".into(),
            version: "1.2.3".parse().unwrap(),
            zkvm: "sp1".into(),
            target: "riscv32im-unknown-none-elf".into(),
            sha256: SHA.parse().unwrap(),
            size: 1234,
            provenance: None,
            vk: Some(SHA.parse().unwrap()),
            builder: None,
            created: 1_700_000_000,
        }
    }

    fn sample_text() -> String {
        format!(
            "zkelf/1 kind=release guest=stateless-validator version=1.2.3 zkvm=sp1 \
             target=riscv32im-unknown-none-elf sha256={SHA} size=1234 provenance=- vk={SHA} \
             created=1700000000"
        )
    }

    #[test]
    fn renders_the_spec_layout_and_parses_back() {
        let s = sample();
        assert_eq!(s.render(), sample_text());
        assert_eq!(Statement::parse(&sample_text()).unwrap(), s);
        s.validate().unwrap();
    }

    #[test]
    fn rebuild_carries_builder_before_created() {
        let mut s = sample();
        s.kind = Kind::Rebuild;
        s.builder = Some("sha256:abc".into());
        let text = s.render();
        assert!(text.contains(" builder=sha256:abc created="), "{text}");
        assert_eq!(Statement::parse(&text).unwrap(), s);
        s.builder = None;
        assert!(s.validate().is_err());
    }

    fn rejects(text: &str) -> StatementError {
        match Statement::parse(text) {
            Ok(s) => panic!("accepted `{text}` as {s:?}"),
            Err(err) => err,
        }
    }

    #[test]
    fn rejects_near_misses() {
        let good = sample_text();
        let swap = good.replace(
            "guest=stateless-validator version=1.2.3",
            "version=1.2.3 guest=stateless-validator",
        );
        assert!(matches!(
            rejects(&swap),
            StatementError::Unexpected {
                expected: "guest",
                ..
            }
        ));
        assert!(matches!(
            rejects(&good.replace(" zkvm=sp1", "")),
            StatementError::Unexpected {
                expected: "zkvm",
                ..
            }
        ));
        assert!(matches!(
            rejects(&good.replace(" created=1700000000", "")),
            StatementError::Missing { field: "created" }
        ));
        assert!(matches!(
            rejects(&format!("{good} extra=1")),
            StatementError::Trailing { .. }
        ));
        assert!(matches!(
            rejects(&good.replace(" zkvm=sp1", " color=red zkvm=sp1")),
            StatementError::Unexpected { .. }
        ));
        assert_eq!(
            rejects(&good.replace(" zkvm=", "  zkvm=")),
            StatementError::EmptyField
        );
        assert_eq!(
            rejects(&format!("{good} ")),
            StatementError::SurroundingWhitespace
        );
        assert_eq!(
            rejects(&format!(" {good}")),
            StatementError::SurroundingWhitespace
        );
        assert!(matches!(
            rejects(&format!("{good}\n")),
            StatementError::NotPrintable { .. }
        ));
        assert!(matches!(
            rejects(&good.replace(' ', "\t")),
            StatementError::NotPrintable { .. }
        ));
        for bad_version in ["1.2", "v1.2.3", "01.2.3", "1.2.3.4", "latest"] {
            assert!(matches!(
                rejects(&good.replace("version=1.2.3", &format!("version={bad_version}"))),
                StatementError::Invalid {
                    field: "version",
                    ..
                }
            ));
        }
        for bad_guest in ["Stateless", "-x", ".x", "a/b", &"a".repeat(65), "é"] {
            let err = Statement::parse(
                &good.replace("guest=stateless-validator", &format!("guest={bad_guest}")),
            )
            .unwrap_err();
            assert!(
                matches!(
                    err,
                    StatementError::Invalid { field: "guest", .. }
                        | StatementError::NotPrintable { .. }
                ),
                "{bad_guest}: {err}"
            );
        }
        for bad_sha in [&SHA.to_uppercase(), &SHA[1..], &format!("{SHA}0"), "-"] {
            assert!(matches!(
                rejects(&good.replacen(&format!("sha256={SHA}"), &format!("sha256={bad_sha}"), 1)),
                StatementError::Invalid {
                    field: "sha256",
                    ..
                }
            ));
        }
        for bad_size in ["01234", "+1234", "-1", "1e3", ""] {
            assert!(matches!(
                rejects(&good.replace("size=1234", &format!("size={bad_size}"))),
                StatementError::Invalid { field: "size", .. }
            ));
        }
        assert!(matches!(
            rejects(&good.replace("zkelf/1", "zkelf/2")),
            StatementError::Header { .. }
        ));
        assert!(matches!(
            rejects(&good.replace("kind=release", "kind=Release")),
            StatementError::Invalid { field: "kind", .. }
        ));
        assert!(matches!(
            rejects(&good.replace("target=riscv32im-unknown-none-elf", "target=riscv32im")),
            StatementError::Invalid {
                field: "target",
                ..
            }
        ));
        assert!(matches!(
            rejects(&good.replace(" created=", " builder=img created=")),
            StatementError::Unexpected {
                expected: "created",
                ..
            }
        ));
        assert!(matches!(
            rejects(&"x".repeat(MAX_LEN + 1)),
            StatementError::TooLong { .. }
        ));
        assert_eq!(rejects(""), StatementError::Empty);
    }

    #[test]
    fn knows_which_comments_claim_to_be_statements() {
        assert!(Statement::is_claimed_by(&sample_text()));
        assert!(Statement::is_claimed_by("zkelf/9 whatever"));
        assert!(!Statement::is_claimed_by(
            "timestamp:1700000000\tfile:fib.elf"
        ));
    }

    fn name() -> impl Strategy<Value = String> {
        "[a-z0-9][a-z0-9._-]{0,63}"
    }

    fn digest() -> impl Strategy<Value = Sha256Digest> {
        any::<[u8; 32]>().prop_map(Sha256Digest)
    }

    fn version() -> impl Strategy<Value = semver::Version> {
        (
            0u64..1000,
            0u64..1000,
            0u64..1000,
            proptest::option::of("[a-z][a-z0-9]{0,6}(\\.[1-9][0-9]{0,3})?"),
            proptest::option::of("[a-z0-9]{1,8}"),
        )
            .prop_map(|(major, minor, patch, pre, build)| {
                let mut v = semver::Version::new(major, minor, patch);
                if let Some(pre) = pre {
                    v.pre = semver::Prerelease::new(&pre).unwrap();
                }
                if let Some(build) = build {
                    v.build = semver::BuildMetadata::new(&build).unwrap();
                }
                v
            })
    }

    fn statement() -> impl Strategy<Value = Statement> {
        (
            any::<bool>(),
            name(),
            version(),
            name(),
            "[a-z0-9_]{1,12}(-[a-z0-9_.]{1,10}){1,3}",
            digest(),
            any::<u64>(),
            proptest::option::of(digest()),
            proptest::option::of(digest()),
            "[A-Za-z0-9._:@/+-]{1,80}",
            any::<u64>(),
        )
            .prop_map(
                |(
                    rebuild,
                    guest,
                    version,
                    zkvm,
                    target,
                    sha256,
                    size,
                    provenance,
                    vk,
                    builder,
                    created,
                )| {
                    Statement {
                        kind: if rebuild {
                            Kind::Rebuild
                        } else {
                            Kind::Release
                        },
                        guest,
                        version,
                        zkvm,
                        target,
                        sha256,
                        size,
                        provenance,
                        vk,
                        builder: rebuild.then_some(builder),
                        created,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn round_trips(s in statement()) {
            prop_assert!(s.validate().is_ok());
            let text = s.render();
            prop_assert_eq!(Statement::parse(&text).unwrap(), s);
        }

        #[test]
        fn accepted_text_renders_back_identically(s in statement(), cut in 0usize..400) {
            // Any prefix of a valid statement is either rejected or (only the whole) identical.
            let text = s.render();
            let cut = cut.min(text.len());
            if let Ok(parsed) = Statement::parse(&text[..cut]) {
                prop_assert_eq!(parsed.render(), &text[..cut]);
            }
        }

        #[test]
        fn never_panics(text in "\\PC{0,300}") {
            let _ = Statement::parse(&text);
        }
    }
}
