//! The fetch step: the guest's inputs read on the host (its workspace's `Cargo.lock` and
//! `Cargo.toml`, within their bounds), then the fetch container (network on, the host's CA
//! bundle) vendoring every crate the lock file names and the sysroot library's, cached by the
//! lock file and the builder image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use zkelf_trust::bounded;
use zkelf_trust::digest::Sha256Digest;

use super::BuildOptions;
use super::plan::{PATH, Plan, SYSROOT_LIBRARY_MANIFEST, VENDOR_PATH};
use crate::docker::{ContainerSpec, Engine};
use crate::error::BuilderError;
use crate::fsutil::{self, read_input};
use crate::image::BuilderImage;
use crate::provenance::{ResourceDescriptor, deps, sha256_digest};
use crate::reporter::Reporter;
use crate::source::Source;

/// A cargo guest's workspace files, read once on the host: what the fetch, the sysroot key and
/// a rebuild's checks all read.
#[derive(Debug, Clone)]
pub(crate) struct GuestInputs {
    /// `Cargo.lock`'s bytes.
    pub cargo_lock: Vec<u8>,
    /// Its sha256.
    pub cargo_lock_sha256: Sha256Digest,
    /// The workspace's `Cargo.toml`: its path and text (its `[profile.release]` is the
    /// sysroot's).
    pub workspace: (PathBuf, String),
}

impl GuestInputs {
    /// Reads `Cargo.lock` and `Cargo.toml` at the source root: regular files, not links, within
    /// their bounds.
    pub fn read(source: &Source) -> Result<Self, BuilderError> {
        let root = source.host_source_root();
        let cargo_lock = read_input(&root.join("Cargo.lock"), bounded::MAX_CARGO_LOCK_LEN)?;
        let path = root.join("Cargo.toml");
        let text = bounded::read_no_follow(&path, bounded::MAX_CARGO_TOML_LEN)
            .and_then(bounded::into_text)
            .map_err(|source| BuilderError::Read {
                path: path.clone(),
                source,
            })?;
        Ok(Self {
            cargo_lock_sha256: Sha256Digest::of(&cargo_lock),
            cargo_lock,
            workspace: (path, text),
        })
    }
}

/// The vendored crates of a build.
#[derive(Debug)]
pub(crate) struct Vendored {
    /// The vendor directory (mounted read-only into the sysroot and build containers).
    pub dir: PathBuf,
    /// `(name, version, sha256 of the .crate)` of every vendored crate, sorted.
    pub crates: Vec<(String, String, String)>,
    /// Keeps an uncached vendor directory alive for the build.
    _temp: Option<tempfile::TempDir>,
}

impl Vendored {
    /// Its provenance records: `Cargo.lock` (at `root`, the source root) and one `crate:<name>`
    /// per vendored crate.
    pub fn dependencies(&self, inputs: &GuestInputs, root: &Path) -> Vec<ResourceDescriptor> {
        let mut out = vec![ResourceDescriptor {
            name: Some(deps::CARGO_LOCK.into()),
            uri: Some(format!("{}/Cargo.lock", root.display())),
            digest: sha256_digest(inputs.cargo_lock_sha256),
            ..Default::default()
        }];
        out.extend(
            self.crates
                .iter()
                .map(|(name, version, checksum)| ResourceDescriptor {
                    name: Some(format!("crate:{name}")),
                    uri: Some(format!("pkg:cargo/{name}@{version}")),
                    digest: if checksum.is_empty() {
                        BTreeMap::new()
                    } else {
                        sha256_digest(checksum)
                    },
                    ..Default::default()
                }),
        );
        out
    }
}

/// Vendors the crates of `inputs` (the guest's lock file) and the sysroot library: from the
/// cache (`<options.cache_dir>/vendor/<key>`, keyed by the lock file and the builder image)
/// when there, else with the fetch container (given `options.ca_bundle`).
pub(crate) async fn vendor(
    engine: &Engine,
    image: &BuilderImage,
    guest: &str,
    source: &Source,
    inputs: &GuestInputs,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<Vendored, BuilderError> {
    let key = Sha256Digest::of(format!("{}\0{}", inputs.cargo_lock_sha256, image.id).as_bytes())
        .to_string();
    let (dir, temp) = match &options.cache_dir {
        Some(cache) => (cache.join("vendor").join(&key[..32]), None),
        None => {
            let temp = fsutil::tempdir("zkelf-vendor-")?;
            (temp.path().join("vendor"), Some(temp))
        }
    };
    if !dir.is_dir() {
        let parent = dir.parent().unwrap_or(Path::new("/"));
        std::fs::create_dir_all(parent)
            .map_err(|e| BuilderError::io("cannot create", parent, e))?;
        let partial = tempfile::Builder::new()
            .prefix(".partial-")
            .tempdir_in(parent)
            .map_err(|e| BuilderError::io("cannot create a temporary directory in", parent, e))?;
        reporter.step(&format!(
            "fetching the crates of {guest} (cargo vendor --locked)"
        ));
        let spec = fetch_spec(image, source, partial.path(), &options.ca_bundle);
        let exit = engine.run(&spec, reporter).await?;
        if exit.code != 0 {
            return Err(BuilderError::FetchFailed {
                guest: guest.to_string(),
                code: exit.code,
                output: exit.tail,
            });
        }
        let partial = partial.keep();
        if let Err(e) = std::fs::rename(&partial, &dir) {
            // Another build filled the cache meanwhile; use theirs.
            let _ = std::fs::remove_dir_all(&partial);
            if !dir.is_dir() {
                return Err(BuilderError::io("cannot rename into", &dir, e));
            }
        }
        reporter.finish("crates vendored");
    }
    let listed = dir.clone();
    let crates = super::blocking(move || vendored_crates(&listed)).await?;
    Ok(Vendored {
        dir,
        crates,
        _temp: temp,
    })
}

/// The fetch container: network on, the host's CA bundle, `cargo vendor --locked` of the
/// guest's workspace and the sysroot library into `vendor`.
fn fetch_spec(
    image: &BuilderImage,
    source: &Source,
    vendor: &Path,
    ca_bundle: &Path,
) -> ContainerSpec {
    use std::os::unix::fs::MetadataExt;
    let root = Plan::container_path(&source.source_root);
    // Run as the owner of the vendor directory (us), so the cache stays ours.
    let user = std::fs::metadata(vendor)
        .map(|m| format!("{}:{}", m.uid(), m.gid()))
        .unwrap_or_else(|_| "0:0".into());
    let mut binds = vec![
        format!("{}:{root}:ro", source.host_source_root().display()),
        format!("{}:{VENDOR_PATH}", vendor.display()),
    ];
    let mut env = vec![
        format!("PATH={PATH}"),
        "HOME=/tmp".to_string(),
        "CARGO_HOME=/tmp/cargo-home".to_string(),
        "CARGO_TERM_COLOR=never".to_string(),
        "CARGO_TERM_PROGRESS_WHEN=never".to_string(),
    ];
    if ca_bundle.is_file() {
        binds.push(format!(
            "{}:/etc/ssl/certs/ca-certificates.crt:ro",
            ca_bundle.display()
        ));
        env.push("CARGO_HTTP_CAINFO=/etc/ssl/certs/ca-certificates.crt".into());
        env.push("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt".into());
    }
    ContainerSpec {
        image: image.id.clone(),
        cmd: [
            "cargo",
            "vendor",
            "--locked",
            "--versioned-dirs",
            "--manifest-path",
            &format!("{root}/Cargo.toml"),
            "--sync",
            SYSROOT_LIBRARY_MANIFEST,
            VENDOR_PATH,
        ]
        .map(String::from)
        .to_vec(),
        env,
        user: Some(user),
        working_dir: Some("/tmp".into()),
        binds,
        ..Default::default()
    }
}

/// `(name, version, sha256 of the .crate)` of every crate in a vendor directory.
fn vendored_crates(dir: &Path) -> Result<Vec<(String, String, String)>, BuilderError> {
    let mut crates = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| BuilderError::io("cannot read", dir, e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let manifest = path.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let Ok(value) = text.parse::<toml::Table>() else {
            continue;
        };
        let package = value.get("package").and_then(|p| p.as_table());
        let field = |k: &str| {
            package
                .and_then(|p| p.get(k))
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let checksum = std::fs::read(path.join(".cargo-checksum.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("package").and_then(|p| p.as_str()).map(String::from))
            .unwrap_or_default();
        crates.push((field("name"), field("version"), checksum));
    }
    crates.sort();
    Ok(crates)
}
