//! Attaching attestations so that concurrent pushers do not lose each other's entries.
//!
//! `attach_once` writes the `sha256-<hex>` referrers fallback index and reads it
//! back. Registries without the referrers API (distribution 2.8) have no conditional write, so
//! a pusher whose read came before our write can still overwrite the index after our read-back.
//! [`attach`], the one entry point, closes most of that window: after the first success it waits a little
//! and checks again, re-merging its entry whenever another pusher's write dropped it.

use std::time::Duration;

use crate::artifact::{self, Descriptor};
use crate::digest::OciDigest;
use crate::error::Error;
use crate::reference::Target;
use bytes::Bytes;

use crate::store::{BlobSource, Store, StoreError};

/// How many times an attestation is re-checked after it was first found in the index.
const SETTLE_CHECKS: u32 = 3;

/// The descriptor of the artifact manifest `digest` (fetched to learn its size).
pub async fn subject_descriptor(
    store: &dyn Store,
    digest: &OciDigest,
) -> Result<Descriptor, Error> {
    let bytes = store
        .get_manifest(&Target::Digest(*digest))
        .await?
        .ok_or_else(|| StoreError::NotFound {
            store: store.id().clone(),
            what: format!("manifest `{digest}`"),
        })?;
    let descriptor = Descriptor::of(artifact::MANIFEST_MEDIA_TYPE, &bytes);
    if descriptor.digest != *digest {
        return Err(crate::VerificationError::DigestMismatch {
            what: format!("manifest `{digest}`"),
            expected: *digest,
            actual: descriptor.digest,
        }
        .into());
    }
    Ok(descriptor)
}

/// Attaches an attestation to `subject`: `attach_once`, then re-checks the fallback index a few times (with jitter) and
/// attaches again whenever a concurrent pusher's write replaced the entry.
pub async fn attach(
    store: &dyn Store,
    subject: &Descriptor,
    signature: &[u8],
    title: &str,
    created: u64,
) -> Result<Descriptor, Error> {
    let descriptor = attach_retrying(store, subject, signature, title, created).await?;
    let tag = artifact::referrers_tag(subject.digest);
    for check in 0..SETTLE_CHECKS {
        tokio::time::sleep(jitter(100 + 100 * u64::from(check))).await;
        // A read that fails while others write counts as "not listed": attaching again is
        // harmless (the merge has no duplicates).
        if !listed(store, &tag, &descriptor.digest)
            .await
            .unwrap_or(false)
        {
            attach_retrying(store, subject, signature, title, created).await?;
        }
    }
    Ok(descriptor)
}

/// `attach_once`, tried again on errors a concurrent writer can cause: distribution
/// answers 500 when a tag is read while another client rewrites it, and a pusher can lose
/// five read-merge-write rounds in a row.
async fn attach_retrying(
    store: &dyn Store,
    subject: &Descriptor,
    signature: &[u8],
    title: &str,
    created: u64,
) -> Result<Descriptor, Error> {
    const ATTEMPTS: u32 = 5;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match attach_once(store, subject, signature, title, created).await {
            Ok(descriptor) => return Ok(descriptor),
            Err(e) if attempt < ATTEMPTS && is_contention(&e) => {
                tokio::time::sleep(jitter(100 * u64::from(attempt))).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn is_contention(e: &Error) -> bool {
    match e {
        Error::Store(s) => s.is_transient(),
        Error::ReferrersConflict { .. } => true,
        _ => false,
    }
}

async fn listed(store: &dyn Store, tag: &str, digest: &OciDigest) -> Result<bool, Error> {
    Ok(read_index(store, tag)
        .await?
        .is_some_and(|index| index.manifests.iter().any(|d| d.digest == *digest)))
}

/// `base` milliseconds plus up to as much again, so that pushers started together drift apart.
fn jitter(base: u64) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or_default();
    let spread = (nanos ^ u64::from(std::process::id()).wrapping_mul(2_654_435_761)) % (base + 1);
    Duration::from_millis(base + spread)
}

/// One round of attaching a signature (an extra release signature or a rebuild attestation) to
/// the artifact manifest `subject` and listing it in the `sha256-<hex>` referrers fallback index.
/// Callers use [`attach`], which adds the retries and re-checks concurrent
/// pushers need.
///
/// oci-client reads that index but does not write it, and registries without the referrers API
/// (distribution 2.8) need it, so it is maintained here: read, merge, write, read back, and
/// start over if a concurrent pusher's write replaced ours.
async fn attach_once(
    store: &dyn Store,
    subject: &Descriptor,
    signature: &[u8],
    title: &str,
    created: u64,
) -> Result<Descriptor, Error> {
    let sig = Descriptor::of(artifact::MINISIG_MEDIA_TYPE, signature);
    if !store.has_blob(&sig).await? {
        store
            .put_blob(&sig, BlobSource::Bytes(Bytes::from(signature.to_vec())))
            .await?;
    }
    let config = Descriptor::empty_config();
    if !store.has_blob(&config).await? {
        store
            .put_blob(
                &config,
                BlobSource::Bytes(Bytes::from_static(artifact::EMPTY_CONFIG)),
            )
            .await?;
    }
    let (bytes, descriptor) = artifact::attestation(subject, &sig, title, created);
    store
        .put_manifest(&bytes, artifact::MANIFEST_MEDIA_TYPE, None)
        .await?;
    let tag = artifact::referrers_tag(subject.digest);
    const ATTEMPTS: u32 = 5;
    for attempt in 0..ATTEMPTS {
        let existing = read_index(store, &tag).await?;
        let merged = artifact::referrers_index(existing.as_ref(), &descriptor);
        store
            .put_manifest(&merged, artifact::INDEX_MEDIA_TYPE, Some(&tag))
            .await?;
        let after = read_index(store, &tag).await?;
        if after.is_some_and(|i| i.manifests.iter().any(|d| d.digest == descriptor.digest)) {
            return Ok(descriptor);
        }
        tokio::time::sleep(std::time::Duration::from_millis(
            50 * u64::from(attempt + 1),
        ))
        .await;
    }
    Err(Error::ReferrersConflict {
        tag,
        attempts: ATTEMPTS,
    })
}

/// The referrers fallback index under `tag`, if there is one: the one reader of it here.
async fn read_index(store: &dyn Store, tag: &str) -> Result<Option<artifact::Index>, Error> {
    Ok(crate::store::fallback_index(store, tag).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::Reference;
    use crate::store::{self, NetworkOptions};

    #[tokio::test]
    async fn an_entry_a_concurrent_writer_dropped_is_merged_back() {
        let dir = tempfile::tempdir().unwrap();
        let reference: Reference = format!("oci-layout:{}:fib", dir.path().display())
            .parse()
            .unwrap();
        let store = store::open(&reference, &NetworkOptions::default()).unwrap();
        let subject = Descriptor::of(artifact::MANIFEST_MEDIA_TYPE, b"{\"subject\":1}");
        let tag = artifact::referrers_tag(subject.digest);
        let other = Descriptor::of(artifact::MANIFEST_MEDIA_TYPE, b"{\"other\":1}");
        // A pusher that read the index before our write rewrites it, without our entry, after
        // our read-back.
        let clobber = async {
            tokio::time::sleep(Duration::from_millis(60)).await;
            let index = artifact::referrers_index(None, &other);
            store
                .put_manifest(&index, artifact::INDEX_MEDIA_TYPE, Some(&tag))
                .await
                .unwrap();
        };
        let (attached, ()) = tokio::join!(
            attach(store.as_ref(), &subject, b"signature", "sig", 1_700_000_000),
            clobber
        );
        let attached = attached.unwrap();
        assert!(
            listed(store.as_ref(), &tag, &attached.digest)
                .await
                .unwrap()
        );
        assert!(listed(store.as_ref(), &tag, &other.digest).await.unwrap());
    }
}
