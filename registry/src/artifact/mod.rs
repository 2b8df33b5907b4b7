//! The OCI artifact of SPEC §5, in one place: media types, annotations, and the manifests,
//! release index, attestation manifests and referrers fallback index zkelf writes and reads.
//!
//! Manifests are serialized from structs with a fixed field order and sorted annotation maps,
//! so the same inputs always give the same bytes and so the same digest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zkelf_trust::diagnose::Diagnose;
use zkelf_trust::digest::Sha256Digest;
use zkelf_trust::time::rfc3339;

use crate::digest::OciDigest;

mod attestation;
mod tag;

pub use attestation::{attestation, attestations_to_read, referrers_index, why_not_read};
pub use tag::{UntaggableVersion, artifact_tag, check_taggable, referrers_tag};

/// `mediaType` of an OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// `mediaType` of an OCI image index.
pub const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// `mediaType` of the empty config blob.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The empty config blob itself.
pub const EMPTY_CONFIG: &[u8] = b"{}";
/// `artifactType` of one guest artifact (one guest, version and zkVM).
pub const GUEST_ARTIFACT_TYPE: &str = "application/vnd.zkelf.guest.v1";
/// `artifactType` of the release index over a version's artifacts.
pub const RELEASE_ARTIFACT_TYPE: &str = "application/vnd.zkelf.release.v1";
/// `artifactType` of an attestation (rebuild or extra release signature).
pub const ATTESTATION_ARTIFACT_TYPE: &str = "application/vnd.zkelf.attestation.v1";
/// Layer media type of the ELF.
pub const ELF_MEDIA_TYPE: &str = "application/vnd.zkelf.elf.v1";
/// Layer media type of a minisign signature.
pub const MINISIG_MEDIA_TYPE: &str = "application/vnd.zkelf.minisig.v1";
/// Layer media type of the provenance.
pub const PROVENANCE_MEDIA_TYPE: &str = "application/vnd.in-toto+json";
/// Layer media type of a verification key.
pub const VK_MEDIA_TYPE: &str = "application/vnd.zkelf.vk.v1";
/// Layer media type of a minisign signature over the verification key itself, as releases
/// whose ELF signature binds no statement publish it (`<name>.vk.minisig`).
pub const VK_MINISIG_MEDIA_TYPE: &str = "application/vnd.zkelf.vk.minisig.v1";

/// Annotation naming a layer's file.
pub const TITLE: &str = "org.opencontainers.image.title";
/// Annotation: the release version.
pub const VERSION: &str = "org.opencontainers.image.version";
/// Annotation: the source revision (git commit).
pub const REVISION: &str = "org.opencontainers.image.revision";
/// Annotation: the source repository.
pub const SOURCE: &str = "org.opencontainers.image.source";
/// Annotation: creation time (RFC 3339, from `SOURCE_DATE_EPOCH`).
pub const CREATED: &str = "org.opencontainers.image.created";
/// Annotation: the tag an OCI layout's `index.json` entry answers to.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Annotation: guest name.
pub const GUEST: &str = "dev.zkelf.guest";
/// Annotation: zkVM id.
pub const ZKVM: &str = "dev.zkelf.zkvm";
/// Annotation: target triple.
pub const TARGET: &str = "dev.zkelf.target";
/// Annotation: sha256 of the ELF.
pub const ELF_SHA256: &str = "dev.zkelf.elf.sha256";
/// Annotation: the URL an artifact was imported from (`zkelf import`), signature kept as it was.
pub const IMPORT_SOURCE: &str = "dev.zkelf.import.source";
/// Annotation of a manifest published with `--replace` over another under its tag: the
/// digest of the manifest the tag named before.
pub const REPLACES: &str = "dev.zkelf.replaces";

/// Largest manifest or index read (SPEC §7).
pub const MAX_MANIFEST_SIZE: u64 = 4 << 20;
/// Largest signature read.
pub const MAX_SIGNATURE_SIZE: u64 = 16 << 10;
/// Largest provenance read.
pub const MAX_PROVENANCE_SIZE: u64 = 1 << 20;
/// Largest verification key read.
pub const MAX_VK_SIZE: u64 = 64 << 20;
/// Most distinct attestations read for one artifact; a referrers list may name any number,
/// and the rest are reported as not read.
pub const MAX_REFERRERS: usize = 256;

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the content.
    pub media_type: String,
    /// `sha256:<hex>` of the content.
    pub digest: OciDigest,
    /// Size in bytes.
    pub size: u64,
    /// The artifact type of a referenced manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Annotations, sorted by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// A descriptor of `bytes`.
    pub fn of(media_type: &str, bytes: &[u8]) -> Self {
        Self::new(media_type, OciDigest::of(bytes), bytes.len() as u64)
    }

    /// A descriptor with no annotations.
    pub fn new(media_type: &str, digest: OciDigest, size: u64) -> Self {
        Self {
            media_type: media_type.to_owned(),
            digest,
            size,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }
    }

    /// The empty config descriptor.
    pub fn empty_config() -> Self {
        Self::of(EMPTY_MEDIA_TYPE, EMPTY_CONFIG)
    }

    /// The lowercase hex of the digest (after `sha256:`).
    pub fn hex(&self) -> String {
        self.digest.sha256().to_string()
    }

    /// Whether content with `digests` is what this descriptor names (digest and size).
    pub fn describes(&self, digests: &zkelf_trust::digest::ContentDigests) -> bool {
        self.names(&digests.sha256) && self.size == digests.size
    }

    /// Whether the digest is the SHA-256 `sha256` (size aside).
    pub fn names(&self, sha256: &Sha256Digest) -> bool {
        OciDigest::from(*sha256) == self.digest
    }

    /// The `org.opencontainers.image.title` annotation.
    pub fn title(&self) -> Option<&str> {
        self.annotations.get(TITLE).map(String::as_str)
    }

    fn titled(mut self, title: &str) -> Self {
        self.annotations.insert(TITLE.to_owned(), title.to_owned());
        self
    }
}

/// An OCI image manifest (image-spec 1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// Always [`MANIFEST_MEDIA_TYPE`] when zkelf writes it.
    #[serde(default)]
    pub media_type: Option<String>,
    /// What kind of artifact this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config descriptor (empty for zkelf artifacts).
    pub config: Descriptor,
    /// The layers.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one is about (attestations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations, sorted by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An OCI image index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Always 2.
    pub schema_version: u32,
    /// Always [`INDEX_MEDIA_TYPE`] when zkelf writes it.
    #[serde(default)]
    pub media_type: Option<String>,
    /// What kind of index this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifests listed.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// Annotations, sorted by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A manifest or index as read from a store.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one short-lived value per fetched manifest
pub enum Fetched {
    /// An image manifest.
    Manifest(Manifest),
    /// An image index.
    Index(Index),
}

/// A manifest or index that is not what zkelf wrote.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// Not JSON of the expected shape.
    #[error("manifest `{digest}` does not parse")]
    Parse {
        /// The manifest digest.
        digest: OciDigest,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// Not a zkelf artifact.
    #[error("manifest `{digest}` is not a zkelf guest artifact (artifactType `{artifact_type}`)")]
    NotAnArtifact {
        /// The manifest digest.
        digest: OciDigest,
        /// What it says it is.
        artifact_type: String,
    },
    /// A required layer is missing or repeated.
    #[error("manifest `{digest}` must have exactly one `{media_type}` layer, it has {count}")]
    Layers {
        /// The manifest digest.
        digest: OciDigest,
        /// The layer media type.
        media_type: &'static str,
        /// How many there are.
        count: usize,
    },
    /// An index names no artifact for the zkVM asked for.
    #[error("release index `{digest}` has no artifact for zkVM `{zkvm}` (it has: {available})")]
    NoSuchZkvm {
        /// The index digest.
        digest: OciDigest,
        /// The zkVM asked for.
        zkvm: String,
        /// The zkVMs it has.
        available: String,
    },
    /// An index with several artifacts and no zkVM chosen.
    #[error("release index `{digest}` has artifacts for several zkVMs ({available})")]
    AmbiguousIndex {
        /// The index digest.
        digest: OciDigest,
        /// The zkVMs it has.
        available: String,
    },
}

impl Diagnose for LayoutError {
    fn hint(&self) -> Option<String> {
        match self {
            LayoutError::AmbiguousIndex { .. } | LayoutError::NoSuchZkvm { .. } => {
                Some("choose one with `--zkvm <id>`".to_owned())
            }
            _ => None,
        }
    }
}

/// Parses a manifest or an index by its `mediaType`.
pub fn parse(bytes: &[u8], digest: OciDigest) -> Result<Fetched, LayoutError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        #[serde(default)]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
    }
    let parse_err = |source| LayoutError::Parse { digest, source };
    let probe: Probe = serde_json::from_slice(bytes).map_err(parse_err)?;
    let is_index = probe.media_type.as_deref() == Some(INDEX_MEDIA_TYPE)
        || (probe.media_type.is_none() && probe.manifests.is_some());
    let fetched = if is_index {
        Fetched::Index(serde_json::from_slice(bytes).map_err(parse_err)?)
    } else {
        Fetched::Manifest(serde_json::from_slice(bytes).map_err(parse_err)?)
    };
    // Every descriptor digest is `sha256:<64 hex digits>`: `OciDigest` parses no other.
    Ok(fetched)
}

/// What goes into one artifact manifest.
#[derive(Debug, Clone)]
pub struct ArtifactSpec {
    /// Guest name.
    pub guest: String,
    /// Release version.
    pub version: String,
    /// zkVM id.
    pub zkvm: String,
    /// Target triple.
    pub target: String,
    /// Source revision, when known.
    pub revision: Option<String>,
    /// Source repository URL, when known.
    pub source: Option<String>,
    /// Creation time, unix seconds (`SOURCE_DATE_EPOCH`).
    pub created: u64,
    /// The ELF blob.
    pub elf: Descriptor,
    /// The release signature blob.
    pub signature: Descriptor,
    /// The provenance blob, when there is one.
    pub provenance: Option<Descriptor>,
    /// The verification key blob, when there is one.
    pub vk: Option<Descriptor>,
    /// The VK's own signature, when the release signs it apart from the ELF.
    pub vk_signature: Option<Descriptor>,
    /// Annotations besides those of SPEC §5 (e.g. [`IMPORT_SOURCE`]); they cannot replace those.
    pub annotations: BTreeMap<String, String>,
}

impl ArtifactSpec {
    /// The tag of this one artifact: `<version>-<zkvm>`.
    pub fn tag(&self) -> String {
        artifact_tag(&self.version, &self.zkvm)
    }

    /// The manifest, deterministically serialized, and its descriptor (carrying `dev.zkelf.zkvm`
    /// and the artifact type, as the release index lists it).
    pub fn manifest(&self) -> (Vec<u8>, Descriptor) {
        let layers = layers(
            &format!("{}-{}", self.guest, self.zkvm),
            &self.elf,
            &self.signature,
            self.provenance.as_ref(),
            self.vk.as_ref(),
            self.vk_signature.as_ref(),
        );
        let mut annotations = self.annotations.clone();
        annotations.insert(VERSION.to_owned(), self.version.clone());
        if let Some(r) = &self.revision {
            annotations.insert(REVISION.to_owned(), r.clone());
        }
        if let Some(s) = &self.source {
            annotations.insert(SOURCE.to_owned(), s.clone());
        }
        annotations.insert(CREATED.to_owned(), rfc3339(self.created));
        annotations.insert(GUEST.to_owned(), self.guest.clone());
        annotations.insert(ZKVM.to_owned(), self.zkvm.clone());
        annotations.insert(TARGET.to_owned(), self.target.clone());
        annotations.insert(ELF_SHA256.to_owned(), self.elf.hex().to_owned());
        let (bytes, mut descriptor) = guest_manifest(layers, annotations);
        descriptor
            .annotations
            .insert(ZKVM.to_owned(), self.zkvm.clone());
        (bytes, descriptor)
    }
}

/// The manifest of a release whose signature binds no statement, as the https source sees it
/// before anything names its guest, version or zkVM: layers titled with the upstream file
/// names (`<stem>.elf`, `<stem>.elf.minisig`, `<stem>.vk`, `<stem>.vk.minisig`), annotated with
/// where it came from and the ELF digest the caller pinned. It is never stored: `zkelf import`
/// names the release and writes an [`ArtifactSpec`] manifest instead.
pub fn unbound_manifest(
    stem: &str,
    source: &str,
    elf: &Descriptor,
    signature: &Descriptor,
    provenance: Option<&Descriptor>,
    vk: Option<&Descriptor>,
    vk_signature: Option<&Descriptor>,
) -> Vec<u8> {
    let layers = layers(stem, elf, signature, provenance, vk, vk_signature);
    let mut annotations = BTreeMap::new();
    annotations.insert(SOURCE.to_owned(), source.to_owned());
    annotations.insert(ELF_SHA256.to_owned(), elf.hex().to_owned());
    guest_manifest(layers, annotations).0
}

fn layers(
    stem: &str,
    elf: &Descriptor,
    signature: &Descriptor,
    provenance: Option<&Descriptor>,
    vk: Option<&Descriptor>,
    vk_signature: Option<&Descriptor>,
) -> Vec<Descriptor> {
    let mut layers = vec![
        with_media_type(elf, ELF_MEDIA_TYPE).titled(&format!("{stem}.elf")),
        with_media_type(signature, MINISIG_MEDIA_TYPE).titled(&format!("{stem}.elf.minisig")),
    ];
    if let Some(p) = provenance {
        layers.push(
            with_media_type(p, PROVENANCE_MEDIA_TYPE).titled(&format!("{stem}.provenance.json")),
        );
    }
    if let Some(vk) = vk {
        layers.push(with_media_type(vk, VK_MEDIA_TYPE).titled(&format!("{stem}.vk")));
    }
    if let Some(sig) = vk_signature {
        layers.push(
            with_media_type(sig, VK_MINISIG_MEDIA_TYPE).titled(&format!("{stem}.vk.minisig")),
        );
    }
    layers
}

fn guest_manifest(
    layers: Vec<Descriptor>,
    annotations: BTreeMap<String, String>,
) -> (Vec<u8>, Descriptor) {
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(MANIFEST_MEDIA_TYPE.to_owned()),
        artifact_type: Some(GUEST_ARTIFACT_TYPE.to_owned()),
        config: Descriptor::empty_config(),
        layers,
        subject: None,
        annotations,
    };
    let bytes = to_bytes(&manifest);
    let mut descriptor = Descriptor::of(MANIFEST_MEDIA_TYPE, &bytes);
    descriptor.artifact_type = Some(GUEST_ARTIFACT_TYPE.to_owned());
    (bytes, descriptor)
}

fn with_media_type(d: &Descriptor, media_type: &str) -> Descriptor {
    Descriptor::new(media_type, d.digest, d.size)
}

/// The release index over a version's artifacts (descriptors as [`ArtifactSpec::manifest`]
/// returns them), sorted by zkVM so the bytes do not depend on the order given; `replaces`
/// names what the `<version>` tag named before `--replace` moved it ([`REPLACES`]).
pub fn release_index(
    guest: &str,
    version: &str,
    created: u64,
    artifacts: &[Descriptor],
    replaces: Option<&str>,
) -> (Vec<u8>, Descriptor) {
    let mut manifests = artifacts.to_vec();
    manifests.sort_by(|a, b| a.annotations.get(ZKVM).cmp(&b.annotations.get(ZKVM)));
    manifests.dedup_by(|a, b| a.annotations.get(ZKVM) == b.annotations.get(ZKVM));
    let mut annotations = BTreeMap::new();
    annotations.insert(VERSION.to_owned(), version.to_owned());
    annotations.insert(CREATED.to_owned(), rfc3339(created));
    annotations.insert(GUEST.to_owned(), guest.to_owned());
    if let Some(replaced) = replaces {
        annotations.insert(REPLACES.to_owned(), replaced.to_owned());
    }
    let index = Index {
        schema_version: 2,
        media_type: Some(INDEX_MEDIA_TYPE.to_owned()),
        artifact_type: Some(RELEASE_ARTIFACT_TYPE.to_owned()),
        manifests,
        annotations,
    };
    let bytes = to_bytes(&index);
    let mut descriptor = Descriptor::of(INDEX_MEDIA_TYPE, &bytes);
    descriptor.artifact_type = Some(RELEASE_ARTIFACT_TYPE.to_owned());
    (bytes, descriptor)
}

/// The layers of a guest artifact manifest, checked against SPEC §5.
#[derive(Debug, Clone)]
pub struct ArtifactLayers {
    /// The ELF.
    pub elf: Descriptor,
    /// The release signature.
    pub signature: Descriptor,
    /// The provenance, if any.
    pub provenance: Option<Descriptor>,
    /// The verification key, if any.
    pub vk: Option<Descriptor>,
    /// The VK's own signature, if any.
    pub vk_signature: Option<Descriptor>,
}

/// Checks that `manifest` is a guest artifact and picks out its layers.
pub fn artifact_layers(
    manifest: &Manifest,
    digest: OciDigest,
) -> Result<ArtifactLayers, LayoutError> {
    let artifact_type = manifest
        .artifact_type
        .as_deref()
        .unwrap_or(&manifest.config.media_type);
    if artifact_type != GUEST_ARTIFACT_TYPE {
        return Err(LayoutError::NotAnArtifact {
            digest,
            artifact_type: artifact_type.to_owned(),
        });
    }
    let pick =
        |media_type: &'static str, required: bool| -> Result<Option<Descriptor>, LayoutError> {
            let found: Vec<&Descriptor> = manifest
                .layers
                .iter()
                .filter(|l| l.media_type == media_type)
                .collect();
            match (found.len(), required) {
                (1, _) => Ok(Some(found[0].clone())),
                (0, false) => Ok(None),
                (count, _) => Err(LayoutError::Layers {
                    digest,
                    media_type,
                    count,
                }),
            }
        };
    Ok(ArtifactLayers {
        elf: pick(ELF_MEDIA_TYPE, true)?.unwrap_or_else(unreachable_descriptor),
        signature: pick(MINISIG_MEDIA_TYPE, true)?.unwrap_or_else(unreachable_descriptor),
        provenance: pick(PROVENANCE_MEDIA_TYPE, false)?,
        vk: pick(VK_MEDIA_TYPE, false)?,
        vk_signature: pick(VK_MINISIG_MEDIA_TYPE, false)?,
    })
}

fn unreachable_descriptor() -> Descriptor {
    // `pick(_, true)` never returns `Ok(None)`.
    Descriptor::empty_config()
}

/// Picks the artifact for `zkvm` (or the only one) from a release index.
pub fn select_from_index(
    index: &Index,
    digest: OciDigest,
    zkvm: Option<&str>,
) -> Result<Descriptor, LayoutError> {
    let candidates: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| {
            d.media_type == MANIFEST_MEDIA_TYPE
                && d.artifact_type.as_deref() != Some(ATTESTATION_ARTIFACT_TYPE)
        })
        .collect();
    let available = candidates
        .iter()
        .map(|d| format!("`{}`", d.annotations.get(ZKVM).map_or("?", String::as_str)))
        .collect::<Vec<_>>()
        .join(", ");
    match zkvm {
        Some(z) => candidates
            .into_iter()
            .find(|d| d.annotations.get(ZKVM).map(String::as_str) == Some(z))
            .cloned()
            .ok_or(LayoutError::NoSuchZkvm {
                digest,
                zkvm: z.to_owned(),
                available,
            }),
        None if candidates.len() == 1 => Ok(candidates[0].clone()),
        None => Err(LayoutError::AmbiguousIndex { digest, available }),
    }
}

/// Compact JSON of a zkelf manifest or index; struct field order and `BTreeMap`s make it deterministic.
pub fn to_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ArtifactSpec {
        ArtifactSpec {
            guest: "fib".into(),
            version: "1.0.0".into(),
            zkvm: "sp1".into(),
            target: "riscv32im-unknown-none-elf".into(),
            revision: Some("abc".into()),
            source: None,
            created: 1_700_000_000,
            elf: Descriptor::of("application/octet-stream", b"elf"),
            signature: Descriptor::of("application/octet-stream", b"sig"),
            provenance: Some(Descriptor::of("x", b"{}")),
            vk: None,
            vk_signature: None,
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn manifest_is_deterministic_and_round_trips() {
        let (a, da) = spec().manifest();
        let (b, db) = spec().manifest();
        assert_eq!(a, b);
        assert_eq!(da, db);
        let Fetched::Manifest(m) = parse(&a, da.digest).unwrap() else {
            panic!("not a manifest")
        };
        assert_eq!(to_bytes(&m), a);
        assert_eq!(m.media_type.as_deref(), Some(MANIFEST_MEDIA_TYPE));
        assert_eq!(m.config.size, 2);
        let layers = artifact_layers(&m, da.digest).unwrap();
        assert_eq!(layers.elf.title(), Some("fib-sp1.elf"));
        assert_eq!(layers.signature.title(), Some("fib-sp1.elf.minisig"));
        assert!(layers.vk.is_none());
        assert_eq!(m.annotations[CREATED], "2023-11-14T22:13:20Z");
    }

    #[test]
    fn index_selects_by_zkvm_and_ignores_order() {
        let mut other = spec();
        other.zkvm = "risc0".into();
        let (_, d1) = spec().manifest();
        let (_, d2) = other.manifest();
        let (a, da) = release_index("fib", "1.0.0", 0, &[d1.clone(), d2.clone()], None);
        let (b, _) = release_index("fib", "1.0.0", 0, &[d2.clone(), d1.clone()], None);
        assert_eq!(a, b);
        let Fetched::Index(index) = parse(&a, da.digest).unwrap() else {
            panic!("not an index")
        };
        assert_eq!(
            select_from_index(&index, OciDigest::of(b"index"), Some("sp1")).unwrap(),
            d1
        );
        assert!(matches!(
            select_from_index(&index, OciDigest::of(b"index"), None),
            Err(LayoutError::AmbiguousIndex { .. })
        ));
        assert!(matches!(
            select_from_index(&index, OciDigest::of(b"index"), Some("jolt")),
            Err(LayoutError::NoSuchZkvm { .. })
        ));
    }

    #[test]
    fn rejects_near_misses() {
        let (bytes, d) = spec().manifest();
        let mut m: Manifest = serde_json::from_slice(&bytes).unwrap();
        m.artifact_type = Some("application/vnd.other".into());
        assert!(matches!(
            artifact_layers(&m, d.digest),
            Err(LayoutError::NotAnArtifact { .. })
        ));
        let mut m: Manifest = serde_json::from_slice(&bytes).unwrap();
        m.layers.push(m.layers[0].clone());
        assert!(matches!(
            artifact_layers(&m, d.digest),
            Err(LayoutError::Layers { count: 2, .. })
        ));
        let bad = String::from_utf8(bytes)
            .unwrap()
            .replacen("sha256:", "sha512:", 1);
        assert!(parse(bad.as_bytes(), OciDigest::of(bad.as_bytes())).is_err());
    }

    #[test]
    fn attestations_are_read_once_each_and_at_most_the_bound() {
        let att = |n: usize| {
            let mut d = Descriptor::of(MANIFEST_MEDIA_TYPE, format!("attestation {n}").as_bytes());
            d.artifact_type = Some(ATTESTATION_ARTIFACT_TYPE.to_owned());
            d
        };
        let other = Descriptor::of(MANIFEST_MEDIA_TYPE, b"not an attestation");
        let flood: Vec<Descriptor> = std::iter::repeat_n(att(0), 20_000)
            .chain([other.clone(), att(1)])
            .collect();
        let (read, not_read) = attestations_to_read(&flood);
        assert_eq!(read, vec![att(0), att(1)]);
        assert_eq!(not_read, 0);

        let many: Vec<Descriptor> = (0..MAX_REFERRERS + 44)
            .flat_map(|n| [att(n), att(n)])
            .collect();
        let (read, not_read) = attestations_to_read(&many);
        assert_eq!(read.len(), MAX_REFERRERS);
        assert_eq!(read.last(), Some(&att(MAX_REFERRERS - 1)));
        assert_eq!(not_read, 44);
    }

    #[test]
    fn referrers_index_merges_without_duplicates() {
        let (_, subject) = spec().manifest();
        let (_, att) = attestation(
            &subject,
            &Descriptor::of(MINISIG_MEDIA_TYPE, b"s"),
            "a.minisig",
            0,
        );
        let first = referrers_index(None, &att);
        let Fetched::Index(i) = parse(&first, OciDigest::of(&first)).unwrap() else {
            panic!()
        };
        assert_eq!(referrers_index(Some(&i), &att), first);
        let flooded = Index {
            manifests: vec![att.clone(); 1000],
            ..i
        };
        assert_eq!(referrers_index(Some(&flooded), &att), first);
        let subject = OciDigest::of(b"subject");
        assert_eq!(
            referrers_tag(subject),
            format!("sha256-{}", subject.sha256())
        );
    }
}
