//! The errors of pulls and publishes: verification failures (exit 1) apart from the rest (exit 2).

use std::path::PathBuf;

use zkelf_trust::diagnose::{Diagnose, Outcome};
use zkelf_trust::digest::{OciDigest, Sha256Digest};

use crate::signature::SignatureProblem;
use crate::store::StoreError;

mod causes;
pub use causes::{DistProblem, ElfUndo, Pinned, StateFileProblem, VkUnvouched};

/// The bytes are not the release the caller may accept. The cli exits 1 on these.
#[derive(Debug, thiserror::Error)]
pub enum VerificationError {
    /// Content does not hash to the digest that names it.
    #[error("{what} has digest `{actual}`, expected `{expected}`")]
    DigestMismatch {
        /// What was fetched.
        what: String,
        /// The digest it should have.
        expected: OciDigest,
        /// The digest it has.
        actual: OciDigest,
    },
    /// Fewer bytes than the descriptor states: the store ended the blob early on purpose (a
    /// broken connection is retried instead).
    #[error("{what} ends after {received} bytes, but its descriptor states {size}")]
    Truncated {
        /// What was fetched.
        what: String,
        /// The size the descriptor states.
        size: u64,
        /// The bytes the store sent.
        received: u64,
    },
    /// More bytes than a fixed bound allows (a manifest, a signature, a provenance).
    #[error("{what} is larger than {limit} bytes")]
    TooLarge {
        /// What was fetched.
        what: String,
        /// The bound.
        limit: u64,
    },
    /// An ELF larger than the caller's `--max-size`, the one bound a user sets.
    #[error("{what} is larger than {limit} bytes, the `--max-size` bound")]
    OverMaxSize {
        /// The ELF, with its digest and size.
        what: String,
        /// The bound.
        limit: u64,
    },
    /// More bytes than the descriptor states: the store sends other content than the one named.
    #[error("{what} goes on past the {size} bytes its descriptor states")]
    Overlong {
        /// What was fetched, and from where.
        what: String,
        /// The size the descriptor states.
        size: u64,
    },
    /// The manifest and the signed statement disagree about the ELF (mix-and-match).
    #[error(
        "the manifest's ELF layer is `{manifest}` ({manifest_size} bytes) but the signature's statement names `{statement}` ({statement_size} bytes)"
    )]
    LayerMismatch {
        /// The ELF digest the manifest lists.
        manifest: OciDigest,
        /// Its size there.
        manifest_size: u64,
        /// The ELF digest the statement signs.
        statement: OciDigest,
        /// Its size there.
        statement_size: u64,
    },
    /// A signature that cannot be read, or carries no valid statement.
    #[error("signature from {origin} is unusable")]
    BadSignature {
        /// Where it came from.
        origin: String,
        /// Why.
        #[source]
        problem: SignatureProblem,
    },
    /// The statement names other software than the caller asked for.
    #[error("the artifact is `{field}` `{found}`, but `{expected}` was asked for")]
    Unexpected {
        /// `guest`, `version` or `zkvm`.
        field: &'static str,
        /// What was asked for.
        expected: String,
        /// What the statement says.
        found: String,
    },
    /// A release tag names an artifact of another version or zkVM.
    #[error("tag `{tag}` names an artifact of version `{version}` for zkVM `{zkvm}`")]
    TagMismatch {
        /// The tag.
        tag: String,
        /// The signed version.
        version: String,
        /// The signed zkVM.
        zkvm: String,
    },
    /// Older than a version already seen from this source (rollback).
    #[error(
        "`{source_name}` offers `{guest}` `{offered}` for `{zkvm}`, older than `{seen}` seen before"
    )]
    Rollback {
        /// The source.
        source_name: String,
        /// The guest.
        guest: String,
        /// The zkVM.
        zkvm: String,
        /// The highest version seen.
        seen: String,
        /// The version offered now.
        offered: String,
    },
    /// The bytes are not the ones pinned out of band (`--sha256`, a lock's `elf`).
    #[error("{what} hashes to `{actual}`, not the pinned `{pinned}`")]
    PinnedDigest {
        /// What was pinned.
        what: String,
        /// The pinned sha256.
        pinned: Sha256Digest,
        /// The sha256 found.
        actual: Sha256Digest,
    },
    /// A `zkelf.lock` pin does not match.
    #[error("`{reference}` resolves to {what} `{actual}`, but `{lock}` pins `{pinned}`")]
    PinMismatch {
        /// The reference.
        reference: String,
        /// Which pin.
        what: Pinned,
        /// The pin as the lock file writes it (it may not even be a digest).
        pinned: String,
        /// The digest found.
        actual: OciDigest,
        /// The lock file.
        lock: PathBuf,
    },
    /// A release signature binds no statement and nothing pins the ELF it is about.
    #[error(
        "signature `{signature}` binds no guest, version or zkVM (its trusted comment `{comment}` is not a zkelf statement), and no sha256 pins the ELF"
    )]
    Unbound {
        /// Where the signature is.
        signature: String,
        /// Its trusted comment.
        comment: String,
    },
    /// The verification key was asked for, but nothing the policy accepts vouches for it.
    #[error("the verification key of {what} is not verified")]
    VkUnverified {
        /// The artifact.
        what: String,
        /// Why nothing vouches for it.
        #[source]
        problem: VkUnvouched,
    },
    /// The verification key's own signature does not satisfy the policy.
    #[error("the verification key of {what} is not verified")]
    VkRejected {
        /// The artifact.
        what: String,
        /// The policy's verdict on the VK's signature.
        #[source]
        source: Box<zkelf_trust::verify::VerifyError>,
    },
    /// The signatures do not satisfy the policy.
    #[error("signature check failed")]
    Rejected(#[source] Box<zkelf_trust::verify::VerifyError>),
    /// The signatures read do not satisfy the policy, and the store listed more attestations
    /// than are read ([`crate::artifact::MAX_REFERRERS`]) or than were read in time.
    #[error(
        "signature check failed; {not_read} more attestations listed were not read ({})",
        crate::artifact::why_not_read(*not_read, *out_of_time)
    )]
    RejectedUnread {
        /// The policy's verdict on the signatures read.
        #[source]
        source: Box<zkelf_trust::verify::VerifyError>,
        /// Distinct attestations left unread.
        not_read: usize,
        /// Of those, the ones not read within the attestation phase's time.
        out_of_time: usize,
    },
    /// The VK shipped with the artifact is not the one its bytes imply (RISC Zero image id).
    #[error("the verification key of {what} does not belong to it")]
    Vk {
        /// The artifact.
        what: String,
        /// The mismatch, naming both ids.
        #[source]
        source: zkelf_zkvm::VkError,
    },
}

/// How to let an unbound signature count when pulling.
const PIN_HINT: &str = "the signature's trusted comment binds nothing but the key: pin the bytes with `--sha256 <hex>` (the digest the publisher lists) or a `zkelf.lock` pin (`--lock`), or accept any bytes the key signed with `--allow-unbound`";

impl Diagnose for VerificationError {
    fn outcome(&self) -> Outcome {
        Outcome::VerificationFailed
    }

    fn hint(&self) -> Option<String> {
        match self {
            VerificationError::Rollback { .. } => Some(
                "if the older release is wanted on purpose, pass `--allow-downgrade`".to_owned(),
            ),
            VerificationError::PinMismatch { lock, .. } => Some(format!(
                "if the release was moved on purpose, remove its entry from `{}` and pull again",
                lock.display()
            )),
            VerificationError::Unbound { .. } => Some(
                "pin the ELF with `--sha256 <hex>` (the digest the publisher lists) or a `zkelf.lock` pin (`--lock`); a download is named by nothing else, so `--allow-unbound` cannot stand in for a pin".to_owned(),
            ),
            VerificationError::Rejected(e) => match e.source {
                Some(zkelf_trust::verify::Rejection::Unbound { .. }) => Some(PIN_HINT.to_owned()),
                _ => e.hint(),
            },
            VerificationError::RejectedUnread { source, .. } => source.hint(),
            VerificationError::VkRejected { source, .. } => match source.source {
                Some(zkelf_trust::verify::Rejection::Unbound { .. }) => Some(
                    "the VK's signature binds nothing but the key: pin the VK with `--vk-sha256 <hex>` (the digest the publisher lists) or a `zkelf.lock` pin".to_owned(),
                ),
                _ => source.hint(),
            },
            VerificationError::VkUnverified { .. } => Some(
                "pin the VK with `--vk-sha256 <hex>` (or a `zkelf.lock` pin) if the release signs it on its own".to_owned(),
            ),
            VerificationError::Vk { source, .. } => source.hint(),
            VerificationError::PinnedDigest { .. } => Some(
                "compare the pinned digest with the one the publisher lists; if it is right, this download is not the release".to_owned(),
            ),
            VerificationError::OverMaxSize { .. } => {
                Some("raise the bound with `--max-size` if the ELF is that large".to_owned())
            }
            _ => None,
        }
    }
}

/// The error a VK derivation returns (`pull --derive-vk`'s `VkDerivation`): the caller's own, kept
/// as the cause.
pub type DeriveError = Box<dyn std::error::Error + Send + Sync>;

/// Why a pull, inspect or publish did not complete.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The artifact failed verification.
    #[error(transparent)]
    Verification(#[from] VerificationError),
    /// The store could not deliver or accept it.
    #[error(transparent)]
    Store(StoreError),
    /// A local file could not be read or written.
    #[error("cannot access `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The reference is malformed.
    #[error(transparent)]
    Reference(#[from] crate::reference::ReferenceError),
    /// A `dist/<guest>/<version>` directory is not what `zkelf build` and `sign` leave.
    #[error("`{}` is not a signed dist directory", path.display())]
    Dist {
        /// The directory.
        path: PathBuf,
        /// What is missing or wrong (boxed: it is the largest, and rare).
        #[source]
        problem: Box<DistProblem>,
    },
    /// The state or lock file is unreadable.
    #[error("cannot use `{}`", path.display())]
    StateFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        problem: StateFileProblem,
    },
    /// A local state or lock file larger than its bound: refused whole, never read as a prefix.
    #[error("`{}` is larger than {}, the bound for {what}", path.display(), zkelf_trust::bounded::human(*limit))]
    LocalFileTooLarge {
        /// The file.
        path: PathBuf,
        /// What it is (`a lock file`, `the rollback state`).
        what: &'static str,
        /// The bound.
        limit: u64,
    },
    /// A release tag already names other bytes: a published version does not change.
    #[error("tag `{tag}` of `{store}` already names manifest `{existing}`, not `{new}`")]
    TagTaken {
        /// The store.
        store: crate::store::StoreId,
        /// The tag (`<version>-<zkvm>`, or an import's).
        tag: String,
        /// The manifest it names.
        existing: OciDigest,
        /// The manifest that would replace it.
        new: OciDigest,
    },
    /// A version no OCI tag can carry (signed elsewhere, or given to an import): refused before
    /// anything is uploaded or tagged.
    #[error(transparent)]
    Untaggable(#[from] crate::artifact::UntaggableVersion),
    /// An import whose upstream signature does not name the release, and the importer did not.
    #[error(
        "the signature of `{url}` binds no guest, version or zkVM, so the import must name them: {missing} missing"
    )]
    Unnamed {
        /// The download URL.
        url: String,
        /// The flags missing.
        missing: String,
    },
    /// The VK could not be given its name after the ELF was; what happened to the ELF's output
    /// is in `elf`.
    #[error("cannot write the verification key to `{}`{elf}", path.display())]
    VkNotWritten {
        /// The VK's output.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
        /// What became of the ELF's output.
        elf: ElfUndo,
    },
    /// Two outputs of one pull name one file (`-o L --lock L`): one would overwrite the other.
    #[error("{first} and {second} are one file, `{}`, and one would overwrite the other", path.display())]
    SameFile {
        /// The first output (`the ELF's output`).
        first: &'static str,
        /// The second (`the lock file`).
        second: &'static str,
        /// The second's path, as given.
        path: PathBuf,
    },
    /// The VK could not be derived from the ELF (`pull --derive-vk`): the caller's error.
    #[error("cannot derive the verification key of {what} from its ELF")]
    VkDerivation {
        /// The artifact.
        what: String,
        /// Why (the caller's error, asked for its own outcome and hint).
        #[source]
        source: DeriveError,
    },
    /// Someone else kept rewriting the referrers index.
    #[error("could not update referrers index `{tag}` after {attempts} attempts")]
    ReferrersConflict {
        /// The fallback tag.
        tag: String,
        /// How often it was tried.
        attempts: u32,
    },
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::TooLarge { store, what, limit } => {
                Error::Verification(VerificationError::TooLarge {
                    what: format!("{what} from `{store}`"),
                    limit,
                })
            }
            StoreError::Digest {
                store,
                what,
                expected,
                actual,
            } => Error::Verification(VerificationError::DigestMismatch {
                what: format!("{what} from `{store}`"),
                expected,
                actual,
            }),
            StoreError::Unbound { signature, comment } => {
                Error::Verification(VerificationError::Unbound { signature, comment })
            }
            StoreError::Signature { signature, problem } => {
                Error::Verification(VerificationError::BadSignature {
                    origin: format!("`{signature}`"),
                    problem,
                })
            }
            other => Error::Store(other),
        }
    }
}

impl Diagnose for Error {
    /// A verification failure (exit 1) rather than an operational error.
    fn outcome(&self) -> Outcome {
        match self {
            Error::Verification(_) => Outcome::VerificationFailed,
            _ => Outcome::Error,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Verification(e) => e.hint(),
            Error::Store(e) => e.hint(),
            Error::Reference(e) => e.hint(),
            Error::Io { path, source } | Error::VkNotWritten { path, source, .. } => {
                crate::fsutil::io_hint(path, source)
            }
            Error::SameFile { .. } => Some("give each output a path of its own".to_owned()),
            Error::Untaggable(e) => e.hint(),
            Error::TagTaken { .. } => Some(format!(
                "publish these bytes as a new version; to move the tag anyway, pass `--replace` (the new manifest records the old one as `{}`)",
                crate::artifact::REPLACES
            )),
            Error::Unnamed { .. } => Some(
                "pass `--guest`, `--version` and `--zkvm` (and `--target` for a file that is not a RISC-V ELF): they become the artifact's annotations, which no signature covers".to_owned(),
            ),
            Error::StateFile {
                problem: StateFileProblem::Lock(_) | StateFileProblem::LockVersion { .. },
                ..
            } => Some(
                "a lock file is `version = 1` and `[[pin]]` tables of `reference`, `zkvm`, `manifest`, `elf` and `vk` (docs/distribution.md): fix it, or use the zkelf that wrote it".to_owned(),
            ),
            Error::LocalFileTooLarge { .. } => Some(
                "this is not a file zkelf wrote; move it away (or fix the path) and run again"
                    .to_owned(),
            ),
            Error::Dist { .. } => {
                Some("build with `zkelf build` and sign with `zkelf sign` first".to_owned())
            }
            _ => None,
        }
    }
}

impl Error {
    /// The output a failed pull wrote nonetheless, if any (a VK that could not be written after
    /// the ELF, which could not be taken back): callers must not say that nothing was written.
    pub fn output_left(&self) -> Option<&std::path::Path> {
        match self {
            Error::VkNotWritten {
                elf: ElfUndo::Left(out),
                ..
            } => Some(out),
            _ => None,
        }
    }

    /// Maps a failed bounded read of the local file `path` (`what` it is).
    pub(crate) fn bounded(
        path: &std::path::Path,
        what: &'static str,
    ) -> impl FnOnce(zkelf_trust::bounded::BoundedReadError) -> Error {
        move |err| match err {
            zkelf_trust::bounded::BoundedReadError::TooLarge { limit } => {
                Error::LocalFileTooLarge {
                    path: path.to_path_buf(),
                    what,
                    limit,
                }
            }
            other => Error::Io {
                path: path.to_path_buf(),
                source: other.into(),
            },
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
