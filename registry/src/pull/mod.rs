//! The verified pull of SPEC §7, as its steps, each a function here:
//!
//! 1. [`resolve`]: the reference to one artifact manifest (through a release index);
//! 2. the small blobs (signature, provenance, VK, attestations) fetched by `resolve`, bounded
//!    and digest-checked, each signature parsed once;
//! 3. `check_lock_pins` and `check_expectations`: what can be checked before the ELF moves
//!    (pins, the statement against the manifest, the tag, rollback, size bounds);
//! 4. `stream_elf`: the ELF streamed into a temporary file beside the output, verified as it
//!    arrives ([`fetch::fetch_large`]), from the cache when it holds a sound copy;
//! 5. [`evaluate`] every signature under the policy (`verdict`), and `vk::check` (and, when
//!    asked, `vk::derive`: the VK re-derived from the verified ELF by the caller's toolbox);
//! 6. `commit`: state, lock, cache, then fsync and rename into place.
//!
//! A release signature whose trusted comment is not a zkelf statement (*unbound*, as GitHub
//! releases of guests sign today) binds no guest, version or zkVM: it counts only for bytes
//! pinned by `Expected::sha256` or a `zkelf.lock` pin, or with `allow_unbound`, exactly as
//! `zkelf verify` treats it. Without a statement there is no tag or rollback check, and a guest,
//! version or zkVM asked for cannot be checked, so such a signature does not count then.
//!
//! [`fetch_unevaluated`] runs steps 1, 2 and 4 alone (with the statement checked against the
//! manifest), for callers that check bytes, not signers.

use std::fs::File;
use std::path::{Path, PathBuf};

use zkelf_trust::digest::{ContentDigests, Sha256Digest};
use zkelf_trust::policy::Policy;
use zkelf_trust::statement::Statement;

use crate::artifact;
use crate::cache::Cache;
use crate::digest::OciDigest;
use crate::error::{Error, Pinned, VerificationError};
use crate::fetch::{self, RetryPolicy};
use crate::lockfile::{Lock, Pin};
use crate::progress::Reporter;
use crate::reference::{Reference, Target};
use crate::state::RollbackState;
use crate::store::{ManifestHints, Store};
use crate::verify::{self, Evaluated, Expected, Subject};
use vk::{PulledVk, VkDerivation, VkOutput};

mod commit;
mod resolve;
pub mod vk;
use commit::{Sink, check_outputs, commit};
pub use resolve::{BrokenAttestation, Resolved, resolve};

/// Default bound on the ELF (`--max-size`): 1 GiB.
pub const DEFAULT_MAX_SIZE: u64 = 1 << 30;

/// Everything a pull needs besides the reference and the output.
#[derive(Clone, Copy)]
pub struct PullOptions<'a> {
    /// The zkVM to pick from a release index.
    pub zkvm: Option<&'a str>,
    /// What the caller expects the statement to say.
    pub expected: &'a Expected,
    /// Accept legacy (`Ed`) signatures.
    pub allow_legacy: bool,
    /// Accept signatures that bind no statement without a pinned sha256 (stores that name the
    /// ELF by digest only; an https download cannot be named without a pin).
    pub allow_unbound: bool,
    /// The trust policy.
    pub policy: &'a Policy,
    /// Bound on the ELF size.
    pub max_size: u64,
    /// Accept a version older than one seen before.
    pub allow_downgrade: bool,
    /// Where the highest versions seen are kept; `None` disables rollback protection.
    pub state: Option<&'a RollbackState>,
    /// The shared blob cache, if any.
    pub cache: Option<&'a Cache>,
    /// `zkelf.lock`: pins are checked when present and written when absent.
    pub lock: Option<&'a Lock>,
    /// Retries on transient errors.
    pub retry: RetryPolicy,
    /// Progress sink.
    pub reporter: &'a dyn Reporter,
    /// What to do with the release's verification key.
    pub vk: VkOutput<'a>,
    /// Re-derive the VK from the verified ELF before anything is committed, and refuse a
    /// release whose VK is not that one (`zkelf pull --derive-vk`).
    pub derive_vk: Option<&'a dyn VkDerivation>,
}

impl std::fmt::Debug for PullOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullOptions")
            .field("zkvm", &self.zkvm)
            .field("expected", &self.expected)
            .field("max_size", &self.max_size)
            .field("allow_downgrade", &self.allow_downgrade)
            .field("allow_unbound", &self.allow_unbound)
            .field("vk", &self.vk)
            .field("derive_vk", &self.derive_vk.is_some())
            .finish_non_exhaustive()
    }
}

/// Where the verified ELF goes.
#[derive(Debug, Clone)]
pub enum Output {
    /// A file, written atomically.
    File(PathBuf),
    /// Memory (returned in [`Pulled::bytes`]).
    Memory,
}

/// A verified pull.
#[derive(Debug)]
pub struct Pulled {
    /// What was resolved and fetched.
    pub resolved: Resolved,
    /// Every signature with whether it counts.
    pub signatures: Vec<verify::SignatureReport>,
    /// The verified statement; `None` when only signatures that bind no statement counted (the
    /// bytes are then held by the pin alone: nothing binds guest, version or zkVM).
    pub statement: Option<Statement>,
    /// What held the bytes when no statement did: the pinned sha256, if any.
    pub pinned_sha256: Option<Sha256Digest>,
    /// Digests of the ELF.
    pub elf: ContentDigests,
    /// The ELF bytes, for [`Output::Memory`].
    pub bytes: Option<Vec<u8>>,
    /// The verification key, when the artifact has one.
    pub vk: Option<PulledVk>,
    /// Whether the ELF came from the cache.
    pub from_cache: bool,
    /// Whether a new pin was written to the lock file.
    pub pinned: bool,
}

impl Pulled {
    /// Whether nothing binds guest, version or zkVM (only unbound signatures counted).
    pub fn unbound(&self) -> bool {
        self.statement.is_none()
    }
}

/// Step 3: everything that can be checked before the ELF moves: the pin, the claimed statement
/// against the manifest, the tag, what the caller asked for, the size bound and rollback.
fn check_expectations(resolved: &Resolved, options: &PullOptions<'_>) -> Result<(), Error> {
    let elf = &resolved.layers.elf;
    if let Some(pin) = options.expected.sha256
        && !elf.names(&pin)
    {
        return Err(VerificationError::PinnedDigest {
            what: format!("the ELF of `{}`", resolved.reference),
            pinned: pin,
            actual: elf.digest.sha256(),
        }
        .into());
    }
    check_layer(resolved)?;
    if let Some(claimed) = &resolved.claimed {
        if let Some(Target::Tag(tag)) = resolved.reference.target() {
            // A release tag (`<version>` or `<version>-<zkvm>`) must name what the statement signs.
            let version = claimed.version.to_string();
            if tag.starts_with(|c: char| c.is_ascii_digit())
                && *tag != version
                && *tag != artifact::artifact_tag(&version, &claimed.zkvm)
            {
                return Err(VerificationError::TagMismatch {
                    tag: tag.clone(),
                    version,
                    zkvm: claimed.zkvm.clone(),
                }
                .into());
            }
        }
        verify::check_expectation(claimed, options.expected)?;
    }
    if elf.size > options.max_size {
        return Err(VerificationError::OverMaxSize {
            what: format!("the ELF `{}` ({} bytes)", elf.digest, elf.size),
            limit: options.max_size,
        }
        .into());
    }
    if let Some(claimed) = &resolved.claimed {
        check_rollback(resolved, claimed, options)?;
    }
    Ok(())
}

/// The manifest's ELF layer is the one the release statement signs, digest and size (no
/// mix-and-match of one release's manifest with another's signature).
fn check_layer(resolved: &Resolved) -> Result<(), VerificationError> {
    let elf = &resolved.layers.elf;
    match &resolved.claimed {
        Some(claimed) if !elf.names(&claimed.sha256) || elf.size != claimed.size => {
            Err(VerificationError::LayerMismatch {
                manifest: elf.digest,
                manifest_size: elf.size,
                statement: OciDigest::from(claimed.sha256),
                statement_size: claimed.size,
            })
        }
        _ => Ok(()),
    }
}

fn check_rollback(
    resolved: &Resolved,
    statement: &Statement,
    options: &PullOptions<'_>,
) -> Result<(), Error> {
    if let (Some(state), false) = (options.state, options.allow_downgrade) {
        state.check(
            &resolved.reference.source(),
            &statement.guest,
            &statement.zkvm,
            &statement.version,
        )?;
    }
    Ok(())
}

fn pin_key(options: &PullOptions<'_>) -> String {
    options.zkvm.unwrap_or_default().to_owned()
}

/// `expected` with the lock file's pins filled in where the caller gave none.
fn with_lock_pins(expected: &Expected, pin: Option<&Pin>, lock: &Path) -> Result<Expected, Error> {
    let mut expected = expected.clone();
    if let Some(pin) = pin {
        if expected.sha256.is_none() {
            expected.sha256 = Some(pin.elf_sha256(lock)?);
        }
        if expected.vk_sha256.is_none() {
            expected.vk_sha256 = pin.vk_sha256(lock)?;
        }
    }
    Ok(expected)
}

/// Resolves, fetches and verifies; writes `output` (and the VK, if asked) only if every check
/// passed.
pub async fn pull(
    store: &dyn Store,
    reference: &Reference,
    output: Output,
    options: PullOptions<'_>,
) -> Result<Pulled, Error> {
    check_outputs(&output, &options)?;
    let pin = match options.lock {
        Some(lock) => lock.pin(&reference.to_string(), &pin_key(&options))?,
        None => None,
    };
    let expected = match options.lock {
        Some(lock) => with_lock_pins(options.expected, pin.as_ref(), lock.path())?,
        None => options.expected.clone(),
    };
    let options = PullOptions {
        expected: &expected,
        ..options
    };
    let hints = ManifestHints {
        elf_sha256: expected.sha256,
        vk: options.vk.wanted() || expected.vk_sha256.is_some(),
    };
    let resolved = resolve(
        store,
        reference,
        options.zkvm,
        hints,
        options.retry,
        options.reporter,
    )
    .await?;
    finish(store, resolved, pin, output, options).await
}

/// The rest of a pull for an artifact already resolved (with `options.expected.sha256` as the
/// ELF pin): `zkelf import` looks at what the release signature claims before the ELF moves.
/// A lock file in `options` is neither read nor written here.
pub async fn pull_resolved(
    store: &dyn Store,
    resolved: Resolved,
    output: Output,
    options: PullOptions<'_>,
) -> Result<Pulled, Error> {
    let options = PullOptions {
        lock: None,
        ..options
    };
    finish(store, resolved, None, output, options).await
}

/// An artifact resolved and its ELF fetched, verified against what names it, but not evaluated
/// under any policy.
#[derive(Debug)]
pub struct Unevaluated {
    /// What was resolved and fetched.
    pub resolved: Resolved,
    /// Digests of the ELF, which are its descriptor's and its release statement's.
    pub elf: ContentDigests,
}

/// Steps 1, 2 and 4 of a pull for callers that check bytes, not signers (`zkelf rebuild` and
/// `zkelf attest`, which asks no policy before it co-signs): the artifact resolved and its
/// small blobs fetched, the release statement checked against the manifest's ELF layer, and the
/// ELF streamed into `sink` (when given) while it is verified against its digest and size.
/// Nothing here says that a key anyone trusts signed it.
pub async fn fetch_unevaluated(
    store: &dyn Store,
    reference: &Reference,
    zkvm: Option<&str>,
    sink: Option<File>,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<Unevaluated, Error> {
    let resolved = resolve(
        store,
        reference,
        zkvm,
        ManifestHints::default(),
        retry,
        reporter,
    )
    .await?;
    check_layer(&resolved)?;
    let elf = &resolved.layers.elf;
    let what = format!("the ELF `{}`", elf.digest);
    let blob = fetch::fetch_large(store, elf, &what, sink, retry, reporter).await?;
    Ok(Unevaluated {
        resolved,
        elf: blob.digests,
    })
}

/// Steps 3 to 6 of a pull, for an artifact resolved and its small blobs fetched (steps 1-2).
async fn finish(
    store: &dyn Store,
    resolved: Resolved,
    pin: Option<Pin>,
    output: Output,
    options: PullOptions<'_>,
) -> Result<Pulled, Error> {
    check_lock_pins(&resolved, pin.as_ref(), &options)?;
    check_expectations(&resolved, &options)?;
    let sink = Sink::create(&output)?;
    // Held until the ELF is committed: one pull at a time fetches or adds one blob.
    let _cache_lock = match options.cache {
        Some(cache) => Some(
            cache
                .lock(&resolved.layers.elf.digest)
                .await
                .map_err(Error::io(cache.dir()))?,
        ),
        None => None,
    };
    let (elf, from_cache) = stream_elf(store, &resolved, &sink, &options).await?;
    let evaluated = evaluate(
        &resolved,
        &elf.digests,
        sink.temp.as_ref().map(|t| t.path()),
        &options,
    );
    let statement = verdict(&resolved, evaluated.outcome, &options)?;
    let mut vk = vk::check(
        &resolved,
        statement.as_ref(),
        options.expected,
        &options,
        elf.file.as_ref(),
        &format!("`{}`", resolved.reference),
    )?;
    if let Some(derivation) = options.derive_vk {
        let what = format!("`{}`", resolved.reference);
        let file = elf.file.as_ref();
        let by = vk::derive(
            &resolved,
            statement.as_ref(),
            vk.as_ref(),
            file,
            derivation,
            &what,
        )
        .await?;
        if let Some(v) = vk.as_mut() {
            v.derived_by = Some(by);
        }
    }
    if let (Some(lock), Some(v)) = (options.lock, &vk) {
        Lock::check(
            pin.as_ref(),
            lock.path(),
            Pinned::Vk,
            &OciDigest::from(v.sha256),
        )?;
    }
    let committed = commit(
        &resolved,
        pin.as_ref(),
        statement.as_ref(),
        vk,
        elf.file,
        sink,
        &output,
        from_cache,
        &options,
    )?;
    Ok(Pulled {
        signatures: evaluated.reports,
        pinned_sha256: options.expected.sha256,
        statement,
        resolved,
        elf: elf.digests,
        bytes: committed.bytes,
        vk: committed.vk,
        from_cache,
        pinned: committed.pinned,
    })
}

/// Step 3, first half: a `zkelf.lock` pin names the manifest and the ELF resolved.
fn check_lock_pins(
    resolved: &Resolved,
    pin: Option<&Pin>,
    options: &PullOptions<'_>,
) -> Result<(), Error> {
    if let Some(lock) = options.lock {
        Lock::check(
            pin,
            lock.path(),
            Pinned::Manifest,
            &resolved.manifest_digest,
        )?;
        Lock::check(pin, lock.path(), Pinned::Elf, &resolved.layers.elf.digest)?;
    }
    Ok(())
}

/// Step 4: the ELF, verified as it streams (digest and size), from the cache when it holds a
/// sound copy, else from the store; returns whether it came from the cache.
async fn stream_elf(
    store: &dyn Store,
    resolved: &Resolved,
    sink: &Sink,
    options: &PullOptions<'_>,
) -> Result<(fetch::VerifiedBlob, bool), Error> {
    let elf = &resolved.layers.elf;
    let what = format!("the ELF `{}`", elf.digest);
    let cached = options.cache.filter(|c| c.contains(&elf.digest, elf.size));
    tracing::debug!(digest = %elf.digest, hit = cached.is_some(), "blob cache");
    if let Some(cache) = cached {
        let cached = cache.as_store();
        let file = sink.open()?;
        match fetch::fetch_large(
            &cached,
            elf,
            &what,
            Some(file),
            options.retry,
            options.reporter,
        )
        .await
        {
            Ok(blob) => return Ok((blob, true)),
            Err(Error::Verification(VerificationError::DigestMismatch { .. })) => {
                options
                    .reporter
                    .note(&format!("dropping corrupt cache entry `{}`", elf.digest));
                cache.evict(&elf.digest);
            }
            Err(e) => return Err(naming_sink(e, &sink.path)),
        }
    }
    let file = sink.open()?;
    let blob = fetch::fetch_large(
        store,
        elf,
        &what,
        Some(file),
        options.retry,
        options.reporter,
    )
    .await
    .map_err(|e| naming_sink(e, &sink.path))
    .map_err(|e| naming_pin(e, resolved, options.expected))?;
    Ok((blob, false))
}

/// An https ELF signed without statement is described by its pin: a mismatch says so.
fn naming_pin(error: Error, resolved: &Resolved, expected: &Expected) -> Error {
    match (error, expected.sha256) {
        (Error::Verification(VerificationError::DigestMismatch { actual, .. }), Some(pin))
            if resolved.claimed.is_none() && resolved.layers.elf.names(&pin) =>
        {
            VerificationError::PinnedDigest {
                what: format!("the ELF of `{}`", resolved.reference),
                pinned: pin,
                actual: actual.sha256(),
            }
            .into()
        }
        (other, _) => other,
    }
}

/// Step 5, the verdict: the statement the policy accepted (`None` when only unbound
/// signatures counted), rollback-checked when only an attestation bound it.
fn verdict(
    resolved: &Resolved,
    outcome: Result<verify::Verified, Box<verify::VerifyError>>,
    options: &PullOptions<'_>,
) -> Result<Option<Statement>, Error> {
    let verified = outcome.map_err(|source| match resolved.attestations_not_read {
        0 => VerificationError::Rejected(source),
        not_read => VerificationError::RejectedUnread {
            source,
            not_read,
            out_of_time: resolved.attestations_out_of_time,
        },
    })?;
    let statement = verified.statement;
    if resolved.claimed.is_none()
        && let Some(s) = &statement
    {
        // Bound by an attestation only: the rollback check the claimed statement could not get.
        check_rollback(resolved, s, options)?;
    }
    Ok(statement)
}

/// `fetch_large` reports a failed write (a full disk) under the blob's name: name the file.
fn naming_sink(error: Error, sink: &Path) -> Error {
    match error {
        Error::Io { source, .. } => Error::Io {
            path: sink.to_path_buf(),
            source,
        },
        other => other,
    }
}

/// Step 5: evaluates the fetched signatures for ELF bytes with `digests` under the policy.
pub fn evaluate(
    resolved: &Resolved,
    digests: &ContentDigests,
    file: Option<PathBuf>,
    options: &PullOptions<'_>,
) -> Evaluated {
    let (provenance, vk) = resolved.extras();
    let subject = Subject {
        name: resolved.reference.to_string(),
        digests: *digests,
        provenance,
        vk,
        file,
        // What every signature, attestations included, must be about: the release the
        // artifact claims to be, whether or not the caller asked for a guest, version and zkVM.
        labels: resolved.release_labels(),
    };
    let trust_options = verify::Options {
        allow_legacy: options.allow_legacy,
        allow_unbound: options.allow_unbound,
        ..verify::Options::default()
    };
    verify::evaluate(
        options.policy,
        &subject,
        &resolved.signatures,
        options.expected,
        &trust_options,
    )
}
