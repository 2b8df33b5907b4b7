//! An OCI registry, spoken to through oci-client: HTTPS, plain HTTP only for loopback hosts
//! and those named by `--insecure-registry`.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{StreamExt as _, TryStreamExt as _};
use oci_client::client::{BlobResponse, ClientConfig, ClientProtocol};
use oci_client::errors::{DigestError, OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, RegistryOperation};

use super::{
    BlobSource, BlobStream, NetworkOptions, OpenProblem, ProtocolViolation, Store, StoreError,
    StoreId, StoreKind,
};
use crate::artifact::{self, Descriptor};
use crate::digest::OciDigest;
use crate::reference::{self, Target};

/// A repository in an OCI registry.
#[derive(Clone)]
pub struct RegistryStore {
    id: StoreId,
    host: String,
    repository: String,
    client: Client,
    auth: RegistryAuth,
    plain_http: bool,
    read_timeout: u64,
    authenticated: Arc<tokio::sync::OnceCell<()>>,
    /// For manifest reads, which oci-client buffers whole: this client counts bytes.
    http: reqwest::Client,
    pull_token: Arc<tokio::sync::OnceCell<Option<String>>>,
}

impl std::fmt::Debug for RegistryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryStore")
            .field("host", &self.host)
            .field("repository", &self.repository)
            .field("auth", &self.auth)
            .field("plain_http", &self.plain_http)
            .finish_non_exhaustive()
    }
}

impl RegistryStore {
    /// A client for `host/repository`, with credentials from `network` or the docker config.
    pub fn new(host: &str, repository: &str, network: &NetworkOptions) -> Result<Self, StoreError> {
        let id = StoreId::from(StoreKind::Registry {
            host: host.to_owned(),
            repository: repository.to_owned(),
        });
        if !reference::is_valid_host(host) {
            return Err(StoreError::Open {
                store: id.clone(),
                problem: OpenProblem::BadHost {
                    host: host.to_owned(),
                },
            });
        }
        let plain_http = reference::plain_http_allowed(host, &network.insecure_registries);
        let protocol = if plain_http {
            ClientProtocol::HttpsExcept(vec![host.to_owned()])
        } else {
            ClientProtocol::Https
        };
        let config = ClientConfig {
            protocol,
            // One PUT streams the whole blob; chunked PATCHes buy nothing for files we have whole.
            use_monolithic_push: true,
            platform_resolver: None,
            connect_timeout: Some(network.connect_timeout),
            read_timeout: Some(network.read_timeout),
            user_agent: concat!("zkelf/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        let credentials = match &network.credentials {
            Some(c) => Some(c.clone()),
            None => match &network.docker_config_dir {
                Some(dir) => {
                    crate::auth::from_docker_config(dir, host).map_err(|e| StoreError::Open {
                        store: id.clone(),
                        problem: OpenProblem::DockerConfig(e),
                    })?
                }
                None => None,
            },
        };
        let auth = match credentials {
            Some(c) => RegistryAuth::Basic(c.username.clone(), c.password.as_str().to_owned()),
            None => RegistryAuth::Anonymous,
        };
        let http = reqwest::Client::builder()
            .connect_timeout(network.connect_timeout)
            .read_timeout(network.read_timeout)
            .user_agent(concat!("zkelf/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StoreError::Open {
                store: id.clone(),
                problem: OpenProblem::HttpClient(e),
            })?;
        Ok(Self {
            id,
            http,
            pull_token: Arc::new(tokio::sync::OnceCell::new()),
            host: host.to_owned(),
            repository: repository.to_owned(),
            client: Client::new(config),
            auth,
            plain_http,
            read_timeout: network.read_timeout.as_secs(),
            authenticated: Arc::new(tokio::sync::OnceCell::new()),
        })
    }

    fn reference(&self, target: &Target) -> oci_client::Reference {
        match target {
            Target::Tag(tag) => oci_client::Reference::with_tag(
                self.host.clone(),
                self.repository.clone(),
                tag.clone(),
            ),
            Target::Digest(d) => oci_client::Reference::with_digest(
                self.host.clone(),
                self.repository.clone(),
                d.to_string(),
            ),
        }
    }

    fn base(&self) -> oci_client::Reference {
        self.reference(&Target::Tag("latest".to_owned()))
    }

    /// Logs in once (token or basic) for push and pull, so later calls carry credentials.
    async fn login(&self, what: &str) -> Result<(), StoreError> {
        self.authenticated
            .get_or_try_init(|| async {
                self.client
                    .auth(&self.base(), &self.auth, RegistryOperation::Push)
                    .await
                    .or_else(|e| match e {
                        // Push rights may be refused to readers; pull tokens are fetched lazily then.
                        OciDistributionError::AuthenticationFailure(_) => Ok(None),
                        other => Err(other),
                    })
                    .map_err(|e| self.map_err(e, what))?;
                Ok(())
            })
            .await
            .map(|_| ())
    }

    fn map_err(&self, err: OciDistributionError, what: &str) -> StoreError {
        let store = self.id().clone();
        let what = what.to_owned();
        match err {
            OciDistributionError::UnauthorizedError { .. } => StoreError::Unauthorized {
                store,
                what,
                status: 401,
            },
            OciDistributionError::AuthenticationFailure(_) => StoreError::Unauthorized {
                store,
                what,
                status: 401,
            },
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::BlobUnknown
                            | OciErrorCode::NameUnknown
                    )
                }) {
                    StoreError::NotFound { store, what }
                } else if codes
                    .iter()
                    .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied))
                {
                    StoreError::Unauthorized {
                        store,
                        what,
                        status: 401,
                    }
                } else {
                    StoreError::Protocol {
                        store,
                        violation: ProtocolViolation::Registry(envelope),
                    }
                }
            }
            OciDistributionError::ServerError { code, message, .. } => match code {
                404 => StoreError::NotFound { store, what },
                _ => super::status_error(store, what, code, &message),
            },
            OciDistributionError::RequestError(e) => self.map_reqwest(e, what),
            OciDistributionError::IoError(e) => self.map_io(e, what),
            other => StoreError::Protocol {
                store,
                violation: ProtocolViolation::Request {
                    what,
                    source: other,
                },
            },
        }
    }

    fn map_reqwest(&self, e: reqwest::Error, what: String) -> StoreError {
        // oci-client turns some statuses into `reqwest` errors (`error_for_status`).
        if let Some(status) = e.status() {
            let store = self.id().clone();
            return match status.as_u16() {
                401 | 403 => StoreError::Unauthorized {
                    store,
                    what,
                    status: status.as_u16(),
                },
                404 => StoreError::NotFound { store, what },
                code => StoreError::Status {
                    store,
                    what,
                    status: code,
                    message: e.to_string(),
                },
            };
        }
        if e.is_timeout() {
            return StoreError::Timeout {
                store: self.id().clone(),
                what,
                seconds: self.read_timeout,
            };
        }
        // A plain-HTTP server answering a TLS handshake fails the handshake; a refused or reset
        // connection is an outage (retried), not a protocol mismatch.
        let https_only = !self.plain_http && e.is_connect() && is_tls_failure(&e);
        StoreError::Connect {
            store: self.id().clone(),
            what,
            https_only,
            source: Box::new(e),
        }
    }

    fn map_io(&self, e: std::io::Error, what: String) -> StoreError {
        match e.into_inner() {
            Some(inner) => match inner.downcast::<reqwest::Error>() {
                Ok(re) => self.map_reqwest(*re, what),
                Err(inner) => StoreError::Connect {
                    store: self.id().clone(),
                    what,
                    https_only: false,
                    source: inner,
                },
            },
            None => StoreError::Connect {
                store: self.id().clone(),
                what,
                https_only: false,
                source: "connection closed".into(),
            },
        }
    }
}

/// The error when oci-client's verifying stream found that a blob does not hash to
/// `descriptor_digest` (or to the `Docker-Content-Digest` header the server sent); `None` when
/// `e` is not that.
fn digest_failure(
    e: &std::io::Error,
    descriptor_digest: OciDigest,
    store: &StoreId,
    what: &str,
) -> Option<StoreError> {
    let DigestError::VerificationError { expected, actual } =
        e.get_ref()?.downcast_ref::<DigestError>()?
    else {
        return None;
    };
    // oci-client names the header's digest as expected for either check; only when the bytes
    // do match the descriptor was it the header that disagreed.
    let (expected, actual) = if descriptor_digest == *actual {
        match expected.parse::<OciDigest>() {
            Ok(header) => (header, descriptor_digest),
            Err(_) => {
                return Some(StoreError::Protocol {
                    store: store.clone(),
                    violation: ProtocolViolation::HeaderDigest {
                        what: what.to_owned(),
                        header: expected.clone(),
                    },
                });
            }
        }
    } else {
        (descriptor_digest, actual.parse().ok()?)
    };
    Some(StoreError::Digest {
        store: store.clone(),
        what: what.to_owned(),
        expected,
        actual,
    })
}

/// Whether a connection error came from the TLS handshake (wrong protocol, bad certificate).
fn is_tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(err) = source {
        let text = err.to_string().to_ascii_lowercase();
        if [
            "tls",
            "certificate",
            "corrupt message",
            "invalidcontenttype",
            "handshake",
        ]
        .iter()
        .any(|needle| text.contains(needle))
        {
            return true;
        }
        source = err.source();
    }
    false
}

impl RegistryStore {
    /// GETs a manifest reading at most [`artifact::MAX_MANIFEST_SIZE`] + 1 bytes. oci-client's
    /// `pull_manifest_raw` buffers the whole body, which a hostile registry could make endless;
    /// oci-client still does the token dance (`auth`), this only sends the request.
    async fn bounded_manifest(
        &self,
        target: &Target,
        what: &str,
    ) -> Result<Option<Bytes>, StoreError> {
        let reference = match target {
            Target::Tag(t) => t.clone(),
            Target::Digest(d) => d.to_string(),
        };
        self.bounded_get(&format!("manifests/{reference}"), what)
            .await
    }

    /// GETs `/v2/<repository>/<path>` (a manifest, an index or the referrers list), reading at
    /// most [`artifact::MAX_MANIFEST_SIZE`] + 1 bytes; `None` on 404.
    async fn bounded_get(&self, path: &str, what: &str) -> Result<Option<Bytes>, StoreError> {
        let token = self
            .pull_token
            .get_or_try_init(|| async {
                self.client
                    .auth(&self.base(), &self.auth, RegistryOperation::Pull)
                    .await
                    .map_err(|e| self.map_err(e, what))
            })
            .await?
            .clone();
        let scheme = if self.plain_http { "http" } else { "https" };
        let url = format!("{scheme}://{}/v2/{}/{path}", self.host, self.repository);
        tracing::debug!(%url, "GET");
        let mut request = self.http.get(&url).header(
            reqwest::header::ACCEPT,
            format!(
                "{}, {}",
                artifact::MANIFEST_MEDIA_TYPE,
                artifact::INDEX_MEDIA_TYPE
            ),
        );
        request = match (&token, &self.auth) {
            (Some(token), _) => request.bearer_auth(token),
            (None, RegistryAuth::Basic(user, password)) => request.basic_auth(user, Some(password)),
            _ => request,
        };
        let response = request
            .send()
            .await
            .map_err(|e| self.map_reqwest(e, what.to_owned()))?;
        let status = response.status().as_u16();
        match status {
            200 => {}
            404 => return Ok(None),
            _ => return Err(super::response_error(self.id().clone(), what, response).await),
        }
        let stream = response
            .bytes_stream()
            .map_err(|e| self.map_reqwest(e, what.to_owned()));
        match super::read_bounded(stream, artifact::MAX_MANIFEST_SIZE).await? {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(_) => Err(StoreError::TooLarge {
                store: self.id().clone(),
                what: what.to_owned(),
                limit: artifact::MAX_MANIFEST_SIZE,
            }),
        }
    }
}

fn oci_descriptor(d: &Descriptor) -> OciDescriptor {
    OciDescriptor {
        media_type: d.media_type.clone(),
        digest: d.digest.to_string(),
        size: d.size as i64,
        ..OciDescriptor::default()
    }
}

impl Store for RegistryStore {
    fn id(&self) -> &StoreId {
        &self.id
    }

    fn get_manifest<'a>(
        &'a self,
        target: &'a Target,
    ) -> BoxFuture<'a, Result<Option<Bytes>, StoreError>> {
        Box::pin(async move {
            let what = format!(
                "manifest `{}`",
                target.to_string().trim_start_matches([':', '@'])
            );
            self.login(&what).await?;
            self.bounded_manifest(target, &what).await
        })
    }

    fn put_manifest<'a>(
        &'a self,
        bytes: &'a [u8],
        media_type: &'a str,
        tag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let what = format!(
                "manifest upload{}",
                tag.map(|t| format!(" for tag `{t}`")).unwrap_or_default()
            );
            self.login(&what).await?;
            let target = match tag {
                Some(t) => Target::Tag(t.to_owned()),
                None => Target::Digest(OciDigest::of(bytes)),
            };
            let content_type = reqwest::header::HeaderValue::from_str(media_type).map_err(|e| {
                StoreError::Protocol {
                    store: self.id().clone(),
                    violation: ProtocolViolation::MediaType {
                        media_type: media_type.to_owned(),
                        source: e,
                    },
                }
            })?;
            self.client
                .push_manifest_raw(&self.reference(&target), bytes.to_vec(), content_type)
                .await
                .map_err(|e| self.map_err(e, &what))?;
            Ok(())
        })
    }

    fn has_blob<'a>(
        &'a self,
        descriptor: &'a Descriptor,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let what = format!("blob `{}`", descriptor.digest);
            self.login(&what).await?;
            self.client
                .blob_exists(&self.base(), &descriptor.digest.to_string())
                .await
                .map_err(|e| self.map_err(e, &what))
        })
    }

    fn put_blob<'a>(
        &'a self,
        descriptor: &'a Descriptor,
        source: BlobSource,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let what = format!("blob `{}`", descriptor.digest);
            self.login(&what).await?;
            let result = match source {
                BlobSource::Bytes(bytes) => {
                    self.client
                        .push_blob(&self.base(), bytes, &descriptor.digest.to_string())
                        .await
                }
                BlobSource::File(path) => {
                    let file = tokio::fs::File::open(&path)
                        .await
                        .map_err(|e| StoreError::Io {
                            path: path.clone(),
                            source: e,
                        })?;
                    let stream =
                        super::layout::file_stream(file).map_err(OciDistributionError::IoError);
                    self.client
                        .push_blob_stream(
                            &self.base(),
                            stream,
                            &descriptor.digest.to_string(),
                            Some(descriptor.size),
                        )
                        .await
                }
            };
            result.map(|_| ()).map_err(|e| self.map_err(e, &what))
        })
    }

    fn open_blob<'a>(
        &'a self,
        descriptor: &'a Descriptor,
        offset: u64,
    ) -> BoxFuture<'a, Result<BlobStream, StoreError>> {
        Box::pin(async move {
            let what = format!("blob `{}`", descriptor.digest);
            self.login(&what).await?;
            // A ranged request from 0 gets `206` from registries that can resume; oci-client does
            // not re-hash partial responses, and the pull hashes everything itself.
            let response = self
                .client
                .pull_blob_stream_partial(&self.base(), &oci_descriptor(descriptor), offset, None)
                .await
                .map_err(|e| self.map_err(e, &what))?;
            let (offset, sized) = match response {
                BlobResponse::Full(s) => (0, s),
                BlobResponse::Partial(s) => (offset, s),
            };
            let this = self.clone();
            let expected = descriptor.digest;
            let stream = sized
                .stream
                .map_err(
                    move |e| match digest_failure(&e, expected, this.id(), &what) {
                        Some(failure) => failure,
                        None => this.map_io(e, what.clone()),
                    },
                )
                .boxed();
            Ok(BlobStream { offset, stream })
        })
    }

    fn tags(&self, limit: usize) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let what = "the tag list";
            self.login(what).await?;
            // Attestation fallback tags (`sha256-…`) are listed too: ask for more than shown.
            let path = format!("tags/list?n={}", limit.saturating_mul(4).max(100));
            let Some(bytes) = self.bounded_get(&path, what).await? else {
                return Ok(Vec::new());
            };
            #[derive(serde::Deserialize)]
            struct TagList {
                #[serde(default)]
                tags: Option<Vec<String>>,
            }
            let list: TagList = serde_json::from_slice(&bytes).unwrap_or(TagList { tags: None });
            Ok(super::release_tags(list.tags.unwrap_or_default(), limit))
        })
    }

    fn referrers<'a>(
        &'a self,
        subject_digest: OciDigest,
    ) -> BoxFuture<'a, Result<Vec<Descriptor>, StoreError>> {
        Box::pin(async move {
            let what = format!("referrers of `{subject_digest}`");
            self.login(&what).await?;
            // oci-client's `pull_referrers` reads the whole answer; this reads at most a
            // manifest's bound, and falls back to the tag schema on 404 as it does.
            match self
                .bounded_get(&format!("referrers/{subject_digest}"), &what)
                .await?
            {
                Some(bytes) => Ok(super::referrers_list(self, &bytes, &what)?.manifests),
                None => super::fallback_referrers(self, subject_digest).await,
            }
        })
    }
}
