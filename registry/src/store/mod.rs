//! The three stores behind one trait: an OCI image layout directory, an OCI registry, and a
//! plain https download with sidecar files.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use zkelf_trust::diagnose::Diagnose;
use zkelf_trust::digest::{OciDigest, Sha256Digest};

use crate::artifact::{self, Descriptor, Fetched, Index};
use crate::auth::Credentials;
use crate::reference::{Reference, Target};
use crate::signature::SignatureProblem;

mod http;
pub mod https;
mod id;
pub mod layout;
mod problem;
pub mod registry;

pub use id::{StoreId, StoreKind};
pub use problem::{OpenProblem, ProtocolViolation};

/// A failure talking to a store (exit 2: the bytes were not evaluated, they were not had).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An OCI layout directory that does not exist (a typo after `oci-layout:`).
    #[error("OCI layout directory `{}` does not exist", dir.display())]
    NoLayoutDirectory {
        /// The directory as named.
        dir: PathBuf,
    },
    /// A reference without a tag, and no `latest` tag in the store.
    #[error("no tag given, and `{store}` has no `latest` tag")]
    NoLatest {
        /// The store.
        store: StoreId,
        /// Tags it has (at most [`TAGS_LISTED`]).
        tags: Vec<String>,
    },
    /// The tag, manifest or blob is not there.
    #[error("{what} not found in `{store}`")]
    NotFound {
        /// The store.
        store: StoreId,
        /// What was looked for.
        what: String,
    },
    /// The store wants credentials, or refused the ones given.
    #[error("`{store}` refused access to {what} ({status})")]
    Unauthorized {
        /// The store.
        store: StoreId,
        /// What was asked for.
        what: String,
        /// The HTTP status.
        status: u16,
    },
    /// The store could not be reached, or the connection broke.
    #[error("connection to `{store}` failed while fetching {what}")]
    Connect {
        /// The store.
        store: StoreId,
        /// What was being fetched.
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
        /// Whether plain HTTP was refused for a non-loopback host.
        https_only: bool,
    },
    /// The server's TLS certificate is not one the trusted roots vouch for (not retried).
    #[error("`{store}` presented a certificate zkelf does not trust while fetching {what}")]
    Tls {
        /// The store.
        store: StoreId,
        /// What was being fetched.
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store stopped sending within the read timeout.
    #[error("`{store}` sent nothing for {seconds} s while sending {what}")]
    Timeout {
        /// The store.
        store: StoreId,
        /// What was being fetched.
        what: String,
        /// The timeout.
        seconds: u64,
    },
    /// An HTTP status that means neither "not found" nor "unauthorized".
    #[error("`{store}` answered HTTP {status} for {what}")]
    Status {
        /// The store.
        store: StoreId,
        /// What was asked for.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The body, shortened.
        message: String,
    },
    /// A local file could not be read or written.
    #[error("cannot access `{path}`")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store said something the protocol does not allow.
    #[error("`{store}` misbehaved")]
    Protocol {
        /// The store.
        store: StoreId,
        /// What was wrong.
        #[source]
        violation: ProtocolViolation,
    },
    /// The store could not be opened: its address or the means to reach it are unusable.
    #[error("cannot open `{store}`")]
    Open {
        /// The store.
        store: StoreId,
        /// Why.
        #[source]
        problem: OpenProblem,
    },
    /// Content larger than its bound (SPEC §7): a verification failure, not a transport one.
    #[error("{what} from `{store}` is larger than {limit} bytes")]
    TooLarge {
        /// The store.
        store: StoreId,
        /// What was fetched.
        what: String,
        /// The bound.
        limit: u64,
    },
    /// The server redirected somewhere zkelf does not follow (plain http, too many hops).
    #[error("`{store}` redirected the request for {what} somewhere zkelf does not follow")]
    Redirect {
        /// The store.
        store: StoreId,
        /// What was being fetched.
        what: String,
        /// Where, and why not.
        #[source]
        source: https::RedirectRefused,
    },
    /// A registry that sends its logins to a token service zkelf does not send credentials to:
    /// not https, nor plain http to a loopback or `--insecure-registry` host.
    #[error(
        "`{store}` names the token service `{realm}`, and zkelf asks for tokens only over https (or plain http to loopback and `--insecure-registry` hosts)"
    )]
    TokenRealm {
        /// The registry.
        store: StoreId,
        /// The realm its challenge named.
        realm: String,
    },
    /// A release signature whose trusted comment claims to be a statement but is not one, or
    /// that does not parse at all (a verification failure).
    #[error("signature `{signature}` is unusable")]
    Signature {
        /// Where the signature is.
        signature: String,
        /// Why.
        #[source]
        problem: SignatureProblem,
    },
    /// A release signature that binds no statement, with nothing pinning the bytes: there is no
    /// way to say which ELF it is about (a verification failure).
    #[error(
        "signature `{signature}` binds no guest, version or zkVM (its trusted comment `{comment}` is not a zkelf statement), and no sha256 pins the ELF"
    )]
    Unbound {
        /// Where the signature is.
        signature: String,
        /// Its trusted comment.
        comment: String,
    },
    /// Content whose bytes do not hash to the digest that names it (a verification failure,
    /// whatever the blob's size or store).
    #[error("{what} from `{store}` has digest `{actual}`, expected `{expected}`")]
    Digest {
        /// The store.
        store: StoreId,
        /// What was fetched.
        what: String,
        /// The digest it should have.
        expected: OciDigest,
        /// The digest it has.
        actual: OciDigest,
    },
    /// A file of an OCI layout that is not a regular file (a FIFO, a device, a directory):
    /// reading it could block for ever or never end.
    #[error("`{}` is {kind}, not a regular file", path.display())]
    NotAFile {
        /// The file.
        path: PathBuf,
        /// What it is instead (`a FIFO`, `a directory`, …).
        kind: &'static str,
    },
    /// A file of an OCI layout past its bound (`index.json`): refused before it is read.
    #[error("`{}` is larger than {limit} bytes, the bound for {what}", path.display())]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// What it is.
        what: &'static str,
        /// The bound.
        limit: u64,
    },
    /// The store cannot be written to (https downloads).
    #[error("`{store}` is read-only")]
    ReadOnly {
        /// The store.
        store: StoreId,
    },
    /// A manifest or index is not what zkelf writes.
    #[error(transparent)]
    Layout(#[from] artifact::LayoutError),
}

impl StoreError {
    /// Whether trying again may succeed (connection errors, timeouts, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Connect { https_only, .. } => !https_only,
            StoreError::Timeout { .. } => true,
            StoreError::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

impl Diagnose for StoreError {
    fn hint(&self) -> Option<String> {
        match self {
            StoreError::Unauthorized { store, .. }
                if matches!(store.kind(), StoreKind::Download(_)) =>
            {
                store.host().map(|host| {
                format!(
                    "zkelf sends no credentials with a download from `{host}`: ask the publisher for a link that needs none"
                )
                })
            }
            StoreError::Unauthorized { store, .. } => store.host().map(|host| {
                format!(
                    "log in with `docker login {host}` or pass `--username` with the password in `ZKELF_REGISTRY_PASSWORD`"
                )
            }),
            StoreError::Connect {
                store,
                https_only: true,
                ..
            } => store.host().map(|host| {
                format!(
                    "zkelf uses https for `{host}`; if it is a plain-HTTP registry you trust, pass `--insecure-registry {host}`"
                )
            }),
            StoreError::Connect { .. } | StoreError::Timeout { .. } => Some(
                "check that the store is up and reachable, then run the command again".to_owned(),
            ),
            StoreError::NotFound { .. } => Some("check the reference's tag or digest".to_owned()),
            StoreError::NoLayoutDirectory { dir } => Some(format!(
                "check the path after `oci-layout:` (`{}` is relative to the current directory)",
                dir.display()
            )),
            StoreError::NoLatest { store, tags } if tags.is_empty() => Some(format!(
                "name the tag or digest: `{store}:<tag>` or `{store}@sha256:<hex>` (the store lists no tags)"
            )),
            StoreError::NoLatest { store, tags } => {
                let more = if tags.len() >= TAGS_LISTED { ", …" } else { "" };
                let listed = tags.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>();
                Some(format!(
                    "name one of its tags, e.g. `{store}:{}`: {}{more}",
                    tags[0],
                    listed.join(", ")
                ))
            }
            StoreError::Tls { .. } => Some(
                "zkelf trusts the system's certificate store and `SSL_CERT_FILE`: if a proxy or a private CA signs this host's certificate, set `SSL_CERT_FILE` to its PEM file".to_owned(),
            ),
            StoreError::TokenRealm { realm, .. } => Some(
                match url::Url::parse(realm).ok().filter(|u| u.host_str().is_some()) {
                    Some(url) => format!(
                        "credentials would cross the network in clear: if `{}` is a token service you trust over plain http, name it with `--insecure-registry {}`",
                        crate::reference::url_host_port(&url),
                        crate::reference::url_host_port(&url)
                    ),
                    None => "the registry's login challenge names no usable token service: ask its operator".to_owned(),
                },
            ),
            StoreError::Redirect { store, .. } => Some(match store.kind() {
                StoreKind::Download(_) => format!(
                    "zkelf follows redirects over https only, at most {} hops; ask the publisher for an https download link",
                    https::MAX_REDIRECTS
                ),
                _ => format!(
                    "zkelf follows redirects over https only (plain http only between loopback and `--insecure-registry` hosts), at most {} hops; ask the registry's operator to redirect to https",
                    https::MAX_REDIRECTS
                ),
            }),
            StoreError::Layout(e) => e.hint(),
            StoreError::Io { path, source } => crate::fsutil::io_hint(path, source),
            StoreError::NotAFile { .. } | StoreError::FileTooLarge { .. } => Some(
                "an OCI layout holds only regular files (`index.json`, `blobs/sha256/<hex>`) within the bounds in docs/distribution.md; replace the file with the content it should hold".to_owned(),
            ),
            _ => None,
        }
    }
}

/// The bytes to upload for a blob.
#[derive(Debug, Clone)]
pub enum BlobSource {
    /// Small content already in memory.
    Bytes(Bytes),
    /// A file, streamed.
    File(PathBuf),
}

/// A blob being downloaded.
pub struct BlobStream {
    /// Where in the blob the stream starts (0 when the store ignored the range asked for).
    pub offset: u64,
    /// The bytes.
    pub stream: BoxStream<'static, Result<Bytes, StoreError>>,
}

impl fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStream")
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

/// How many tags an error lists at most (`NoLatest`).
pub const TAGS_LISTED: usize = 20;

/// Where artifacts are kept: read manifests and blobs, write them.
pub trait Store: Send + Sync + fmt::Debug {
    /// The store as a user names it (reference without tag), for messages and hints.
    fn id(&self) -> &StoreId;

    /// The raw manifest or index under a tag or digest (at most [`artifact::MAX_MANIFEST_SIZE`]);
    /// `None` when the tag or digest is not there.
    fn get_manifest<'a>(
        &'a self,
        target: &'a Target,
    ) -> BoxFuture<'a, Result<Option<Bytes>, StoreError>>;

    /// Stores a manifest or index (by digest, and under `tag` when given).
    fn put_manifest<'a>(
        &'a self,
        bytes: &'a [u8],
        media_type: &'a str,
        tag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Whether the store has the blob already.
    fn has_blob<'a>(
        &'a self,
        descriptor: &'a Descriptor,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Uploads a blob whose digest and size the descriptor states.
    fn put_blob<'a>(
        &'a self,
        descriptor: &'a Descriptor,
        source: BlobSource,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Streams a blob from `offset` (stores that cannot resume start at 0 and say so).
    fn open_blob<'a>(
        &'a self,
        descriptor: &'a Descriptor,
        offset: u64,
    ) -> BoxFuture<'a, Result<BlobStream, StoreError>>;

    /// [`Store::get_manifest`] with what the caller pins and wants. Stores that keep manifests
    /// ignore the hints; the https source needs them to describe an ELF whose signature binds
    /// no digest, and to leave out a VK nobody asked for.
    fn get_manifest_pinned<'a>(
        &'a self,
        target: &'a Target,
        hints: ManifestHints,
    ) -> BoxFuture<'a, Result<Option<Bytes>, StoreError>> {
        let _ = hints;
        self.get_manifest(target)
    }

    /// Up to `limit` of the store's tags, to name what exists when a reference's tag is not
    /// there; stores that cannot list tags (downloads) have none.
    fn tags(&self, limit: usize) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let _ = limit;
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Manifests whose `subject` is `subject_digest` (attestations): the referrers API where the
    /// store has one, else the `sha256-<hex>` fallback index.
    fn referrers<'a>(
        &'a self,
        subject_digest: OciDigest,
    ) -> BoxFuture<'a, Result<Vec<Descriptor>, StoreError>> {
        Box::pin(fallback_referrers(self, subject_digest))
    }
}

/// What a caller pins and wants of the artifact it resolves: what a store without manifests
/// (https) needs to synthesize one.
#[derive(Debug, Clone, Copy)]
pub struct ManifestHints {
    /// The ELF's sha256, pinned out of band (`--sha256`, a lock's `elf`).
    pub elf_sha256: Option<Sha256Digest>,
    /// Whether the VK is wanted when the release signature binds none (`--vk-out`, a VK pin,
    /// `import`); a VK a statement binds is always fetched.
    pub vk: bool,
}

impl Default for ManifestHints {
    /// No pin, and the VK fetched where there is one.
    fn default() -> Self {
        Self {
            elf_sha256: None,
            vk: true,
        }
    }
}

/// The tags that name releases, sorted, without the attestations' `sha256-<hex>` fallback
/// tags, at most `limit`.
pub(crate) fn release_tags(tags: impl IntoIterator<Item = String>, limit: usize) -> Vec<String> {
    let mut tags: Vec<String> = tags
        .into_iter()
        .filter(|t| !t.starts_with("sha256-"))
        .collect();
    tags.sort();
    tags.dedup();
    tags.truncate(limit);
    tags
}

/// The manifests the `sha256-<hex>` fallback index lists for `subject_digest` (none when the
/// tag is not there): `Store::referrers` for stores without the referrers API.
pub(crate) async fn fallback_referrers<S: Store + ?Sized>(
    store: &S,
    subject_digest: OciDigest,
) -> Result<Vec<Descriptor>, StoreError> {
    let tag = artifact::referrers_tag(subject_digest);
    Ok(fallback_index(store, &tag)
        .await?
        .map(|i| i.manifests)
        .unwrap_or_default())
}

/// The referrers fallback index under `tag` (`sha256-<hex>`), read as any manifest is (bounded
/// by [`artifact::MAX_MANIFEST_SIZE`]); `None` when the tag is not there. The one reader of that
/// index, for pulls, publishes and the attach re-checks.
pub(crate) async fn fallback_index<S: Store + ?Sized>(
    store: &S,
    tag: &str,
) -> Result<Option<Index>, StoreError> {
    let target = Target::Tag(tag.to_owned());
    let Some(bytes) = store.get_manifest(&target).await? else {
        return Ok(None);
    };
    referrers_list(store, &bytes, &format!("referrers tag `{tag}`")).map(Some)
}

/// A referrers index (the API's answer or the fallback tag's), at most a manifest's size.
pub(crate) fn referrers_list<S: Store + ?Sized>(
    store: &S,
    bytes: &[u8],
    what: &str,
) -> Result<Index, StoreError> {
    if bytes.len() as u64 > artifact::MAX_MANIFEST_SIZE {
        return Err(StoreError::TooLarge {
            store: store.id().clone(),
            what: what.to_owned(),
            limit: artifact::MAX_MANIFEST_SIZE,
        });
    }
    match artifact::parse(bytes, OciDigest::of(bytes))? {
        Fetched::Index(index) => Ok(index),
        Fetched::Manifest(_) => Err(StoreError::Protocol {
            store: store.id().clone(),
            violation: ProtocolViolation::NotAnIndex {
                what: what.to_owned(),
            },
        }),
    }
}

/// How to reach stores over the network.
#[derive(Debug, Clone)]
pub struct NetworkOptions {
    /// Hosts (`host[:port]`) that may be reached over plain HTTP besides loopback ones.
    pub insecure_registries: Vec<String>,
    /// Credentials, when given; else `~/.docker/config.json` is consulted.
    pub credentials: Option<Credentials>,
    /// Where `config.json` is (`$DOCKER_CONFIG` or `~/.docker`), when known.
    pub docker_config_dir: Option<PathBuf>,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed between two reads.
    pub read_timeout: Duration,
    /// PEM files of certificate authorities trusted for https downloads besides the system's
    /// store (the cli passes `SSL_CERT_FILE`: a company proxy's CA, a test CA).
    pub ca_certificates: Vec<PathBuf>,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        Self {
            insecure_registries: Vec::new(),
            credentials: None,
            docker_config_dir: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            ca_certificates: Vec::new(),
        }
    }
}

/// Opens the store a reference names.
pub fn open(reference: &Reference, network: &NetworkOptions) -> Result<Box<dyn Store>, StoreError> {
    Ok(match reference {
        Reference::Layout { dir, .. } => Box::new(layout::LayoutStore::new(dir.clone())),
        Reference::Registry {
            host, repository, ..
        } => Box::new(registry::RegistryStore::new(host, repository, network)?),
        Reference::Https { url } => Box::new(https::HttpsSource::new(url, network)?),
    })
}

/// Reads a whole stream, failing once it passes `limit` bytes.
pub(crate) async fn read_bounded<E>(
    mut stream: impl futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
    limit: u64,
) -> Result<Result<Vec<u8>, u64>, E> {
    use futures_util::StreamExt as _;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Ok(Err(out.len() as u64 + chunk.len() as u64));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Ok(out))
}

/// The error for an HTTP status a store did not expect: 401/403 as `Unauthorized`, anything else
/// as `Status` with the start of the server's message.
pub(crate) fn status_error(store: StoreId, what: String, status: u16, message: &str) -> StoreError {
    match status {
        401 | 403 => StoreError::Unauthorized {
            store,
            what,
            status,
        },
        _ => StoreError::Status {
            store,
            what,
            status,
            message: message.chars().take(200).collect(),
        },
    }
}

/// [`status_error`] for a response; the body is read for the message only when it is kept.
pub(crate) async fn response_error(
    store: StoreId,
    what: &str,
    response: reqwest::Response,
) -> StoreError {
    let status = response.status().as_u16();
    let message = match status {
        401 | 403 => String::new(),
        _ => response.text().await.unwrap_or_default(),
    };
    status_error(store, what.to_owned(), status, &message)
}
