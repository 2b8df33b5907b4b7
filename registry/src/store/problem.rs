//! What went wrong with a store, typed: the causes [`super::StoreError`] keeps in `#[source]`.
//! A leaf: it names only other leaves and foreign types.

use std::path::PathBuf;

use zkelf_trust::diagnose::Diagnose;

use crate::auth::AuthError;
use crate::digest::OciDigest;

/// Why a store could not be opened (nothing was asked of it yet).
#[derive(Debug, thiserror::Error)]
pub enum OpenProblem {
    /// The download URL does not parse.
    #[error("the URL does not parse")]
    Url(#[source] url::ParseError),
    /// A user before `@`, which zkelf would send as credentials.
    #[error("the URL names a user (`…@` before the host), which zkelf does not send")]
    UserInfo,
    /// A registry host the http client would not read as one.
    #[error("`{host}` is not a `<host>[:<port>]` (a user before `@` is not accepted)")]
    BadHost {
        /// The host as given.
        host: String,
    },
    /// The docker config that would give credentials cannot be used.
    #[error("the docker config is unusable")]
    DockerConfig(#[source] AuthError),
    /// The http client cannot be built (TLS roots, options).
    #[error("cannot set up the http client")]
    HttpClient(#[source] reqwest::Error),
}

impl Diagnose for OpenProblem {}

/// What a store said or did that the protocol (or the layout format) does not allow.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolViolation {
    /// A release index lists an index where an artifact manifest belongs.
    #[error("release index `{index}` lists another index")]
    NestedIndex {
        /// The index listed.
        index: OciDigest,
    },
    /// An attestation that is an index.
    #[error("attestation `{attestation}` is an index")]
    AttestationIsIndex {
        /// The attestation.
        attestation: OciDigest,
    },
    /// An attestation whose subject is another manifest.
    #[error("attestation `{attestation}` is not about `{subject}`")]
    AttestationSubject {
        /// The attestation.
        attestation: OciDigest,
        /// The manifest it was listed for.
        subject: OciDigest,
    },
    /// An attestation without a signature layer.
    #[error("attestation `{attestation}` has no minisig layer")]
    AttestationUnsigned {
        /// The attestation.
        attestation: OciDigest,
    },
    /// A referrers list that is a manifest.
    #[error("{what} names a manifest, not an index")]
    NotAnIndex {
        /// The list (`referrers tag …`).
        what: String,
    },
    /// A download that does not say its size.
    #[error("it does not say how large the ELF is (no `Content-Range` or `Content-Length`)")]
    NoElfSize,
    /// The registry's error envelope, for an error zkelf has no better name for.
    #[error("{0}")]
    Registry(oci_client::errors::OciEnvelope),
    /// A request that failed in a way neither HTTP status nor transport explains.
    #[error("the request for {what} failed")]
    Request {
        /// What was asked for.
        what: String,
        /// What the OCI client said.
        #[source]
        source: oci_client::errors::OciDistributionError,
    },
    /// A media type that cannot be sent as a header.
    #[error("media type `{media_type}` is not a header value")]
    MediaType {
        /// The media type.
        media_type: String,
        /// Why.
        #[source]
        source: reqwest::header::InvalidHeaderValue,
    },
    /// A login challenge (`WWW-Authenticate`) that is neither Basic nor a Bearer naming a realm.
    #[error("its login challenge `{header}` is neither `Basic` nor `Bearer realm=…`")]
    Challenge {
        /// The header as sent.
        header: String,
    },
    /// A token service's answer that is not the JSON the distribution spec describes.
    #[error("its token service answered something other than a token")]
    TokenAnswer {
        /// Why it does not parse.
        #[source]
        source: serde_json::Error,
    },
    /// A token service's answer without a token.
    #[error("its token service answered without a `token`")]
    NoToken,
    /// An OCI layout's `index.json` that is not JSON.
    #[error("`{}` does not parse", path.display())]
    IndexJson {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// An `index.json` that is JSON but not an object.
    #[error("`index.json` is not a JSON object")]
    IndexNotAnObject,
    /// An `index.json` without a `manifests` list.
    #[error("`index.json` has no `manifests` list")]
    IndexWithoutManifests,
    /// A tag in `index.json` that names no valid digest.
    #[error("tag `{tag}` names the malformed digest `{digest}`")]
    TagDigest {
        /// The tag.
        tag: String,
        /// What it names.
        digest: String,
    },
    /// The layout's writer thread stopped before it finished.
    #[error("the writer thread stopped")]
    Writer(#[source] tokio::task::JoinError),
}

impl Diagnose for ProtocolViolation {}
