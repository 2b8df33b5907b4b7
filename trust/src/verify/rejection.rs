//! Why a signature does not count: the [`Rejection`] of each signature an evaluation turns
//! down, with a stable code and its message for reports. A leaf of `verify`.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::diagnose::Diagnose;
use crate::digest::Sha256Digest;
use crate::keys::KeyId;
use crate::policy::Role;
use crate::signature::SignatureCheckError;
use crate::statement::{Kind, StatementError};
use crate::time::Date;

/// Why a signature does not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Signed by a key the policy does not list.
    #[error("signature was made by key `{key}`, which the policy does not trust")]
    UntrustedKey {
        /// The key id in the signature.
        key: KeyId,
    },
    /// Signed by a revoked key.
    #[error("key `{name}` (`{key}`) is revoked")]
    Revoked {
        /// Key id.
        key: KeyId,
        /// Its name in the policy.
        name: String,
    },
    /// Signed by an expired key.
    #[error("key `{name}` (`{key}`) expired after {not_after}")]
    Expired {
        /// Key id.
        key: KeyId,
        /// Its name in the policy.
        name: String,
        /// Its last valid day.
        not_after: Date,
    },
    /// A legacy (`Ed`) signature while they are not allowed.
    #[error(
        "signature by key `{key}` is a legacy (`Ed`) signature; only prehashed (`ED`) signatures are accepted"
    )]
    Legacy {
        /// Key id.
        key: KeyId,
    },
    /// A legacy signature allowed, but the bytes cannot be read again to check it.
    #[error("legacy signature by key `{key}` cannot be checked")]
    LegacyUncheckable {
        /// Key id.
        key: KeyId,
        /// Why.
        #[source]
        source: Uncheckable,
    },
    /// The cryptographic check failed.
    #[error(transparent)]
    BadSignature(#[from] SignatureCheckError),
    /// The trusted comment claims to be a statement but does not parse.
    #[error("trusted comment of the signature by key `{key}` is not a valid zkelf statement")]
    Statement {
        /// Key id.
        key: KeyId,
        /// What is wrong with it.
        #[source]
        source: StatementError,
    },
    /// The trusted comment is not a statement, and neither a pinned sha256 nor
    /// `allow_unbound` lets it count.
    #[error(
        "trusted comment of the signature by key `{key}` is not a zkelf statement, so it binds no guest, version or zkVM"
    )]
    Unbound {
        /// Key id.
        key: KeyId,
    },
    /// The trusted comment is not a statement, but the caller asked for a guest, version or
    /// zkVM: nothing signed names it, so it cannot be checked (SPEC §2: never a silent pass).
    #[error(
        "trusted comment of the signature by key `{key}` is not a zkelf statement, so the {field} `{asked}` asked for cannot be checked"
    )]
    Unverifiable {
        /// Key id.
        key: KeyId,
        /// `guest`, `version` or `zkvm`.
        field: &'static str,
        /// What was asked for.
        asked: String,
    },
    /// The key may not sign statements of this kind.
    #[error("key `{name}` (`{key}`) may not sign `{kind}` statements")]
    WrongRole {
        /// Key id.
        key: KeyId,
        /// Its name in the policy.
        name: String,
        /// The statement's kind.
        kind: Kind,
    },
    /// The key's guest globs do not cover the guest.
    #[error("key `{name}` (`{key}`) may not sign guest `{guest}`")]
    GuestNotCovered {
        /// Key id.
        key: KeyId,
        /// Its name in the policy.
        name: String,
        /// The guest (`<unknown>` for an unbound signature with no guest asked).
        guest: String,
    },
    /// The statement's sha256 is not the bytes'.
    #[error(
        "statement signed by key `{key}` has sha256 `{signed}` but the bytes hash to `{actual}`"
    )]
    Sha256Mismatch {
        /// Key id.
        key: KeyId,
        /// In the statement.
        signed: Sha256Digest,
        /// Of the bytes.
        actual: Sha256Digest,
    },
    /// The statement's size is not the bytes'.
    #[error("statement signed by key `{key}` has size {signed} but the bytes are {actual} long")]
    SizeMismatch {
        /// Key id.
        key: KeyId,
        /// In the statement.
        signed: u64,
        /// Of the bytes.
        actual: u64,
    },
    /// `guest`, `version` or `zkvm` differs from what was asked.
    #[error("statement signed by key `{key}` has {field} `{signed}` but `{asked}` was asked for")]
    FieldMismatch {
        /// Key id.
        key: KeyId,
        /// `guest`, `version` or `zkvm`.
        field: &'static str,
        /// In the statement.
        signed: String,
        /// Asked for.
        asked: String,
    },
    /// The bytes are not the ones pinned out of band.
    #[error("the bytes hash to `{actual}`, not the pinned `{pinned}`")]
    PinMismatch {
        /// Pinned.
        pinned: Sha256Digest,
        /// Of the bytes.
        actual: Sha256Digest,
    },
    /// The statement binds another VK than the one pinned out of band.
    #[error("statement signed by key `{key}` has vk `{}`, not the pinned `{pinned}`",
        signed.map_or("-".to_string(), |d| d.to_string()))]
    VkPinMismatch {
        /// Key id.
        key: KeyId,
        /// In the statement.
        signed: Option<Sha256Digest>,
        /// Pinned.
        pinned: Sha256Digest,
    },
    /// `provenance` or `vk` differs from the blob fetched with the ELF.
    #[error("statement signed by key `{key}` has {field} `{}` but the {field} given has sha256 `{}`",
        signed.map_or("-".to_string(), |d| d.to_string()),
        fetched.map_or("-".to_string(), |d| d.to_string()))]
    BlobMismatch {
        /// Key id.
        key: KeyId,
        /// `provenance` or `vk`.
        field: &'static str,
        /// In the statement.
        signed: Option<Sha256Digest>,
        /// Of the blob given.
        fetched: Option<Sha256Digest>,
    },
    /// This key already counted for this role.
    #[error("key `{key}` already counted for `{role}`; a key counts once")]
    Duplicate {
        /// Key id.
        key: KeyId,
        /// Role.
        role: Role,
    },
}

impl Diagnose for Rejection {}

/// Why the bytes under a legacy (`Ed`) signature cannot be read again to check it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Uncheckable {
    /// The subject names no file to read them from.
    #[error("the bytes were not kept")]
    NotKept,
    /// The file cannot be opened.
    #[error("cannot open `{}`", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why (shared: a rejection is cloned into every report).
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The file cannot be read to its end.
    #[error("cannot read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Arc<std::io::Error>,
    },
}

impl Diagnose for Uncheckable {}

/// Two reasons are the same when they name the same file and the same kind of I/O failure.
impl PartialEq for Uncheckable {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Uncheckable::NotKept, Uncheckable::NotKept) => true,
            (
                Uncheckable::Open { path: a, source: x },
                Uncheckable::Open { path: b, source: y },
            )
            | (
                Uncheckable::Read { path: a, source: x },
                Uncheckable::Read { path: b, source: y },
            ) => a == b && x.kind() == y.kind(),
            _ => false,
        }
    }
}

impl Eq for Uncheckable {}

impl Rejection {
    /// A stable machine-readable name of the reason.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::UntrustedKey { .. } => "untrusted_key",
            Rejection::Revoked { .. } => "revoked",
            Rejection::Expired { .. } => "expired",
            Rejection::Legacy { .. } => "legacy",
            Rejection::LegacyUncheckable { .. } => "legacy_uncheckable",
            Rejection::BadSignature(_) => "bad_signature",
            Rejection::Statement { .. } => "bad_statement",
            Rejection::Unbound { .. } => "unbound",
            Rejection::Unverifiable { .. } => "unverifiable",
            Rejection::WrongRole { .. } => "wrong_role",
            Rejection::GuestNotCovered { .. } => "guest_not_covered",
            Rejection::Sha256Mismatch { .. } => "sha256_mismatch",
            Rejection::SizeMismatch { .. } => "size_mismatch",
            Rejection::FieldMismatch { .. } => "field_mismatch",
            Rejection::PinMismatch { .. } | Rejection::VkPinMismatch { .. } => "pin_mismatch",
            Rejection::BlobMismatch { .. } => "blob_mismatch",
            Rejection::Duplicate { .. } => "duplicate",
        }
    }

    /// The message with its causes, on one line.
    pub fn full_message(&self) -> String {
        let mut message = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        message
    }
}

impl Serialize for Rejection {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut s = serializer.serialize_struct("Rejection", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.full_message())?;
        s.end()
    }
}
