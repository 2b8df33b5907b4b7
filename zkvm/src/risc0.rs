//! RISC Zero's program binary (`R0BF`: the user ELF and the kernel ELF in one file) and its
//! image id, through `risc0-binfmt`, the crate RISC Zero's own build and executor use.

use std::fmt;

/// The first bytes of a program binary ("RISC Zero Binary Format").
pub const MAGIC: &[u8; 4] = b"R0BF";
/// Size of an image id.
pub const IMAGE_ID_LEN: usize = 32;

/// A program binary that cannot be decoded or loaded.
#[derive(Debug, thiserror::Error)]
#[error("not a valid RISC Zero program binary")]
pub struct Risc0Error {
    /// What `risc0-binfmt` said (its errors are `anyhow` values).
    #[source]
    pub source: anyhow::Error,
}

impl zkelf_trust::diagnose::Diagnose for Risc0Error {}

fn error(source: anyhow::Error) -> Risc0Error {
    Risc0Error { source }
}

/// A RISC Zero image id: the program's verification key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImageId([u8; IMAGE_ID_LEN]);

impl ImageId {
    /// The id in the byte order `risc0_zkp::core::digest::Digest::as_bytes` gives: what a
    /// zkelf VK file for a RISC Zero program holds.
    pub fn as_bytes(&self) -> &[u8; IMAGE_ID_LEN] {
        &self.0
    }

    /// An id from exactly [`IMAGE_ID_LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// Whether `bytes` start like a program binary.
pub fn is_program_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// The program binary RISC Zero's executor runs: `user_elf` combined with `kernel_elf`
/// (`ProgramBinary::new(user, kernel).encode()`, as `risc0-build` writes it).
pub fn wrap(user_elf: &[u8], kernel_elf: &[u8]) -> Vec<u8> {
    risc0_binfmt::ProgramBinary::new(user_elf, kernel_elf).encode()
}

/// The user ELF inside a program binary.
pub fn user_elf(program: &[u8]) -> Result<&[u8], Risc0Error> {
    parts(program).map(|(user, _)| user)
}

/// The user ELF and the kernel ELF inside a program binary.
pub fn parts(program: &[u8]) -> Result<(&[u8], &[u8]), Risc0Error> {
    risc0_binfmt::ProgramBinary::decode(program)
        .map(|binary| (binary.user_elf, binary.kernel_elf))
        .map_err(error)
}

/// The image id of a program binary (`risc0_binfmt::compute_image_id`).
pub fn image_id(program: &[u8]) -> Result<ImageId, Risc0Error> {
    let digest = risc0_binfmt::compute_image_id(program).map_err(error)?;
    ImageId::from_slice(digest.as_bytes())
        .ok_or_else(|| error(anyhow::anyhow!("the image id is not {IMAGE_ID_LEN} bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_unwraps() {
        let program = wrap(b"\x7fELFuser", b"\x7fELFkernel");
        assert!(is_program_binary(&program));
        assert_eq!(user_elf(&program).unwrap(), b"\x7fELFuser");
        assert_eq!(parts(&program).unwrap().1, b"\x7fELFkernel");
        assert!(!is_program_binary(b"\x7fELF"));
        let err = user_elf(b"R0BFjunk").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("not a valid RISC Zero program binary")
        );
        // Not loadable ELFs: the image id is an error, never a guess.
        assert!(image_id(&program).is_err());
    }

    #[test]
    fn image_ids_print_as_hex() {
        let id = ImageId::from_slice(&[0xab; 32]).unwrap();
        assert_eq!(id.to_string(), "ab".repeat(32));
        assert!(ImageId::from_slice(&[0; 31]).is_none());
    }
}
