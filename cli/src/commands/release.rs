//! `zkelf release`: build (hermetic Docker builder), sign (prehashed minisign, the statement as
//! trusted comment) and publish, in one command.

use anyhow::Context as _;
use zkelf_builder::{BuildOptions, build_guest};
use zkelf_registry::publish::{self};
use zkelf_registry::store;
use zkelf_trust::digest::hash_file;
use zkelf_trust::signature;
use zkelf_trust::statement::{Kind, Statement};

use super::shared::dirs::{builder_cache_dir, builder_trust_dir};
use super::shared::files::{persist_atomically, sibling_with_suffix};
use super::shared::keys::load_secret_key;
use super::shared::network::network_options;
use super::shared::policy::load_release_policy;
use super::shared::reporters::{BuildReporter, ProgressReporter};
use crate::args::dist::ReleaseArgs;
use crate::error::ExitStatus;
use crate::printer::Printer;
use crate::reports::dist::ReleaseReport;

/// Runs `zkelf release`.
pub async fn release(args: ReleaseArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let to = super::publish::target(&args.to)?;
    let policy = load_release_policy(&args.policy)?;
    let secret = load_secret_key(&args.key, args.password_file.as_deref())?;
    let network = network_options(&args.network)?;
    check_taggable(&args.guest_dir, args.zkvm.as_deref())?;

    let engine = super::shared::engine().await?;
    let options = BuildOptions {
        out_dir: args.out.clone(),
        zkvm: args.zkvm.clone(),
        check_reproducible: args.check_reproducible,
        cache_dir: builder_cache_dir(),
        git_mirrors: args.sources.git_mirrors.clone(),
        trust_dir: builder_trust_dir(),
        zkelf_version: crate::version::VERSION.to_owned(),
        ..BuildOptions::default()
    };
    let built = build_guest(
        &engine,
        &args.guest_dir,
        &options,
        &BuildReporter::new(printer),
    )
    .await
    .with_context(|| format!("cannot build the guest in `{}`", args.guest_dir.display()))?;
    let first = built.first().ok_or_else(|| {
        anyhow::anyhow!(
            "the build of `{}` produced no artifact",
            args.guest_dir.display()
        )
    })?;
    let dist = first
        .elf
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| args.out.clone());
    let created = first.source_date_epoch;

    let mut signed = Vec::new();
    for a in &built {
        let digests = hash_file(&a.elf)?;
        let statement = Statement {
            kind: Kind::Release,
            guest: a.guest.clone(),
            version: semver::Version::parse(&a.version)
                .with_context(|| format!("the build reported version `{}`", a.version))?,
            zkvm: a.zkvm.clone(),
            target: a.target.clone(),
            sha256: digests.sha256,
            size: digests.size,
            provenance: Some(hash_file(&a.provenance)?.sha256),
            vk: a
                .vk
                .as_deref()
                .map(hash_file)
                .transpose()?
                .map(|d| d.sha256),
            builder: None,
            created: a.source_date_epoch,
        };
        let sig = signature::sign(&secret, &digests, &statement)
            .with_context(|| format!("cannot sign `{}`", a.elf.display()))?;
        let path = sibling_with_suffix(&a.elf, ".minisig");
        persist_atomically(&path, sig.to_string().as_bytes(), 0o644, true)?;
        signed.push(statement);
    }

    let dist_dir = dist.clone();
    let artifacts = tokio::task::spawn_blocking(move || publish::scan_dist(&dist_dir)).await??;
    let store = store::open(&to, &network)?;
    let reporter = ProgressReporter::new(printer);
    let published = publish::publish(
        store.as_ref(),
        &artifacts,
        &policy,
        Some(created),
        // A release never moves a tag: `publish --replace` does, on purpose.
        false,
        &reporter,
    )
    .await
    .with_context(|| format!("publish of `{}` to `{to}` failed", dist.display()))?;
    printer.report(&ReleaseReport {
        to: to.to_string(),
        built,
        signed,
        published,
    })?;
    Ok(ExitStatus::Success)
}

/// The version of the guest in `guest_dir` can be published for every zkVM the release builds
/// (checked before the build, as `sign` checks it). A manifest that does not load is left for
/// the build to report.
fn check_taggable(guest_dir: &std::path::Path, zkvm: Option<&str>) -> anyhow::Result<()> {
    let Ok(manifest) = zkelf_builder::manifest::Manifest::load(guest_dir) else {
        return Ok(());
    };
    let (Ok(version), Ok(artifacts)) = (
        semver::Version::parse(&manifest.version),
        manifest.select(zkvm),
    ) else {
        return Ok(());
    };
    for artifact in artifacts {
        zkelf_registry::artifact::check_taggable(&version, &artifact.zkvm)
            .with_context(|| format!("cannot release the guest in `{}`", guest_dir.display()))?;
    }
    Ok(())
}
