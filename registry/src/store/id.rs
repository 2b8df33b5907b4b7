//! Which store a message or an error is about, typed: it displays as the user names the store,
//! and a hint takes the host from its fields, never from the displayed text (as uv's errors keep
//! a URL or a path, not their rendering).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::reference::{self, Reference};

/// A store as the user named it; cheap to clone into every error about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreId(Arc<StoreKind>);

/// The three kinds of store and what names each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// An OCI image layout directory.
    Layout(PathBuf),
    /// A repository on an OCI registry.
    Registry {
        /// `host[:port]`.
        host: String,
        /// The repository path.
        repository: String,
    },
    /// A download: the URL of the `.elf`, as given.
    Download(String),
}

impl From<StoreKind> for StoreId {
    fn from(kind: StoreKind) -> Self {
        Self(Arc::new(kind))
    }
}

impl StoreId {
    /// The store `reference` names (without its tag or digest).
    pub fn of(reference: &Reference) -> StoreId {
        StoreId::from(match reference {
            Reference::Layout { dir, .. } => StoreKind::Layout(dir.clone()),
            Reference::Registry {
                host, repository, ..
            } => StoreKind::Registry {
                host: host.clone(),
                repository: repository.clone(),
            },
            Reference::Https { url } => StoreKind::Download(url.clone()),
        })
    }

    /// What kind of store it is, and its name's parts.
    pub fn kind(&self) -> &StoreKind {
        &self.0
    }

    /// The `host[:port]` a network store connects to (what `docker login` and
    /// `--insecure-registry` name); `None` for a layout, or a URL that names no host.
    pub fn host(&self) -> Option<String> {
        match self.kind() {
            StoreKind::Layout(_) => None,
            StoreKind::Registry { host, .. } => Some(host.clone()),
            StoreKind::Download(url) => url::Url::parse(url)
                .ok()
                .filter(|u| u.host_str().is_some_and(|h| !h.is_empty()))
                .map(|u| reference::url_host_port(&u)),
        }
    }
}

impl fmt::Display for StoreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind() {
            StoreKind::Layout(dir) => write!(f, "oci-layout:{}", dir.display()),
            StoreKind::Registry { host, repository } => write!(f, "{host}/{repository}"),
            StoreKind::Download(url) => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_named_and_knows_its_host() {
        let layout = StoreId::from(StoreKind::Layout("./out".into()));
        assert_eq!(
            (layout.to_string(), layout.host()),
            ("oci-layout:./out".into(), None)
        );
        let registry = StoreId::from(StoreKind::Registry {
            host: "127.0.0.1:5000".into(),
            repository: "guests/fib".into(),
        });
        assert_eq!(registry.to_string(), "127.0.0.1:5000/guests/fib");
        assert_eq!(registry.host().as_deref(), Some("127.0.0.1:5000"));
        for (url, host) in [
            ("http://example.com/x.elf", "example.com"),
            (
                "https://github.com/o/r/releases/download/v1/x.elf",
                "github.com",
            ),
            ("http://127.0.0.1:8080/a/x.elf", "127.0.0.1:8080"),
            ("https://example.com:443/x.elf", "example.com"),
        ] {
            let id = StoreId::from(StoreKind::Download(url.into()));
            assert_eq!(id.to_string(), url);
            assert_eq!(id.host().as_deref(), Some(host), "{url}");
        }
    }
}
