//! The trust policy (SPEC §3): which keys count, for which role and guests, until when, and how
//! many must have signed. Loading validates everything it cannot honour.
//!
//! ```toml
//! version = 1
//! revoked = []                          # key ids that no longer count
//!
//! [[key]]
//! name = "release-2026"
//! public = "RWQ..."                     # or: file = "release-2026.pub" (relative to this file)
//! roles = ["release"]                   # release | rebuild
//! guests = ["stateless-validator-*"]    # default ["*"]
//! not_after = 2027-12-31                # optional, last day the key counts (UTC)
//!
//! [require]
//! release = 1
//! rebuild = 0
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::bounded::{self, BoundedReadError, MAX_POLICY_LEN};
use crate::diagnose::Diagnose;
use crate::keys::{KeyError, KeyId, PublicKey};
/// A key's `not_after`: a calendar date, from the one home of date arithmetic.
pub use crate::time::Date;

/// What a key may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Release signatures (`kind=release`).
    Release,
    /// Rebuild attestations (`kind=rebuild`).
    Rebuild,
}

impl Role {
    /// The word used in policies and statements.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Release => "release",
            Role::Rebuild => "rebuild",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key the policy trusts, with what it may sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedKey {
    /// Human label.
    pub name: String,
    /// The key.
    #[serde(serialize_with = "serialize_key")]
    pub key: PublicKey,
    /// Roles it may sign for.
    pub roles: Vec<Role>,
    /// Glob patterns (`*`, `?`) of the guests it may sign.
    pub guests: Vec<String>,
    /// Last day (UTC) its signatures count.
    pub not_after: Option<Date>,
}

fn serialize_key<S: serde::Serializer>(key: &PublicKey, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&key.id())
}

impl TrustedKey {
    /// Whether one of its guest globs matches `guest`.
    pub fn covers_guest(&self, guest: &str) -> bool {
        self.guests.iter().any(|glob| glob_matches(glob, guest))
    }

    /// Whether it has expired at `today`.
    pub fn expired(&self, today: Date) -> bool {
        self.not_after.is_some_and(|last| today > last)
    }
}

/// A loaded, validated trust policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Trusted keys, in file order.
    pub keys: Vec<TrustedKey>,
    /// Key ids that count for nothing.
    pub revoked: BTreeSet<KeyId>,
    /// Distinct release keys that must have signed.
    pub require_release: u32,
    /// Distinct rebuild keys whose attestations must match.
    pub require_rebuild: u32,
    /// Where it was loaded from (`None` for `--key`).
    pub source: Option<PathBuf>,
}

/// A policy that cannot be loaded or can never be satisfied.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read policy `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Larger than the bound: refused whole, never read as a prefix.
    #[error("policy `{}` is larger than {}", path.display(), bounded::human(*limit))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The bound.
        limit: u64,
    },
    /// Not valid TOML, or fields it does not know, or values of the wrong type.
    #[error("policy `{}` is not a valid policy", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML error, naming the line and the field.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A `version` other than 1.
    #[error("policy `{}` has version {version}; this zkelf reads version 1", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// The version it declares.
        version: i64,
    },
    /// A role other than `release` or `rebuild`.
    #[error("policy `{}`: key `{key}` has unknown role `{role}`", path.display())]
    UnknownRole {
        /// The file.
        path: PathBuf,
        /// The key's name.
        key: String,
        /// The role.
        role: String,
    },
    /// A key entry that is unusable.
    #[error("policy `{}`: key `{key}` {problem}", path.display())]
    KeyEntry {
        /// The file.
        path: PathBuf,
        /// The key's name.
        key: String,
        /// What is wrong.
        problem: String,
    },
    /// A key that could not be read or decoded.
    #[error("policy `{}`: key `{key}` is malformed", path.display())]
    MalformedKey {
        /// The file.
        path: PathBuf,
        /// The key's name.
        key: String,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// An entry of `revoked` that is not a key id.
    #[error("policy `{}`: revoked entry `{value}` is not a key id (16 hex digits)", path.display())]
    BadRevoked {
        /// The file.
        path: PathBuf,
        /// The entry.
        value: String,
    },
    /// `require` asks for more keys than the policy lists (not revoked) for that role.
    #[error(
        "policy `{}` can never be satisfied: it requires {required} {role} keys but lists {available}",
        path.display()
    )]
    Impossible {
        /// The file.
        path: PathBuf,
        /// The role.
        role: Role,
        /// What `require` asks for.
        required: u32,
        /// Usable keys with that role.
        available: u32,
    },
    /// `require` can be met only with keys whose `not_after` has passed: no signature can
    /// ever satisfy it again.
    #[error(
        "policy `{}` can never be satisfied: it requires {required} {role} keys but only {unexpired} of those it lists have not expired ({expired})",
        path.display()
    )]
    Expired {
        /// The file.
        path: PathBuf,
        /// The role.
        role: Role,
        /// What `require` asks for.
        required: u32,
        /// Usable keys with that role that have not expired.
        unexpired: u32,
        /// The expired keys, as ``"`name` after YYYY-MM-DD"`` joined by commas.
        expired: String,
    },
    /// `require` asks for nothing: every ELF would pass.
    #[error("policy `{}` requires no signature at all", path.display())]
    RequiresNothing {
        /// The file.
        path: PathBuf,
    },
}

impl Diagnose for PolicyError {
    fn hint(&self) -> Option<String> {
        match self {
            PolicyError::UnknownRole { .. } => Some("roles are `release` and `rebuild`".into()),
            PolicyError::TooLarge { .. } => {
                Some("a policy lists keys, not data: remove what is not a policy".into())
            }
            PolicyError::Parse { .. } => Some(
                "a policy has `version = 1`, `revoked`, `[[key]]` entries (name, public or file, roles, guests, not_after) and `[require]`"
                    .into(),
            ),
            PolicyError::Impossible { .. } => Some(
                "list more keys with that role or lower `require`; revoked keys do not count"
                    .into(),
            ),
            PolicyError::Expired { .. } => Some(
                "give the keys a later `not_after` or list keys that have not expired; signatures by expired keys no longer count"
                    .into(),
            ),
            PolicyError::RequiresNothing { .. } => {
                Some("set `require.release = 1` (the default) or more".into())
            }
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: i64,
    #[serde(default)]
    revoked: Vec<String>,
    #[serde(default, rename = "key")]
    keys: Vec<RawKey>,
    require: Option<RawRequire>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    name: String,
    public: Option<String>,
    file: Option<String>,
    roles: Vec<String>,
    guests: Option<Vec<String>>,
    not_after: Option<toml::value::Datetime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequire {
    #[serde(default = "one")]
    release: u32,
    #[serde(default)]
    rebuild: u32,
}

fn one() -> u32 {
    1
}

impl Policy {
    /// Loads and validates a policy file; `file =` keys are relative to its directory.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = bounded::read_to_string(path, MAX_POLICY_LEN).map_err(|err| match err {
            BoundedReadError::TooLarge { limit } => PolicyError::TooLarge {
                path: path.to_path_buf(),
                limit,
            },
            other => PolicyError::Read {
                path: path.to_path_buf(),
                source: other.into(),
            },
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, path, base)
    }

    /// Parses and validates policy text; `path` names it in errors, `base` resolves `file =`.
    /// Keys are judged expired as of today.
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Policy, PolicyError> {
        Self::parse_at(text, path, base, Date::of(std::time::SystemTime::now()))
    }

    /// Like [`Policy::parse`], judging expiry at `today`.
    pub fn parse_at(
        text: &str,
        path: &Path,
        base: &Path,
        today: Date,
    ) -> Result<Policy, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|source| PolicyError::Parse {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        if raw.version != 1 {
            return Err(PolicyError::Version {
                path: path.to_path_buf(),
                version: raw.version,
            });
        }
        let revoked = raw
            .revoked
            .iter()
            .map(|value| {
                value.parse::<KeyId>().map_err(|_| PolicyError::BadRevoked {
                    path: path.to_path_buf(),
                    value: value.clone(),
                })
            })
            .collect::<Result<BTreeSet<_>, _>>()?;
        let mut keys = Vec::new();
        let mut names = BTreeSet::new();
        let mut ids = BTreeMap::new();
        for raw_key in raw.keys {
            let key = trusted_key(raw_key, path, base)?;
            let entry_error = |problem: String| PolicyError::KeyEntry {
                path: path.to_path_buf(),
                key: key.name.clone(),
                problem,
            };
            if !names.insert(key.name.clone()) {
                return Err(entry_error("is listed twice".into()));
            }
            if let Some(first) = ids.insert(key.key.id(), key.name.clone()) {
                return Err(entry_error(format!(
                    "has key id `{}`, already listed as `{first}`",
                    key.key.id()
                )));
            }
            keys.push(key);
        }
        let require = raw.require.unwrap_or(RawRequire {
            release: 1,
            rebuild: 0,
        });
        let policy = Policy {
            keys,
            revoked,
            require_release: require.release,
            require_rebuild: require.rebuild,
            source: Some(path.to_path_buf()),
        };
        policy.check_satisfiable(path, today)?;
        Ok(policy)
    }

    fn check_satisfiable(&self, path: &Path, today: Date) -> Result<(), PolicyError> {
        if self.require_release == 0 && self.require_rebuild == 0 {
            return Err(PolicyError::RequiresNothing {
                path: path.to_path_buf(),
            });
        }
        for (role, required) in [
            (Role::Release, self.require_release),
            (Role::Rebuild, self.require_rebuild),
        ] {
            let usable: Vec<&TrustedKey> = self
                .keys
                .iter()
                .filter(|k| k.roles.contains(&role) && !self.revoked.contains(&k.key.id()))
                .collect();
            let available = usable.len() as u32;
            if required > available {
                return Err(PolicyError::Impossible {
                    path: path.to_path_buf(),
                    role,
                    required,
                    available,
                });
            }
            // Time only moves forward: a requirement only expired keys could meet is as
            // impossible as one the policy lists too few keys for (what sigstore users expect).
            let (expired, unexpired): (Vec<&TrustedKey>, Vec<&TrustedKey>) =
                usable.into_iter().partition(|k| k.expired(today));
            if required > unexpired.len() as u32 {
                return Err(PolicyError::Expired {
                    path: path.to_path_buf(),
                    role,
                    required,
                    unexpired: unexpired.len() as u32,
                    expired: expired
                        .iter()
                        .filter_map(|k| Some(format!("`{}` after {}", k.name, k.not_after?)))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        Ok(())
    }

    /// What `--key PUB` means: this one key, trusted for releases of any guest, required once.
    pub fn from_public_key(key: PublicKey) -> Policy {
        Policy {
            keys: vec![TrustedKey {
                name: format!("key {}", key.id()),
                key,
                roles: vec![Role::Release],
                guests: vec!["*".into()],
                not_after: None,
            }],
            revoked: BTreeSet::new(),
            require_release: 1,
            require_rebuild: 0,
            source: None,
        }
    }

    /// The trusted key with this id.
    pub fn key(&self, id: KeyId) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.key.id() == id)
    }

    /// Whether the key id is revoked.
    pub fn is_revoked(&self, id: KeyId) -> bool {
        self.revoked.contains(&id)
    }

    /// Signatures required for `role`.
    pub fn required(&self, role: Role) -> u32 {
        match role {
            Role::Release => self.require_release,
            Role::Rebuild => self.require_rebuild,
        }
    }
}

fn trusted_key(raw: RawKey, path: &Path, base: &Path) -> Result<TrustedKey, PolicyError> {
    let entry_error = |problem: &str| PolicyError::KeyEntry {
        path: path.to_path_buf(),
        key: raw.name.clone(),
        problem: problem.to_string(),
    };
    let malformed = |source| PolicyError::MalformedKey {
        path: path.to_path_buf(),
        key: raw.name.clone(),
        source,
    };
    if raw.name.trim().is_empty() {
        return Err(entry_error("has an empty name"));
    }
    let key = match (&raw.public, &raw.file) {
        (Some(public), None) => PublicKey::from_base64(public).map_err(malformed)?,
        (None, Some(file)) => PublicKey::from_file(&base.join(file)).map_err(malformed)?,
        (Some(_), Some(_)) => return Err(entry_error("has both `public` and `file`")),
        (None, None) => return Err(entry_error("has neither `public` nor `file`")),
    };
    if raw.roles.is_empty() {
        return Err(entry_error("has no roles"));
    }
    let mut roles = Vec::new();
    for role in &raw.roles {
        let role = match role.as_str() {
            "release" => Role::Release,
            "rebuild" => Role::Rebuild,
            _ => {
                return Err(PolicyError::UnknownRole {
                    path: path.to_path_buf(),
                    key: raw.name.clone(),
                    role: role.clone(),
                });
            }
        };
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    let guests = raw.guests.clone().unwrap_or_else(|| vec!["*".into()]);
    if guests.is_empty() {
        return Err(entry_error("has an empty `guests` list"));
    }
    for glob in &guests {
        let valid = !glob.is_empty()
            && glob
                .bytes()
                .all(|b| crate::name::is_name_byte(b) || b"*?".contains(&b));
        if !valid {
            return Err(entry_error(&format!(
                "has guest pattern `{glob}`; patterns use `[a-z0-9._-]`, `*` and `?`"
            )));
        }
    }
    let not_after = match raw.not_after {
        None => None,
        Some(datetime) => match (datetime.date, datetime.time, datetime.offset) {
            (Some(d), None, None) => Some(Date {
                year: d.year,
                month: d.month,
                day: d.day,
            }),
            _ => {
                return Err(entry_error(
                    "has a `not_after` that is not a plain date (YYYY-MM-DD)",
                ));
            }
        },
    };
    Ok(TrustedKey {
        name: raw.name,
        key,
        roles,
        guests,
        not_after,
    })
}

/// Matches `text` against a glob of `*` (any run) and `?` (one character).
pub fn glob_matches(glob: &str, text: &str) -> bool {
    let (g, t) = (glob.as_bytes(), text.as_bytes());
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if gi < g.len() && (g[gi] == b'?' || g[gi] == t[ti]) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == b'*' {
            star = Some((gi, ti));
            gi += 1;
        } else if let Some((sg, st)) = star {
            gi = sg + 1;
            ti = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "RWRLAVfvA8OHkvcAecr3hHlcBGAKIxY3f3wjmW7+G0HGJ46vhCEy0/Mn";
    const KEY_B: &str = "RWRo0TEtHtMkqT7ho8/vWpHH1NGp0b2zjJKlQBqDLkh0hGjDTiqiD6v5";

    /// The day the unit tests judge expiry at.
    const TODAY: Date = Date {
        year: 2026,
        month: 6,
        day: 1,
    };

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse_at(text, Path::new("policy.toml"), Path::new("."), TODAY)
    }

    #[test]
    fn parses_the_spec_example() {
        let policy = parse(&format!(
            r#"
version = 1
revoked = []

[[key]]
name = "release-2026"
public = "{KEY_A}"
roles = ["release"]
guests = ["stateless-validator-*"]
not_after = 2027-12-31

[[key]]
name = "auditor-a"
public = "{KEY_B}"
roles = ["rebuild"]

[require]
release = 1
rebuild = 0
"#
        ))
        .unwrap();
        assert_eq!(policy.keys.len(), 2);
        let release = &policy.keys[0];
        assert!(release.covers_guest("stateless-validator-reth"));
        assert!(!release.covers_guest("fib"));
        assert_eq!(release.not_after.unwrap().to_string(), "2027-12-31");
        assert_eq!(policy.keys[1].guests, vec!["*"]);
        assert_eq!(policy.require_release, 1);
    }

    fn one_key(extra_key: &str, tail: &str) -> String {
        format!(
            "version = 1\n[[key]]\nname = \"a\"\npublic = \"{KEY_A}\"\nroles = [\"release\"]\n{extra_key}\n{tail}"
        )
    }

    #[test]
    fn rejects_what_it_cannot_honour() {
        let unknown_role = parse(&format!(
            "version = 1\n[[key]]\nname = \"a\"\npublic = \"{KEY_A}\"\nroles = [\"deploy\"]\n"
        ));
        assert!(
            matches!(unknown_role, Err(PolicyError::UnknownRole { role, .. }) if role == "deploy")
        );
        assert!(matches!(
            parse(&one_key("", "[require]\nrelease = 2\n")),
            Err(PolicyError::Impossible {
                role: Role::Release,
                required: 2,
                available: 1,
                ..
            })
        ));
        assert!(matches!(
            parse(&one_key("", "[require]\nrelease = 1\nrebuild = 1\n")),
            Err(PolicyError::Impossible {
                role: Role::Rebuild,
                ..
            })
        ));
        let revoked_only = format!(
            "version = 1\nrevoked = [\"9287C303EF57014B\"]\n[[key]]\nname = \"a\"\npublic = \"{KEY_A}\"\nroles = [\"release\"]\n"
        );
        assert!(matches!(
            parse(&revoked_only),
            Err(PolicyError::Impossible { .. })
        ));
        assert!(matches!(
            parse(&one_key("", "[require]\nrelease = 0\n")),
            Err(PolicyError::RequiresNothing { .. })
        ));
        let malformed = format!(
            "version = 1\n[[key]]\nname = \"a\"\npublic = \"{}\"\nroles = [\"release\"]\n",
            &KEY_A[..40]
        );
        assert!(matches!(
            parse(&malformed),
            Err(PolicyError::MalformedKey { .. })
        ));
        assert!(matches!(
            parse(&one_key("colour = \"red\"", "")),
            Err(PolicyError::Parse { .. })
        ));
        let parse_err = parse(&one_key("", "[require]\nrelease = 1\nquorum = 3\n")).unwrap_err();
        let PolicyError::Parse { source, .. } = &parse_err else {
            panic!("{parse_err}")
        };
        assert!(source.to_string().contains("quorum"), "{source}");
        assert!(matches!(
            parse("version = 2\n"),
            Err(PolicyError::Version { .. })
        ));
        assert!(matches!(
            parse("not toml ["),
            Err(PolicyError::Parse { .. })
        ));
        assert!(matches!(
            parse(&one_key("file = \"a.pub\"", "")),
            Err(PolicyError::KeyEntry { .. })
        ));
        assert!(matches!(
            parse(&one_key("guests = [\"Fib*\"]", "")),
            Err(PolicyError::KeyEntry { .. })
        ));
        assert!(matches!(
            parse(&one_key("not_after = 2027-12-31T00:00:00Z", "")),
            Err(PolicyError::KeyEntry { .. })
        ));
        let twice = format!(
            "{}\n[[key]]\nname = \"b\"\npublic = \"{KEY_A}\"\nroles = [\"release\"]\n",
            one_key("", "")
        );
        assert!(matches!(parse(&twice), Err(PolicyError::KeyEntry { .. })));
        let bad_revoked = format!("revoked = [\"xyz\"]\n{}", one_key("", ""));
        assert!(matches!(
            parse(&bad_revoked),
            Err(PolicyError::BadRevoked { .. })
        ));
    }

    #[test]
    fn a_requirement_only_expired_keys_could_meet_is_refused() {
        let expired = one_key("not_after = 2026-05-31", "");
        let err = parse(&expired).unwrap_err();
        assert!(
            matches!(
                &err,
                PolicyError::Expired {
                    role: Role::Release,
                    required: 1,
                    unexpired: 0,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "policy `policy.toml` can never be satisfied: it requires 1 release keys but only 0 of those it lists have not expired (`a` after 2026-05-31)"
        );
        // The last day still counts; one live key among expired ones is enough.
        parse(&one_key("not_after = 2026-06-01", "")).unwrap();
        let mixed = format!(
            "{expired}\n[[key]]\nname = \"b\"\npublic = \"{KEY_B}\"\nroles = [\"release\"]\n"
        );
        parse(&mixed).unwrap();
    }

    #[test]
    fn a_policy_larger_than_the_bound_is_refused_not_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.toml");
        let padding = "# padding\n".repeat(110_000);
        std::fs::write(&path, format!("{padding}{}", one_key("", ""))).unwrap();
        let err = Policy::load(&path).unwrap_err();
        assert!(
            matches!(
                err,
                PolicyError::TooLarge {
                    limit: MAX_POLICY_LEN,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .ends_with("is larger than 1 MiB (1048576 bytes)"),
            "{err}"
        );
    }

    #[test]
    fn file_keys_resolve_relative_to_the_policy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("keys")).unwrap();
        std::fs::write(
            dir.path().join("keys/a.pub"),
            format!("untrusted comment: minisign public key 9287C303EF57014B\n{KEY_A}\n"),
        )
        .unwrap();
        let path = dir.path().join("keys/policy.toml");
        std::fs::write(
            &path,
            "version = 1\n[[key]]\nname = \"a\"\nfile = \"a.pub\"\nroles = [\"release\"]\n",
        )
        .unwrap();
        let policy = Policy::load(&path).unwrap();
        assert_eq!(policy.keys[0].key.to_base64(), KEY_A);
    }

    #[test]
    fn globs() {
        assert!(glob_matches("*", "anything"));
        assert!(glob_matches("fib-*", "fib-rv32"));
        assert!(!glob_matches("fib-*", "fibonacci"));
        assert!(glob_matches("a?c", "abc"));
        assert!(glob_matches("*-rv??", "fib-rv32"));
        assert!(!glob_matches("exact", "exactly"));
        assert!(glob_matches("a*b*c", "aXXbYYc"));
    }

    #[test]
    fn a_key_expires_after_its_last_day() {
        let key = TrustedKey {
            name: "k".into(),
            key: PublicKey::from_base64(KEY_A).unwrap(),
            roles: vec![Role::Release],
            guests: vec!["*".into()],
            not_after: Some(Date {
                year: 2026,
                month: 3,
                day: 1,
            }),
        };
        assert!(!key.expired(Date::from_days(20_513)));
        assert!(key.expired(Date::from_days(20_514)));
    }
}
