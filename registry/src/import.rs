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
use std::path::Path;

use bytes::Bytes;
use serde::Serialize;

use crate::artifact::{self, ArtifactSpec, Descriptor};
use crate::digest::OciDigest;
use crate::error::Error;
use crate::provenance::ProvenanceSummary;
use crate::pull::vk::{VkCheck, VkOutput};
use crate::pull::{self, Output, PullOptions, Pulled};
use crate::reference::Reference;
use crate::store::{BlobSource, ManifestHints, Store};

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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Imported {
    /// The download URL.
    pub source: String,
    /// The tag written.
    pub tag: String,
    /// The manifest the tag named before, when `--replace` moved it.
    pub replaced: Option<OciDigest>,
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
/// `created` (`SOURCE_DATE_EPOCH`) fixes the `created` annotation. A `tag` that names other
/// bytes already is refused before anything is uploaded, unless `replace`
/// ([`crate::publish::claim_tag`]).
#[allow(clippy::too_many_arguments)]
pub async fn import(
    source: &dyn Store,
    source_ref: &Reference,
    target: &dyn Store,
    tag: &str,
    labels: &Labels,
    created: Option<u64>,
    replace: bool,
    options: PullOptions<'_>,
) -> Result<Imported, Error> {
    let url = source_ref.to_string();
    let mut resolved = pull::resolve(
        source,
        source_ref,
        None,
        ManifestHints {
            elf_sha256: options.expected.sha256,
            vk: true,
        },
        options.retry,
        options.reporter,
    )
    .await?;
    let mut expected = options.expected.clone();
    if resolved.claimed.is_some() {
        // The statement names the release: the labels given must agree with it.
        expected.guest = labels.guest.clone();
        expected.version = labels.version.clone();
        expected.zkvm = labels.zkvm.clone();
    } else {
        // Nothing signed names it: the labels are what the artifact will be annotated as, and
        // are judged as a pull of the imported artifact judges its annotations.
        check_labelled(labels, &url)?;
        let annotations = &mut resolved.manifest.annotations;
        for (key, value) in [
            (artifact::GUEST, labels.guest.clone()),
            (
                artifact::VERSION,
                labels.version.as_ref().map(ToString::to_string),
            ),
            (artifact::ZKVM, labels.zkvm.clone()),
        ] {
            if let Some(value) = value {
                annotations.insert(key.to_owned(), value);
            }
        }
    }
    let options = PullOptions {
        expected: &expected,
        vk: VkOutput::IfPresent,
        derive_vk: None,
        lock: None,
        state: None,
        cache: None,
        ..options
    };
    let dir = tempfile::Builder::new()
        .prefix("zkelf-import-")
        .tempdir()
        .map_err(Error::io(std::env::temp_dir()))?;
    let elf_path = dir.path().join("release.elf");
    let reporter = options.reporter;
    let pulled =
        pull::pull_resolved(source, resolved, Output::File(elf_path.clone()), options).await?;
    let names = Names::of(&pulled, labels, &elf_path, &url)?;
    // Signed or given, the version may be one no tag can carry; nothing is in the target yet.
    if let Ok(version) = names.version.parse::<semver::Version>() {
        artifact::check_taggable(&version, &names.zkvm)?;
    }
    let carried = Carried::of(&pulled);
    let mut spec = carried.spec(&names, &pulled, &url, created);
    let replaced = crate::publish::claim_tag(target, &mut spec, tag, replace).await?;
    let (uploaded_blobs, skipped_blobs) =
        upload_blobs(target, &spec, carried, &elf_path, reporter).await?;
    let (bytes, descriptor) = spec.manifest();
    target
        .put_manifest(&bytes, artifact::MANIFEST_MEDIA_TYPE, Some(tag))
        .await?;
    reporter.note(&format!("imported `{url}` as `{tag}`"));
    Ok(Imported {
        source: url,
        tag: tag.to_owned(),
        manifest_digest: descriptor.digest,
        guest: names.guest,
        version: names.version,
        zkvm: names.zkvm,
        target: names.target,
        elf_digest: spec.elf.digest,
        elf_size: spec.elf.size,
        unbound: pulled.statement.is_none(),
        vk_digest: spec.vk.as_ref().map(|d| d.digest),
        vk_signed: spec.vk_signature.is_some(),
        uploaded_blobs,
        skipped_blobs,
        replaced,
    })
}

/// A release whose signature binds no statement is named by the importer: every label given.
fn check_labelled(labels: &Labels, url: &str) -> Result<(), Error> {
    let missing: Vec<&str> = [
        ("`--guest`", labels.guest.is_none()),
        ("`--version`", labels.version.is_none()),
        ("`--zkvm`", labels.zkvm.is_none()),
    ]
    .into_iter()
    .filter_map(|(flag, absent)| absent.then_some(flag))
    .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(unnamed(url, &missing))
    }
}

/// What the imported artifact is called: the statement's names, else the labels given.
struct Names {
    guest: String,
    version: String,
    zkvm: String,
    target: String,
}

impl Names {
    fn of(pulled: &Pulled, labels: &Labels, elf_path: &Path, url: &str) -> Result<Self, Error> {
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
        let target = match (statement_target, &labels.target) {
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
                let class = zkelf_trust::elf::riscv_class(elf_path)
                    .map_err(|_| unnamed(url, &["`--target` (the file is not a RISC-V ELF)"]))?;
                class.default_target().to_owned()
            }
        };
        Ok(Self {
            guest,
            version,
            zkvm,
            target,
        })
    }
}

/// The small blobs an import carries: the release signature, and only what a signature vouches
/// for besides: the provenance if the statement binds it, the VK if it was verified (with its own
/// signature layer when that is what vouched).
struct Carried {
    signature: String,
    provenance: Option<Vec<u8>>,
    vk: Option<Vec<u8>>,
    vk_signature: Option<String>,
}

impl Carried {
    fn of(pulled: &Pulled) -> Self {
        let resolved = &pulled.resolved;
        Self {
            signature: resolved.signatures[0].text.clone(),
            provenance: pulled
                .statement
                .as_ref()
                .and_then(|s| s.provenance)
                .and(resolved.provenance.clone()),
            vk: pulled
                .vk
                .as_ref()
                .filter(|v| v.verified())
                .and(resolved.vk.clone()),
            vk_signature: match pulled.vk.as_ref().map(|v| &v.check) {
                Some(VkCheck::Signature { .. }) => resolved.vk_signature.clone(),
                _ => None,
            },
        }
    }

    /// The manifest inputs: the ELF as pulled, these blobs, `names`, and the download URL as
    /// the import source.
    fn spec(
        &self,
        names: &Names,
        pulled: &Pulled,
        url: &str,
        created: Option<u64>,
    ) -> ArtifactSpec {
        let summary = self
            .provenance
            .as_deref()
            .map(ProvenanceSummary::read)
            .unwrap_or_default();
        let mut annotations = BTreeMap::new();
        annotations.insert(artifact::IMPORT_SOURCE.to_owned(), url.to_owned());
        ArtifactSpec {
            guest: names.guest.clone(),
            version: names.version.clone(),
            zkvm: names.zkvm.clone(),
            target: names.target.clone(),
            revision: summary.revision().map(str::to_owned),
            source: Some(summary.source_uri().unwrap_or(url).to_owned()),
            created: created
                .or(pulled.statement.as_ref().map(|s| s.created))
                .unwrap_or(0),
            elf: pulled.resolved.layers.elf.clone(),
            signature: Descriptor::of(artifact::MINISIG_MEDIA_TYPE, self.signature.as_bytes()),
            provenance: self
                .provenance
                .as_deref()
                .map(|p| Descriptor::of(artifact::PROVENANCE_MEDIA_TYPE, p)),
            vk: self
                .vk
                .as_deref()
                .map(|v| Descriptor::of(artifact::VK_MEDIA_TYPE, v)),
            vk_signature: self
                .vk_signature
                .as_deref()
                .map(|s| Descriptor::of(artifact::VK_MINISIG_MEDIA_TYPE, s.as_bytes())),
            annotations,
        }
    }
}

/// Uploads the config, the ELF and the carried blobs `spec` lists; returns how many were
/// uploaded and how many the target already had.
async fn upload_blobs(
    target: &dyn Store,
    spec: &ArtifactSpec,
    carried: Carried,
    elf_path: &Path,
    reporter: &dyn crate::progress::Reporter,
) -> Result<(usize, usize), Error> {
    let mut uploads: Vec<(Descriptor, BlobSource)> = vec![
        (
            Descriptor::empty_config(),
            BlobSource::Bytes(Bytes::from_static(artifact::EMPTY_CONFIG)),
        ),
        (spec.elf.clone(), BlobSource::File(elf_path.to_path_buf())),
        (
            spec.signature.clone(),
            BlobSource::Bytes(Bytes::from(carried.signature.into_bytes())),
        ),
    ];
    for (d, bytes) in [
        (&spec.provenance, carried.provenance),
        (&spec.vk, carried.vk),
        (
            &spec.vk_signature,
            carried.vk_signature.map(String::into_bytes),
        ),
    ] {
        if let (Some(d), Some(bytes)) = (d, bytes) {
            uploads.push((d.clone(), BlobSource::Bytes(Bytes::from(bytes))));
        }
    }
    let (mut uploaded, mut skipped) = (0, 0);
    for (d, source) in uploads {
        if crate::publish::upload(target, &d, source, reporter).await? {
            uploaded += 1;
        } else {
            skipped += 1;
        }
    }
    Ok((uploaded, skipped))
}
