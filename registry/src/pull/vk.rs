//! The release's verification key: what vouches for it, and the RISC Zero image-id check.
//!
//! A VK counts when the verified statement binds its sha256 (`vk=`, what zkelf signs), or when
//! it carries its own signature (`<name>.vk.minisig`, how GitHub releases of guests sign it)
//! that the policy accepts under the same rules as the ELF's: a signature that binds no
//! statement needs the VK pinned (`--vk-sha256`, a `zkelf.lock` pin) or `--allow-unbound`.
//!
//! A pull may also re-derive the VK from the verified ELF ([`VkDerivation`], which the caller
//! supplies: the registry builds no toolbox) before anything is committed, and refuses a VK
//! that is not the derived one.

use std::fs::File;
use std::path::Path;

use futures_util::future::BoxFuture;
use serde::Serialize;
use zkelf_trust::digest::{ContentDigests, Sha256Digest};
use zkelf_trust::statement::Statement;

use super::{PullOptions, Resolved};
use crate::error::{Error, VerificationError, VkUnvouched};
use crate::reference::Reference;
use crate::signature::FetchedSignature;
use crate::store::{StoreError, StoreId};
use crate::verify::{self, Expected, Labels, SignatureReport, Subject};

/// What a pull does with the release's verification key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VkOutput<'a> {
    /// Not asked for: checked only where the ELF's statement binds it; a VK signed on its own
    /// is left unchecked (unless pinned) and never written.
    #[default]
    Ignore,
    /// Required and verified; returned in [`PulledVk::bytes`].
    Memory,
    /// Required and verified; written to this file together with the ELF, or neither is.
    File(&'a Path),
    /// Verified when the release has one (none is fine); returned in [`PulledVk::bytes`]
    /// (`zkelf import` carries it).
    IfPresent,
}

impl VkOutput<'_> {
    /// Whether a VK the release has must be verified.
    pub fn wanted(&self) -> bool {
        !matches!(self, VkOutput::Ignore)
    }

    /// Whether the release must have one.
    pub fn required(&self) -> bool {
        matches!(self, VkOutput::Memory | VkOutput::File(_))
    }
}

/// What vouches for the VK.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum VkCheck {
    /// The verified statement binds its sha256 (`vk=`).
    Statement,
    /// Its own signature satisfies the policy.
    Signature {
        /// Whether that signature binds no statement (the VK is then held by its pin).
        unbound: bool,
        /// The VK's signature with whether it counts.
        signatures: Vec<SignatureReport>,
    },
    /// Nothing was asked and no statement binds it: left unchecked, not written.
    NotChecked,
}

/// The release's verification key after a pull.
#[derive(Debug, Clone)]
pub struct PulledVk {
    /// Its SHA-256.
    pub sha256: Sha256Digest,
    /// Its size.
    pub size: u64,
    /// What vouches for it.
    pub check: VkCheck,
    /// The bytes, for [`VkOutput::Memory`].
    pub bytes: Option<Vec<u8>>,
    /// The file written, for [`VkOutput::File`].
    pub path: Option<std::path::PathBuf>,
    /// The toolbox that derived the same VK from the verified ELF (`sp1-6.10.0`), when the pull
    /// re-derived it ([`PullOptions::derive_vk`]).
    pub derived_by: Option<String>,
}

impl PulledVk {
    /// Whether it was verified (and may be written or handed out).
    pub fn verified(&self) -> bool {
        !matches!(self.check, VkCheck::NotChecked)
    }
}

/// Decides what vouches for the resolved VK, given the statement that verified the ELF (`None`
/// when only unbound signatures counted). `file` is the downloaded ELF, for the image-id check.
pub(crate) fn check(
    resolved: &Resolved,
    statement: Option<&Statement>,
    expected: &Expected,
    options: &PullOptions<'_>,
    file: Option<&File>,
    what: &str,
) -> Result<Option<PulledVk>, Error> {
    let Some(vk) = &resolved.vk else {
        if let Some(signed) = statement.and_then(|s| s.vk) {
            if options.vk.required() {
                return Err(VerificationError::VkUnverified {
                    what: what.to_owned(),
                    problem: VkUnvouched::Missing { signed },
                }
                .into());
            }
        } else if options.vk.required() {
            return Err(StoreError::NotFound {
                store: StoreId::of(&resolved.reference),
                what: "a verification key".to_owned(),
            }
            .into());
        }
        return Ok(None);
    };
    let check = if statement.is_some() {
        // `evaluate` compared the statement's `vk=` with this VK's sha256 (and with the pin).
        VkCheck::Statement
    } else if options.vk.wanted() || expected.vk_sha256.is_some() {
        // A pin the bytes do not match is that, whatever signs them: say so, not that the VK's
        // signatures do not count.
        let actual = Sha256Digest::of(vk);
        if let Some(pin) = expected.vk_sha256
            && pin != actual
        {
            return Err(VerificationError::PinnedDigest {
                what: format!("the verification key of {what}"),
                pinned: pin,
                actual,
            }
            .into());
        }
        let Some(text) = &resolved.vk_signature else {
            return Err(VerificationError::VkUnverified {
                what: what.to_owned(),
                problem: VkUnvouched::Unsigned,
            }
            .into());
        };
        let name = resolved
            .layers
            .vk
            .as_ref()
            .and_then(|d| d.title())
            .map_or_else(|| format!("{}.vk", resolved.reference), str::to_owned);
        let mut subject = Subject::new(name, ContentDigests::of(vk));
        // The VK's signature names nothing either: its key must cover the release's guest.
        subject.labels = Labels {
            guest: resolved.release_labels().guest,
            ..Labels::default()
        };
        let fetched = [FetchedSignature::new("VK signature", text.clone())];
        let vk_expected = Expected {
            sha256: expected.vk_sha256,
            ..Expected::default()
        };
        let trust_options = verify::Options {
            allow_legacy: options.allow_legacy,
            allow_unbound: options.allow_unbound,
            ..verify::Options::default()
        };
        let evaluated = verify::evaluate(
            options.policy,
            &subject,
            &fetched,
            &vk_expected,
            &trust_options,
        );
        let verified = evaluated
            .outcome
            .map_err(|source| VerificationError::VkRejected {
                what: what.to_owned(),
                source,
            })?;
        VkCheck::Signature {
            unbound: verified.statement.is_none(),
            signatures: evaluated.reports,
        }
    } else {
        VkCheck::NotChecked
    };
    if !matches!(check, VkCheck::NotChecked)
        && let Some(file) = file
    {
        check_image_id(file, vk, what)?;
    }
    Ok(Some(PulledVk {
        sha256: Sha256Digest::of(vk),
        size: vk.len() as u64,
        check,
        bytes: None,
        path: None,
        derived_by: None,
    }))
}

/// Refuses a VK that is not the one the downloaded bytes imply (a RISC Zero image id).
pub(crate) fn check_image_id(file: &File, vk: &[u8], what: &str) -> Result<(), Error> {
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

/// A VK derived from a pulled ELF by its zkVM's toolbox ([`VkDerivation`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedVk {
    /// The VK's bytes, as a `.vk` file holds them.
    pub vk: Vec<u8>,
    /// What derived it (`sp1-6.10.0`), for messages.
    pub derivation: String,
}

/// What a [`VkDerivation`] is given: the artifact after every check of the pull passed, before
/// anything of it is committed.
#[derive(Debug, Clone, Copy)]
pub struct ToDerive<'a> {
    /// The artifact.
    pub reference: &'a Reference,
    /// The verified statement (`None`: only signatures that bind none counted).
    pub statement: Option<&'a Statement>,
    /// The provenance fetched with it (bound by the statement when that names one).
    pub provenance: Option<&'a [u8]>,
    /// The verified ELF (read it from its start).
    pub elf: &'a File,
}

pub use crate::error::DeriveError;

/// What [`VkDerivation::derive`] returns.
pub type DeriveFuture<'a> = BoxFuture<'a, Result<DerivedVk, DeriveError>>;

/// Derives a release's VK from its verified ELF (`zkelf pull --derive-vk`, with the zkVM's
/// toolbox): the registry compares it with the release's VK, which must then be the ELF's.
pub trait VkDerivation: Sync {
    /// The VK of `artifact`'s ELF.
    fn derive<'a>(
        &'a self,
        artifact: ToDerive<'a>,
    ) -> BoxFuture<'a, Result<DerivedVk, DeriveError>>;
}

/// Re-derives the VK of the verified ELF `file` with `derivation` and refuses a release whose
/// verified VK (`vk`, from [`check`]) is not that one, naming both; returns what derived it. A
/// release without a verified VK has nothing to compare: refused as a pull asking for its VK is.
pub(crate) async fn derive(
    resolved: &Resolved,
    statement: Option<&Statement>,
    vk: Option<&PulledVk>,
    file: Option<&File>,
    derivation: &dyn VkDerivation,
    what: &str,
) -> Result<String, Error> {
    let (Some(bytes), Some(pulled)) = (resolved.vk.as_deref(), vk) else {
        return Err(StoreError::NotFound {
            store: StoreId::of(&resolved.reference),
            what: "a verification key".to_owned(),
        }
        .into());
    };
    if !pulled.verified() {
        return Err(VerificationError::VkUnverified {
            what: what.to_owned(),
            problem: VkUnvouched::Unsigned,
        }
        .into());
    }
    let Some(file) = file else {
        return Err(Error::io("the downloaded ELF")(std::io::Error::other(
            "the verified ELF is not at hand",
        )));
    };
    let derived = derivation
        .derive(ToDerive {
            reference: &resolved.reference,
            statement,
            provenance: resolved.provenance.as_deref(),
            elf: file,
        })
        .await
        .map_err(|source| Error::VkDerivation {
            what: what.to_owned(),
            source,
        })?;
    if derived.vk == bytes {
        return Ok(derived.derivation);
    }
    Err(VerificationError::Vk {
        what: what.to_owned(),
        source: zkelf_zkvm::VkError::Derived {
            vk: hex(bytes),
            derivation: derived.derivation,
            derived: hex(&derived.vk),
        },
    }
    .into())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
