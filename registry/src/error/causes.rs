//! The causes a registry error or verification failure keeps as its source or field:
//! what a dist directory lacks, why a state or lock file cannot be used, what a lock pin names,
//! why nothing vouches for a VK, and what a failed pull did with the ELF's output.

use std::path::PathBuf;

use zkelf_trust::diagnose::Diagnose;
use zkelf_trust::digest::Sha256Digest;

/// What a `dist/<guest>/<version>` directory lacks, or has wrong.
#[derive(Debug, thiserror::Error)]
pub enum DistProblem {
    /// No `.elf` in it.
    #[error("it holds no `.elf` file")]
    NoElf,
    /// An ELF without its `.minisig`.
    #[error("`{elf}` has no signature `{elf}.minisig`")]
    NoSignature {
        /// The ELF's file name.
        elf: String,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// A `.minisig` past the bound of a signature.
    #[error(
        "`{elf}.minisig` is larger than {}",
        zkelf_trust::bounded::human(crate::artifact::MAX_SIGNATURE_SIZE)
    )]
    SignatureTooLarge {
        /// The ELF's file name.
        elf: String,
    },
    /// A `.minisig` that is not UTF-8 text.
    #[error("`{elf}.minisig` is not text")]
    SignatureNotText {
        /// The ELF's file name.
        elf: String,
    },
    /// An ELF whose file name is not `<guest>-<zkvm>.elf` for the statement it is signed with.
    #[error(
        "`{elf}` is signed as guest `{guest}` for zkVM `{zkvm}`, so it should be named `{guest}-{zkvm}.elf`"
    )]
    Misnamed {
        /// The ELF's file name.
        elf: String,
        /// The signed guest.
        guest: String,
        /// The signed zkVM.
        zkvm: String,
    },
    /// A provenance past its bound.
    #[error(
        "`{stem}.provenance.json` is larger than {}",
        zkelf_trust::bounded::human(crate::artifact::MAX_PROVENANCE_SIZE)
    )]
    ProvenanceTooLarge {
        /// `<guest>-<zkvm>`.
        stem: String,
    },
    /// Nothing to publish.
    #[error("no artifacts")]
    NoArtifacts,
    /// Artifacts of two guests or versions in one publish.
    #[error("mixes `{guest}` `{version}` with `{other_guest}` `{other_version}`")]
    Mixed {
        /// The first artifact's guest.
        guest: String,
        /// Its version.
        version: String,
        /// This artifact's guest.
        other_guest: String,
        /// Its version.
        other_version: String,
    },
}

impl Diagnose for DistProblem {}

/// Why the rollback state or a lock file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateFileProblem {
    /// The rollback state is not the JSON zkelf writes.
    #[error("it does not parse as the rollback state")]
    State(#[source] serde_json::Error),
    /// The lock file is not the TOML zkelf writes.
    #[error("it does not parse as a lock file")]
    Lock(#[source] toml::de::Error),
    /// A lock file of another version than this zkelf reads.
    #[error(
        "its `version` is {found}, but this zkelf reads lock files of version {}",
        crate::lockfile::LOCK_FILE_VERSION
    )]
    LockVersion {
        /// The version the file states.
        found: u32,
    },
    /// A lock pin that is not a digest.
    #[error("its `{field}` pin is not a digest")]
    Pin {
        /// `manifest` or `elf`.
        field: String,
        /// Why.
        #[source]
        source: zkelf_trust::digest::OciDigestError,
    },
    /// The lock file cannot be rendered.
    #[error("it cannot be written as TOML")]
    Render(#[source] toml::ser::Error),
}

impl Diagnose for StateFileProblem {}

/// What a `zkelf.lock` pin names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pinned {
    /// The artifact manifest (`manifest = …`).
    Manifest,
    /// The ELF (`elf = …`).
    Elf,
    /// The verification key (`vk = …`).
    Vk,
}

impl std::fmt::Display for Pinned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Pinned::Manifest => "manifest",
            Pinned::Elf => "ELF",
            Pinned::Vk => "VK",
        })
    }
}

/// Why nothing vouches for a verification key that was asked for.
#[derive(Debug, thiserror::Error)]
pub enum VkUnvouched {
    /// The statement binds a VK the artifact does not carry.
    #[error("the statement binds vk `{signed}`, but it is not there")]
    Missing {
        /// The VK's sha256 the statement binds.
        signed: Sha256Digest,
    },
    /// No statement binds the VK and it has no signature of its own.
    #[error("no statement binds it and it carries no signature of its own")]
    Unsigned,
}

impl Diagnose for VkUnvouched {}

/// What a pull did with the ELF's output when the VK could not be written after it.
#[derive(Debug)]
pub enum ElfUndo {
    /// The ELF had not been given its name yet.
    NotPlaced,
    /// The file the ELF replaced is back in place.
    Restored(PathBuf),
    /// There was no file before; the ELF was removed again.
    Removed(PathBuf),
    /// The ELF stays where it was written: what it replaced could not be put back.
    Left(PathBuf),
}

impl std::fmt::Display for ElfUndo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ElfUndo::NotPlaced => Ok(()),
            ElfUndo::Restored(out) => {
                write!(f, "; `{}` is as it was before the pull", out.display())
            }
            ElfUndo::Removed(out) => {
                write!(f, "; the ELF was taken away from `{}` again", out.display())
            }
            ElfUndo::Left(out) => write!(
                f,
                "; the verified ELF stays at `{}` (what was there could not be put back)",
                out.display()
            ),
        }
    }
}
