//! `zkelf rebuild`: an auditor rebuilds a published guest from nothing but its provenance,
//! compares the sha256 with the published ELF, and on a match may sign and attach a
//! `kind=rebuild` attestation. It checks bytes, not signers: no trust policy is asked.
//!
//! The jobs, in order: fetch the published artifact (`shared::published`), read its provenance
//! and check it against the release statement, clone and check the source, rebuild in the
//! builder (which owns the builder check), compare, then refute (with a diff) or attest.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use zkelf_builder::provenance::Provenance;
use zkelf_builder::rebuild::{Prepared, Rebuilt};
use zkelf_builder::{BuildOptions, diff};
use zkelf_registry::VerificationError;
use zkelf_registry::signature::SignatureProblem;
use zkelf_trust::digest::Sha256Digest;
use zkelf_trust::keys::SecretKey;
use zkelf_trust::signature;
use zkelf_trust::statement::{Kind, Statement};

use super::shared::dirs::{builder_cache_dir, builder_trust_dir};
use super::shared::epoch::created_now;
use super::shared::files::persist_atomically;
use super::shared::keys::load_secret_key;
use super::shared::published::{Published, fetch_published, push_signature};
use super::shared::reporters::BuildReporter;
use crate::args::audit::RebuildArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::{OutputFormat, Printer};
use crate::reports::audit::{Confirms, RebuildReport};

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
    let (provenance, claimed) = recipe(&published, &reference)?;
    let source = Source::of(&args, &provenance, &reference)?;
    let work = tempfile::Builder::new()
        .prefix("zkelf-rebuild-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let prepared = source
        .checkout(&provenance, work.path(), &reference, printer)
        .await?;
    let build_started = Instant::now();
    let rebuilt = build(
        &args,
        &provenance,
        &prepared,
        work.path(),
        &reference,
        printer,
    )
    .await?;
    let seconds_build = build_started.elapsed().as_secs_f64();
    let built = &rebuilt.built;
    // The bytes decide; the VK derived from them must be the published one as well.
    let (published_vk, rebuilt_vk) = vks(&published, built)?;
    let vk_matches = published_vk.is_none() || published_vk == rebuilt_vk;
    if let (None, Some(derived)) = (&published_vk, &rebuilt_vk) {
        warn_no_vk(printer, &reference, derived, args.attest);
    }
    let matches = built.sha256 == published.elf.sha256 && vk_matches;
    let mut report = RebuildReport {
        reference: reference.clone(),
        manifest: published.resolved.manifest_digest,
        guest: claimed.guest.clone(),
        version: claimed.version.to_string(),
        zkvm: claimed.zkvm.clone(),
        source: source.uri,
        commit: source.commit,
        published_sha256: published.elf.sha256,
        rebuilt_sha256: built.sha256,
        rebuilt_elf: args.out.is_some().then(|| built.elf.clone()),
        matches,
        builder_image: built.builder_image,
        builder_differences: rebuilt.differences.clone(),
        published_vk,
        rebuilt_vk,
        diff: None,
        attestation: None,
        attestation_confirms: None,
        attached: None,
        seconds_total: 0.0,
        seconds_build,
    };
    if !matches {
        refute(&mut report, &published, &rebuilt).await?;
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
                    "the rebuild of `{reference}` reproduces the ELF but not its published verification key: the ELF's is `{}`, the release's `{}`",
                    report.rebuilt_vk.as_deref().unwrap_or("none (zkelf derives no VK for this profile)"),
                    report.published_vk.as_deref().unwrap_or_default()
                )
            });
        }
        return Ok(ExitStatus::Failure);
    }
    if let Some(secret) = &secret {
        attest(&mut report, &args, secret, &published, &claimed, &rebuilt).await?;
    }
    report.seconds_total = started.elapsed().as_secs_f64();
    printer.report(&report)?;
    Ok(ExitStatus::Success)
}

/// A release without a VK whose rebuild derived one: verifiers get no key from it, and an
/// attestation (`vk=-`, as the release statement) confirms the ELF alone. The derived key is
/// named by its sha256, as a statement would bind it.
fn warn_no_vk(printer: &Printer, reference: &str, derived: &str, attest: bool) {
    let sha256 = hex::decode(derived)
        .map(|bytes| Sha256Digest::of(&bytes).to_string())
        .unwrap_or_default();
    let attestation = if attest {
        "; the attestation confirms the ELF alone (`vk=-`)"
    } else {
        ""
    };
    printer.warn(format!(
        "`{reference}` carries no verification key, but its ELF's derives as `{derived}` (sha256 `{sha256}`): nothing binds a VK to this release{attestation}"
    ));
}

/// The published VK and the one the rebuild derived, hex (`None`: the release carries none, or
/// zkelf derives none for the profile).
fn vks(
    published: &Published,
    built: &zkelf_builder::BuiltArtifact,
) -> anyhow::Result<(Option<String>, Option<String>)> {
    let rebuilt = match &built.vk {
        Some(path) => {
            Some(hex::encode(std::fs::read(path).with_context(|| {
                format!("cannot read `{}`", path.display())
            })?))
        }
        None => None,
    };
    Ok((published.resolved.vk.as_deref().map(hex::encode), rebuilt))
}

/// The recipe: the artifact's provenance, which must be about its ELF and describe what its
/// release statement signs, and that statement.
fn recipe(published: &Published, reference: &str) -> anyhow::Result<(Provenance, Statement)> {
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
    check_provenance_agrees(&provenance, &claimed, published)?;
    Ok((provenance, claimed))
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

/// Where the source comes from: the provenance's repository (or `--source`) at its commit.
struct Source {
    uri: String,
    commit: String,
}

impl Source {
    /// The source and commit come from the release under audit: what git could run is refused
    /// before anything is built or cloned.
    fn of(args: &RebuildArgs, provenance: &Provenance, reference: &str) -> anyhow::Result<Self> {
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
        Ok(Self {
            uri,
            commit: external.source.commit.clone(),
        })
    }

    /// Clones and checks the source before Docker is asked for anything: the commit first, then
    /// every path the provenance names, and git never runs what the clone could configure.
    async fn checkout(
        &self,
        provenance: &Provenance,
        work: &Path,
        reference: &str,
        printer: &Printer,
    ) -> anyhow::Result<Prepared> {
        printer.info(format!("cloning {} at {}…", self.uri, self.commit));
        let (from, commit, dest, recipe) = (
            self.uri.clone(),
            self.commit.clone(),
            work.join("src"),
            provenance.clone(),
        );
        tokio::task::spawn_blocking(move || {
            zkelf_builder::source::checkout(&from, &commit, &dest)?;
            zkelf_builder::rebuild::prepare(&recipe, &dest)
        })
        .await?
        .with_context(|| {
            format!(
                "cannot rebuild `{reference}` from commit `{}` of `{}`",
                self.commit, self.uri
            )
        })
    }
}

/// Rebuilds the prepared recipe; the builder says how this builder differs from the recorded
/// one (and refuses unless `--allow-different-builder`).
async fn build(
    args: &RebuildArgs,
    provenance: &Provenance,
    prepared: &Prepared,
    work: &Path,
    reference: &str,
    printer: &Printer,
) -> anyhow::Result<Rebuilt> {
    let engine = super::shared::engine().await?;
    let reporter = BuildReporter::new(printer);
    let options = BuildOptions {
        out_dir: args.out.clone().unwrap_or_else(|| work.join("out")),
        zkvm: Some(provenance.external().zkvm.clone()),
        cache_dir: builder_cache_dir(),
        suite: args.suite.clone(),
        allow_different_builder: args.allow_different_builder,
        git_mirrors: args.sources.git_mirrors.clone(),
        trust_dir: builder_trust_dir(),
        zkelf_version: crate::version::VERSION.to_owned(),
        ..BuildOptions::default()
    };
    let rebuilt = zkelf_builder::rebuild::rebuild(&engine, prepared, &options, &reporter)
        .await
        .with_context(|| format!("cannot rebuild `{reference}`"))?;
    for d in &rebuilt.differences {
        printer.warn(format!("builder differs: {d}"));
    }
    Ok(rebuilt)
}

/// A rebuild that does not reproduce the release: the report gets the section/symbol diff of
/// the two ELFs.
async fn refute(
    report: &mut RebuildReport,
    published: &Published,
    rebuilt: &Rebuilt,
) -> anyhow::Result<()> {
    let published_elf = published
        .elf_file
        .as_ref()
        .map(|f| f.path().to_path_buf())
        .unwrap_or_default();
    let rebuilt_elf = rebuilt.built.elf.clone();
    let diff = tokio::task::spawn_blocking(move || diff::diff_files(&published_elf, &rebuilt_elf))
        .await??;
    report.diff = Some(diff.render());
    Ok(())
}

/// A rebuild that reproduces the release, attested: a `kind=rebuild` statement over the
/// published bytes, written to a file and, with `--push`, attached to the artifact.
async fn attest(
    report: &mut RebuildReport,
    args: &RebuildArgs,
    secret: &SecretKey,
    published: &Published,
    claimed: &Statement,
    rebuilt: &Rebuilt,
) -> anyhow::Result<()> {
    let reference = &report.reference;
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
        builder: Some(rebuilt.built.builder_image.to_string()),
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
    // `vk=` binds the release's VK, which the rebuild derived too; a release without one has
    // `vk=-`, and so has its attestation: no key the release does not carry is bound.
    report.attestation_confirms = Some(match statement.vk {
        Some(_) => Confirms::ElfAndVk,
        None => Confirms::Elf,
    });
    if args.push {
        let title = format!(
            "{}-{}.elf.{}.rebuild.minisig",
            claimed.guest,
            claimed.zkvm,
            sig.key_id()
        );
        report.attached =
            Some(push_signature(published, text.as_bytes(), &title, statement.created).await?);
    }
    Ok(())
}
