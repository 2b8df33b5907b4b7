//! The verified pull of SPEC §7: resolve the reference, fetch the small parts, check what can
//! be checked before the ELF moves (pins, the statement against the manifest, the tag,
//! rollback, size bounds), stream the ELF into a temporary file beside the output while
//! hashing it, evaluate every signature under the policy, and only then fsync and rename.

use std::fs::File;
use std::path::{Path, PathBuf};

use semver::Version;
use serde::Serialize;
use zkelf_trust::digest::{ContentDigests, Sha256Digest};
use zkelf_trust::policy::Policy;
use zkelf_trust::statement::Statement;

use crate::artifact::{self, ArtifactLayers, Descriptor, Fetched, Manifest};
use crate::cache::Cache;
use crate::error::{Error, VerificationError};
use crate::fetch::{self, RetryPolicy};
use crate::fsutil;
use crate::lockfile::{Lock, Pin};
use crate::progress::Reporter;
use crate::reference::{Reference, Target};
use crate::state::RollbackState;
use crate::store::{Store, StoreError};
use crate::verify::{self, Expected, Judged, Subject};

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
}

impl std::fmt::Debug for PullOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullOptions")
            .field("zkvm", &self.zkvm)
            .field("expected", &self.expected)
            .field("max_size", &self.max_size)
            .field("allow_downgrade", &self.allow_downgrade)
            .finish_non_exhaustive()
    }
}

/// A signature found with an artifact.
#[derive(Debug, Clone)]
pub struct FetchedSignature {
    /// Where it came from (`release layer`, `attestation sha256:…`).
    pub origin: String,
    /// The `.minisig` text.
    pub text: String,
}

/// An attestation that could not be read (it does not count, and says why).
#[derive(Debug, Clone, Serialize)]
pub struct BrokenAttestation {
    /// The attestation manifest.
    pub manifest: String,
    /// Why it could not be used.
    pub reason: String,
}

/// An artifact resolved and its small parts fetched and digest-checked; the ELF not yet.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The reference as given.
    pub reference: Reference,
    /// The release index it went through, if any.
    pub index_digest: Option<String>,
    /// The artifact manifest's digest.
    pub manifest_digest: String,
    /// The artifact manifest.
    pub manifest: Manifest,
    /// Its layers.
    pub layers: ArtifactLayers,
    /// The release signature and the attestations' signatures, release first.
    pub signatures: Vec<FetchedSignature>,
    /// Attestations that could not be fetched.
    pub broken_attestations: Vec<BrokenAttestation>,
    /// What the release signature claims (not verified yet).
    pub claimed: Statement,
    /// The provenance document, if any.
    pub provenance: Option<Vec<u8>>,
    /// The verification key, if any.
    pub vk: Option<Vec<u8>>,
}

impl Resolved {
    /// The SHA-256 of the provenance and VK, as the statement binds them.
    fn extras(&self) -> (Option<Sha256Digest>, Option<Sha256Digest>) {
        (
            self.provenance.as_deref().map(Sha256Digest::of),
            self.vk.as_deref().map(Sha256Digest::of),
        )
    }
}

async fn get_manifest_checked(
    store: &dyn Store,
    target: &Target,
    what: &str,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<(Vec<u8>, String), Error> {
    let bytes = fetch::with_retries(retry, reporter, what, || store.get_manifest(target))
        .await?
        .ok_or_else(|| StoreError::NotFound {
            store: store.name(),
            what: what.to_owned(),
        })?;
    if bytes.len() as u64 > artifact::MAX_MANIFEST_SIZE {
        return Err(VerificationError::TooLarge {
            what: what.to_owned(),
            limit: artifact::MAX_MANIFEST_SIZE,
        }
        .into());
    }
    let digest = artifact::sha256_digest(&bytes);
    if let Target::Digest(expected) = target
        && *expected != digest
    {
        return Err(VerificationError::DigestMismatch {
            what: what.to_owned(),
            expected: expected.clone(),
            actual: digest,
        }
        .into());
    }
    Ok((bytes.to_vec(), digest))
}

/// Resolves `reference` to one artifact and fetches its manifest, signature, provenance, VK and
/// attestations, each bounded and digest-checked.
pub async fn resolve(
    store: &dyn Store,
    reference: &Reference,
    zkvm: Option<&str>,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<Resolved, Error> {
    let target = reference
        .target()
        .cloned()
        .unwrap_or(Target::Tag("latest".to_owned()));
    let what = format!("`{reference}`");
    let (bytes, digest) = get_manifest_checked(store, &target, &what, retry, reporter).await?;
    let (manifest, manifest_digest, index_digest) = match artifact::parse(&bytes, &digest)
        .map_err(StoreError::from)?
    {
        Fetched::Manifest(manifest) => (manifest, digest, None),
        Fetched::Index(index) => {
            let chosen =
                artifact::select_from_index(&index, &digest, zkvm).map_err(StoreError::from)?;
            let target = Target::Digest(chosen.digest.clone());
            let (m, d) = get_manifest_checked(
                store,
                &target,
                &format!("manifest `{}`", chosen.digest),
                retry,
                reporter,
            )
            .await?;
            let Fetched::Manifest(manifest) = artifact::parse(&m, &d).map_err(StoreError::from)?
            else {
                return Err(StoreError::Protocol {
                    store: store.name(),
                    message: format!("release index `{d}` lists another index"),
                }
                .into());
            };
            (manifest, d, Some(digest))
        }
    };
    let layers =
        artifact::artifact_layers(&manifest, &manifest_digest).map_err(StoreError::from)?;
    let sig = fetch::fetch_small(
        store,
        &layers.signature,
        artifact::MAX_SIGNATURE_SIZE,
        "the release signature",
        retry,
        reporter,
    )
    .await?;
    let sig_text = String::from_utf8(sig).map_err(|_| VerificationError::BadSignature {
        origin: "release layer".to_owned(),
        reason: "not UTF-8".to_owned(),
    })?;
    let claimed = verify::statement_of_signature(&sig_text).map_err(|reason| {
        VerificationError::BadSignature {
            origin: "release layer".to_owned(),
            reason,
        }
    })?;
    let provenance = match &layers.provenance {
        Some(d) => Some(
            fetch::fetch_small(
                store,
                d,
                artifact::MAX_PROVENANCE_SIZE,
                "the provenance",
                retry,
                reporter,
            )
            .await?,
        ),
        None => None,
    };
    let vk = match &layers.vk {
        Some(d) => Some(
            fetch::fetch_small(
                store,
                d,
                artifact::MAX_VK_SIZE,
                "the verification key",
                retry,
                reporter,
            )
            .await?,
        ),
        None => None,
    };
    let mut signatures = vec![FetchedSignature {
        origin: "release layer".to_owned(),
        text: sig_text,
    }];
    let mut broken_attestations = Vec::new();
    match store.referrers(&manifest_digest).await {
        Ok(referrers) => {
            for d in referrers
                .iter()
                .filter(|d| d.artifact_type.as_deref() == Some(artifact::ATTESTATION_ARTIFACT_TYPE))
            {
                match fetch_attestation(store, d, &manifest_digest, retry, reporter).await {
                    Ok(text) => signatures.push(FetchedSignature {
                        origin: format!("attestation {}", d.digest),
                        text,
                    }),
                    Err(e) => broken_attestations.push(BrokenAttestation {
                        manifest: d.digest.clone(),
                        reason: error_chain(&e),
                    }),
                }
            }
        }
        Err(e) => reporter.note(&format!("cannot list attestations: {e}")),
    }
    Ok(Resolved {
        reference: reference.clone(),
        index_digest,
        manifest_digest,
        manifest,
        layers,
        signatures,
        broken_attestations,
        claimed,
        provenance,
        vk,
    })
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
    subject: &str,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<String, Error> {
    let target = Target::Digest(descriptor.digest.clone());
    let (bytes, digest) = get_manifest_checked(
        store,
        &target,
        &format!("attestation `{}`", descriptor.digest),
        retry,
        reporter,
    )
    .await?;
    let Fetched::Manifest(m) = artifact::parse(&bytes, &digest).map_err(StoreError::from)? else {
        return Err(StoreError::Protocol {
            store: store.name(),
            message: format!("attestation `{digest}` is an index"),
        }
        .into());
    };
    if m.subject.as_ref().map(|s| s.digest.as_str()) != Some(subject) {
        return Err(StoreError::Protocol {
            store: store.name(),
            message: format!("attestation `{digest}` is not about `{subject}`"),
        }
        .into());
    }
    let layer = m
        .layers
        .iter()
        .find(|l| l.media_type == artifact::MINISIG_MEDIA_TYPE)
        .ok_or_else(|| StoreError::Protocol {
            store: store.name(),
            message: format!("attestation `{digest}` has no minisig layer"),
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
            reason: "not UTF-8".to_owned(),
        }
        .into()
    })
}

/// Where the verified ELF goes.
#[derive(Debug, Clone)]
pub enum Output {
    /// A file, written atomically.
    File(PathBuf),
    /// Memory (returned in [`Pulled::bytes`]).
    Memory,
    /// Nowhere: hash only (`inspect`).
    Discard,
}

/// A verified pull.
#[derive(Debug)]
pub struct Pulled {
    /// What was resolved and fetched.
    pub resolved: Resolved,
    /// Every signature with whether it counts.
    pub signatures: Vec<verify::SignatureReport>,
    /// The verified statement.
    pub statement: Statement,
    /// Digests of the ELF.
    pub elf: ContentDigests,
    /// The ELF bytes, for [`Output::Memory`].
    pub bytes: Option<Vec<u8>>,
    /// The file written, for [`Output::File`].
    pub path: Option<PathBuf>,
    /// Whether the ELF came from the cache.
    pub from_cache: bool,
    /// Whether a new pin was written to the lock file.
    pub pinned: bool,
}

fn pre_checks(resolved: &Resolved, options: &PullOptions<'_>) -> Result<(), Error> {
    let claimed = &resolved.claimed;
    let elf = &resolved.layers.elf;
    let statement_digest = format!("sha256:{}", claimed.sha256);
    if elf.digest != statement_digest || elf.size != claimed.size {
        return Err(VerificationError::LayerMismatch {
            manifest: elf.digest.clone(),
            manifest_size: elf.size,
            statement: statement_digest,
            statement_size: claimed.size,
        }
        .into());
    }
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
    if elf.size > options.max_size {
        return Err(VerificationError::TooLarge {
            what: format!("the ELF `{}` ({} bytes)", elf.digest, elf.size),
            limit: options.max_size,
        }
        .into());
    }
    if let (Some(state), false) = (options.state, options.allow_downgrade) {
        state.check(
            &resolved.reference.source(),
            &claimed.guest,
            &claimed.zkvm,
            &claimed.version,
        )?;
    }
    Ok(())
}

fn pin_key(options: &PullOptions<'_>) -> String {
    options.zkvm.unwrap_or_default().to_owned()
}

/// Resolves, fetches and verifies; writes `output` only if every check passed.
pub async fn pull(
    store: &dyn Store,
    reference: &Reference,
    output: Output,
    options: PullOptions<'_>,
) -> Result<Pulled, Error> {
    let resolved = resolve(
        store,
        reference,
        options.zkvm,
        options.retry,
        options.reporter,
    )
    .await?;
    let pin = match options.lock {
        Some(lock) => lock.pin(&reference.to_string(), &pin_key(&options))?,
        None => None,
    };
    if let Some(lock) = options.lock {
        Lock::check(
            pin.as_ref(),
            lock.path(),
            "manifest",
            &resolved.manifest_digest,
        )?;
        Lock::check(
            pin.as_ref(),
            lock.path(),
            "ELF",
            &resolved.layers.elf.digest,
        )?;
    }
    pre_checks(&resolved, &options)?;

    let elf_desc = resolved.layers.elf.clone();
    let (temp, sink) = match &output {
        Output::File(path) => {
            let dir = fsutil::parent(path);
            let temp = tempfile::Builder::new()
                .prefix(".zkelf-pull-")
                .suffix(".part")
                .tempfile_in(&dir)
                .map_err(Error::io(&dir))?;
            let file = temp.reopen().map_err(Error::io(temp.path()))?;
            (Some(temp), Some(file))
        }
        Output::Memory => (
            None,
            Some(tempfile::tempfile().map_err(Error::io(std::env::temp_dir()))?),
        ),
        Output::Discard => (None, None),
    };

    let _cache_lock = match options.cache {
        Some(cache) => Some(
            cache
                .lock(&elf_desc.digest)
                .await
                .map_err(Error::io(cache.dir()))?,
        ),
        None => None,
    };
    let what = format!("the ELF `{}`", elf_desc.digest);
    let mut from_cache = false;
    let mut fetched = None;
    let mut sink = sink;
    if let Some(cache) = options
        .cache
        .filter(|c| c.contains(&elf_desc.digest, elf_desc.size))
    {
        let cached = cache.as_store();
        let (digests, file) = fetch::fetch_large(
            &cached,
            &elf_desc,
            &what,
            sink.take(),
            options.retry,
            options.reporter,
        )
        .await?;
        if format!("sha256:{}", digests.sha256) == elf_desc.digest {
            from_cache = true;
            fetched = Some((digests, file));
        } else {
            options.reporter.note(&format!(
                "dropping corrupt cache entry `{}`",
                elf_desc.digest
            ));
            cache.evict(&elf_desc.digest);
            sink = match file {
                Some(mut f) => {
                    use std::io::Seek as _;
                    f.set_len(0).map_err(Error::io(cache.dir()))?;
                    f.rewind().map_err(Error::io(cache.dir()))?;
                    Some(f)
                }
                None => None,
            };
        }
    }
    let (digests, file) = match fetched {
        Some(done) => done,
        None => {
            fetch::fetch_large(
                store,
                &elf_desc,
                &what,
                sink,
                options.retry,
                options.reporter,
            )
            .await?
        }
    };
    let actual = format!("sha256:{}", digests.sha256);
    if actual != elf_desc.digest || digests.size != elf_desc.size {
        return Err(VerificationError::DigestMismatch {
            what,
            expected: elf_desc.digest.clone(),
            actual,
        }
        .into());
    }

    let judged = judge(
        &resolved,
        &digests,
        temp.as_ref().map(|t| t.path().to_path_buf()),
        &options,
    );
    let verified = judged.outcome.map_err(VerificationError::Rejected)?;
    if let (Some(vk), Some(file)) = (&resolved.vk, &file) {
        check_vk(file, vk, &what)?;
    }
    let statement = verified
        .statement
        .ok_or_else(|| VerificationError::BadSignature {
            origin: "release layer".to_owned(),
            reason: "no counting signature carries a zkelf statement".to_owned(),
        })?;

    let mut pinned = false;
    if let (Some(lock), None) = (options.lock, &pin) {
        lock.write(Pin {
            reference: reference.to_string(),
            zkvm: pin_key(&options),
            manifest: resolved.manifest_digest.clone(),
            elf: elf_desc.digest.clone(),
        })?;
        pinned = true;
    }

    let mut bytes = None;
    let mut path = None;
    if let Some(file) = file {
        file.sync_all().map_err(Error::io("the downloaded ELF"))?;
        match (&output, temp) {
            (Output::File(out), Some(temp)) => {
                if let (Some(cache), false) = (options.cache, from_cache)
                    && let Err(e) = cache.insert(&elf_desc.digest, temp.path())
                {
                    options
                        .reporter
                        .note(&format!("cannot add the ELF to the cache: {e}"));
                }
                // An ELF is a program (qemu-user, for one, refuses files without an x bit).
                {
                    use std::os::unix::fs::PermissionsExt as _;
                    let mode = std::fs::Permissions::from_mode(0o755);
                    std::fs::set_permissions(temp.path(), mode).map_err(Error::io(temp.path()))?;
                }
                temp.persist(out).map_err(|e| Error::Io {
                    path: out.clone(),
                    source: e.error,
                })?;
                fsutil::sync_dir(&fsutil::parent(out));
                path = Some(out.clone());
            }
            _ => {
                let mut file = file;
                bytes = Some(read_back(&mut file, digests.size)?);
            }
        }
    }
    if let Some(state) = options.state {
        state.record(
            &reference.source(),
            &statement.guest,
            &statement.zkvm,
            &statement.version,
        )?;
    }
    Ok(Pulled {
        resolved,
        signatures: judged.reports,
        statement,
        elf: digests,
        bytes,
        path,
        from_cache,
        pinned,
    })
}

/// Evaluates the fetched signatures for ELF bytes with `digests`.
pub fn judge(
    resolved: &Resolved,
    digests: &ContentDigests,
    file: Option<PathBuf>,
    options: &PullOptions<'_>,
) -> Judged {
    let (provenance, vk) = resolved.extras();
    let subject = Subject {
        name: resolved.reference.to_string(),
        digests: *digests,
        provenance,
        vk,
        file,
    };
    let trust_options = verify::Options {
        allow_legacy: options.allow_legacy,
        ..verify::Options::default()
    };
    // Every signature, attestations included, must be about the release the artifact claims
    // to be, whether or not the caller asked for a guest, version and zkVM.
    let claimed = &resolved.claimed;
    let expected = verify::Expected {
        guest: Some(claimed.guest.clone()),
        version: Some(claimed.version.clone()),
        zkvm: Some(claimed.zkvm.clone()),
        ..options.expected.clone()
    };
    verify::assess(
        options.policy,
        &subject,
        &resolved.signatures,
        &expected,
        &trust_options,
    )
}

/// Refuses a VK that is not the one the downloaded bytes imply (a RISC Zero image id).
fn check_vk(file: &File, vk: &[u8], what: &str) -> Result<(), Error> {
    use std::io::Seek as _;
    let mut reader = file;
    reader.rewind().map_err(Error::io("the downloaded ELF"))?;
    zkelf_zkvm::check_vk_reader(reader, vk).map_err(|source| match source {
        zkelf_zkvm::VkError::Read(e) => Error::io("the downloaded ELF")(e),
        source => VerificationError::Vk {
            what: what.to_owned(),
            source,
        }
        .into(),
    })
}

fn read_back(file: &mut File, size: u64) -> Result<Vec<u8>, Error> {
    use std::io::{Read as _, Seek as _};
    file.rewind().map_err(Error::io("the downloaded ELF"))?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(size)
        .read_to_end(&mut bytes)
        .map_err(Error::io("the downloaded ELF"))?;
    Ok(bytes)
}

/// The version a caller asks for, parsed.
pub fn parse_version(text: &str) -> Result<Version, semver::Error> {
    Version::parse(text)
}

/// The default state and cache roots under `$XDG_*_HOME` or `~/.local/state`, `~/.cache`.
pub fn default_dir(xdg: Option<&Path>, home: Option<&Path>, fallback: &str) -> Option<PathBuf> {
    xdg.map(|x| x.join("zkelf"))
        .or_else(|| home.map(|h| h.join(fallback).join("zkelf")))
}
