//! What zkelf must know about zkVM program formats beyond the ELF itself.
//!
//! Only RISC Zero ships a guest as something other than a plain ELF: the user ELF and a kernel
//! ELF combined in a "program binary" (`R0BF`), whose image id (its verification key) is a pure
//! function of the bytes. [`risc0`] wraps, recognises and re-derives it; [`check_vk`] is the one
//! check `verify` and `pull` run on a VK shipped with an artifact.

pub mod risc0;

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
