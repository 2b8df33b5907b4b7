//! A plain download: `https://…/<file>.elf` with sidecars `<file>.elf.minisig` and, when
//! present, `<file>.provenance.json`, `<file>.vk` and `<file>.vk.minisig` (how guest releases on
//! GitHub are published today).
//!
//! There is no manifest on the server, so one is synthesized from the sidecars. When the
//! signature carries a zkelf statement, the ELF descriptor takes the size and sha256 the
//! statement claims and the VK is included only if the statement binds one. When it carries
//! none (an *unbound* signature, whose trusted comment is only the file name), nothing but a
//! digest pinned by the caller can name the ELF: the descriptor takes that pin and the size the
//! server reports, and the VK comes with its own `.vk.minisig`. Nothing is trusted because of
//! the manifest; the pull checks every byte against the signatures and pins afterwards.
//!
//! Redirects (GitHub sends downloads to another host) follow the rule every network store
//! shares (`super::http`): https anywhere, never down to plain http; byte bounds are counted on
//! the final body. TLS trusts the system's store (which honours `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` on Linux) plus the PEM files in [`NetworkOptions::ca_certificates`].

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{StreamExt as _, TryStreamExt as _};

use super::http::map_reqwest;
pub use super::http::{MAX_REDIRECTS, RedirectRefused};
use super::{
    BlobSource, BlobStream, ManifestHints, NetworkOptions, OpenProblem, ProtocolViolation, Store,
    StoreError, StoreId, StoreKind,
};
use crate::artifact::{self, ArtifactSpec, Descriptor};
use crate::digest::OciDigest;
use crate::reference::{self, Target};

/// Where a blob of the synthesized manifest is: the sidecars were downloaded to synthesize it
/// and are served from memory (each is downloaded once per pull); the ELF is streamed.
#[derive(Debug, Clone)]
enum Held {
    Url(String),
    Bytes(Bytes),
}

/// An `.elf` URL and its sidecars.
#[derive(Debug)]
pub struct HttpsSource {
    id: StoreId,
    url: String,
    client: reqwest::Client,
    read_timeout: u64,
    /// Blob digest → where it is, filled when the manifest is synthesized.
    urls: Mutex<HashMap<OciDigest, Held>>,
}

impl HttpsSource {
    /// A source for `url`; plain `http://` only for loopback or `--insecure-registry` hosts.
    pub fn new(url: &str, network: &NetworkOptions) -> Result<Self, StoreError> {
        let id = StoreId::from(StoreKind::Download(url.to_owned()));
        let parsed = reqwest::Url::parse(url).map_err(|e| StoreError::Open {
            store: id.clone(),
            problem: OpenProblem::Url(e),
        })?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(StoreError::Open {
                store: id.clone(),
                problem: OpenProblem::UserInfo,
            });
        }
        if parsed.scheme() == "http"
            && !reference::plain_http_allowed_url(&parsed, &network.insecure_registries)
        {
            return Err(StoreError::Connect {
                store: id.clone(),
                what: "the ELF".to_owned(),
                source: "plain http is refused for hosts that are not loopback".into(),
                https_only: true,
            });
        }
        let client = super::http::client(&id, network)?;
        Ok(Self {
            id,
            url: url.to_owned(),
            client,
            read_timeout: network.read_timeout.as_secs(),
            urls: Mutex::new(HashMap::new()),
        })
    }

    fn map_reqwest(&self, e: reqwest::Error, what: &str) -> StoreError {
        map_reqwest(&self.id, self.read_timeout, e, what)
    }

    async fn get(
        &self,
        url: &str,
        what: &str,
        range: Option<String>,
    ) -> Result<Option<reqwest::Response>, StoreError> {
        tracing::debug!(url, range = range.as_deref(), "GET");
        let mut request = self.client.get(url);
        if let Some(range) = range {
            request = request.header(reqwest::header::RANGE, range);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.map_reqwest(e, what))?;
        let status = response.status().as_u16();
        tracing::debug!(url, status, "response");
        match status {
            200 | 206 => Ok(Some(response)),
            404 => Ok(None),
            _ => Err(super::response_error(self.id.clone(), what, response).await),
        }
    }

    /// Downloads a small sidecar, at most `limit` bytes.
    async fn get_small(
        &self,
        url: &str,
        what: &str,
        limit: u64,
    ) -> Result<Option<Bytes>, StoreError> {
        let Some(response) = self.get(url, what, None).await? else {
            return Ok(None);
        };
        let store = self.id.clone();
        let seconds = self.read_timeout;
        let what_owned = what.to_owned();
        let stream = response
            .bytes_stream()
            .map_err(move |e| map_reqwest(&store, seconds, e, &what_owned));
        match super::read_bounded(stream, limit).await? {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(_) => Err(StoreError::TooLarge {
                store: self.id.clone(),
                what: what.to_owned(),
                limit,
            }),
        }
    }

    /// The ELF's size as the server reports it, asking for its first byte only (a `HEAD` is not
    /// what GitHub's presigned download links are signed for).
    async fn elf_size(&self) -> Result<u64, StoreError> {
        let what = "the size of the ELF";
        let response = self
            .get(&self.url, what, Some("bytes=0-0".to_owned()))
            .await?
            .ok_or_else(|| StoreError::NotFound {
                store: self.id.clone(),
                what: format!("`{}`", self.url),
            })?;
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let size = if response.status().as_u16() == 206 {
            // `Content-Range: bytes 0-0/<size>`
            header(reqwest::header::CONTENT_RANGE)
                .and_then(|v| v.rsplit_once('/').and_then(|(_, n)| n.trim().parse().ok()))
        } else {
            header(reqwest::header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok())
        };
        size.ok_or_else(|| StoreError::Protocol {
            store: self.id.clone(),
            violation: ProtocolViolation::NoElfSize,
        })
    }

    fn sidecar(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.url.trim_end_matches(".elf"))
    }

    /// The file name without `.elf`.
    fn stem(&self) -> &str {
        let name = self.url.rsplit('/').next().unwrap_or(&self.url);
        name.strip_suffix(".elf").unwrap_or(name)
    }

    fn remember(&self, descriptor: &Descriptor, held: Held) {
        self.urls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(descriptor.digest, held);
    }

    async fn synthesize(&self, hints: ManifestHints) -> Result<Bytes, StoreError> {
        let elf_pin = hints.elf_sha256.as_ref();
        let sig_url = format!("{}.minisig", self.url);
        let Some(sig) = self
            .get_small(&sig_url, "the signature", artifact::MAX_SIGNATURE_SIZE)
            .await?
        else {
            return Err(StoreError::NotFound {
                store: self.id.clone(),
                what: format!("signature `{sig_url}`"),
            });
        };
        let text = String::from_utf8_lossy(&sig);
        let claimed = crate::signature::claimed_statement(&text).map_err(|problem| {
            StoreError::Signature {
                signature: sig_url.clone(),
                problem,
            }
        })?;
        let provenance = self
            .get_small(
                &self.sidecar(".provenance.json"),
                "the provenance",
                artifact::MAX_PROVENANCE_SIZE,
            )
            .await?;
        // The VK is fetched when something vouches for it: the statement's `vk=`, or (for an
        // unbound signature, when the caller wants the VK) its own `.vk.minisig`; up to 64 MiB
        // nobody asked for are not downloaded.
        let wants_vk = match &claimed {
            Some(s) => s.vk.is_some(),
            None => hints.vk,
        };
        let vk = if wants_vk {
            self.get_small(
                &self.sidecar(".vk"),
                "the verification key",
                artifact::MAX_VK_SIZE,
            )
            .await?
        } else {
            None
        };
        let vk_sig = if claimed.is_none() && vk.is_some() {
            self.get_small(
                &self.sidecar(".vk.minisig"),
                "the verification key's signature",
                artifact::MAX_SIGNATURE_SIZE,
            )
            .await?
        } else {
            None
        };

        let elf = match (&claimed, elf_pin) {
            (Some(statement), _) => Descriptor::new(
                artifact::ELF_MEDIA_TYPE,
                OciDigest::from(statement.sha256),
                statement.size,
            ),
            (None, Some(pin)) => Descriptor::new(
                artifact::ELF_MEDIA_TYPE,
                OciDigest::from(*pin),
                self.elf_size().await?,
            ),
            (None, None) => {
                return Err(StoreError::Unbound {
                    signature: sig_url,
                    comment: crate::signature::trusted_comment(&text).unwrap_or_default(),
                });
            }
        };
        let sig_desc = Descriptor::of(artifact::MINISIG_MEDIA_TYPE, &sig);
        let prov_desc = provenance
            .as_ref()
            .map(|p| Descriptor::of(artifact::PROVENANCE_MEDIA_TYPE, p));
        let vk_desc = vk
            .as_ref()
            .map(|v| Descriptor::of(artifact::VK_MEDIA_TYPE, v));
        let vk_sig_desc = vk_sig
            .as_ref()
            .map(|s| Descriptor::of(artifact::VK_MINISIG_MEDIA_TYPE, s));
        self.remember(&elf, Held::Url(self.url.clone()));
        self.remember(&sig_desc, Held::Bytes(sig));
        for (d, bytes) in [
            (&prov_desc, provenance),
            (&vk_desc, vk),
            (&vk_sig_desc, vk_sig),
        ] {
            if let (Some(d), Some(bytes)) = (d, bytes) {
                self.remember(d, Held::Bytes(bytes));
            }
        }
        let bytes = match claimed {
            Some(statement) => {
                ArtifactSpec {
                    guest: statement.guest.clone(),
                    version: statement.version.to_string(),
                    zkvm: statement.zkvm.clone(),
                    target: statement.target.clone(),
                    revision: None,
                    source: Some(self.url.clone()),
                    created: statement.created,
                    elf,
                    signature: sig_desc,
                    provenance: prov_desc,
                    vk: vk_desc,
                    vk_signature: None,
                    annotations: Default::default(),
                }
                .manifest()
                .0
            }
            None => artifact::unbound_manifest(
                self.stem(),
                &self.url,
                &elf,
                &sig_desc,
                prov_desc.as_ref(),
                vk_desc.as_ref(),
                vk_sig_desc.as_ref(),
            ),
        };
        Ok(Bytes::from(bytes))
    }
}

impl Store for HttpsSource {
    fn id(&self) -> &StoreId {
        &self.id
    }

    fn get_manifest<'a>(
        &'a self,
        target: &'a Target,
    ) -> BoxFuture<'a, Result<Option<Bytes>, StoreError>> {
        self.get_manifest_pinned(target, ManifestHints::default())
    }

    fn get_manifest_pinned<'a>(
        &'a self,
        target: &'a Target,
        hints: ManifestHints,
    ) -> BoxFuture<'a, Result<Option<Bytes>, StoreError>> {
        Box::pin(async move {
            if matches!(target, Target::Tag(t) if t != "latest")
                || matches!(target, Target::Digest(_))
            {
                return Ok(None);
            }
            self.synthesize(hints).await.map(Some)
        })
    }

    fn put_manifest<'a>(
        &'a self,
        _: &'a [u8],
        _: &'a str,
        _: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            Err(StoreError::ReadOnly {
                store: self.id().clone(),
            })
        })
    }

    fn has_blob<'a>(&'a self, _: &'a Descriptor) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            Err(StoreError::ReadOnly {
                store: self.id().clone(),
            })
        })
    }

    fn put_blob<'a>(
        &'a self,
        _: &'a Descriptor,
        _: BlobSource,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            Err(StoreError::ReadOnly {
                store: self.id().clone(),
            })
        })
    }

    fn open_blob<'a>(
        &'a self,
        descriptor: &'a Descriptor,
        offset: u64,
    ) -> BoxFuture<'a, Result<BlobStream, StoreError>> {
        Box::pin(async move {
            let what = format!("blob `{}`", descriptor.digest);
            let held = self
                .urls
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&descriptor.digest)
                .cloned()
                .ok_or_else(|| StoreError::NotFound {
                    store: self.id().clone(),
                    what: what.clone(),
                })?;
            let url = match held {
                Held::Url(url) => url,
                Held::Bytes(bytes) => {
                    let start = usize::try_from(offset)
                        .unwrap_or(usize::MAX)
                        .min(bytes.len());
                    return Ok(BlobStream {
                        offset,
                        stream: futures_util::stream::iter([Ok(bytes.slice(start..))]).boxed(),
                    });
                }
            };
            let range = (offset > 0).then(|| format!("bytes={offset}-"));
            let response =
                self.get(&url, &what, range)
                    .await?
                    .ok_or_else(|| StoreError::NotFound {
                        store: self.id().clone(),
                        what: format!("`{url}`"),
                    })?;
            let offset = if response.status().as_u16() == 206 {
                offset
            } else {
                0
            };
            let store = self.id.clone();
            let seconds = self.read_timeout;
            let stream = response
                .bytes_stream()
                .map_err(move |e| map_reqwest(&store, seconds, e, &what))
                .boxed();
            Ok(BlobStream { offset, stream })
        })
    }

    fn referrers<'a>(&'a self, _: OciDigest) -> BoxFuture<'a, Result<Vec<Descriptor>, StoreError>> {
        Box::pin(async move { Ok(Vec::new()) })
    }
}
