//! Where an artifact lives, as the user writes it (SPEC §6).
//!
//! `oci-layout:<dir>[:<tag>|@sha256:<hex>]`, `<host>[:<port>]/<path>[:<tag>|@sha256:<hex>]`, or
//! `https://…/<file>.elf` (with sidecars `<file>.elf.minisig` and `<file>.elf.provenance.json`).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use zkelf_trust::diagnose::Diagnose;

use crate::digest::OciDigest;

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
    Digest(OciDigest),
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
#[error("invalid reference `{reference}`")]
pub struct ReferenceError {
    /// The reference as given (any user before `@` redacted).
    pub reference: String,
    /// What is wrong with it.
    #[source]
    pub problem: ReferenceProblem,
}

/// What is wrong with a reference.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceProblem {
    /// Empty, or with whitespace around it.
    #[error("empty or surrounded by whitespace")]
    Blank,
    /// `oci-layout:` with nothing after it.
    #[error("no layout directory")]
    NoLayoutDirectory,
    /// A URL that does not name an `.elf`.
    #[error("a download URL must name an `.elf` file")]
    NotAnElfUrl,
    /// A URL that does not parse.
    #[error("the URL does not parse")]
    Url(#[source] url::ParseError),
    /// A user before `@`.
    #[error(
        "it names a user (`…@` before the host): zkelf would send that text as credentials, and decides plain HTTP on the host after `@`; pass credentials with `--username` and `ZKELF_REGISTRY_PASSWORD` or `~/.docker/config.json`"
    )]
    UserInfo,
    /// A URL without a host.
    #[error("no host in the URL")]
    NoUrlHost,
    /// `http:` or `https:` without the `//` of a URL (or in capitals): read as a registry, it
    /// would name the host `https:`.
    #[error(
        "it starts like a URL but not with `https://` or `http://` (write `https://<host>/…/<file>.elf`)"
    )]
    MalformedUrl,
    /// A scheme other than `https://` (or `http://`).
    #[error("only `https://` URLs are supported")]
    UnsupportedScheme,
    /// A local path where a store is meant (`./oci:1.0.0`, the skopeo and oras habit).
    #[error("it is a path, and a local store is named with `oci-layout:`")]
    LooksLikeAPath,
    /// No `<host>/` before the repository.
    #[error("no registry host (write `<host>[:<port>]/<path>`)")]
    NoRegistryHost,
    /// A host the http client would not read as one.
    #[error("`{host}` is not a `<host>[:<port>]`")]
    BadHost {
        /// The host as given.
        host: String,
    },
    /// A first component that does not look like a host.
    #[error(
        "`{host}` does not look like a registry host (it needs a `.`, a `:<port>` or to be `localhost`)"
    )]
    NotARegistryHost {
        /// The first component.
        host: String,
    },
    /// A repository path outside the OCI grammar.
    #[error("`{repository}` is not a valid repository path")]
    BadRepository {
        /// The path.
        repository: String,
    },
    /// A digest that is not `sha256:<64 hex>`.
    #[error("`{digest}` is not a `sha256:<64 hex digits>` digest")]
    BadDigest {
        /// The text after `@`.
        digest: String,
    },
    /// A tag outside the OCI grammar.
    #[error("`{tag}` is not a valid tag")]
    BadTag {
        /// The tag.
        tag: String,
    },
}

impl Diagnose for ReferenceProblem {}

impl Diagnose for ReferenceError {
    fn hint(&self) -> Option<String> {
        if matches!(self.problem, ReferenceProblem::LooksLikeAPath) {
            return Some(format!(
                "for an OCI layout directory write `oci-layout:{}`",
                self.reference
            ));
        }
        Some(
            "write `oci-layout:<dir>[:<tag>]`, `<host>[:<port>]/<path>[:<tag>|@sha256:<hex>]` or `https://…/<file>.elf`"
                .to_owned(),
        )
    }
}

impl ReferenceError {
    fn new(reference: &str, problem: ReferenceProblem) -> Self {
        Self {
            reference: redact_userinfo(reference),
            problem,
        }
    }
}

/// The longest OCI tag.
pub const MAX_TAG_LEN: usize = 128;

/// Whether `tag` is a valid OCI tag.
pub fn is_valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_TAG_LEN
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
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
        let Ok(digest) = digest.parse::<OciDigest>() else {
            return Err(ReferenceError::new(
                reference,
                ReferenceProblem::BadDigest {
                    digest: digest.to_owned(),
                },
            ));
        };
        return Ok((name.to_owned(), Some(Target::Digest(digest))));
    }
    match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') && !name.is_empty() => {
            if !is_valid_tag(tag) {
                return Err(ReferenceError::new(
                    reference,
                    ReferenceProblem::BadTag {
                        tag: tag.to_owned(),
                    },
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
            return Err(ReferenceError::new(s, ReferenceProblem::Blank));
        }
        if let Some(rest) = s.strip_prefix("oci-layout:") {
            // A layout path may itself contain `:`; only a final `:<tag>` without `/` is a tag.
            let (dir, target) = split_target(rest, s)?;
            if dir.is_empty() {
                return Err(ReferenceError::new(s, ReferenceProblem::NoLayoutDirectory));
            }
            return Ok(Reference::Layout {
                dir: PathBuf::from(dir),
                target,
            });
        }
        if s.starts_with("https://") || s.starts_with("http://") {
            if !s.ends_with(".elf") {
                return Err(ReferenceError::new(s, ReferenceProblem::NotAnElfUrl));
            }
            let url =
                url::Url::parse(s).map_err(|e| ReferenceError::new(s, ReferenceProblem::Url(e)))?;
            if has_userinfo(&url) {
                return Err(ReferenceError::new(s, ReferenceProblem::UserInfo));
            }
            if url.host_str().is_none_or(str::is_empty) {
                return Err(ReferenceError::new(s, ReferenceProblem::NoUrlHost));
            }
            return Ok(Reference::Https { url: s.to_owned() });
        }
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("http:") || lower.starts_with("https:") {
            return Err(ReferenceError::new(s, ReferenceProblem::MalformedUrl));
        }
        if s.contains("://") {
            return Err(ReferenceError::new(s, ReferenceProblem::UnsupportedScheme));
        }
        if ["/", "./", "../", "~/"].iter().any(|p| s.starts_with(p)) || s == "." || s == ".." {
            return Err(ReferenceError::new(s, ReferenceProblem::LooksLikeAPath));
        }
        let (host, rest) = s
            .split_once('/')
            .ok_or_else(|| ReferenceError::new(s, ReferenceProblem::NoRegistryHost))?;
        if host.contains('@') {
            return Err(ReferenceError::new(s, ReferenceProblem::UserInfo));
        }
        if !is_valid_host(host) {
            return Err(ReferenceError::new(
                s,
                ReferenceProblem::BadHost {
                    host: host.to_owned(),
                },
            ));
        }
        if !(host.contains('.') || host.contains(':') || host == "localhost") {
            return Err(ReferenceError::new(
                s,
                ReferenceProblem::NotARegistryHost {
                    host: host.to_owned(),
                },
            ));
        }
        let (repository, target) = split_target(rest, s)?;
        if !is_valid_repository(&repository) {
            return Err(ReferenceError::new(
                s,
                ReferenceProblem::BadRepository { repository },
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

/// `reference` with any text before an `@` in its authority replaced by `[redacted]`: a refused
/// `https://user:secret@host/…` must not put the password on stderr or in a JSON error.
fn redact_userinfo(reference: &str) -> String {
    let (scheme, rest) = match reference.find("://") {
        Some(i) => reference.split_at(i + 3),
        None => ("", reference),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}[redacted]{}{path}", &authority[at..]),
        None => reference.to_owned(),
    }
}

/// Whether a URL names a user or password before its host.
pub fn has_userinfo(url: &url::Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// `host[:port]` parsed as the http client parses it: the host the connection goes to.
fn parse_host(host_port: &str) -> Option<url::Url> {
    // `host:` (an empty port) parses as `host`, which would make `https:/x` a registry `https`.
    if host_port.ends_with(':') {
        return None;
    }
    let url = url::Url::parse(&format!("http://{host_port}/")).ok()?;
    (!has_userinfo(&url) && url.host().is_some() && url.path() == "/" && url.query().is_none())
        .then_some(url)
}

/// Whether `host_port` is a `host[:port]` the http client reads as such (no userinfo, path,
/// query or stray characters).
pub fn is_valid_host(host_port: &str) -> bool {
    parse_host(host_port).is_some()
}

/// The `host[:port]` a URL connects to (the port only when it is not the scheme's default).
pub fn url_host_port(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Whether a URL's host is this machine's loopback interface (`localhost`, `127.0.0.0/8`, `::1`).
/// A URL with userinfo never is: its text before `@` is not where it connects.
pub fn is_loopback_url(url: &url::Url) -> bool {
    if has_userinfo(url) {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    }
}

/// Whether a `host[:port]` names this machine's loopback interface, decided on the host the
/// http client connects to (`localhost`, `127.0.0.0/8`, `::1`).
pub fn is_loopback_host(host_port: &str) -> bool {
    parse_host(host_port).is_some_and(|url| is_loopback_url(&url))
}

/// Whether plain HTTP may be used for a URL: its host is loopback, or its `host[:port]` is
/// named by `--insecure-registry`; never with userinfo.
pub fn plain_http_allowed_url(url: &url::Url, insecure: &[String]) -> bool {
    !has_userinfo(url)
        && (is_loopback_url(url) || insecure.iter().any(|h| *h == url_host_port(url)))
}

/// Whether plain HTTP may be used for `host_port`: loopback, or named by `--insecure-registry`.
pub fn plain_http_allowed(host_port: &str, insecure: &[String]) -> bool {
    parse_host(host_port).is_some()
        && (is_loopback_host(host_port) || insecure.iter().any(|h| h == host_port))
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
            // Read as registries these would name the hosts `https:` and `http:` (and so
            // their hints `docker login https:`, `--insecure-registry http:`).
            "https:/example.com/fib.elf",
            "http:/example.com/x/fib",
            "HTTPS://example.com/fib.elf",
            "example.com:/fib",
        ] {
            assert!(bad.parse::<Reference>().is_err(), "accepted `{bad}`");
        }
        assert!(!is_valid_host("https:"));
    }

    #[test]
    fn a_path_is_pointed_at_oci_layout() {
        for path in ["./oci:1.0.0", "../oci", "/srv/oci:1.0.0-sp1", "~/oci", "."] {
            let err = path.parse::<Reference>().unwrap_err();
            assert!(
                matches!(err.problem, ReferenceProblem::LooksLikeAPath),
                "{path}"
            );
            assert_eq!(
                err.hint().unwrap(),
                format!("for an OCI layout directory write `oci-layout:{path}`")
            );
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
    fn loopback_is_decided_on_the_host_connected_to() {
        for tricked in [
            "[::1]@r.example:5000",
            "localhost@r.example",
            "127.0.0.1:1@r.example",
        ] {
            assert!(!is_loopback_host(tricked), "`{tricked}` taken as loopback");
            assert!(!plain_http_allowed(tricked, &[tricked.into()]));
        }
        let url = url::Url::parse("http://[::1]@r.example:5000/a/fib.elf").unwrap();
        assert!(!is_loopback_url(&url));
        assert!(!plain_http_allowed_url(&url, &["r.example:5000".into()]));
        let url = url::Url::parse("http://127.0.0.1:5000/a/fib.elf").unwrap();
        assert!(plain_http_allowed_url(&url, &[]));
        assert_eq!(url_host_port(&url), "127.0.0.1:5000");
    }

    #[test]
    fn refused_userinfo_is_not_repeated() {
        for (given, shown) in [
            (
                "https://user:secret@example.com/a.elf",
                "https://[redacted]@example.com/a.elf",
            ),
            (
                "user:secret@example.com/acme/fib:1",
                "[redacted]@example.com/acme/fib:1",
            ),
            ("ghcr.io/acme/fib@sha256:00", "ghcr.io/acme/fib@sha256:00"),
        ] {
            let error = ReferenceError::new(given, ReferenceProblem::Blank);
            assert_eq!(error.reference, shown);
            assert!(!error.to_string().contains("secret"), "{error}");
        }
    }

    #[test]
    fn references_with_userinfo_are_refused() {
        for bad in [
            "[::1]@r.example:5000/fib:1.0.0",
            "user:pw@r.example/fib:1.0.0",
            "http://[::1]@r.example:5000/fib.elf",
            "https://user@example.com/fib.elf",
            "https://:pw@example.com/fib.elf",
        ] {
            let err = bad.parse::<Reference>().unwrap_err();
            assert!(
                matches!(err.problem, ReferenceProblem::UserInfo),
                "`{bad}`: {err}"
            );
        }
        for bad in ["r.example:5000?x/fib", "r.exa mple:5000/fib"] {
            assert!(bad.parse::<Reference>().is_err(), "accepted `{bad}`");
        }
    }

    #[test]
    fn source_drops_the_target() {
        let r: Reference = "127.0.0.1:5000/fib:1.0.0".parse().unwrap();
        assert_eq!(r.source(), "127.0.0.1:5000/fib");
        let r: Reference = "https://h/a/b/fib.elf".parse().unwrap();
        assert_eq!(r.source(), "https://h/a/b");
    }
}
