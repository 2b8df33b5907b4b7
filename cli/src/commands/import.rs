//! `zkelf import`: a release published as downloads (GitHub's `<name>.elf`, `.elf.minisig`,
//! `.vk`, `.vk.minisig`), verified, mirrored into an OCI registry or layout without re-signing.

use anyhow::Context as _;
use zkelf_registry::Reference;
use zkelf_registry::import::{self, Labels};
use zkelf_registry::pull::PullOptions;
use zkelf_registry::reference::Target;
use zkelf_registry::store;
use zkelf_registry::verify::Expected;
use zkelf_registry::vk::VkOutput;
use zkelf_trust::name::{NAME_GRAMMAR, is_valid_name};
use zkelf_trust::statement::is_valid_target;

use super::shared::epoch::source_date_epoch;
use super::shared::network::{network_options, retry_policy};
use super::shared::pins::{optional_version, pins};
use super::shared::policy::load_policy;
use super::shared::reporters::ProgressReporter;
use crate::args::dist::ImportArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::Printer;
use crate::reports::dist::{ImportReport, UNBOUND_WARNING};

fn check_name(flag: &str, value: Option<&str>) -> Result<(), UsageError> {
    match value {
        Some(v) if !is_valid_name(v) => Err(UsageError::new(
            format!("`{flag} {v}` is not a valid name"),
            format!("names are `{NAME_GRAMMAR}`"),
        )),
        _ => Ok(()),
    }
}

/// Runs `zkelf import`.
pub async fn import(args: ImportArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let source: Reference = args.url.parse()?;
    if !matches!(source, Reference::Https { .. }) {
        return Err(UsageError::new(
            format!("`{}` is not a download URL", args.url),
            "import takes `https://…/<file>.elf`; copy between OCI stores with `skopeo copy`",
        )
        .into());
    }
    let to: Reference = args.to.parse()?;
    let tag = match (&to, to.target()) {
        (Reference::Https { .. }, _) => {
            return Err(UsageError::new(
                format!("cannot import into `{}`", args.to),
                "import into `oci-layout:<dir>:<tag>` or `<host>[:<port>]/<path>:<tag>`",
            )
            .into());
        }
        (_, Some(Target::Tag(tag))) => tag.clone(),
        _ => {
            return Err(UsageError::new(
                format!("`--to {}` names no tag", args.to),
                "name the tag to write, e.g. `--to ghcr.io/hub/validator:0.3.0-zisk`",
            )
            .into());
        }
    };
    check_name("--guest", args.guest.as_deref())?;
    check_name("--zkvm", args.zkvm.as_deref())?;
    if let Some(t) = args.target.as_deref().filter(|t| !is_valid_target(t)) {
        return Err(UsageError::new(
            format!("`--target {t}` is not a target triple"),
            "write e.g. `riscv64ima-zisk-zkvm-elf`",
        )
        .into());
    }
    let policy = load_policy(&args.trust)?;
    let (sha256, vk_sha256) = pins(&args.pins)?;
    let labels = Labels {
        guest: args.guest.clone(),
        version: optional_version(args.version.as_deref())?,
        zkvm: args.zkvm.clone(),
        target: args.target.clone(),
    };
    let created = source_date_epoch()?;
    let network = network_options(&args.network)?;
    let source_store = store::open(&source, &network)?;
    let target_store = store::open(&to.with_target(None), &network)?;
    let reporter = ProgressReporter::new(printer);
    let expected = Expected {
        sha256,
        vk_sha256,
        ..Expected::default()
    };
    let options = PullOptions {
        zkvm: None,
        expected: &expected,
        allow_legacy: false,
        allow_unbound: false,
        policy: &policy,
        max_size: args.max_size,
        allow_downgrade: true,
        state: None,
        cache: None,
        lock: None,
        retry: retry_policy(&args.network),
        reporter: &reporter,
        vk: VkOutput::IfPresent,
        derive_vk: None,
    };
    let imported = import::import(
        source_store.as_ref(),
        &source,
        target_store.as_ref(),
        &tag,
        &labels,
        created,
        args.replace,
        options,
    )
    .await
    .with_context(|| format!("import of `{source}` into `{}` failed", args.to))?;
    if imported.unbound {
        printer.warn(UNBOUND_WARNING);
    }
    printer.report(&ImportReport {
        to: to.with_target(None).to_string(),
        imported,
    })?;
    Ok(ExitStatus::Success)
}
