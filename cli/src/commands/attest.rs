//! `zkelf attest`: an additional release signature over a published ELF (for policies that
//! require several release keys), or an existing signature file attached as it is.

use std::path::PathBuf;

use anyhow::Context as _;
use zkelf_registry::VerificationError;
use zkelf_registry::digest::OciDigest;
use zkelf_registry::signature::{SignatureProblem, claimed_of};
use zkelf_trust::signature::{self, Signature};
use zkelf_trust::statement::{Kind, Statement};

use super::shared::epoch::created_now;
use super::shared::files::persist_atomically;
use super::shared::keys::load_secret_key;
use super::shared::published::{Published, fetch_published, push_signature};
use crate::args::audit::{AttestArgs, AttestKind};
use crate::error::{ExitStatus, UsageError};
use crate::printer::Printer;
use crate::reports::audit::AttestReport;

/// The statement of a signature given with `--signature`, which must be about the published
/// ELF: only a signature over these very bytes is worth attaching. The policy evaluates the rest
/// (key, role, fields) when the artifact is pulled.
fn given_statement(
    sig: &Signature,
    path: &std::path::Path,
    published: &Published,
    reference: &str,
) -> anyhow::Result<Statement> {
    let origin = format!("`{}`", path.display());
    let statement = claimed_of(sig)
        .and_then(|claimed| claimed.ok_or(SignatureProblem::NotAStatement))
        .map_err(|problem| VerificationError::BadSignature {
            origin: origin.clone(),
            problem,
        })?;
    if statement.sha256 != published.elf.sha256 || statement.size != published.elf.size {
        return Err(anyhow::Error::new(VerificationError::DigestMismatch {
            what: format!("the ELF signed by {origin}"),
            expected: OciDigest::from(published.elf.sha256),
            actual: OciDigest::from(statement.sha256),
        }))
        .context(format!(
            "the signature is not about the ELF of `{reference}`"
        ));
    }
    Ok(statement)
}

/// For an artifact whose release signature binds no statement (an import of a GitHub release):
/// the statement a co-signer makes from the manifest's annotations, which name the release, and
/// the bytes and blobs as published. Signing it is what binds guest, version and zkVM.
fn statement_from_annotations(
    published: &Published,
    reference: &str,
    provenance: Option<zkelf_trust::digest::Sha256Digest>,
    vk: Option<zkelf_trust::digest::Sha256Digest>,
) -> anyhow::Result<Statement> {
    use zkelf_registry::artifact::{GUEST, TARGET, VERSION, ZKVM};
    let annotations = &published.resolved.manifest.annotations;
    let field = |key: &str| {
        annotations.get(key).cloned().ok_or_else(|| {
            UsageError::new(
                format!(
                    "the release signature of `{reference}` binds no statement and its manifest has no `{key}` annotation, so there is nothing to co-sign"
                ),
                "import the release with `zkelf import --guest … --version … --zkvm …`",
            )
        })
    };
    let version = field(VERSION)?;
    Ok(Statement {
        kind: Kind::Release,
        guest: field(GUEST)?,
        version: version.parse().map_err(|e| {
            UsageError::new(
                format!(
                    "the `{VERSION}` annotation `{version}` of `{reference}` is not semver: {e}"
                ),
                "import the release again with `--version <semver>`",
            )
        })?,
        zkvm: field(ZKVM)?,
        target: field(TARGET)?,
        sha256: published.elf.sha256,
        size: published.elf.size,
        provenance,
        vk,
        builder: None,
        created: 0,
    })
}

/// Runs `zkelf attest`.
pub async fn attest(args: AttestArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let secret = match &args.key {
        Some(key) => Some(load_secret_key(key, args.password_file.as_deref())?),
        None => None,
    };
    let given = args
        .signature
        .as_deref()
        .map(Signature::from_file)
        .transpose()?;
    let published = fetch_published(
        &args.reference,
        args.zkvm.as_deref(),
        &args.network,
        false,
        printer,
    )
    .await?;
    let reference = published.resolved.reference.to_string();
    let claimed = &published.resolved.claimed;
    let (provenance, vk) = published.extras();

    let (sig, statement) = match (given, &secret) {
        (Some(sig), _) => {
            let path = args.signature.clone().unwrap_or_default();
            let statement = given_statement(&sig, &path, &published, &reference)?;
            (sig, statement)
        }
        (None, Some(secret)) => {
            let base = match claimed {
                Some(claimed) => {
                    let other_blob =
                        if claimed.provenance.is_some() && claimed.provenance != provenance {
                            Some(("provenance", claimed.provenance, provenance))
                        } else if claimed.vk != vk {
                            Some(("vk", claimed.vk, vk))
                        } else {
                            None
                        };
                    if let Some((blob, signed, carried)) = other_blob {
                        return Err(anyhow::Error::new(VerificationError::BadSignature {
                            origin: "release layer".into(),
                            problem: SignatureProblem::OtherBlob {
                                blob,
                                signed,
                                carried,
                            },
                        }))
                        .context(format!("refusing to co-sign `{reference}`"));
                    }
                    claimed.clone()
                }
                None => statement_from_annotations(&published, &reference, provenance, vk)?,
            };
            let statement = Statement {
                kind: match args.kind {
                    AttestKind::Release => Kind::Release,
                },
                created: created_now()?,
                sha256: published.elf.sha256,
                size: published.elf.size,
                builder: None,
                ..base
            };
            let sig = signature::sign(secret, &published.elf, &statement)
                .with_context(|| format!("cannot sign `{reference}`"))?;
            (sig, statement)
        }
        (None, None) => unreachable!("clap requires `--key` or `--signature`"),
    };

    let text = sig.to_string();
    let kind = match statement.kind {
        Kind::Release => "release",
        Kind::Rebuild => "rebuild",
    };
    let output = match (&args.output, args.push) {
        (Some(path), _) => Some(path.clone()),
        (None, false) => Some(PathBuf::from(format!(
            "{}-{}.{}.{kind}.minisig",
            statement.guest,
            statement.zkvm,
            sig.key_id()
        ))),
        (None, true) => None,
    };
    if let Some(path) = &output
        && args.signature.as_ref() != Some(path)
    {
        persist_atomically(path, text.as_bytes(), 0o644, true)?;
    }
    let attached = if args.push {
        let title = format!(
            "{}-{}.elf.{}.{kind}.minisig",
            statement.guest,
            statement.zkvm,
            sig.key_id()
        );
        Some(push_signature(&published, text.as_bytes(), &title, statement.created).await?)
    } else {
        None
    };
    printer.report(&AttestReport {
        reference,
        manifest: published.resolved.manifest_digest,
        key_id: sig.key_id().to_string(),
        statement: Some(statement),
        output,
        attached,
    })?;
    Ok(ExitStatus::Success)
}
