//! Resolving a reference to one artifact and fetching its small parts (manifest, release
//! signature, provenance, VK and its signature, attestations), each bounded and digest-checked,
//! before the ELF moves.

use std::sync::Arc;

use futures_util::StreamExt as _;

use serde::Serialize;
use zkelf_trust::digest::Sha256Digest;
use zkelf_trust::statement::Statement;
use zkelf_trust::verify::Labels;

use crate::artifact::{self, ArtifactLayers, Descriptor, Fetched, Manifest};
use crate::digest::OciDigest;
use crate::error::{Error, VerificationError};
use crate::fetch::{self, RetryPolicy};
use crate::progress::Reporter;
use crate::reference::{Reference, Target};
use crate::signature::{FetchedSignature, SignatureProblem};
use crate::store::{ManifestHints, ProtocolViolation, Store, StoreError, TAGS_LISTED};

/// An attestation that could not be read (it does not count, and says why).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BrokenAttestation {
    /// The attestation manifest.
    pub manifest: OciDigest,
    /// Why it could not be used (shared: a resolved artifact is cloned), serialized as `reason`,
    /// the message with its causes on one line.
    #[serde(rename = "reason", serialize_with = "serialize_chain")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub error: Arc<Error>,
}

impl BrokenAttestation {
    /// Why it could not be used: the message with its causes, on one line.
    pub fn reason(&self) -> String {
        error_chain(&*self.error)
    }
}

fn serialize_chain<S: serde::Serializer>(error: &Arc<Error>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&error_chain(&**error))
}

/// An artifact resolved and its small parts fetched and digest-checked; the ELF not yet.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The reference as given.
    pub reference: Reference,
    /// The release index it went through, if any.
    pub index_digest: Option<OciDigest>,
    /// The artifact manifest's digest.
    pub manifest_digest: OciDigest,
    /// The artifact manifest.
    pub manifest: Manifest,
    /// Its layers.
    pub layers: ArtifactLayers,
    /// The release signature and the attestations' signatures, release first.
    pub signatures: Vec<FetchedSignature>,
    /// Attestations that could not be fetched.
    pub broken_attestations: Vec<BrokenAttestation>,
    /// Distinct attestations listed but not read (they do not count): past
    /// [`artifact::MAX_REFERRERS`], or not read within the attestation phase's time.
    pub attestations_not_read: usize,
    /// Of those, the ones not read within the attestation phase's time
    /// ([`RetryPolicy::attestation_budget`]).
    pub attestations_out_of_time: usize,
    /// What the release signature claims (not verified yet); `None` when its trusted comment
    /// is not a zkelf statement (an unbound signature).
    pub claimed: Option<Statement>,
    /// The provenance document, if any.
    pub provenance: Option<Vec<u8>>,
    /// The verification key, if any.
    pub vk: Option<Vec<u8>>,
    /// The VK's own signature (`.minisig` text), if any.
    pub vk_signature: Option<String>,
}

impl Resolved {
    /// The SHA-256 of the provenance and VK, as the statement binds them.
    pub(super) fn extras(&self) -> (Option<Sha256Digest>, Option<Sha256Digest>) {
        (
            self.provenance.as_deref().map(Sha256Digest::of),
            self.vk.as_deref().map(Sha256Digest::of),
        )
    }

    /// Guest, version and zkVM the artifact is about: the claimed statement's, or for an
    /// unbound release signature the manifest's annotations (unsigned, set by `zkelf import`),
    /// which attestations must then agree with.
    pub fn release_labels(&self) -> Labels {
        match &self.claimed {
            Some(c) => Labels::of(c),
            None => {
                let a = &self.manifest.annotations;
                Labels {
                    guest: a.get(artifact::GUEST).cloned(),
                    version: a.get(artifact::VERSION).and_then(|v| v.parse().ok()),
                    zkvm: a.get(artifact::ZKVM).cloned(),
                }
            }
        }
    }
}

/// Why `reference` names nothing: its layout directory does not exist, or it gave no tag and
/// there is no `latest` (with the tags there are), or its tag or digest is not there.
async fn not_found(store: &dyn Store, reference: &Reference) -> StoreError {
    if let Reference::Layout { dir, .. } = reference
        && std::fs::symlink_metadata(dir).is_err()
    {
        return StoreError::NoLayoutDirectory { dir: dir.clone() };
    }
    if reference.target().is_none() {
        return StoreError::NoLatest {
            store: store.id().clone(),
            // Listing is a courtesy: a store that cannot list still gets the error.
            tags: store.tags(TAGS_LISTED).await.unwrap_or_default(),
        };
    }
    StoreError::NotFound {
        store: store.id().clone(),
        what: format!("`{reference}`"),
    }
}

async fn get_manifest_checked(
    store: &dyn Store,
    target: &Target,
    hints: ManifestHints,
    what: &str,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<(Vec<u8>, OciDigest), Error> {
    let bytes = fetch::with_retries(retry, reporter, what, || {
        store.get_manifest_pinned(target, hints)
    })
    .await?
    .ok_or_else(|| StoreError::NotFound {
        store: store.id().clone(),
        what: what.to_owned(),
    })?;
    if bytes.len() as u64 > artifact::MAX_MANIFEST_SIZE {
        return Err(VerificationError::TooLarge {
            what: what.to_owned(),
            limit: artifact::MAX_MANIFEST_SIZE,
        }
        .into());
    }
    let digest = OciDigest::of(&bytes);
    if let Target::Digest(expected) = target
        && digest != *expected
    {
        return Err(VerificationError::DigestMismatch {
            what: what.to_owned(),
            expected: *expected,
            actual: digest,
        }
        .into());
    }
    Ok((bytes.to_vec(), digest))
}

/// Resolves `reference` to one artifact and fetches its manifest, signature, provenance, VK and
/// attestations, each bounded and digest-checked. `hints` are what the caller pins and wants,
/// which a store without manifests (https) needs to describe an ELF signed without statement.
pub async fn resolve(
    store: &dyn Store,
    reference: &Reference,
    zkvm: Option<&str>,
    hints: ManifestHints,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<Resolved, Error> {
    let from = Fetcher {
        store,
        retry,
        reporter,
    };
    let (manifest, manifest_digest, index_digest) =
        from.artifact_manifest(reference, zkvm, hints).await?;
    let layers = artifact::artifact_layers(&manifest, manifest_digest).map_err(StoreError::from)?;
    let release = FetchedSignature::new(
        "release layer",
        from.text(
            &layers.signature,
            artifact::MAX_SIGNATURE_SIZE,
            "the release signature",
            "release layer",
        )
        .await?,
    );
    let claimed =
        release
            .claimed_statement()
            .map_err(|problem| VerificationError::BadSignature {
                origin: "release layer".to_owned(),
                problem,
            })?;
    let provenance = match &layers.provenance {
        Some(d) => Some(
            from.bytes(d, artifact::MAX_PROVENANCE_SIZE, "the provenance")
                .await?,
        ),
        None => None,
    };
    // A VK nothing binds is fetched only when the caller wants it (up to 64 MiB otherwise).
    let vk_wanted = hints.vk || claimed.as_ref().is_some_and(|c| c.vk.is_some());
    let vk = match &layers.vk {
        Some(d) if vk_wanted => Some(
            from.bytes(d, artifact::MAX_VK_SIZE, "the verification key")
                .await?,
        ),
        _ => None,
    };
    let vk_signature = match &layers.vk_signature {
        Some(d) if vk_wanted => Some(
            from.text(
                d,
                artifact::MAX_SIGNATURE_SIZE,
                "the verification key's signature",
                "VK signature layer",
            )
            .await?,
        ),
        _ => None,
    };
    let attestations = from.attestations(manifest_digest).await;
    let mut signatures = vec![release];
    signatures.extend(attestations.signatures);
    Ok(Resolved {
        reference: reference.clone(),
        index_digest,
        manifest_digest,
        manifest,
        layers,
        signatures,
        broken_attestations: attestations.broken,
        attestations_not_read: attestations.not_read,
        attestations_out_of_time: attestations.out_of_time,
        claimed,
        provenance,
        vk,
        vk_signature,
    })
}

/// Where the parts of one artifact come from, and how they are fetched.
struct Fetcher<'a> {
    store: &'a dyn Store,
    retry: RetryPolicy,
    reporter: &'a dyn Reporter,
}

/// The attestations listed for an artifact: those read, those that could not be, and how many
/// past the bound were left unread.
struct Attestations {
    signatures: Vec<FetchedSignature>,
    broken: Vec<BrokenAttestation>,
    /// Not read, for either reason (`out_of_time` included).
    not_read: usize,
    /// Not read before the attestation phase's time ran out.
    out_of_time: usize,
}

/// Attestations fetched at the same time.
const ATTESTATIONS_AT_ONCE: usize = 4;

impl Fetcher<'_> {
    /// The artifact manifest `reference` names, through its release index when it names one:
    /// the manifest, its digest, and the index's digest.
    async fn artifact_manifest(
        &self,
        reference: &Reference,
        zkvm: Option<&str>,
        hints: ManifestHints,
    ) -> Result<(Manifest, OciDigest, Option<OciDigest>), Error> {
        let (store, retry, reporter) = (self.store, self.retry, self.reporter);
        let target = reference
            .target()
            .cloned()
            .unwrap_or(Target::Tag("latest".to_owned()));
        let what = format!("`{reference}`");
        let (bytes, digest) =
            match get_manifest_checked(store, &target, hints, &what, retry, reporter).await {
                Err(Error::Store(StoreError::NotFound { .. })) => {
                    return Err(not_found(store, reference).await.into());
                }
                other => other?,
            };
        // An https download names its file; only an OCI store has tags to default.
        if reference.target().is_none() && !matches!(reference, Reference::Https { .. }) {
            reporter.notice("no tag given: using `latest`");
        }
        let index = match artifact::parse(&bytes, digest).map_err(StoreError::from)? {
            Fetched::Manifest(manifest) => return Ok((manifest, digest, None)),
            Fetched::Index(index) => index,
        };
        let chosen = artifact::select_from_index(&index, digest, zkvm).map_err(StoreError::from)?;
        let (m, d) = get_manifest_checked(
            store,
            &Target::Digest(chosen.digest),
            hints,
            &format!("manifest `{}`", chosen.digest),
            retry,
            reporter,
        )
        .await?;
        match artifact::parse(&m, d).map_err(StoreError::from)? {
            Fetched::Manifest(manifest) => Ok((manifest, d, Some(digest))),
            Fetched::Index(_) => Err(StoreError::Protocol {
                store: store.id().clone(),
                violation: ProtocolViolation::NestedIndex { index: d },
            }
            .into()),
        }
    }

    /// A small blob, at most `limit` bytes, digest-checked.
    async fn bytes(&self, d: &Descriptor, limit: u64, what: &str) -> Result<Vec<u8>, Error> {
        fetch::fetch_small(self.store, d, limit, what, self.retry, self.reporter).await
    }

    /// A small blob that must be UTF-8 text: a signature, from `origin`.
    async fn text(
        &self,
        d: &Descriptor,
        limit: u64,
        what: &str,
        origin: &str,
    ) -> Result<String, Error> {
        String::from_utf8(self.bytes(d, limit, what).await?).map_err(|_| {
            VerificationError::BadSignature {
                origin: origin.to_owned(),
                problem: SignatureProblem::NotUtf8,
            }
            .into()
        })
    }

    /// The attestations of `manifest_digest`, at most [`ATTESTATIONS_AT_ONCE`] at a time and all
    /// within `retry.attestation_budget`. A store that cannot list them, or an attestation that
    /// cannot be read, costs only the signatures it would have added; one not read in time is
    /// counted as not read.
    async fn attestations(&self, manifest_digest: OciDigest) -> Attestations {
        let mut attestations = Attestations {
            signatures: Vec::new(),
            broken: Vec::new(),
            not_read: 0,
            out_of_time: 0,
        };
        let budget = self.retry.attestation_budget;
        let deadline = tokio::time::Instant::now() + budget;
        let referrers =
            match tokio::time::timeout_at(deadline, self.store.referrers(manifest_digest)).await {
                Ok(Ok(referrers)) => referrers,
                Ok(Err(e)) => {
                    self.reporter
                        .note(&format!("cannot list attestations: {e}"));
                    return attestations;
                }
                Err(_) => {
                    self.reporter.note(&format!(
                        "cannot list attestations: no answer within {} s",
                        budget.as_secs()
                    ));
                    return attestations;
                }
            };
        // A store may list one attestation any number of times, or any number of them.
        let (to_read, not_read) = artifact::attestations_to_read(&referrers);
        attestations.not_read = not_read;
        if not_read > 0 {
            self.reporter.note(&format!(
                "{not_read} attestations of `{manifest_digest}` past the first {} were not read",
                artifact::MAX_REFERRERS
            ));
        }
        let fetched = futures_util::stream::iter(to_read.iter().enumerate())
            .map(|(i, d)| async move {
                // Once the time is up, the attestations still waiting are not even asked for.
                if tokio::time::Instant::now() >= deadline {
                    return (i, d, None);
                }
                let fetch =
                    fetch_attestation(self.store, d, &manifest_digest, self.retry, self.reporter);
                (i, d, tokio::time::timeout_at(deadline, fetch).await.ok())
            })
            .buffer_unordered(ATTESTATIONS_AT_ONCE);
        let mut fetched: Vec<_> = fetched.collect().await;
        // In the order listed, whatever order they arrived in.
        fetched.sort_by_key(|(i, _, _)| *i);
        for (_, d, result) in fetched {
            match result {
                Some(Ok(text)) => attestations.signatures.push(FetchedSignature::new(
                    format!("attestation {}", d.digest),
                    text,
                )),
                Some(Err(e)) => attestations.broken.push(BrokenAttestation {
                    manifest: d.digest,
                    error: Arc::new(e),
                }),
                None => attestations.out_of_time += 1,
            }
        }
        if attestations.out_of_time > 0 {
            self.reporter.note(&format!(
                "{} attestations of `{manifest_digest}` were not read within {} s",
                attestations.out_of_time,
                budget.as_secs()
            ));
        }
        attestations.not_read += attestations.out_of_time;
        attestations
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

async fn fetch_attestation(
    store: &dyn Store,
    descriptor: &Descriptor,
    subject: &OciDigest,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<String, Error> {
    let target = Target::Digest(descriptor.digest);
    let (bytes, digest) = get_manifest_checked(
        store,
        &target,
        ManifestHints::default(),
        &format!("attestation `{}`", descriptor.digest),
        retry,
        reporter,
    )
    .await?;
    let Fetched::Manifest(m) = artifact::parse(&bytes, digest).map_err(StoreError::from)? else {
        return Err(StoreError::Protocol {
            store: store.id().clone(),
            violation: ProtocolViolation::AttestationIsIndex {
                attestation: digest,
            },
        }
        .into());
    };
    if m.subject.as_ref().is_none_or(|s| s.digest != *subject) {
        return Err(StoreError::Protocol {
            store: store.id().clone(),
            violation: ProtocolViolation::AttestationSubject {
                attestation: digest,
                subject: *subject,
            },
        }
        .into());
    }
    let layer = m
        .layers
        .iter()
        .find(|l| l.media_type == artifact::MINISIG_MEDIA_TYPE)
        .ok_or_else(|| StoreError::Protocol {
            store: store.id().clone(),
            violation: ProtocolViolation::AttestationUnsigned {
                attestation: digest,
            },
        })?;
    let sig = fetch::fetch_small(
        store,
        layer,
        artifact::MAX_SIGNATURE_SIZE,
        "an attestation signature",
        retry,
        reporter,
    )
    .await?;
    String::from_utf8(sig).map_err(|_| {
        VerificationError::BadSignature {
            origin: format!("attestation {digest}"),
            problem: SignatureProblem::NotUtf8,
        }
        .into()
    })
}
