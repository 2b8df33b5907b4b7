//! Publishing a signed `dist/<guest>/<version>` directory: one artifact per zkVM (SPEC §5), the
//! release index under `<version>`, and attestations with the referrers fallback index.
//! Blobs the store already has are not uploaded again.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::Serialize;
use zkelf_trust::digest::{ContentDigests, Sha256Digest};
use zkelf_trust::policy::Policy;
use zkelf_trust::statement::Statement;

use crate::artifact::{self, ArtifactSpec, Descriptor, Fetched};
use crate::digest::OciDigest;
use crate::error::{DistProblem, Error, VerificationError};
use crate::progress::Reporter;
use crate::provenance::ProvenanceSummary;
use crate::reference::Target;
use crate::signature::{self, FetchedSignature};
use crate::store::{BlobSource, Store};
use crate::verify::{self, Expected, Subject};

/// One signed ELF of a dist directory, with what goes beside it.
#[derive(Debug, Clone)]
pub struct DistArtifact {
    /// The ELF file.
    pub elf_path: PathBuf,
    /// Its digests.
    pub elf: ContentDigests,
    /// The `.minisig` text.
    pub signature: String,
    /// The statement it carries (checked against the policy before anything is uploaded).
    pub statement: Statement,
    /// `provenance.json`, if present.
    pub provenance: Option<Vec<u8>>,
    /// The verification key file and its digests, if present.
    pub vk: Option<(PathBuf, ContentDigests)>,
}

fn dist_err(dir: &Path, problem: DistProblem) -> Error {
    Error::Dist {
        path: dir.to_path_buf(),
        problem: Box::new(problem),
    }
}

/// Reads a `dist/<guest>/<version>` directory: every `<guest>-<zkvm>.elf` with its
/// `.elf.minisig`, and `<guest>-<zkvm>.provenance.json` and `<guest>-<zkvm>.vk` when present.
pub fn scan_dist(dir: &Path) -> Result<Vec<DistArtifact>, Error> {
    let entries = std::fs::read_dir(dir).map_err(Error::io(dir))?;
    let mut elves: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "elf") && p.is_file())
        .collect();
    elves.sort();
    if elves.is_empty() {
        return Err(dist_err(dir, DistProblem::NoElf));
    }
    elves
        .into_iter()
        .map(|elf_path| read_artifact(dir, elf_path))
        .collect()
}

fn read_artifact(dir: &Path, elf_path: PathBuf) -> Result<DistArtifact, Error> {
    let name = elf_path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let stem = name.trim_end_matches(".elf").to_owned();
    let sig_path = dir.join(format!("{name}.minisig"));
    let sig_bytes = std::fs::read(&sig_path).map_err(|source| {
        dist_err(
            dir,
            DistProblem::NoSignature {
                elf: name.clone(),
                source,
            },
        )
    })?;
    if sig_bytes.len() as u64 > artifact::MAX_SIGNATURE_SIZE {
        return Err(dist_err(dir, DistProblem::SignatureTooLarge { elf: name }));
    }
    let signature = String::from_utf8(sig_bytes)
        .map_err(|_| dist_err(dir, DistProblem::SignatureNotText { elf: name.clone() }))?;
    let statement = signature::statement_of_signature(&signature).map_err(|problem| {
        VerificationError::BadSignature {
            origin: format!("`{}`", sig_path.display()),
            problem,
        }
    })?;
    if stem != format!("{}-{}", statement.guest, statement.zkvm) {
        return Err(dist_err(
            dir,
            DistProblem::Misnamed {
                elf: name,
                guest: statement.guest,
                zkvm: statement.zkvm,
            },
        ));
    }
    let elf = zkelf_trust::digest::hash_file(&elf_path).map_err(|e| Error::Io {
        path: e.path,
        source: e.source,
    })?;
    let prov_path = dir.join(format!("{stem}.provenance.json"));
    let provenance = match std::fs::read(&prov_path) {
        Ok(bytes) if bytes.len() as u64 > artifact::MAX_PROVENANCE_SIZE => {
            return Err(dist_err(dir, DistProblem::ProvenanceTooLarge { stem }));
        }
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(&prov_path)(e)),
    };
    let vk_path = dir.join(format!("{stem}.vk"));
    let vk = if vk_path.is_file() {
        let digests = zkelf_trust::digest::hash_file(&vk_path).map_err(|e| Error::Io {
            path: e.path,
            source: e.source,
        })?;
        Some((vk_path, digests))
    } else {
        None
    };
    Ok(DistArtifact {
        elf_path,
        elf,
        signature,
        statement,
        provenance,
        vk,
    })
}

/// What a publish did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Published {
    /// One entry per artifact.
    pub artifacts: Vec<PublishedArtifact>,
    /// The release index tag.
    pub index_tag: String,
    /// The release index digest.
    pub index_digest: OciDigest,
    /// What the `<version>` tag named before, when `--replace` moved it (another guest's
    /// index, or a manifest zkelf did not write).
    pub index_replaced: Option<OciDigest>,
    /// Blobs uploaded.
    pub uploaded_blobs: usize,
    /// Bytes uploaded.
    pub uploaded_bytes: u64,
    /// Blobs the store already had.
    pub skipped_blobs: usize,
}

/// One published artifact.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PublishedArtifact {
    /// `<version>-<zkvm>`.
    pub tag: String,
    /// Its manifest digest.
    pub manifest_digest: OciDigest,
    /// The zkVM.
    pub zkvm: String,
    /// The ELF digest.
    pub elf_digest: OciDigest,
    /// The manifest the tag named before, when `--replace` moved it.
    pub replaced: Option<OciDigest>,
}

impl DistArtifact {
    /// The manifest inputs; `created` overrides the statement's time (`SOURCE_DATE_EPOCH`).
    pub fn spec(&self, created: Option<u64>) -> ArtifactSpec {
        let summary = self
            .provenance
            .as_deref()
            .map(ProvenanceSummary::read)
            .unwrap_or_default();
        ArtifactSpec {
            guest: self.statement.guest.clone(),
            version: self.statement.version.to_string(),
            zkvm: self.statement.zkvm.clone(),
            target: self.statement.target.clone(),
            revision: summary.revision().map(str::to_owned),
            source: summary.source_uri().map(str::to_owned),
            created: created.unwrap_or(self.statement.created),
            elf: Descriptor::new(
                artifact::ELF_MEDIA_TYPE,
                OciDigest::from(self.elf.sha256),
                self.elf.size,
            ),
            signature: Descriptor::of(artifact::MINISIG_MEDIA_TYPE, self.signature.as_bytes()),
            provenance: self
                .provenance
                .as_deref()
                .map(|p| Descriptor::of(artifact::PROVENANCE_MEDIA_TYPE, p)),
            vk: self.vk.as_ref().map(|(_, d)| {
                Descriptor::new(artifact::VK_MEDIA_TYPE, OciDigest::from(d.sha256), d.size)
            }),
            vk_signature: None,
            annotations: Default::default(),
        }
    }

    /// Refuses an artifact whose release signature does not verify under `policy`.
    pub fn verify(&self, policy: &Policy) -> Result<(), Error> {
        let expected = Expected {
            guest: Some(self.statement.guest.clone()),
            version: Some(self.statement.version.clone()),
            zkvm: Some(self.statement.zkvm.clone()),
            sha256: None,
            vk_sha256: None,
        };
        let signatures = [FetchedSignature::new(
            format!("`{}.minisig`", self.elf_path.display()),
            self.signature.clone(),
        )];
        let subject = Subject {
            name: self.elf_path.display().to_string(),
            digests: self.elf,
            provenance: self.provenance.as_deref().map(Sha256Digest::of),
            vk: self.vk.as_ref().map(|(_, d)| d.sha256),
            file: Some(self.elf_path.clone()),
            labels: verify::Labels::of(&self.statement),
        };
        let evaluated = verify::evaluate(
            policy,
            &subject,
            &signatures,
            &expected,
            &verify::Options::default(),
        );
        evaluated.outcome.map_err(VerificationError::Rejected)?;
        if let Some((vk_path, _)) = &self.vk {
            let what = format!("`{}`", self.elf_path.display());
            let vk = std::fs::read(vk_path).map_err(Error::io(vk_path))?;
            let file = std::fs::File::open(&self.elf_path).map_err(Error::io(&self.elf_path))?;
            zkelf_zkvm::check_vk_reader(file, &vk).map_err(|source| match source {
                zkelf_zkvm::VkError::Read(e) => Error::io(&self.elf_path)(e),
                source => VerificationError::Vk { what, source }.into(),
            })?;
        }
        Ok(())
    }
}

/// Uploads a blob unless the store has it; returns whether it was uploaded.
pub(crate) async fn upload(
    store: &dyn Store,
    d: &Descriptor,
    source: BlobSource,
    reporter: &dyn Reporter,
) -> Result<bool, Error> {
    if store.has_blob(d).await? {
        reporter.note(&format!("`{}` already present, not uploaded", d.digest));
        return Ok(false);
    }
    let what = format!("blob `{}`", d.digest);
    reporter.start(&what, Some(d.size));
    let result = store.put_blob(d, source).await;
    reporter.finish(&what);
    result?;
    Ok(true)
}

/// Publishes the artifacts (all of one guest and version) and their release index. A tag
/// that names other bytes already is refused before anything is uploaded, unless `replace`
/// (see [`claim_tag`]).
pub async fn publish(
    store: &dyn Store,
    artifacts: &[DistArtifact],
    policy: &Policy,
    created: Option<u64>,
    replace: bool,
    reporter: &dyn Reporter,
) -> Result<Published, Error> {
    let first = artifacts
        .first()
        .ok_or_else(|| dist_err(Path::new("."), DistProblem::NoArtifacts))?;
    let (guest, version) = (
        first.statement.guest.clone(),
        first.statement.version.to_string(),
    );
    for a in artifacts {
        if a.statement.guest != guest || a.statement.version.to_string() != version {
            return Err(dist_err(
                &a.elf_path,
                DistProblem::Mixed {
                    guest,
                    version,
                    other_guest: a.statement.guest.clone(),
                    other_version: a.statement.version.to_string(),
                },
            ));
        }
        // Signed elsewhere, the version may be one no tag can carry (`sign` refuses those).
        artifact::check_taggable(&a.statement.version, &a.statement.zkvm)?;
        a.verify(policy)?;
    }
    let mut specs = Vec::new();
    for a in artifacts {
        let mut spec = a.spec(created);
        let tag = spec.tag();
        let replaced = claim_tag(store, &mut spec, &tag, replace).await?;
        specs.push((spec, replaced));
    }
    let created_index = created.unwrap_or(first.statement.created);
    let new: Vec<Descriptor> = specs.iter().map(|(spec, _)| spec.manifest().1).collect();
    let index = claim_index(store, (&guest, &version), created_index, new, replace).await?;
    // (uploaded blobs, uploaded bytes, blobs the store had)
    let mut counts = (0, 0, 0);
    let count = |uploaded: bool, size: u64, counts: &mut (usize, u64, usize)| {
        if uploaded {
            counts.0 += 1;
            counts.1 += size;
        } else {
            counts.2 += 1;
        }
    };
    let mut published = Vec::new();
    let config = Descriptor::empty_config();
    let up = upload(
        store,
        &config,
        BlobSource::Bytes(Bytes::from_static(artifact::EMPTY_CONFIG)),
        reporter,
    )
    .await?;
    count(up, config.size, &mut counts);
    for (a, (spec, replaced)) in artifacts.iter().zip(specs) {
        let up = upload(
            store,
            &spec.elf,
            BlobSource::File(a.elf_path.clone()),
            reporter,
        )
        .await?;
        count(up, spec.elf.size, &mut counts);
        let sig = Bytes::from(a.signature.clone().into_bytes());
        let up = upload(store, &spec.signature, BlobSource::Bytes(sig), reporter).await?;
        count(up, spec.signature.size, &mut counts);
        if let (Some(d), Some(bytes)) = (&spec.provenance, &a.provenance) {
            let up = upload(
                store,
                d,
                BlobSource::Bytes(Bytes::from(bytes.clone())),
                reporter,
            )
            .await?;
            count(up, d.size, &mut counts);
        }
        if let (Some(d), Some((path, _))) = (&spec.vk, &a.vk) {
            let up = upload(store, d, BlobSource::File(path.clone()), reporter).await?;
            count(up, d.size, &mut counts);
        }
        let (bytes, descriptor) = spec.manifest();
        let tag = spec.tag();
        store
            .put_manifest(&bytes, artifact::MANIFEST_MEDIA_TYPE, Some(&tag))
            .await?;
        published.push(PublishedArtifact {
            tag,
            manifest_digest: descriptor.digest,
            zkvm: spec.zkvm.clone(),
            elf_digest: spec.elf.digest,
            replaced,
        });
    }
    store
        .put_manifest(&index.bytes, artifact::INDEX_MEDIA_TYPE, Some(&version))
        .await?;
    let (uploaded_blobs, uploaded_bytes, skipped_blobs) = counts;
    Ok(Published {
        artifacts: published,
        index_tag: version,
        index_digest: index.descriptor.digest,
        index_replaced: index.replaced,
        uploaded_blobs,
        uploaded_bytes,
        skipped_blobs,
    })
}

/// The release index a publish writes under `<version>`, and what that tag named before when
/// `--replace` moved it.
struct ClaimedIndex {
    bytes: Vec<u8>,
    descriptor: Descriptor,
    replaced: Option<OciDigest>,
}

/// The release index `<version>` will name: the `new` artifacts, and the other zkVMs an earlier
/// publish of this guest's version added (so each zkVM can be published alone). A `<version>`
/// tag that names anything else (another guest's index, a manifest zkelf did not write, bytes
/// that do not parse) is [`Error::TagTaken`], checked before anything is uploaded, unless
/// `replace`: the new index then records it as [`artifact::REPLACES`], as [`claim_tag`] does for
/// an artifact, and keeps that record when this guest publishes the version again.
async fn claim_index(
    store: &dyn Store,
    (guest, version): (&str, &str),
    created: u64,
    mut descriptors: Vec<Descriptor>,
    replace: bool,
) -> Result<ClaimedIndex, Error> {
    let mut replaces = None;
    let mut replaced = None;
    if let Some(bytes) = store.get_manifest(&Target::Tag(version.to_owned())).await? {
        let existing = OciDigest::of(&bytes);
        match artifact::parse(&bytes, existing) {
            Ok(Fetched::Index(index))
                if index.artifact_type.as_deref() == Some(artifact::RELEASE_ARTIFACT_TYPE)
                    && index.annotations.get(artifact::GUEST).map(String::as_str)
                        == Some(guest) =>
            {
                for d in index.manifests {
                    let zkvm = d.annotations.get(artifact::ZKVM);
                    if !descriptors
                        .iter()
                        .any(|n| n.annotations.get(artifact::ZKVM) == zkvm)
                    {
                        descriptors.push(d);
                    }
                }
                replaces = index.annotations.get(artifact::REPLACES).cloned();
            }
            _ if !replace => {
                let (_, new) = artifact::release_index(guest, version, created, &descriptors, None);
                return Err(Error::TagTaken {
                    store: store.id().clone(),
                    tag: version.to_owned(),
                    existing,
                    new: new.digest,
                });
            }
            _ => {
                replaces = Some(existing.to_string());
                replaced = Some(existing);
            }
        }
    }
    let (bytes, descriptor) =
        artifact::release_index(guest, version, created, &descriptors, replaces.as_deref());
    Ok(ClaimedIndex {
        bytes,
        descriptor,
        replaced,
    })
}

/// Makes sure `tag` may name `spec`'s manifest: free, or naming the same manifest already
/// (publishing again is idempotent), or, with `replace`, another one, which the new manifest
/// then records as [`artifact::REPLACES`] (returned). Anything else is [`Error::TagTaken`]:
/// a published version does not change.
pub(crate) async fn claim_tag(
    store: &dyn Store,
    spec: &mut ArtifactSpec,
    tag: &str,
    replace: bool,
) -> Result<Option<OciDigest>, Error> {
    let Some(bytes) = store.get_manifest(&Target::Tag(tag.to_owned())).await? else {
        return Ok(None);
    };
    let existing = OciDigest::of(&bytes);
    let new = spec.manifest().1.digest;
    if new == existing {
        return Ok(None);
    }
    // Published before with `--replace`: the same release again carries the same record.
    if let Ok(Fetched::Manifest(m)) = artifact::parse(&bytes, existing)
        && let Some(replaced) = m.annotations.get(artifact::REPLACES)
    {
        let mut again = spec.clone();
        again
            .annotations
            .insert(artifact::REPLACES.to_owned(), replaced.clone());
        if again.manifest().1.digest == existing {
            *spec = again;
            return Ok(None);
        }
    }
    if !replace {
        return Err(Error::TagTaken {
            store: store.id().clone(),
            tag: tag.to_owned(),
            existing,
            new,
        });
    }
    spec.annotations
        .insert(artifact::REPLACES.to_owned(), existing.to_string());
    Ok(Some(existing))
}
