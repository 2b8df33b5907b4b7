//! A zkVM's toolbox for a guest zkelf did not just build (`run` executes one, `pull
//! --derive-vk` derives its VK): the zkVM version its provenance records must be the toolbox's,
//! and the toolbox is the verified cache entry of this machine (built when it has none).

use anyhow::Context as _;
use zkelf_builder::BuildOptions;
use zkelf_builder::base::DEFAULT_SUITE;
use zkelf_builder::image::ensure_builder_image;
use zkelf_builder::provenance::Provenance;
use zkelf_builder::toolbox::{self, Recorded, RunOptions, Spec, Toolbox};
use zkelf_builder::{BuilderError, Engine, Reporter};
use zkelf_registry::Reference;
use zkelf_registry::vk::{DeriveError, DeriveFuture, DerivedVk, ToDerive, VkDerivation};

use super::dirs::{builder_cache_dir, builder_trust_dir};
use super::engine;
use super::reporters::BuildReporter;
use crate::error::UsageError;
use crate::printer::Printer;

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
) -> Result<(Engine, Toolbox), BuilderError> {
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

/// `pull --derive-vk`: a release's VK derived anew from its verified ELF by its zkVM's toolbox,
/// with what its provenance recorded of the derivation (OpenVM's configuration, ZisK's hash
/// mode). Only a release whose statement names the zkVM and whose provenance records a version
/// the toolbox supports is derived: a key is never derived for a version zkelf cannot tell.
pub(crate) struct Derivation<'a> {
    printer: &'a Printer,
}

impl<'a> Derivation<'a> {
    pub(crate) fn new(printer: &'a Printer) -> Self {
        Self { printer }
    }

    /// The errors are kept as their own types (a `BuilderError`, a `UsageError`), so the
    /// failed pull is diagnosed by them (exit code, hint).
    async fn run(&self, artifact: ToDerive<'_>) -> Result<DerivedVk, DeriveError> {
        let reference = artifact.reference;
        let Some(statement) = artifact.statement else {
            return Err(Box::new(UsageError::new(
                format!(
                    "the signature of `{reference}` binds no statement, so nothing names the zkVM its VK is derived with"
                ),
                "drop `--derive-vk` for a release signed without a zkelf statement (`--vk-out` still checks its VK against its own signature)",
            )));
        };
        let spec = Spec::for_zkvm(&statement.zkvm)?;
        let provenance = match artifact.provenance {
            Some(bytes) => Provenance::from_json(bytes)
                .with_context(|| format!("the provenance of `{reference}` is not one zkelf reads"))
                .map_err(DeriveError::from)?,
            None => {
                return Err(unknown_version(
                    reference,
                    spec,
                    "the release carries no provenance",
                ));
            }
        };
        let found = match spec.check_recorded(&provenance)? {
            Recorded::Supported(found) => found,
            Recorded::NotRecorded => {
                return Err(unknown_version(
                    reference,
                    spec,
                    "its provenance records none",
                ));
            }
            Recorded::OtherZkvm(profile) => {
                return Err(unknown_version(
                    reference,
                    spec,
                    &format!("its provenance describes a `{profile}` guest"),
                ));
            }
        };
        let options = RunOptions {
            // The VK is `app_exe_commit` alone: no aggregation keys needed.
            skip_app_vm_commit: true,
            ..RunOptions::recorded(&provenance)
        };
        self.printer.info(format!(
            "{reference}: {} (its verified statement); built for {found} (its provenance)",
            spec.zkvm
        ));
        let work = tempfile::Builder::new()
            .prefix("zkelf-derive-")
            .tempdir()
            .context("cannot create a temporary directory")
            .map_err(DeriveError::from)?;
        let program = work.path().join("program");
        copy_from_start(artifact.elf, &program).map_err(DeriveError::from)?;
        let reporter = BuildReporter::new(self.printer);
        let (engine, toolbox) = ensure(spec, DEFAULT_SUITE, &reporter).await?;
        reporter.step(&format!(
            "deriving the VK of {reference} ({})",
            spec.toolbox_id()
        ));
        let report = toolbox.vk(&engine, &program, &options, &reporter).await?;
        reporter.finish(&format!(
            "vk {} ({})",
            hex::encode(report.vk),
            report.toolbox
        ));
        Ok(DerivedVk {
            vk: report.vk.to_vec(),
            derivation: report.toolbox,
        })
    }
}

impl VkDerivation for Derivation<'_> {
    fn derive<'a>(&'a self, artifact: ToDerive<'a>) -> DeriveFuture<'a> {
        Box::pin(self.run(artifact))
    }
}

/// No VK is derived for a guest whose zkVM version cannot be told: the refusal says why.
fn unknown_version(reference: &Reference, spec: &Spec, why: &str) -> DeriveError {
    Box::new(UsageError::new(
        format!(
            "the {} version `{reference}` was built for is unknown ({why}), so zkelf derives no VK for it",
            spec.zkvm
        ),
        format!(
            "drop `--derive-vk`, or pull a release whose provenance records its `{}` version (`zkelf release` records it)",
            spec.zkvm
        ),
    ))
}

/// Copies the verified ELF (an open file, read from its start) to `to`.
fn copy_from_start(elf: &std::fs::File, to: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Seek as _;
    let mut from = elf.try_clone().context("cannot read the verified ELF")?;
    from.rewind().context("cannot read the verified ELF")?;
    let mut file = std::fs::File::create_new(to)
        .with_context(|| format!("cannot create `{}`", to.display()))?;
    std::io::copy(&mut from, &mut file)
        .with_context(|| format!("cannot write `{}`", to.display()))?;
    Ok(())
}
