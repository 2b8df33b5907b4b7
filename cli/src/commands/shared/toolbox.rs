//! A zkVM's toolbox for a guest zkelf did not just build (`run` executes one, `pull
//! --derive-vk` derives its VK): the zkVM version its provenance records must be the toolbox's,
//! and the toolbox is the verified cache entry of this machine (built when it has none).

use zkelf_builder::BuildOptions;
use zkelf_builder::image::ensure_builder_image;
use zkelf_builder::provenance::Provenance;
use zkelf_builder::toolbox::{self, Recorded, Spec, Toolbox};
use zkelf_builder::{BuilderError, Engine, Reporter};

use super::dirs::{builder_cache_dir, builder_trust_dir};
use super::engine;

/// Checks the zkVM version `provenance` records against `spec`'s toolbox, and says in a note
/// what was found. A guest whose version is not known (no provenance: `missing` says why, or
/// one that records none) runs in the toolbox zkelf has, and the note says so; a version the
/// toolbox does not support is an error, before any container.
pub(crate) fn check_version(
    spec: &Spec,
    provenance: Option<&Provenance>,
    missing: &str,
) -> Result<String, BuilderError> {
    let id = spec.toolbox_id();
    let recorded = provenance.map(|p| spec.check_recorded(p)).transpose()?;
    Ok(match recorded {
        Some(Recorded::Supported(found)) => {
            format!("built for {found} (its provenance), which {id} supports")
        }
        Some(Recorded::NotRecorded) => format!(
            "its provenance records no {} version: assuming {id}, the one zkelf has",
            spec.zkvm
        ),
        Some(Recorded::OtherZkvm(profile)) => format!(
            "its provenance describes a `{profile}` guest, so its version is not checked: {id}"
        ),
        None => format!(
            "its {} version is unknown ({missing}): assuming {id}, the one zkelf has",
            spec.zkvm
        ),
    })
}

/// `spec`'s toolbox, on the builder image of `suite`, with the engine it runs in.
pub(crate) async fn ensure(
    spec: &'static Spec,
    suite: &str,
    reporter: &dyn Reporter,
) -> anyhow::Result<(Engine, Toolbox)> {
    let engine = engine().await?;
    let image = ensure_builder_image(&engine, suite, reporter).await?;
    let options = BuildOptions {
        cache_dir: builder_cache_dir(),
        trust_dir: builder_trust_dir(),
        suite: suite.to_owned(),
        ..BuildOptions::default()
    };
    let toolbox = toolbox::ensure(&engine, &image, spec, &options, reporter).await?;
    Ok((engine, toolbox))
}
