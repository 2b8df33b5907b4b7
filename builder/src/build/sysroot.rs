//! The sysroot step: the `-Zbuild-std` output of a (builder image, target, build-std set and
//! features, compile flags, profile environment, cargo `[profile.release]`) key, built once in
//! its own hermetic container (`Plan::sysroot_container` in `plan.rs`), kept as a
//! content-addressed entry of the builder's cache ([`crate::cache`]) under
//! `<cache>/sysroot/<key>/`, and verified on every use. Guests are then built with
//! `--sysroot` and no `-Zbuild-std`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use zkelf_trust::digest::OciDigest;

use super::plan::{Mounts, Plan, Variation};
use crate::cache::{self, Sealed, Trust};
use crate::docker::Engine;
use crate::error::BuilderError;
use crate::fsutil::{self, world_writable_tempdir};
use crate::provenance::{self, ResourceDescriptor, deps, sha256_digest};
use crate::reporter::Reporter;

pub(crate) mod key;
pub(crate) use key::KeyDocument;

/// Whether a build may read and fill the sysroot cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SysrootCache {
    /// Use the entry of the key under `<cache>/sysroot/` (building and storing it if absent).
    Use,
    /// Build the sysroot afresh in a temporary directory (a rebuild).
    Bypass,
}

/// The sysroot a guest is built against: verified, read-only from its build's point of view.
#[derive(Debug)]
pub(crate) struct Sysroot {
    /// The entry (`lib/rustlib/<target>/lib/*.rlib` and the manifest).
    pub dir: PathBuf,
    pub key: KeyDocument,
    /// The entry's manifest and its sha256.
    pub sealed: Sealed,
    /// Keeps an uncached sysroot alive for the build.
    _temp: Option<tempfile::TempDir>,
}

impl Sysroot {
    /// Its provenance record: the key document says what decided its bytes, the manifest (the
    /// content) lists every rlib with its sha256, and the digest is the manifest's: the same
    /// whether the build found it in the cache or built it.
    pub fn dependency(&self, plan: &Plan) -> ResourceDescriptor {
        ResourceDescriptor {
            name: Some(deps::SYSROOT.into()),
            uri: Some(format!("zkelf-sysroot:{}", self.key.key())),
            digest: sha256_digest(self.sealed.digest),
            content: Some(provenance::base64(&self.sealed.manifest)),
            annotations: BTreeMap::from([
                ("key".to_string(), self.key.key().into()),
                ("keyDocument".to_string(), self.key.to_value()),
                ("command".to_string(), plan.sysroot_command().into()),
                ("flags".to_string(), plan.sysroot_flags().into()),
            ]),
        }
    }
}

/// The sysroot for `plan`: the verified cache entry of its key when `cache` has one, else built
/// in a sysroot container (under `variation`) and, with a `cache`, stored there by its key.
/// `workspace` is the guest workspace's `Cargo.toml` (its path and text).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn ensure(
    engine: &Engine,
    plan: &Plan,
    workspace: &(PathBuf, String),
    variation: &Variation,
    mounts: &Mounts<'_>,
    cache: Option<(&Path, &Trust)>,
    reporter: &dyn Reporter,
) -> Result<Sysroot, BuilderError> {
    let (path, text) = workspace;
    let key = key_document(plan, path, text)?;
    let id = key.key();
    if let Some((root, trust)) = cache
        && let Some((dir, sealed)) = super::cached(root, &id, "sysroot", trust, reporter).await?
    {
        reporter.step(&format!(
            "using the cached sysroot {} for {} ({})",
            &id[..16],
            plan.target,
            plan.build_std.join(", ")
        ));
        reporter.finish(&format!("sysroot {}", OciDigest::from(sealed.digest)));
        return Ok(Sysroot {
            dir,
            key,
            sealed,
            _temp: None,
        });
    }
    reporter.step(&format!(
        "building the sysroot for {} ({}; key {})",
        plan.target,
        plan.build_std.join(", "),
        &id[..16]
    ));
    let scratch = fsutil::tempdir("zkelf-sysroot-")?;
    let crate_dir = scratch.path().join("crate");
    let files = Plan::sysroot_crate(text).map_err(|problem| BuilderError::ManifestInvalid {
        path: path.clone(),
        problem,
    })?;
    fsutil::write_readable_dir(&crate_dir, files.iter().map(|(n, c)| (*n, c.as_bytes())))?;
    let out = world_writable_tempdir("zkelf-sysroot-out-")?;
    let spec = plan.sysroot_container(variation, &crate_dir, mounts, out.path());
    let exit = engine.run(&spec, reporter).await?;
    let built_lib = out.path().join("lib");
    if exit.code != 0 || !built_lib.is_dir() {
        return Err(BuilderError::SysrootFailed {
            target: plan.target.clone(),
            crates: plan.build_std.join(","),
            code: exit.code,
            output: exit.tail,
        });
    }
    let (dir, sealed, temp) = store(
        built_lib,
        scratch,
        cache.map(|(root, trust)| (root.to_path_buf(), trust.clone())),
        id,
    )
    .await?;
    reporter.finish(&format!("sysroot {}", OciDigest::from(sealed.digest)));
    Ok(Sysroot {
        dir,
        key,
        sealed,
        _temp: temp,
    })
}

/// Stores the rlibs the container built ([`cache::store`]): in the cache by their key, or
/// in `scratch` (kept alive by the returned guard) when there is no cache.
async fn store(
    built_lib: PathBuf,
    scratch: tempfile::TempDir,
    cache: Option<(PathBuf, Trust)>,
    id: String,
) -> Result<(PathBuf, Sealed, Option<tempfile::TempDir>), BuilderError> {
    super::blocking(move || {
        let cache = cache.as_ref().map(|(root, trust)| (root.as_path(), trust));
        let (dir, sealed) = cache::store(&built_lib, "lib", scratch.path(), cache, "sysroot", &id)?;
        Ok((dir, sealed, cache.is_none().then_some(scratch)))
    })
    .await
}

/// The key document of `plan`'s sysroot, from the guest workspace's `Cargo.toml` (at `path`,
/// read as `text`).
pub(crate) fn key_document(
    plan: &Plan,
    path: &Path,
    text: &str,
) -> Result<KeyDocument, BuilderError> {
    plan.sysroot_key(text)
        .map_err(|problem| BuilderError::ManifestInvalid {
            path: path.to_path_buf(),
            problem,
        })
}
