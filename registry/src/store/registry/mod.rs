//! An OCI registry: HTTPS, plain HTTP only for loopback hosts and those named by
//! `--insecure-registry`. zkelf logs in itself (`token`: credentials only to the registry or to
//! a token service over https, a pull asking for pull only) and reads manifests, referrers and
//! blobs with its own client, under the redirect rule every store shares (`super::http`);
//! uploads go through oci-client, handed the login zkelf made.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{StreamExt as _, TryStreamExt as _};
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, RegistryOperation};

use super::{
    BlobSource, BlobStream, NetworkOptions, OpenProblem, ProtocolViolation, Store, StoreError,
    StoreId, StoreKind,
};
use crate::artifact::{self, Descriptor};
use crate::auth::Credentials;
use crate::digest::OciDigest;
use crate::reference::{self, Target};
use token::{Access, Login};

mod token;

/// A repository in an OCI registry.
#[derive(Clone)]
pub struct RegistryStore {
    id: StoreId,
    host: String,
    repository: String,
    /// For uploads only.
    client: Client,
    credentials: Option<Credentials>,
    insecure: Vec<String>,
    plain_http: bool,
    read_timeout: u64,
    /// For everything zkelf asks itself: logins, manifests, referrers, blobs.
    http: reqwest::Client,
    /// The login for reading and the one for uploading (which oci-client is handed too).
    logins: Arc<tokio::sync::Mutex<[Option<Login>; 2]>>,
}

impl std::fmt::Debug for RegistryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryStore")
            .field("host", &self.host)
            .field("repository", &self.repository)
            .field("credentials", &self.credentials)
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
        Ok(Self {
            http: super::http::client(&id, network)?,
            client: Client::new(upload_config(host, plain_http, network)?),
            id,
            host: host.to_owned(),
            repository: repository.to_owned(),
            credentials,
            insecure: network.insecure_registries.clone(),
            plain_http,
            read_timeout: network.read_timeout.as_secs(),
            logins: Arc::new(tokio::sync::Mutex::new([None, None])),
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

    fn scheme(&self) -> &'static str {
        if self.plain_http { "http" } else { "https" }
    }

    /// The login for `access`, made (or made again, for a token about to expire) when needed;
    /// one for uploading is handed to oci-client before anyone uses it.
    async fn login(&self, access: Access, what: &str) -> Result<Login, StoreError> {
        let mut logins = self.logins.lock().await;
        let slot = &mut logins[access as usize];
        if let Some(login) = slot.as_ref().filter(|l| !l.stale()) {
            return Ok(login.clone());
        }
        let login = token::Registry {
            store: &self.id,
            http: &self.http,
            scheme: self.scheme(),
            host: &self.host,
            repository: &self.repository,
            credentials: self.credentials.as_ref(),
            insecure: &self.insecure,
            failed: &|e, what| self.map_reqwest(e, what),
        }
        .login(access, what)
        .await?;
        if access == Access::Push {
            // Given a token, oci-client uses it as it is and asks no token service itself.
            let auth = match &login {
                Login::Anonymous => RegistryAuth::Anonymous,
                Login::Basic(c) => {
                    RegistryAuth::Basic(c.username.clone(), c.password.as_str().to_owned())
                }
                Login::Bearer { token, .. } => RegistryAuth::Bearer(token.as_str().to_owned()),
            };
            for operation in [RegistryOperation::Push, RegistryOperation::Pull] {
                self.client
                    .auth(&self.base(), &auth, operation)
                    .await
                    .map_err(|e| self.map_err(e, "the registry's login"))?;
            }
        }
        *slot = Some(login.clone());
        Ok(login)
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

    /// A failure of a request zkelf sent itself: a status as such, timeouts, refused redirects
    /// and certificates as every store reports them, a plain-HTTP server answering TLS as https
    /// refused.
    fn map_reqwest(&self, e: reqwest::Error, what: String) -> StoreError {
        // oci-client turns some statuses into `reqwest` errors (`error_for_status`).
        if let Some(status) = e.status() {
            return super::status_error(self.id().clone(), what, status.as_u16(), &e.to_string());
        }
        let tls = !self.plain_http && e.is_connect() && is_tls_failure(&e);
        match super::http::map_reqwest(self.id(), self.read_timeout, e, &what) {
            StoreError::Connect {
                store,
                what,
                source,
                ..
            } => StoreError::Connect {
                store,
                what,
                source,
                https_only: tls,
            },
            other => other,
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

/// The oci-client configuration for uploads: the registry's protocol, timeouts, and the extra
/// roots of [`NetworkOptions::ca_certificates`].
fn upload_config(
    host: &str,
    plain_http: bool,
    network: &NetworkOptions,
) -> Result<ClientConfig, StoreError> {
    let mut extra_root_certificates = Vec::new();
    for path in &network.ca_certificates {
        let data = std::fs::read(path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        extra_root_certificates.push(Certificate {
            encoding: CertificateEncoding::Pem,
            data,
        });
    }
    Ok(ClientConfig {
        protocol: if plain_http {
            ClientProtocol::HttpsExcept(vec![host.to_owned()])
        } else {
            ClientProtocol::Https
        },
        // One PUT streams the whole blob; chunked PATCHes buy nothing for files we have whole.
        use_monolithic_push: true,
        platform_resolver: None,
        connect_timeout: Some(network.connect_timeout),
        read_timeout: Some(network.read_timeout),
        user_agent: concat!("zkelf/", env!("CARGO_PKG_VERSION")),
        extra_root_certificates,
        ..ClientConfig::default()
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
    /// GETs `/v2/<repository>/<path>` with the pull login; `range` asks for a blob from an
    /// offset. `None` on 404.
    async fn get(
        &self,
        path: &str,
        what: &str,
        headers: &[(reqwest::header::HeaderName, String)],
    ) -> Result<Option<reqwest::Response>, StoreError> {
        let login = self.login(Access::Pull, what).await?;
        let url = format!(
            "{}://{}/v2/{}/{path}",
            self.scheme(),
            self.host,
            self.repository
        );
        tracing::debug!(%url, "GET");
        let mut request = login.apply(self.http.get(&url));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.map_reqwest(e, what.to_owned()))?;
        match response.status().as_u16() {
            200 | 206 => Ok(Some(response)),
            404 => Ok(None),
            _ => Err(super::response_error(self.id().clone(), what, response).await),
        }
    }

    /// GETs a manifest, an index or the referrers list, reading at most
    /// [`artifact::MAX_MANIFEST_SIZE`] + 1 bytes (a hostile registry could make it endless);
    /// `None` on 404.
    async fn bounded_get(&self, path: &str, what: &str) -> Result<Option<Bytes>, StoreError> {
        let accept = format!(
            "{}, {}",
            artifact::MANIFEST_MEDIA_TYPE,
            artifact::INDEX_MEDIA_TYPE
        );
        let Some(response) = self
            .get(path, what, &[(reqwest::header::ACCEPT, accept)])
            .await?
        else {
            return Ok(None);
        };
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
            let reference = match target {
                Target::Tag(t) => t.clone(),
                Target::Digest(d) => d.to_string(),
            };
            self.bounded_get(&format!("manifests/{reference}"), &what)
                .await
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
            self.login(Access::Push, &what).await?;
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
            self.login(Access::Push, &what).await?;
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
            self.login(Access::Push, &what).await?;
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
            // A ranged request from 0 gets `206` from registries that can resume; the pull
            // hashes and counts everything itself. A redirect (to a CDN) follows the shared rule.
            let range = (reqwest::header::RANGE, format!("bytes={offset}-"));
            let response = self
                .get(&format!("blobs/{}", descriptor.digest), &what, &[range])
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    store: self.id().clone(),
                    what: what.clone(),
                })?;
            let offset = if response.status().as_u16() == 206 {
                offset
            } else {
                0
            };
            let this = self.clone();
            let stream = response
                .bytes_stream()
                .map_err(move |e| this.map_reqwest(e, what.clone()))
                .boxed();
            Ok(BlobStream { offset, stream })
        })
    }

    fn tags(&self, limit: usize) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let what = "the tag list";
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
