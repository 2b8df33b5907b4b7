//! The HTTP client every network store uses for what zkelf sends itself (downloads, registry
//! reads, token requests), and the one redirect rule they share: https anywhere; plain http only
//! while every hop so far was plain http to a host that may be reached so (loopback or
//! `--insecure-registry`), never after https (a registry's blob redirect to a CDN included); at
//! most [`MAX_REDIRECTS`] hops. Connect and read timeouts hold on every hop. reqwest drops the
//! `Authorization` header on a hop to another host, scheme or port.

use super::{NetworkOptions, OpenProblem, StoreError, StoreId};
use crate::reference;

/// Redirect hops followed before giving up.
pub const MAX_REDIRECTS: usize = 10;

/// A redirect zkelf does not follow.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RedirectRefused {
    /// To plain http, from https or to a host that is not loopback.
    #[error("redirect to plain http `{location}` refused")]
    Insecure {
        /// Where the server sent the client.
        location: String,
    },
    /// Too many hops.
    #[error("more than {MAX_REDIRECTS} redirects (the last to `{location}`)")]
    TooMany {
        /// The last location.
        location: String,
    },
}

impl zkelf_trust::diagnose::Diagnose for RedirectRefused {}

/// The redirect policy: https anywhere; plain http only while every hop so far was plain http
/// to a host that may be reached so (loopback or `--insecure-registry`), never after https.
fn redirect_policy(insecure: Vec<String>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let location = attempt.url().to_string();
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(RedirectRefused::TooMany { location });
        }
        let plain_ok = |url: &reqwest::Url| {
            url.scheme() == "http" && reference::plain_http_allowed_url(url, &insecure)
        };
        match attempt.url().scheme() {
            "https" => attempt.follow(),
            "http" if plain_ok(attempt.url()) && attempt.previous().iter().all(plain_ok) => {
                attempt.follow()
            }
            _ => attempt.error(RedirectRefused::Insecure { location }),
        }
    })
}

/// The client for `store`: timeouts, the redirect rule, the system's roots plus
/// [`NetworkOptions::ca_certificates`].
pub(crate) fn client(
    store: &StoreId,
    network: &NetworkOptions,
) -> Result<reqwest::Client, StoreError> {
    let mut roots = Vec::new();
    for path in &network.ca_certificates {
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let pem = std::fs::read(path).map_err(io)?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        roots.extend(certs);
    }
    reqwest::Client::builder()
        .connect_timeout(network.connect_timeout)
        .read_timeout(network.read_timeout)
        .redirect(redirect_policy(network.insecure_registries.clone()))
        .tls_certs_merge(roots)
        .user_agent(concat!("zkelf/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| StoreError::Open {
            store: store.clone(),
            problem: OpenProblem::HttpClient(e),
        })
}

/// A reqwest failure as a store error: timeouts, refused redirects, everything else a
/// connection failure.
pub(crate) fn map_reqwest(
    store: &StoreId,
    seconds: u64,
    e: reqwest::Error,
    what: &str,
) -> StoreError {
    if e.is_timeout() {
        return StoreError::Timeout {
            store: store.clone(),
            what: what.to_owned(),
            seconds,
        };
    }
    if e.is_redirect() {
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            if let Some(refused) = s.downcast_ref::<RedirectRefused>() {
                return StoreError::Redirect {
                    store: store.clone(),
                    what: what.to_owned(),
                    source: refused.clone(),
                };
            }
            source = s.source();
        }
    }
    if is_certificate_failure(&e) {
        return StoreError::Tls {
            store: store.clone(),
            what: what.to_owned(),
            source: Box::new(e),
        };
    }
    StoreError::Connect {
        store: store.clone(),
        what: what.to_owned(),
        https_only: false,
        source: Box::new(e),
    }
}

/// Whether the server's certificate was refused. rustls's error sits inside an `io::Error`
/// inside hyper's inside reqwest's, and `io::Error::source` skips the error it wraps, so the
/// chain is read by its messages (rustls says "invalid peer certificate: …").
fn is_certificate_failure(e: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.to_string().contains("peer certificate") {
            return true;
        }
        source = s.source();
    }
    false
}
