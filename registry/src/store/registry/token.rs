//! Logging in to a registry, done by zkelf itself so that credentials go only where they may.
//!
//! The distribution spec's flow: `GET /v2/` answers 401 with a challenge. `Basic` means the
//! registry takes the credentials itself. `Bearer realm=…,service=…` names a token service: zkelf
//! asks it for a token with exactly the scope the operation needs (`pull` to read, `pull,push`
//! to write), sending the credentials as Basic auth, but only to a realm reached over https, or
//! over plain http to a loopback host or one named by `--insecure-registry` (an https registry
//! naming `http://elsewhere/token` is refused, whatever else it says). oci-client, which zkelf
//! uses to upload, is then given the token itself, so it never asks a realm on its own.

use std::time::{Duration, Instant};

use futures_util::TryStreamExt as _;
use zeroize::Zeroizing;

use super::super::{ProtocolViolation, StoreError, StoreId};
use crate::auth::Credentials;
use crate::reference;

/// Largest token answer read.
const MAX_TOKEN_ANSWER: u64 = 64 << 10;

/// How long a token is used when its answer does not say (the spec's default).
const DEFAULT_TOKEN_LIFE: Duration = Duration::from_secs(60);

/// What an operation needs of the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Read manifests, blobs, referrers.
    Pull,
    /// Upload blobs and manifests (and read them).
    Push,
}

impl Access {
    fn scope(self, repository: &str) -> String {
        match self {
            Access::Pull => format!("repository:{repository}:pull"),
            Access::Push => format!("repository:{repository}:pull,push"),
        }
    }
}

/// How requests to the registry carry credentials.
#[derive(Clone)]
pub(super) enum Login {
    /// None: the registry asked for none.
    Anonymous,
    /// The user's credentials as Basic auth, to the registry itself.
    Basic(Credentials),
    /// A token the registry's token service gave, until `expires`.
    Bearer {
        token: Zeroizing<String>,
        expires: Instant,
    },
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Login::Anonymous => "Anonymous",
            Login::Basic(_) => "Basic(<redacted>)",
            Login::Bearer { .. } => "Bearer(<redacted>)",
        })
    }
}

impl Login {
    /// Whether it must be asked for again (a token about to expire).
    pub(super) fn stale(&self) -> bool {
        matches!(self, Login::Bearer { expires, .. } if Instant::now() + Duration::from_secs(10) >= *expires)
    }

    /// `request` carrying this login.
    pub(super) fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Login::Anonymous => request,
            Login::Basic(c) => request.basic_auth(&c.username, Some(c.password.as_str())),
            Login::Bearer { token, .. } => request.bearer_auth(token.as_str()),
        }
    }
}

/// Where and as whom to log in.
pub(super) struct Registry<'a> {
    pub(super) store: &'a StoreId,
    pub(super) http: &'a reqwest::Client,
    /// `http` or `https`.
    pub(super) scheme: &'a str,
    pub(super) host: &'a str,
    pub(super) repository: &'a str,
    pub(super) credentials: Option<&'a Credentials>,
    pub(super) insecure: &'a [String],
    /// How the store reports a failed request (`what` it was for).
    pub(super) failed: &'a (dyn Fn(reqwest::Error, String) -> StoreError + Sync),
}

impl Registry<'_> {
    /// Logs in for `access`, as the registry's challenge asks, to fetch or upload `what`.
    pub(super) async fn login(&self, access: Access, what: &str) -> Result<Login, StoreError> {
        let url = format!("{}://{}/v2/", self.scheme, self.host);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| (self.failed)(e, what.to_owned()))?;
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        match (status, challenge) {
            (401, Some(header)) => match Challenge::parse(&header) {
                Some(Challenge::Basic) => Ok(match self.credentials {
                    Some(c) => Login::Basic(c.clone()),
                    None => Login::Anonymous,
                }),
                Some(Challenge::Bearer { realm, service }) => {
                    self.token(access, &realm, service.as_deref()).await
                }
                None => Err(StoreError::Protocol {
                    store: self.store.clone(),
                    violation: ProtocolViolation::Challenge { header },
                }),
            },
            // No challenge: the registry wants no credentials (for this, at least).
            (200..=299 | 401, _) => Ok(Login::Anonymous),
            _ => Err(super::super::response_error(self.store.clone(), what, response).await),
        }
    }

    /// Asks the token service at `realm` for a token of `access`.
    async fn token(
        &self,
        access: Access,
        realm: &str,
        service: Option<&str>,
    ) -> Result<Login, StoreError> {
        let refused = || StoreError::TokenRealm {
            store: self.store.clone(),
            realm: realm.to_owned(),
        };
        let url = reqwest::Url::parse(realm).map_err(|_| refused())?;
        let allowed = match url.scheme() {
            "https" => !reference::has_userinfo(&url),
            "http" => reference::plain_http_allowed_url(&url, self.insecure),
            _ => false,
        };
        if !allowed {
            return Err(refused());
        }
        let what = "a token from the registry's token service";
        let mut query = vec![("scope", access.scope(self.repository))];
        if let Some(service) = service {
            query.push(("service", service.to_owned()));
        }
        let mut request = self.http.get(url).query(&query);
        if let Some(c) = self.credentials {
            request = request.basic_auth(&c.username, Some(c.password.as_str()));
        }
        let response = request
            .send()
            .await
            .map_err(|e| (self.failed)(e, what.to_owned()))?;
        if response.status().as_u16() != 200 {
            return Err(super::super::response_error(self.store.clone(), what, response).await);
        }
        let stream = response
            .bytes_stream()
            .map_err(|e| (self.failed)(e, what.to_owned()));
        let bytes = super::super::read_bounded(stream, MAX_TOKEN_ANSWER)
            .await?
            .map_err(|_| StoreError::TooLarge {
                store: self.store.clone(),
                what: what.to_owned(),
                limit: MAX_TOKEN_ANSWER,
            })?;
        let bytes = Zeroizing::new(bytes);
        let answer: TokenAnswer =
            serde_json::from_slice(&bytes).map_err(|source| StoreError::Protocol {
                store: self.store.clone(),
                violation: ProtocolViolation::TokenAnswer { source },
            })?;
        let token = answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| StoreError::Protocol {
                store: self.store.clone(),
                violation: ProtocolViolation::NoToken,
            })?;
        let life = answer
            .expires_in
            .map_or(DEFAULT_TOKEN_LIFE, Duration::from_secs);
        Ok(Login::Bearer {
            token: Zeroizing::new(token),
            expires: Instant::now() + life,
        })
    }
}

/// A token service's answer (the distribution spec names it `token`, OAuth2 `access_token`).
#[derive(serde::Deserialize)]
struct TokenAnswer {
    token: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// A `WWW-Authenticate` challenge zkelf can answer.
#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

impl Challenge {
    /// `Basic realm="…"` or `Bearer realm="…",service="…",scope="…"` (parameters in any order,
    /// values quoted or not); `None` for anything else.
    fn parse(header: &str) -> Option<Self> {
        let (scheme, params) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let params = parse_params(params)?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        Some(Challenge::Bearer {
            realm: get("realm")?,
            service: get("service"),
        })
    }
}

/// `k="v", k2=v2, …` as pairs; `None` when malformed.
fn parse_params(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim();
        if key.is_empty() || key.contains([' ', ',', '"']) {
            return None;
        }
        let after = after.trim_start();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                match chars.next()? {
                    (i, '"') => break i,
                    (_, '\\') => value.push(chars.next()?.1),
                    (_, c) => value.push(c),
                }
            };
            (value, &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            let value = after[..end].trim();
            if value.is_empty() || value.contains(char::is_whitespace) {
                return None;
            }
            (value.to_owned(), &after[end..])
        };
        out.push((key.to_owned(), value));
        let after = after.trim_start();
        rest = match after.strip_prefix(',') {
            Some(next) => next.trim_start(),
            None if after.is_empty() => after,
            None => return None,
        };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_as_registries_send_them() {
        assert_eq!(
            Challenge::parse(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
            })
        );
        assert_eq!(
            Challenge::parse(r#"bearer service="x", realm="https://r/t?a=1,2""#),
            Some(Challenge::Bearer {
                realm: "https://r/t?a=1,2".into(),
                service: Some("x".into()),
            })
        );
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        for bad in [
            "Bearer service=x",
            r#"Bearer realm="unterminated"#,
            "Bearer realm=a b",
            "Negotiate",
            "",
        ] {
            assert_eq!(Challenge::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_pull_asks_for_pull_only() {
        assert_eq!(Access::Pull.scope("acme/fib"), "repository:acme/fib:pull");
        assert_eq!(
            Access::Push.scope("acme/fib"),
            "repository:acme/fib:pull,push"
        );
    }
}
