//! What a `Cargo.lock` pins, as the fetch step needs it: every registry package with the
//! sha256 of its `.crate`, every git package with its URL, reference and commit. Everything in a
//! lock file is the guest's (hostile in a rebuild): sources zkelf cannot fetch safely are refused
//! here, by name, before anything runs.

use std::collections::BTreeMap;
use std::fmt;

use zkelf_trust::digest::Sha256Digest;

/// The crates.io index, as lock files name it (git protocol, and the sparse protocol).
const CRATES_IO: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// A package of a lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LockedPackage {
    pub name: String,
    pub version: String,
    pub source: LockedSource,
}

/// Where a locked package comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum LockedSource {
    /// A path package of the workspace (no `source`).
    Path,
    /// crates.io, with the sha256 of the `.crate`.
    CratesIo(Sha256Digest),
    /// A git repository at a commit.
    Git(GitSource),
}

/// A git source as the lock names it: `git+<url>[?branch=…|?tag=…|?rev=…]#<commit>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct GitSource {
    /// The URL as written in the manifest (and the lock).
    pub url: String,
    /// What the manifest asked for.
    pub reference: GitReference,
    /// The commit the lock pins (lowercase hex).
    pub commit: String,
}

impl GitSource {
    /// The lock's source string without the commit: what cargo's source replacement matches.
    pub fn id(&self) -> String {
        format!("git+{}{}", self.url, self.reference.query())
    }
}

impl fmt::Display for GitSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.id(), self.commit)
    }
}

/// A git dependency's reference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum GitReference {
    /// The repository's default branch.
    DefaultBranch,
    Branch(String),
    Tag(String),
    Rev(String),
}

impl GitReference {
    /// `?branch=…` and the like, as the lock writes it.
    fn query(&self) -> String {
        match self {
            GitReference::DefaultBranch => String::new(),
            GitReference::Branch(b) => format!("?branch={b}"),
            GitReference::Tag(t) => format!("?tag={t}"),
            GitReference::Rev(r) => format!("?rev={r}"),
        }
    }

    /// The key and value of cargo's `[source.<name>]` table for it.
    pub fn config(&self) -> Option<(&'static str, &str)> {
        match self {
            GitReference::DefaultBranch => None,
            GitReference::Branch(b) => Some(("branch", b)),
            GitReference::Tag(t) => Some(("tag", t)),
            GitReference::Rev(r) => Some(("rev", r)),
        }
    }
}

/// Why a lock file cannot be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockProblem {
    /// It is not TOML, or not a lock file.
    #[error("it does not parse: {0}")]
    Parse(String),
    /// A package of a registry other than crates.io.
    #[error(
        "`{name}` {version} comes from `{source_id}`; zkelf fetches crates.io and git sources only"
    )]
    UnsupportedSource {
        /// The package.
        name: String,
        /// Its version.
        version: String,
        /// The source string.
        source_id: String,
    },
    /// A crates.io package without the sha256 of its `.crate`.
    #[error("`{name}` {version} from crates.io has no valid `checksum`")]
    NoChecksum {
        /// The package.
        name: String,
        /// Its version.
        version: String,
    },
    /// One crates.io name and version with two checksums.
    #[error("`{name}` {version} from crates.io is locked with two different checksums")]
    ConflictingChecksums {
        /// The package.
        name: String,
        /// Its version.
        version: String,
    },
    /// A git dependency of the workspace that the lock file does not pin.
    #[error(
        "git dependency `{key}` (`{source_id}`) has no package in it; the lock file is out of date"
    )]
    Unlocked {
        /// The dependency's key in its manifest.
        key: String,
        /// Its source, as the lock would name it.
        source_id: String,
    },
    /// A git source string zkelf will not hand to git.
    #[error("`{name}` {version} has the git source `{source_id}`: {reason}")]
    BadGitSource {
        /// The package.
        name: String,
        /// Its version.
        version: String,
        /// The source string.
        source_id: String,
        /// Why.
        reason: &'static str,
    },
}

/// The packages of `text`, a `Cargo.lock` (format 3 or 4).
pub(crate) fn parse(text: &str) -> Result<Vec<LockedPackage>, LockProblem> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| LockProblem::Parse(e.message().to_string()))?;
    let packages = match table.get("package") {
        None => return Ok(Vec::new()),
        Some(p) => p
            .as_array()
            .ok_or_else(|| LockProblem::Parse("`package` is not an array".into()))?,
    };
    packages.iter().map(package).collect()
}

fn package(value: &toml::Value) -> Result<LockedPackage, LockProblem> {
    let field = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let (Some(name), Some(version)) = (field("name"), field("version")) else {
        return Err(LockProblem::Parse(
            "a `[[package]]` has no `name` or `version`".into(),
        ));
    };
    let source = match field("source") {
        None => LockedSource::Path,
        Some(s) if CRATES_IO.contains(&s.as_str()) => {
            let checksum = field("checksum")
                .and_then(|c| c.parse::<Sha256Digest>().ok())
                .ok_or_else(|| LockProblem::NoChecksum {
                    name: name.clone(),
                    version: version.clone(),
                })?;
            LockedSource::CratesIo(checksum)
        }
        Some(s) if s.starts_with("git+") => {
            let bad = |reason| LockProblem::BadGitSource {
                name: name.clone(),
                version: version.clone(),
                source_id: s.clone(),
                reason,
            };
            LockedSource::Git(git_source(&s).map_err(bad)?)
        }
        Some(s) => {
            return Err(LockProblem::UnsupportedSource {
                name,
                version,
                source_id: s,
            });
        }
    };
    Ok(LockedPackage {
        name,
        version,
        source,
    })
}

/// Parses `git+<url>[?<kind>=<value>]#<commit>`.
fn git_source(s: &str) -> Result<GitSource, &'static str> {
    let rest = s.strip_prefix("git+").unwrap_or(s);
    let (location, commit) = rest
        .rsplit_once('#')
        .ok_or("it names no commit (`#<commit>`)")?;
    let commit = commit.to_ascii_lowercase();
    match commit.len() {
        40 if commit.bytes().all(|b| b.is_ascii_hexdigit()) => {}
        64 if commit.bytes().all(|b| b.is_ascii_hexdigit()) => {
            return Err("SHA-256 repositories are not supported");
        }
        _ => return Err("its commit is not 40 hex digits"),
    }
    let (url, reference) = match location.split_once('?') {
        None => (location, GitReference::DefaultBranch),
        Some((url, query)) => {
            let (kind, value) = query
                .split_once('=')
                .ok_or("its query is not `kind=value`")?;
            let value = value.to_string();
            let reference = match kind {
                "branch" => GitReference::Branch(value),
                "tag" => GitReference::Tag(value),
                "rev" => GitReference::Rev(value),
                _ => return Err("its query is not `branch`, `tag` or `rev`"),
            };
            (url, reference)
        }
    };
    // The URL reaches git (through a mirror or not) and cargo's configuration: only plain
    // https, ssh and file URLs, nothing git could read as an option or a command.
    if crate::git::remote::refusal(url).is_some() {
        return Err("its URL is not a plain https, ssh or file URL");
    }
    let plain = |v: &str| {
        !v.is_empty()
            && v.bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b'\'' | b'`'))
    };
    if !url.contains("://") || !plain(url) {
        return Err("its URL is not a plain https, ssh or file URL");
    }
    if let Some((_, value)) = reference.config()
        && (!plain(value) || value.starts_with('-'))
    {
        return Err("its branch, tag or rev has characters zkelf does not pass on");
    }
    Ok(GitSource {
        url: url.to_string(),
        reference,
        commit,
    })
}

/// The registry packages of `packages`, by (name, version), each with its checksum; the same
/// name and version twice must have the same checksum.
pub(crate) fn registry_crates<'a>(
    packages: impl IntoIterator<Item = &'a LockedPackage>,
) -> Result<BTreeMap<(String, String), Sha256Digest>, LockProblem> {
    let mut out = BTreeMap::new();
    for p in packages {
        if let LockedSource::CratesIo(sum) = &p.source
            && let Some(other) = out.insert((p.name.clone(), p.version.clone()), *sum)
            && other != *sum
        {
            return Err(LockProblem::ConflictingChecksums {
                name: p.name.clone(),
                version: p.version.clone(),
            });
        }
    }
    Ok(out)
}

/// The git sources of `packages`, each with its packages (name, version), sorted.
pub(crate) fn git_sources(
    packages: &[LockedPackage],
) -> BTreeMap<GitSource, Vec<(String, String)>> {
    let mut out: BTreeMap<GitSource, Vec<(String, String)>> = BTreeMap::new();
    for p in packages {
        if let LockedSource::Git(g) = &p.source {
            out.entry(g.clone())
                .or_default()
                .push((p.name.clone(), p.version.clone()));
        }
    }
    for list in out.values_mut() {
        list.sort();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "guest"
version = "0.1.0"
dependencies = ["itoa 1.0.15 (registry+https://github.com/rust-lang/crates.io-index)"]

[[package]]
name = "itoa"
version = "1.0.15"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "4a5f13b858c8d314ee3e8f639011f7ccefe71f97f96e50151fb991f267928e2c"

[[package]]
name = "itoa"
version = "1.0.15"
source = "git+https://github.com/acme/fork?branch=main#A096794AB8a5f13b858c8d314ee3e8f639011f7c"

[[package]]
name = "ryu"
version = "1.0.20"
source = "git+https://github.com/acme/ryu#0123456789abcdef0123456789abcdef01234567"
"#;

    #[test]
    fn a_lock_with_one_name_and_version_from_two_sources() {
        let packages = parse(LOCK).unwrap();
        assert_eq!(packages.len(), 4);
        assert_eq!(packages[0].source, LockedSource::Path);
        let registry = registry_crates(&packages).unwrap();
        assert_eq!(registry.len(), 1);
        let git = git_sources(&packages);
        let ids: Vec<String> = git.keys().map(ToString::to_string).collect();
        assert_eq!(
            ids,
            [
                "git+https://github.com/acme/fork?branch=main#a096794ab8a5f13b858c8d314ee3e8f639011f7c",
                "git+https://github.com/acme/ryu#0123456789abcdef0123456789abcdef01234567",
            ]
        );
        let fork = git.keys().next().unwrap();
        assert_eq!(fork.id(), "git+https://github.com/acme/fork?branch=main");
        assert_eq!(fork.reference.config(), Some(("branch", "main")));
    }

    #[test]
    fn sources_zkelf_cannot_fetch_safely_are_refused_by_name() {
        let one = |source: &str, checksum: Option<&str>| {
            let mut text = format!(
                "version = 4\n[[package]]\nname = \"x\"\nversion = \"1.0.0\"\nsource = \"{source}\"\n"
            );
            if let Some(c) = checksum {
                text.push_str(&format!("checksum = \"{c}\"\n"));
            }
            parse(&text).unwrap_err().to_string()
        };
        assert_eq!(
            one("registry+https://example.com/index", Some(&"0".repeat(64))),
            "`x` 1.0.0 comes from `registry+https://example.com/index`; zkelf fetches crates.io and git sources only"
        );
        assert_eq!(
            one(
                "registry+https://github.com/rust-lang/crates.io-index",
                None
            ),
            "`x` 1.0.0 from crates.io has no valid `checksum`"
        );
        for (source, reason) in [
            ("git+https://github.com/a/b", "it names no commit"),
            ("git+https://github.com/a/b#abc", "not 40 hex digits"),
            (
                &format!("git+https://github.com/a/b#{}", "a".repeat(64)),
                "SHA-256",
            ),
            (
                &format!("git+ext::sh -c id#{}", "a".repeat(40)),
                "not a plain https",
            ),
            (
                &format!("git+https://github.com/a/b?branch=-x#{}", "a".repeat(40)),
                "characters zkelf does not pass on",
            ),
            (
                &format!("git+https://github.com/a/b?rev=x'y#{}", "a".repeat(40)),
                "characters zkelf does not pass on",
            ),
            (
                &format!("git+https://github.com/a/b?what=x#{}", "a".repeat(40)),
                "not `branch`, `tag` or `rev`",
            ),
        ] {
            let err = one(source, None);
            assert!(err.contains(reason), "{source}: {err}");
        }
        assert!(matches!(parse("not toml ["), Err(LockProblem::Parse(_))));
    }
}
