//! Where an artifact lives, as the user writes it (SPEC §6).
//!
//! `oci-layout:<dir>[:<tag>|@sha256:<hex>]`, `<host>[:<port>]/<path>[:<tag>|@sha256:<hex>]`, or
//! `https://…/<file>.elf` (with sidecars `<file>.elf.minisig` and `<file>.elf.provenance.json`).

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// A parsed reference to a guest artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// An OCI image layout directory.
    Layout {
        /// The layout directory.
        dir: PathBuf,
        /// The tag or digest inside it, if any.
        target: Option<Target>,
    },
    /// An OCI registry repository.
    Registry {
        /// `host[:port]`.
        host: String,
        /// The repository path.
        repository: String,
        /// The tag or digest, if any.
        target: Option<Target>,
    },
    /// A plain download of an `.elf` with sidecar files.
    Https {
        /// The URL of the `.elf`.
        url: String,
    },
}

/// A tag or a manifest digest inside a store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A tag such as `1.2.0-sp1`.
    Tag(String),
    /// A manifest digest, `sha256:<hex>`.
    Digest(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tag(tag) => write!(f, ":{tag}"),
            Target::Digest(digest) => write!(f, "@{digest}"),
        }
    }
}

/// A reference that does not follow SPEC §6.
#[derive(Debug, thiserror::Error)]
#[error("invalid reference `{reference}`: {reason}")]
pub struct ReferenceError {
    /// The reference as given.
    pub reference: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ReferenceError {
    fn new(reference: &str, reason: impl Into<String>) -> Self {
        Self {
            reference: reference.to_owned(),
            reason: reason.into(),
        }
    }

    /// How to write a valid reference.
    pub fn hint(&self) -> Option<String> {
        Some(
            "write `oci-layout:<dir>[:<tag>]`, `<host>[:<port>]/<path>[:<tag>|@sha256:<hex>]` or `https://…/<file>.elf`"
                .to_owned(),
        )
    }
}

/// Whether `tag` is a valid OCI tag.
pub fn is_valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Whether `digest` is `sha256:` followed by 64 lowercase hex digits.
pub fn is_valid_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn is_valid_repository(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|component| {
            !component.is_empty()
                && component.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
                && component.as_bytes()[0].is_ascii_alphanumeric()
                && component.as_bytes()[component.len() - 1].is_ascii_alphanumeric()
        })
}

/// Splits `rest` into (name, target) at a trailing `@sha256:…` or `:<tag>`.
fn split_target(rest: &str, reference: &str) -> Result<(String, Option<Target>), ReferenceError> {
    if let Some((name, digest)) = rest.rsplit_once('@') {
        if !is_valid_digest(digest) {
            return Err(ReferenceError::new(
                reference,
                format!("`{digest}` is not a `sha256:<64 hex digits>` digest"),
            ));
        }
        return Ok((name.to_owned(), Some(Target::Digest(digest.to_owned()))));
    }
    match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') && !name.is_empty() => {
            if !is_valid_tag(tag) {
                return Err(ReferenceError::new(
                    reference,
                    format!("`{tag}` is not a valid tag"),
                ));
            }
            Ok((name.to_owned(), Some(Target::Tag(tag.to_owned()))))
        }
        _ => Ok((rest.to_owned(), None)),
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim() != s || s.is_empty() {
            return Err(ReferenceError::new(s, "empty or surrounded by whitespace"));
        }
        if let Some(rest) = s.strip_prefix("oci-layout:") {
            // A layout path may itself contain `:`; only a final `:<tag>` without `/` is a tag.
            let (dir, target) = split_target(rest, s)?;
            if dir.is_empty() {
                return Err(ReferenceError::new(s, "no layout directory"));
            }
            return Ok(Reference::Layout {
                dir: PathBuf::from(dir),
                target,
            });
        }
        if s.starts_with("https://") || s.starts_with("http://") {
            if !s.ends_with(".elf") {
                return Err(ReferenceError::new(
                    s,
                    "a download URL must name an `.elf` file",
                ));
            }
            let host = url_host(s).ok_or_else(|| ReferenceError::new(s, "no host in the URL"))?;
            if host.is_empty() {
                return Err(ReferenceError::new(s, "no host in the URL"));
            }
            return Ok(Reference::Https { url: s.to_owned() });
        }
        if s.contains("://") {
            return Err(ReferenceError::new(s, "only `https://` URLs are supported"));
        }
        let (host, rest) = s.split_once('/').ok_or_else(|| {
            ReferenceError::new(s, "no registry host (write `<host>[:<port>]/<path>`)")
        })?;
        if !(host.contains('.') || host.contains(':') || host == "localhost") {
            return Err(ReferenceError::new(
                s,
                format!(
                    "`{host}` does not look like a registry host (it needs a `.`, a `:<port>` or to be `localhost`)"
                ),
            ));
        }
        let (repository, target) = split_target(rest, s)?;
        if !is_valid_repository(&repository) {
            return Err(ReferenceError::new(
                s,
                format!("`{repository}` is not a valid repository path"),
            ));
        }
        Ok(Reference::Registry {
            host: host.to_owned(),
            repository,
            target,
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Layout { dir, target } => {
                write!(f, "oci-layout:{}", dir.display())?;
                if let Some(target) = target {
                    write!(f, "{target}")?;
                }
                Ok(())
            }
            Reference::Registry {
                host,
                repository,
                target,
            } => {
                write!(f, "{host}/{repository}")?;
                if let Some(target) = target {
                    write!(f, "{target}")?;
                }
                Ok(())
            }
            Reference::Https { url } => f.write_str(url),
        }
    }
}

impl Reference {
    /// The tag or digest named, if any.
    pub fn target(&self) -> Option<&Target> {
        match self {
            Reference::Layout { target, .. } | Reference::Registry { target, .. } => {
                target.as_ref()
            }
            Reference::Https { .. } => None,
        }
    }

    /// The same store with another tag or digest.
    pub fn with_target(&self, new: Option<Target>) -> Reference {
        match self {
            Reference::Layout { dir, .. } => Reference::Layout {
                dir: dir.clone(),
                target: new,
            },
            Reference::Registry {
                host, repository, ..
            } => Reference::Registry {
                host: host.clone(),
                repository: repository.clone(),
                target: new,
            },
            Reference::Https { url } => Reference::Https { url: url.clone() },
        }
    }

    /// The store without tag or digest: the "source" that rollback state is kept per.
    pub fn source(&self) -> String {
        match self {
            Reference::Layout { dir, .. } => {
                let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
                format!("oci-layout:{}", dir.display())
            }
            Reference::Registry {
                host, repository, ..
            } => format!("{host}/{repository}"),
            Reference::Https { url } => match url.rsplit_once('/') {
                Some((base, _)) => base.to_owned(),
                None => url.clone(),
            },
        }
    }
}

/// The `host[:port]` of an `http(s)://` URL.
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

/// Whether a `host[:port]` names this machine's loopback interface (`localhost`, `127.0.0.0/8`, `::1`).
pub fn is_loopback_host(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split_once(']').map_or(rest, |(h, _)| h)
    } else {
        match host_port.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => host_port,
        }
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

/// Whether plain HTTP may be used for `host_port`: loopback, or named by `--insecure-registry`.
pub fn plain_http_allowed(host_port: &str, insecure: &[String]) -> bool {
    is_loopback_host(host_port) || insecure.iter().any(|h| h == host_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(s: &str) -> Reference {
        let r: Reference = s.parse().unwrap();
        assert_eq!(r.to_string(), s);
        r
    }

    #[test]
    fn parses_every_form() {
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            round_trip("oci-layout:./out:1.0.0-sp1"),
            Reference::Layout {
                dir: "./out".into(),
                target: Some(Target::Tag("1.0.0-sp1".into()))
            }
        );
        round_trip("oci-layout:/tmp/a");
        round_trip(&format!("oci-layout:/tmp/a@{digest}"));
        assert_eq!(
            round_trip("127.0.0.1:5000/guests/fib:1.0.0"),
            Reference::Registry {
                host: "127.0.0.1:5000".into(),
                repository: "guests/fib".into(),
                target: Some(Target::Tag("1.0.0".into()))
            }
        );
        round_trip(&format!("ghcr.io/zkelf/fib@{digest}"));
        round_trip("localhost/fib");
        round_trip("https://github.com/x/y/releases/download/v1/fib-sp1.elf");
    }

    #[test]
    fn rejects_near_misses() {
        for bad in [
            "",
            " oci-layout:x",
            "oci-layout:",
            "fib:1.0",
            "ghcr.io/Zkelf/fib",
            "ghcr.io/fib@sha256:abc",
            "ghcr.io/fib:bad/tag",
            "ghcr.io/fib:-x",
            "https://example.com/fib.bin",
            "ftp://example.com/fib.elf",
            "ghcr.io/fib//x",
        ] {
            assert!(bad.parse::<Reference>().is_err(), "accepted `{bad}`");
        }
    }

    #[test]
    fn loopback_is_decided_on_the_written_host() {
        assert!(is_loopback_host("127.0.0.1:5000"));
        assert!(is_loopback_host("127.3.0.1"));
        assert!(is_loopback_host("localhost:5000"));
        assert!(is_loopback_host("[::1]:5000"));
        assert!(is_loopback_host("[::ffff:127.0.0.1]:80"));
        assert!(!is_loopback_host("0.0.0.0:5000"));
        assert!(!is_loopback_host("registry.example.com:5000"));
        assert!(!is_loopback_host("localhost.example.com"));
        assert!(plain_http_allowed(
            "r.example:5000",
            &["r.example:5000".into()]
        ));
        assert!(!plain_http_allowed("r.example:5000", &["r.example".into()]));
    }

    #[test]
    fn source_drops_the_target() {
        let r: Reference = "127.0.0.1:5000/fib:1.0.0".parse().unwrap();
        assert_eq!(r.source(), "127.0.0.1:5000/fib");
        let r: Reference = "https://h/a/b/fib.elf".parse().unwrap();
        assert_eq!(r.source(), "https://h/a/b");
    }
}
