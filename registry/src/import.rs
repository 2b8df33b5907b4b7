//! `zkelf import`: mirror a release published as plain downloads (a GitHub release's
//! `<name>.elf`, `.elf.minisig`, `.vk`, `.vk.minisig`) into an OCI registry or layout without
//! re-signing it.
//!
//! The upstream release is pulled exactly as `zkelf pull` would (signature under the policy,
//! pins, VK), into a temporary directory; only then is anything written to the target. The
//! artifact keeps the upstream `.minisig` byte for byte as its release signature layer and the
//! `.vk.minisig` as a VK signature layer, and records the download URL in
//! `dev.zkelf.import.source`, so a pull of it applies the same rules as a pull from the URL: a
//! signature that binds no statement still needs the bytes pinned. A hub that wants a bound
//! statement adds its own signature as an attestation (`zkelf attest`); the upstream one is
//! never replaced.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::Serialize;

use crate::artifact::{self, ArtifactSpec, Descriptor};
use crate::digest::OciDigest;
use crate::error::Error;
use crate::provenance::ProvenanceSummary;
use crate::pull::vk::{VkCheck, VkOutput};
use crate::pull::{self, Output, PullOptions};
use crate::reference::Reference;
use crate::store::{BlobSource, Store};

/// What the importer names the release, where the upstream signature does not (or to check
/// what it does).
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// Guest name.
    pub guest: Option<String>,
    /// Release version (semver).
    pub version: Option<semver::Version>,
    /// zkVM id.
    pub zkvm: Option<String>,
    /// Target triple; default from the ELF header.
    pub target: Option<String>,
}

/// What an import wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Imported {
    /// The download URL.
    pub source: String,
    /// The tag written.
    pub tag: String,
    /// The artifact manifest digest.
    pub manifest_digest: OciDigest,
    /// Guest, version, zkVM and target as annotated.
    pub guest: String,
    /// The version annotated.
    pub version: String,
    /// The zkVM annotated.
    pub zkvm: String,
    /// The target annotated.
    pub target: String,
    /// The ELF digest.
    pub elf_digest: OciDigest,
    /// The ELF size.
    pub elf_size: u64,
    /// Whether the upstream signature binds no statement (the artifact then needs a pin to pull).
    pub unbound: bool,
    /// The VK digest, when one was carried.
    pub vk_digest: Option<OciDigest>,
    /// Whether the VK carries its own signature layer.
    pub vk_signed: bool,
    /// Blobs uploaded.
    pub uploaded_blobs: usize,
    /// Blobs the target already had.
    pub skipped_blobs: usize,
}

/// Why the import cannot name the artifact.
fn unnamed(url: &str, missing: &[&str]) -> Error {
    Error::Unnamed {
        url: url.to_owned(),
        missing: missing.join(", "),
    }
}

/// Imports the release at `source_ref` (an https reference) into `target` under `tag`.
/// `options.expected` carries the pins (`sha256`, `vk_sha256`) and `labels` what to call it;
/// `created` (`SOURCE_DATE_EPOCH`) fixes the `created` annotation.
pub async fn import(
    source: &dyn Store,
    source_ref: &Reference,
    target: &dyn Store,
    tag: &str,
    labels: &Labels,
    created: Option<u64>,
    options: PullOptions<'_>,
) -> Result<Imported, Error> {
    let url = source_ref.to_string();
    let expected = crate::verify::Expected {
        guest: labels.guest.clone(),
        version: labels.version.clone(),
        zkvm: labels.zkvm.clone(),
        ..options.expected.clone()
    };
    let options = PullOptions {
        expected: &expected,
        vk: VkOutput::IfPresent,
        lock: None,
        state: None,
        cache: None,
        ..options
    };
    let resolved = pull::resolve(
        source,
        source_ref,
        None,
        expected.sha256.as_ref(),
        options.retry,
        options.reporter,
    )
    .await?;
    if resolved.claimed.is_none() {
        let missing: Vec<&str> = [
            ("`--guest`", labels.guest.is_none()),
            ("`--version`", labels.version.is_none()),
            ("`--zkvm`", labels.zkvm.is_none()),
        ]
        .into_iter()
        .filter_map(|(flag, absent)| absent.then_some(flag))
        .collect();
        if !missing.is_empty() {
            return Err(unnamed(&url, &missing));
        }
    }
    let dir = tempfile::Builder::new()
        .prefix("zkelf-import-")
        .tempdir()
        .map_err(Error::io(std::env::temp_dir()))?;
    let elf_path = dir.path().join("release.elf");
    let pulled =
        pull::pull_resolved(source, resolved, Output::File(elf_path.clone()), options).await?;

    let resolved = &pulled.resolved;
    let (guest, version, zkvm, statement_target) = match &pulled.statement {
        Some(s) => (
            s.guest.clone(),
            s.version.to_string(),
            s.zkvm.clone(),
            Some(s.target.clone()),
        ),
        None => (
            labels.guest.clone().unwrap_or_default(),
            labels
                .version
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            labels.zkvm.clone().unwrap_or_default(),
            None,
        ),
    };
    let target_triple = match (statement_target, &labels.target) {
        (Some(signed), Some(asked)) if signed != *asked => {
            return Err(crate::VerificationError::Unexpected {
                field: "target",
                expected: asked.clone(),
                found: signed,
            }
            .into());
        }
        (Some(signed), _) => signed,
        (None, Some(asked)) => asked.clone(),
        (None, None) => {
            let class = zkelf_trust::elf::riscv_class(&elf_path)
                .map_err(|_| unnamed(&url, &["`--target` (the file is not a RISC-V ELF)"]))?;
            class.default_target().to_owned()
        }
    };

    // Only what a signature vouches for is carried: the provenance if the statement binds it,
    // the VK if it was verified (with its own signature layer when that is what vouched).
    let provenance = pulled
        .statement
        .as_ref()
        .and_then(|s| s.provenance)
        .and(resolved.provenance.clone());
    let vk = pulled
        .vk
        .as_ref()
        .filter(|v| v.verified())
        .and(resolved.vk.clone());
    let vk_signature = match pulled.vk.as_ref().map(|v| &v.check) {
        Some(VkCheck::Signature { .. }) => resolved.vk_signature.clone(),
        _ => None,
    };
    let signature = resolved.signatures[0].text.clone();
    let summary = provenance
        .as_deref()
        .map(ProvenanceSummary::read)
        .unwrap_or_default();
    let mut annotations = BTreeMap::new();
    annotations.insert(artifact::IMPORT_SOURCE.to_owned(), url.clone());
    let spec = ArtifactSpec {
        guest: guest.clone(),
        version: version.clone(),
        zkvm: zkvm.clone(),
        target: target_triple.clone(),
        revision: summary.revision().map(str::to_owned),
        source: Some(summary.source_uri().unwrap_or(&url).to_owned()),
        created: created
            .or(pulled.statement.as_ref().map(|s| s.created))
            .unwrap_or(0),
        elf: resolved.layers.elf.clone(),
        signature: Descriptor::of(artifact::MINISIG_MEDIA_TYPE, signature.as_bytes()),
        provenance: provenance
            .as_deref()
            .map(|p| Descriptor::of(artifact::PROVENANCE_MEDIA_TYPE, p)),
        vk: vk
            .as_deref()
            .map(|v| Descriptor::of(artifact::VK_MEDIA_TYPE, v)),
        vk_signature: vk_signature
            .as_deref()
            .map(|s| Descriptor::of(artifact::VK_MINISIG_MEDIA_TYPE, s.as_bytes())),
        annotations,
    };

    let mut uploads: Vec<(Descriptor, BlobSource)> = vec![
        (
            Descriptor::empty_config(),
            BlobSource::Bytes(Bytes::from_static(artifact::EMPTY_CONFIG)),
        ),
        (spec.elf.clone(), BlobSource::File(elf_path.clone())),
        (
            spec.signature.clone(),
            BlobSource::Bytes(Bytes::from(signature.into_bytes())),
        ),
    ];
    for (d, bytes) in [
        (&spec.provenance, provenance),
        (&spec.vk, vk),
        (&spec.vk_signature, vk_signature.map(String::into_bytes)),
    ] {
        if let (Some(d), Some(bytes)) = (d, bytes) {
            uploads.push((d.clone(), BlobSource::Bytes(Bytes::from(bytes))));
        }
    }
    let (mut uploaded_blobs, mut skipped_blobs) = (0, 0);
    for (d, source) in uploads {
        if crate::publish::upload(target, &d, source, options.reporter).await? {
            uploaded_blobs += 1;
        } else {
            skipped_blobs += 1;
        }
    }
    let (bytes, descriptor) = spec.manifest();
    target
        .put_manifest(&bytes, artifact::MANIFEST_MEDIA_TYPE, Some(tag))
        .await?;
    options
        .reporter
        .note(&format!("imported `{url}` as `{tag}`"));
    Ok(Imported {
        source: url,
        tag: tag.to_owned(),
        manifest_digest: descriptor.digest,
        guest,
        version,
        zkvm,
        target: target_triple,
        elf_digest: spec.elf.digest,
        elf_size: spec.elf.size,
        unbound: pulled.statement.is_none(),
        vk_digest: spec.vk.as_ref().map(|d| d.digest),
        vk_signed: spec.vk_signature.is_some(),
        uploaded_blobs,
        skipped_blobs,
    })
}
