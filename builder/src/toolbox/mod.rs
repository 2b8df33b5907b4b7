//! The zkVM toolboxes (SPEC §8.2): per zkVM, one program holding the zkVM's CPU executor and
//! its verification-key derivation, from the zkVM's own crates (`toolbox/<zkvm>/`, compiled
//! into zkelf by `build.rs`; docs/toolbox.md).
//!
//! zkelf builds a toolbox itself, never on the host: in the toolbox image ([`image`]), from
//! crates vendored against the toolbox's own `Cargo.lock` (the fetch step's store, verified
//! against the lock's checksums), `--network none`, `--locked` ([`make`]). The program is kept
//! as a content-addressed entry of the builder's cache under `<cache>/toolbox/<key>` and, like
//! the sysroot, used only when it verifies against the digest this machine recorded when it
//! built it ([`crate::cache`]). It runs in a `--network none` container of the same image
//! ([`run`]): `vk` derives a program's VK, `exec` runs a guest on an input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use zkelf_trust::digest::{OciDigest, Sha256Digest};

use crate::build::BuildOptions;
use crate::cache::{self, Sealed, Trust};
use crate::docker::Engine;
use crate::error::BuilderError;
use crate::error::problem::ToolboxProblem;
use crate::image::BuilderImage;
use crate::provenance::{ResourceDescriptor, deps, sha256_digest};
use crate::reporter::Reporter;

pub mod image;
mod make;
pub mod run;
mod sources;
mod version;

pub use image::ToolboxImage;
pub use run::{Execution, RunOptions, VkReport};
pub use version::Recorded;

/// Bumped whenever what a toolbox entry holds, or how it is built, changes.
const FORMAT: u32 = 1;

/// One zkVM's toolbox.
#[derive(Debug, PartialEq, Eq)]
pub struct Spec {
    /// The zkVM label, and the toolbox's directory under `toolbox/`.
    pub zkvm: &'static str,
    /// How the zkVM's executor names itself in messages.
    pub executor: &'static str,
    /// The profiles whose guests it runs.
    pub profiles: &'static [&'static str],
    /// The crate whose locked version names the toolbox's derivation (`sp1-6.10.0`): the
    /// toolbox program's `primary_crate`.
    pub primary_crate: &'static str,
}

/// Every toolbox zkelf has.
pub const SPECS: &[Spec] = &[
    Spec {
        zkvm: "sp1",
        executor: "SP1's executor",
        profiles: &["sp1"],
        primary_crate: "sp1-core-machine",
    },
    Spec {
        zkvm: "risc0",
        executor: "RISC Zero's executor",
        profiles: &["risc0"],
        primary_crate: "risc0-zkvm",
    },
    Spec {
        zkvm: "openvm",
        executor: "OpenVM's executor",
        profiles: &["openvm"],
        primary_crate: "openvm-sdk",
    },
    Spec {
        zkvm: "zisk",
        executor: "ziskemu",
        profiles: &["zisk", "zisk-std"],
        primary_crate: "ziskemu",
    },
];

impl Spec {
    /// The toolbox for guests built with `profile`, if zkelf has one.
    pub fn for_profile(profile: &str) -> Option<&'static Spec> {
        SPECS.iter().find(|s| s.profiles.contains(&profile))
    }

    /// The toolbox of the zkVM labelled `zkvm` (`sp1`, `risc0`, `openvm`, `zisk`).
    pub fn for_zkvm(zkvm: &str) -> Result<&'static Spec, BuilderError> {
        SPECS
            .iter()
            .find(|s| s.zkvm == zkvm)
            .ok_or_else(|| BuilderError::Toolbox {
                zkvm: zkvm.to_string(),
                problem: ToolboxProblem::Unknown(zkvm.to_string()),
            })
    }

    /// The program's file name.
    pub fn binary(&self) -> String {
        format!("zkelf-toolbox-{}", self.zkvm)
    }

    fn error(&self, problem: ToolboxProblem) -> BuilderError {
        BuilderError::Toolbox {
            zkvm: self.zkvm.to_string(),
            problem,
        }
    }
}

/// What decides a toolbox's bytes: its key is the sha256 of this document's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KeyDocument {
    /// [`FORMAT`].
    pub format: u32,
    /// The toolbox.
    pub zkvm: String,
    /// The image it is built and run in.
    pub toolbox_image: OciDigest,
    /// sha256 of Dockerfile.toolbox.
    pub toolbox_dockerfile_sha256: Sha256Digest,
    /// The builder image that image is built on (its Rust toolchain compiles the toolbox).
    pub builder_image: OciDigest,
    /// The digest of the toolbox's sources, its `Cargo.lock` included.
    pub sources_sha256: Sha256Digest,
    /// The build container's command.
    pub command: Vec<String>,
}

impl KeyDocument {
    fn new(spec: &Spec, image: &ToolboxImage) -> Self {
        Self {
            format: FORMAT,
            zkvm: spec.zkvm.to_string(),
            toolbox_image: image.id,
            toolbox_dockerfile_sha256: image.dockerfile_sha256,
            builder_image: image.builder,
            sources_sha256: sources::digest(spec.zkvm),
            command: make::command(spec),
        }
    }

    /// The cache key: sha256 of the document's JSON, hex.
    pub fn key(&self) -> String {
        Sha256Digest::of(&serde_json::to_vec(self).unwrap_or_default()).to_string()
    }
}

/// A built toolbox, verified, ready to run.
#[derive(Debug)]
pub struct Toolbox {
    /// Which one.
    pub spec: &'static Spec,
    /// The image it runs in.
    pub image: ToolboxImage,
    /// What decided its bytes.
    pub key: KeyDocument,
    /// The entry (`bin/zkelf-toolbox-<zkvm>` and the manifest).
    dir: PathBuf,
    /// The entry's manifest and its digest.
    sealed: Sealed,
    /// Keeps an uncached toolbox alive.
    _temp: Option<tempfile::TempDir>,
}

impl Toolbox {
    /// The entry's digest (its manifest's sha256): what the provenance records.
    pub fn digest(&self) -> Sha256Digest {
        self.sealed.digest
    }

    /// The program's sha256, as the entry's manifest lists it.
    pub fn program_sha256(&self) -> Option<Sha256Digest> {
        let manifest: cache::EntryManifest = serde_json::from_slice(&self.sealed.manifest).ok()?;
        let path = format!("bin/{}", self.spec.binary());
        manifest
            .files
            .into_iter()
            .find(|f| f.path == path)
            .map(|f| f.sha256)
    }

    fn program_dir(&self) -> PathBuf {
        self.dir.join("bin")
    }

    /// Its provenance record: the key document says what decided its bytes, the digest is the
    /// entry's manifest (which lists the program's sha256).
    pub(crate) fn dependency(&self) -> ResourceDescriptor {
        let key = self.key.key();
        let mut annotations = BTreeMap::from([
            ("key".to_string(), key.clone().into()),
            (
                "keyDocument".to_string(),
                serde_json::to_value(&self.key).unwrap_or_default(),
            ),
            ("image".to_string(), self.image.tag.clone().into()),
        ]);
        if let Some(program) = self.program_sha256() {
            annotations.insert("programSha256".to_string(), program.to_string().into());
        }
        ResourceDescriptor {
            name: Some(deps::TOOLBOX.into()),
            uri: Some(format!("zkelf-toolbox:{}@{key}", self.spec.zkvm)),
            digest: sha256_digest(self.sealed.digest),
            annotations,
            ..Default::default()
        }
    }
}

/// The `spec` toolbox for `builder`'s toolchain: the verified cache entry of its key when
/// `options.cache_dir` has one, else built (and stored there). One process or test at a time
/// builds a given toolbox: the others wait for it and then find it.
pub async fn ensure(
    engine: &Engine,
    builder: &BuilderImage,
    spec: &'static Spec,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<Toolbox, BuilderError> {
    let image = image::ensure(engine, builder, reporter).await?;
    let key = KeyDocument::new(spec, &image);
    let id = key.key();
    let trust = Trust::new(options.trust_dir.clone());
    let root = match &options.cache_dir {
        Some(cache) => Some(cache::root(cache, "toolbox")?),
        None => None,
    };
    let _lock = match &root {
        Some(root) => Some(lock(root, spec).await?),
        None => None,
    };
    if let Some(root) = &root
        && let Some((dir, sealed)) =
            crate::build::cached(root, &id, "toolbox", &trust, reporter).await?
    {
        return Ok(Toolbox {
            spec,
            image,
            key,
            dir,
            sealed,
            _temp: None,
        });
    }
    reporter.step(&format!(
        "building the {} toolbox (key {}; once per toolchain)",
        spec.zkvm,
        &id[..16]
    ));
    let built = make::build(engine, builder, &image, spec, options, reporter).await?;
    let (root, scratch) = (root.clone(), built.scratch);
    let (bin, trust_c, id_c) = (built.bin, trust.clone(), id.clone());
    let (dir, sealed, temp) = crate::build::blocking(move || {
        let cache = root.as_deref().map(|r| (r, &trust_c));
        let (dir, sealed) = cache::store(&bin, "bin", scratch.path(), cache, "toolbox", &id_c)?;
        Ok((dir, sealed, cache.is_none().then_some(scratch)))
    })
    .await?;
    reporter.finish(&format!(
        "{} toolbox {}",
        spec.zkvm,
        OciDigest::from(sealed.digest)
    ));
    Ok(Toolbox {
        spec,
        image,
        key,
        dir,
        sealed,
        _temp: temp,
    })
}

/// An exclusive lock on `<root>/.lock-<zkvm>`, held while a toolbox is looked up and built. A
/// link or a FIFO planted there is refused at once, never followed or waited on.
async fn lock(root: &Path, spec: &Spec) -> Result<zkelf_trust::files::FileLock, BuilderError> {
    let path = root.join(format!(".lock-{}", spec.zkvm));
    crate::build::blocking(move || {
        zkelf_trust::files::FileLock::acquire(&path)
            .map_err(|e| BuilderError::io("cannot lock", &path, e))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_zkvm_profile_has_its_toolbox() {
        assert_eq!(Spec::for_profile("sp1").unwrap().zkvm, "sp1");
        assert_eq!(Spec::for_profile("zisk-std").unwrap().zkvm, "zisk");
        assert_eq!(Spec::for_profile("rv32im"), None);
        for spec in SPECS {
            assert_eq!(Spec::for_zkvm(spec.zkvm).unwrap(), spec);
            assert!(
                crate::profile::guest_crate(spec.profiles[0]).is_some(),
                "{}",
                spec.zkvm
            );
        }
        let err = Spec::for_zkvm("jolt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the jolt toolbox: zkelf has no toolbox for `jolt` (it has: sp1, risc0, openvm, zisk)"
        );
    }
}
