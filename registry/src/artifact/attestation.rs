//! Attestation manifests and the referrers fallback index that lists them, and which of
//! those a pull reads.

use std::collections::BTreeMap;

use zkelf_trust::time::rfc3339;

use super::{
    ATTESTATION_ARTIFACT_TYPE, CREATED, Descriptor, INDEX_MEDIA_TYPE, Index, MANIFEST_MEDIA_TYPE,
    MAX_REFERRERS, MINISIG_MEDIA_TYPE, Manifest, to_bytes, with_media_type,
};

/// Why `not_read` attestations listed were not read, `out_of_time` of them because the
/// attestation phase's time ran out: `at most 256 are read[; N not in time]`.
pub fn why_not_read(not_read: usize, out_of_time: usize) -> String {
    match out_of_time {
        0 => format!("at most {MAX_REFERRERS} are read"),
        late if late == not_read => format!("{late} not in time"),
        late => format!("at most {MAX_REFERRERS} are read; {late} not in time"),
    }
}

/// An attestation manifest: one minisig layer about `subject` (an artifact manifest).
pub fn attestation(
    subject: &Descriptor,
    signature: &Descriptor,
    title: &str,
    created: u64,
) -> (Vec<u8>, Descriptor) {
    let mut annotations = BTreeMap::new();
    annotations.insert(CREATED.to_owned(), rfc3339(created));
    let subject = Descriptor::new(MANIFEST_MEDIA_TYPE, subject.digest, subject.size);
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(MANIFEST_MEDIA_TYPE.to_owned()),
        artifact_type: Some(ATTESTATION_ARTIFACT_TYPE.to_owned()),
        config: Descriptor::empty_config(),
        layers: vec![with_media_type(signature, MINISIG_MEDIA_TYPE).titled(title)],
        subject: Some(subject),
        annotations,
    };
    let bytes = to_bytes(&manifest);
    let mut descriptor = Descriptor::of(MANIFEST_MEDIA_TYPE, &bytes);
    descriptor.artifact_type = Some(ATTESTATION_ARTIFACT_TYPE.to_owned());
    descriptor.annotations = manifest.annotations.clone();
    (bytes, descriptor)
}

/// The attestations a referrers list names, each once (by digest, first entry kept), at most
/// [`MAX_REFERRERS`] of them; and how many distinct ones past the bound were left unread.
pub fn attestations_to_read(referrers: &[Descriptor]) -> (Vec<Descriptor>, usize) {
    let mut seen = std::collections::HashSet::new();
    let mut read = Vec::new();
    let mut not_read = 0;
    for d in referrers
        .iter()
        .filter(|d| d.artifact_type.as_deref() == Some(ATTESTATION_ARTIFACT_TYPE))
    {
        if !seen.insert(d.digest) {
            continue;
        }
        if read.len() < MAX_REFERRERS {
            read.push(d.clone());
        } else {
            not_read += 1;
        }
    }
    (read, not_read)
}

/// The referrers fallback index with `new` added to what `existing` lists (no duplicates,
/// sorted by digest so concurrent pushers converge on the same bytes).
pub fn referrers_index(existing: Option<&Index>, new: &Descriptor) -> Vec<u8> {
    let mut manifests: Vec<Descriptor> = existing.map(|i| i.manifests.clone()).unwrap_or_default();
    if !manifests.iter().any(|d| d.digest == new.digest) {
        manifests.push(new.clone());
    }
    manifests.sort_by_key(|d| d.digest);
    // An index a hostile or buggy pusher flooded with copies is written back with one of each.
    manifests.dedup_by(|a, b| a.digest == b.digest);
    to_bytes(&Index {
        schema_version: 2,
        media_type: Some(INDEX_MEDIA_TYPE.to_owned()),
        artifact_type: None,
        manifests,
        annotations: BTreeMap::new(),
    })
}
