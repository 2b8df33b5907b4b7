//! The VK step (SPEC §8.2): the verification key of the artifact the post-link step finished,
//! derived by its zkVM's toolbox ([`crate::toolbox`]) and written as `<guest>-<zkvm>.vk`, 32
//! bytes. RISC Zero's image id is derived in-process by the post-link step, from the program
//! binary it makes (the same `compute_image_id` the toolbox would run); profiles with no zkVM
//! (rv32im, rv64im) have no VK.
//!
//! The provenance records the toolbox (its key document and the digest of its cache entry) as
//! a resolved dependency, and the VK as a byproduct with what the toolbox reported beside it:
//! OpenVM's `app_vm_commit` and configuration, ZisK's hash mode (the artifact's `hash-mode`,
//! else the toolbox's default, blake3), SP1's `bytes32`.

use std::collections::BTreeMap;
use std::path::Path;

use zkelf_trust::digest::Sha256Digest;

use super::BuildOptions;
use super::plan::Plan;
use super::postlink::Finished;
use crate::docker::Engine;
use crate::error::BuilderError;
use crate::fsutil::write_atomic;
use crate::image::BuilderImage;
use crate::provenance::{ResourceDescriptor, deps, sha256_digest};
use crate::reporter::Reporter;
use crate::toolbox::{self, RunOptions, Spec};

/// The file in a guest's directory holding its OpenVM app configuration, as cargo-openvm
/// reads it.
pub const OPENVM_CONFIG: &str = "openvm.toml";
/// The largest `openvm.toml` zkelf reads.
const MAX_OPENVM_CONFIG: u64 = 1 << 20;

/// What the VK step records in the provenance.
#[derive(Debug, Default)]
pub(crate) struct Derived {
    /// The toolbox that derived the VK.
    pub dependency: Option<ResourceDescriptor>,
    /// The VK.
    pub byproduct: Option<ResourceDescriptor>,
}

/// Derives the VK of `finished` (in `staging`) with the toolbox of `plan`'s profile and sets
/// `finished.vk`, unless the post-link step derived it already or the profile has no toolbox.
/// `guest_dir` is the guest's directory on this host (where an `openvm.toml` would be).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn derive(
    engine: &Engine,
    image: &BuilderImage,
    plan: &Plan,
    finished: &mut Finished,
    guest_dir: &Path,
    staging: &Path,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<Derived, BuilderError> {
    let Some(spec) = Spec::for_profile(&plan.profile.name) else {
        return Ok(Derived::default());
    };
    if finished.vk.is_some() {
        return Ok(Derived::default());
    }
    let run_options = RunOptions {
        openvm_config: match spec.zkvm {
            "openvm" => openvm_config(guest_dir)?,
            _ => None,
        },
        zisk_hash_mode: plan.zisk_hash_mode.clone(),
        skip_app_vm_commit: false,
    };
    let toolbox = toolbox::ensure(engine, image, spec, options, reporter).await?;
    let stem = format!("{}-{}", plan.guest, plan.zkvm);
    reporter.step(&format!(
        "deriving the VK of {stem} ({} toolbox)",
        spec.zkvm
    ));
    let report = toolbox
        .vk(engine, &finished.elf, &run_options, reporter)
        .await?;
    let hex = hex::encode(report.vk);
    let path = staging.join(format!("{stem}.vk"));
    let (target, vk) = (path.clone(), report.vk);
    super::blocking(move || write_atomic(&target, &vk, 0o644)).await?;
    reporter.finish(&format!("{stem}.vk {hex} ({})", report.toolbox));
    finished.vk = Some((path, hex.clone()));
    let mut annotations = BTreeMap::from([
        ("toolbox".to_string(), report.toolbox.clone().into()),
        ("vk".to_string(), hex.into()),
    ]);
    if !report.extras.is_empty() {
        annotations.insert(
            "derivation".to_string(),
            serde_json::Value::Object(report.extras.clone().into_iter().collect()),
        );
    }
    Ok(Derived {
        dependency: Some(toolbox.dependency()),
        byproduct: Some(ResourceDescriptor {
            name: Some(deps::VK.into()),
            uri: Some(format!("{stem}.vk")),
            digest: sha256_digest(Sha256Digest::of(&report.vk)),
            annotations,
            ..Default::default()
        }),
    })
}

/// The guest's `openvm.toml`, when it has one: a regular file, not a link, within its bound.
pub(crate) fn openvm_config(guest_dir: &Path) -> Result<Option<Vec<u8>>, BuilderError> {
    let path = guest_dir.join(OPENVM_CONFIG);
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => crate::fsutil::read_input(&path, MAX_OPENVM_CONFIG).map(Some),
    }
}
