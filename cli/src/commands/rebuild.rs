//! `zkelf rebuild`: an auditor rebuilds a published guest from nothing but its provenance,
//! compares the sha256 with the published ELF, and on a match may sign and attach a
//! `kind=rebuild` attestation. Also what `attest` shares: fetching the artifact and its ELF,
//! writing and attaching a signature.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use zkelf_builder::provenance::Provenance;
use zkelf_builder::{BuildOptions, diff};
use zkelf_registry::digest::OciDigest;
use zkelf_registry::pull::{self, Resolved};
use zkelf_registry::signature::SignatureProblem;
use zkelf_registry::store::{self, Store};
use zkelf_registry::{Reference, VerificationError, fetch};
use zkelf_trust::digest::{ContentDigests, Sha256Digest};
use zkelf_trust::signature;
use zkelf_trust::statement::{Kind, Statement};

use super::shared::dirs::{builder_cache_dir, builder_trust_dir};
use super::shared::epoch::created_now;
use super::shared::files::persist_atomically;
use super::shared::keys::load_secret_key;
use super::shared::network::{network_options, retry_policy};
use super::shared::reporters::{BuildReporter, ProgressReporter};
use crate::args::audit::RebuildArgs;
use crate::args::dist::NetworkArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::{OutputFormat, Printer};
use crate::reports::audit::RebuildReport;

/// A published artifact resolved, with its ELF hashed (and kept in a temporary file if asked).
pub(super) struct Published {
    pub store: Box<dyn Store>,
    pub resolved: Resolved,
    pub elf: ContentDigests,
    pub elf_file: Option<tempfile::NamedTempFile>,
}

impl Published {
    /// SHA-256 of the provenance and VK fetched with the artifact.
    pub fn extras(&self) -> (Option<Sha256Digest>, Option<Sha256Digest>) {
        (
            self.resolved.provenance.as_deref().map(Sha256Digest::of),
            self.resolved.vk.as_deref().map(Sha256Digest::of),
        )
    }
}

/// Resolves `reference`, fetches its small parts and streams its ELF through the hashers
/// (into a temporary file when `keep` is true), checking it against the manifest and the
/// release statement.
pub(super) async fn fetch_published(
    reference: &str,
    zkvm: Option<&str>,
    network: &NetworkArgs,
    keep: bool,
    printer: &Printer,
) -> anyhow::Result<Published> {
    let reference: Reference = reference.parse()?;
    let options = network_options(network)?;
    let store = store::open(&reference, &options)?;
    let reporter = ProgressReporter::new(printer);
    let retry = retry_policy(network);
    let context = || format!("cannot fetch `{reference}`");
    let resolved = pull::resolve(store.as_ref(), &reference, zkvm, None, retry, &reporter)
        .await
        .with_context(context)?;
    let desc = resolved.layers.elf.clone();
    let temp = if keep {
        Some(
            tempfile::Builder::new()
                .prefix("zkelf-published-")
                .suffix(".elf")
                .tempfile()
                .context("cannot create a temporary file for the published ELF")?,
        )
    } else {
        None
    };
    let sink = match &temp {
        Some(t) => Some(t.reopen().context("cannot reopen a temporary file")?),
        None => None,
    };
    let what = format!("the ELF `{}`", desc.digest);
    let elf = fetch::fetch_large(store.as_ref(), &desc, &what, sink, retry, &reporter)
        .await
        .with_context(context)?
        .digests;
    if let Some(claimed) = &resolved.claimed
        && (claimed.sha256 != elf.sha256 || claimed.size != elf.size)
    {
        return Err(anyhow::Error::new(VerificationError::LayerMismatch {
            manifest: desc.digest,
            manifest_size: desc.size,
            statement: OciDigest::from(claimed.sha256),
            statement_size: claimed.size,
        }))
        .with_context(context);
    }
    Ok(Published {
        store,
        resolved,
        elf,
        elf_file: temp,
    })
}

/// Attaches `signature` to the artifact as an attestation; returns the attestation's digest.
pub(super) async fn push_signature(
    published: &Published,
    signature: &[u8],
    title: &str,
    created: u64,
) -> anyhow::Result<OciDigest> {
    let store = published.store.as_ref();
    let digest = &published.resolved.manifest_digest;
    let context = || format!("cannot attach `{title}` to `{digest}`");
    let subject = zkelf_registry::attest::subject_descriptor(store, digest)
        .await
        .with_context(context)?;
    let attached = zkelf_registry::attest::attach(store, &subject, signature, title, created)
        .await
        .with_context(context)?;
    Ok(attached.digest)
}

/// The provenance's guest/version/zkvm/target must be what the release statement says.
fn check_provenance_agrees(
    provenance: &Provenance,
    claimed: &Statement,
    published: &Published,
) -> anyhow::Result<()> {
    let external = provenance.external();
    let fields = [
        ("guest", external.guest.as_str(), claimed.guest.clone()),
        (
            "version",
            external.version.as_str(),
            claimed.version.to_string(),
        ),
        ("zkvm", external.zkvm.as_str(), claimed.zkvm.clone()),
        ("target", external.target.as_str(), claimed.target.clone()),
    ];
    for (field, recorded, signed) in fields {
        if recorded != signed {
            return Err(VerificationError::Unexpected {
                field,
                expected: signed,
                found: recorded.to_owned(),
            })
            .context("the provenance does not describe the artifact its release statement signs");
        }
    }
    let (provenance_sha, _) = published.extras();
    if claimed.provenance.is_some() && claimed.provenance != provenance_sha {
        return Err(anyhow::Error::new(VerificationError::BadSignature {
            origin: "release layer".into(),
            problem: SignatureProblem::OtherBlob {
                blob: "provenance",
                signed: claimed.provenance,
                carried: provenance_sha,
            },
        }));
    }
    Ok(())
}

/// Runs `zkelf rebuild`.
pub async fn rebuild(args: RebuildArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let started = Instant::now();
    // Unlock the key first: a wrong password should not cost a build.
    let secret = match (&args.attest, &args.key) {
        (true, Some(key)) => Some(load_secret_key(key, args.password_file.as_deref())?),
        _ => None,
    };
    let published = fetch_published(
        &args.reference,
        args.zkvm.as_deref(),
        &args.network,
        true,
        printer,
    )
    .await?;
    let reference = published.resolved.reference.to_string();
    let bytes = published.resolved.provenance.as_deref().ok_or_else(|| {
        UsageError::new(
            format!("`{reference}` carries no provenance, so it cannot be rebuilt"),
            "only artifacts published with their provenance.json (`zkelf release`) can be rebuilt",
        )
    })?;
    let provenance = Provenance::from_json(bytes)
        .with_context(|| format!("cannot rebuild `{reference}` from its provenance"))?;
    let Some(claimed) = published.resolved.claimed.clone() else {
        return Err(UsageError::new(
            format!(
                "the release signature of `{reference}` binds no statement, so there is no signed release to rebuild"
            ),
            "rebuild artifacts whose release signature carries a zkelf statement (`zkelf release`)",
        )
        .into());
    };
    if provenance.subject_sha256() != Some(claimed.sha256) {
        return Err(anyhow::Error::new(VerificationError::Unexpected {
            field: "provenance subject sha256",
            expected: claimed.sha256.to_string(),
            found: provenance
                .subject_sha256()
                .map_or_else(|| "<none>".into(), |d| d.to_string()),
        }))
        .context(format!(
            "the provenance of `{reference}` is not about its ELF"
        ));
    }
    check_provenance_agrees(&provenance, &claimed, &published)?;
    // The source and commit come from the release under audit: refuse what git could run
    // before anything is built or cloned.
    let external = provenance.external();
    let uri = args
        .source
        .clone()
        .unwrap_or_else(|| external.source.uri.clone());
    let origin = if args.source.is_some() {
        "`--source`".to_string()
    } else {
        format!("the provenance of `{reference}`")
    };
    zkelf_builder::source::check_remote(&uri)
        .and_then(|()| zkelf_builder::source::check_commit(&external.source.commit))
        .with_context(|| format!("{origin} names a source zkelf will not check out"))?;

    // Clone and check the source before Docker is asked for anything: the commit first, then
    // every path the provenance names, and git never runs what the clone could configure.
    let work = tempfile::Builder::new()
        .prefix("zkelf-rebuild-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let checkout = work.path().join("src");
    printer.info(format!("cloning {uri} at {}…", external.source.commit));
    let prepared = {
        let (from, commit, dest, recipe) = (
            uri.clone(),
            external.source.commit.clone(),
            checkout.clone(),
            provenance.clone(),
        );
        tokio::task::spawn_blocking(move || {
            zkelf_builder::source::checkout(&from, &commit, &dest)?;
            zkelf_builder::rebuild::prepare(&recipe, &dest)
        })
        .await?
        .with_context(|| {
            format!(
                "cannot rebuild `{reference}` from commit `{}` of `{uri}`",
                external.source.commit
            )
        })?
    };

    let engine = super::shared::engine().await?;
    let reporter = BuildReporter::new(printer);
    let options = BuildOptions {
        out_dir: args.out.clone().unwrap_or_else(|| work.path().join("out")),
        zkvm: Some(external.zkvm.clone()),
        cache_dir: builder_cache_dir(),
        suite: args.suite.clone(),
        allow_different_builder: args.allow_different_builder,
        git_mirrors: args.sources.git_mirrors.clone(),
        trust_dir: builder_trust_dir(),
        ..BuildOptions::default()
    };
    let build_started = Instant::now();
    let rebuilt = zkelf_builder::rebuild::rebuild(&engine, &prepared, &options, &reporter)
        .await
        .with_context(|| format!("cannot rebuild `{reference}`"))?;
    let seconds_build = build_started.elapsed().as_secs_f64();
    for d in &rebuilt.differences {
        printer.warn(format!("builder differs: {d}"));
    }
    let built = rebuilt.built;
    // The bytes decide; a VK derived from them (a RISC Zero image id) must agree as well.
    let vk_matches = match (&published.resolved.vk, &built.vk) {
        (Some(published_vk), Some(path)) => {
            std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?
                == *published_vk
        }
        _ => true,
    };
    let matches = built.sha256 == published.elf.sha256 && vk_matches;

    let mut report = RebuildReport {
        reference: reference.clone(),
        manifest: published.resolved.manifest_digest,
        guest: claimed.guest.clone(),
        version: claimed.version.to_string(),
        zkvm: claimed.zkvm.clone(),
        source: uri,
        commit: external.source.commit.clone(),
        published_sha256: published.elf.sha256,
        rebuilt_sha256: built.sha256,
        rebuilt_elf: args.out.is_some().then(|| built.elf.clone()),
        matches,
        builder_image: built.builder_image.clone(),
        builder_differences: rebuilt.differences,
        diff: None,
        attestation: None,
        attached: None,
        seconds_total: 0.0,
        seconds_build,
    };

    if !matches {
        let published_elf = published
            .elf_file
            .as_ref()
            .map(|f| f.path().to_path_buf())
            .unwrap_or_default();
        let rebuilt = built.elf.clone();
        let diff = tokio::task::spawn_blocking(move || diff::diff_files(&published_elf, &rebuilt))
            .await??;
        report.diff = Some(diff.render());
        report.seconds_total = started.elapsed().as_secs_f64();
        printer.report(&report)?;
        if printer.format() == OutputFormat::Human {
            printer.error(&if vk_matches {
                anyhow::anyhow!(
                    "the rebuild of `{reference}` does not reproduce the published ELF: sha256 `{}`, published `{}`",
                    report.rebuilt_sha256,
                    report.published_sha256
                )
            } else {
                anyhow::anyhow!(
                    "the rebuild of `{reference}` reproduces the ELF but not its published verification key"
                )
            });
        }
        return Ok(ExitStatus::Failure);
    }

    if let Some(secret) = &secret {
        let (provenance_sha, vk_sha) = published.extras();
        let statement = Statement {
            kind: Kind::Rebuild,
            guest: claimed.guest.clone(),
            version: claimed.version.clone(),
            zkvm: claimed.zkvm.clone(),
            target: claimed.target.clone(),
            sha256: published.elf.sha256,
            size: published.elf.size,
            provenance: provenance_sha,
            vk: vk_sha,
            builder: Some(built.builder_image.clone()),
            created: created_now()?,
        };
        let sig = signature::sign(secret, &published.elf, &statement)
            .with_context(|| format!("cannot sign the rebuild attestation of `{reference}`"))?;
        let path = args.output.clone().unwrap_or_else(|| {
            PathBuf::from(format!(
                "{}-{}.rebuild.minisig",
                claimed.guest, claimed.zkvm
            ))
        });
        let text = sig.to_string();
        persist_atomically(&path, text.as_bytes(), 0o644, true)?;
        report.attestation = Some(path);
        if args.push {
            let title = format!(
                "{}-{}.elf.{}.rebuild.minisig",
                claimed.guest,
                claimed.zkvm,
                sig.key_id()
            );
            report.attached =
                Some(push_signature(&published, text.as_bytes(), &title, statement.created).await?);
        }
    }
    report.seconds_total = started.elapsed().as_secs_f64();
    printer.report(&report)?;
    Ok(ExitStatus::Success)
}
