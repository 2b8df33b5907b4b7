//! What zkelf must know about zkVM program formats beyond the ELF itself.
//!
//! Only RISC Zero ships a guest as something other than a plain ELF: the user ELF and a kernel
//! ELF combined in a "program binary" (`R0BF`), whose image id (its verification key) is a pure
//! function of the bytes. [`risc0`] wraps, recognises and re-derives it; [`check_vk`] is the one
//! check `verify` and `pull` run on a VK shipped with an artifact.

pub mod risc0;

use zkelf_trust::diagnose::{Diagnose, Outcome};

/// A VK that is not the one the program's bytes imply.
#[derive(Debug, thiserror::Error)]
pub enum VkError {
    /// The program is a RISC Zero program binary whose image id differs from the VK.
    #[error(
        "the verification key is image id `{vk}`, but the RISC Zero program's image id is `{program}`"
    )]
    Risc0Mismatch {
        /// The image id the VK file holds (hex), or a description when it holds no image id.
        vk: String,
        /// The image id computed from the program (hex).
        program: String,
    },
    /// The program claims to be a RISC Zero program binary but cannot be decoded.
    #[error(transparent)]
    Risc0(#[from] risc0::Risc0Error),
    /// A zkVM's toolbox derived another VK from the program (`pull --derive-vk`).
    #[error(
        "the verification key is `{vk}`, but {derivation} derives `{derived}` from the program"
    )]
    Derived {
        /// The VK shipped (hex).
        vk: String,
        /// The toolbox that derived the other (`sp1-6.10.0`).
        derivation: String,
        /// The VK it derived (hex).
        derived: String,
    },
    /// The program could not be read.
    #[error("cannot read the program to derive its verification key")]
    Read(#[source] std::io::Error),
}

impl Diagnose for VkError {
    /// A VK that is not the program's fails verification; a program that cannot be read is an
    /// I/O error.
    fn outcome(&self) -> Outcome {
        match self {
            VkError::Risc0Mismatch { .. } | VkError::Risc0(_) | VkError::Derived { .. } => {
                Outcome::VerificationFailed
            }
            VkError::Read(_) => Outcome::Error,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            VkError::Risc0Mismatch { .. } => Some(
                "a RISC Zero VK is the image id of exactly these bytes: ship the `.vk` that `zkelf build` wrote next to this program".into(),
            ),
            VkError::Derived { .. } => Some(
                "the release's VK is not its ELF's: verifiers holding it would accept proofs of another program; do not use it, and tell its publisher (`zkelf rebuild` shows the same)".into(),
            ),
            VkError::Risc0(_) | VkError::Read(_) => None,
        }
    }
}

/// [`check_vk`] for a program read from `program` (a file, from its start): only a RISC Zero
/// program binary is read whole, since only it has a VK to derive.
pub fn check_vk_reader(mut program: impl std::io::Read, vk: &[u8]) -> Result<(), VkError> {
    use std::io::Read as _;
    let mut bytes = Vec::with_capacity(risc0::MAGIC.len());
    (&mut program)
        .take(risc0::MAGIC.len() as u64)
        .read_to_end(&mut bytes)
        .map_err(VkError::Read)?;
    if !risc0::is_program_binary(&bytes) {
        return Ok(());
    }
    program.read_to_end(&mut bytes).map_err(VkError::Read)?;
    check_vk(&bytes, vk)
}

/// Checks that `vk` belongs to `program` where zkelf can derive the VK from the bytes (RISC
/// Zero program binaries); for every other format there is nothing to derive and it passes.
pub fn check_vk(program: &[u8], vk: &[u8]) -> Result<(), VkError> {
    if !risc0::is_program_binary(program) {
        return Ok(());
    }
    let derived = risc0::image_id(program)?;
    if vk == derived.as_bytes() {
        return Ok(());
    }
    Err(VkError::Risc0Mismatch {
        vk: risc0::ImageId::from_slice(vk)
            .map(|id| id.to_string())
            .unwrap_or_else(|| format!("<not an image id: {} bytes>", vk.len())),
        program: derived.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_program_binaries_have_a_vk_to_check() {
        assert!(check_vk(b"\x7fELF anything", b"any vk").is_ok());
        assert!(check_vk_reader(&b"\x7fELF anything"[..], b"any vk").is_ok());
        assert!(check_vk_reader(&b""[..], b"").is_ok());
        let broken = risc0::wrap(b"not an elf", b"nor this");
        assert!(matches!(
            check_vk_reader(&broken[..], &[0; 32]),
            Err(VkError::Risc0(_))
        ));
    }
}
