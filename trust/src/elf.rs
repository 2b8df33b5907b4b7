//! The minimal ELF header check `sign` needs: a RISC-V executable whose class agrees with the
//! target triple it is signed for.

use std::io::Read;
use std::path::{Path, PathBuf};

use object::read::elf::FileHeader as _;

/// `e_machine` of RISC-V.
const EM_RISCV: u16 = 243;
/// Enough bytes for either ELF header.
const HEADER_LEN: usize = 64;

/// 32- or 64-bit ELF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfClass {
    /// ELFCLASS32: `riscv32*` targets.
    Elf32,
    /// ELFCLASS64: `riscv64*` targets.
    Elf64,
}

impl ElfClass {
    /// The target assumed when none is given.
    pub fn default_target(self) -> &'static str {
        match self {
            ElfClass::Elf32 => "riscv32im-unknown-none-elf",
            ElfClass::Elf64 => "riscv64im-unknown-none-elf",
        }
    }

    /// The prefix a target for this class must have.
    pub fn target_prefix(self) -> &'static str {
        match self {
            ElfClass::Elf32 => "riscv32",
            ElfClass::Elf64 => "riscv64",
        }
    }
}

impl std::fmt::Display for ElfClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ElfClass::Elf32 => "ELF32",
            ElfClass::Elf64 => "ELF64",
        })
    }
}

/// A file that is not a RISC-V ELF for the target.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// Could not be read.
    #[error("cannot read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not an ELF file (bad magic, truncated header, big-endian…).
    #[error("`{}` is not an ELF file: {reason}", path.display())]
    NotElf {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// An ELF for another machine.
    #[error("`{}` is an ELF for machine {machine}, not RISC-V (EM_RISCV = 243)", path.display())]
    NotRiscv {
        /// The file.
        path: PathBuf,
        /// Its `e_machine`.
        machine: u16,
    },
    /// The target disagrees with the ELF class.
    #[error("`{}` is {class} but target `{target}` needs {}", path.display(), if *class == ElfClass::Elf32 { "ELF64" } else { "ELF32" })]
    TargetMismatch {
        /// The file.
        path: PathBuf,
        /// Its class.
        class: ElfClass,
        /// The target given.
        target: String,
    },
}

impl ElfError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        match self {
            ElfError::TargetMismatch { class, .. } => Some(format!(
                "give a `{}*` target, or omit `--target` to use `{}`",
                class.target_prefix(),
                class.default_target()
            )),
            ElfError::NotElf { .. } | ElfError::NotRiscv { .. } => {
                Some("sign the guest ELF that the build produced".into())
            }
            ElfError::Read { .. } => None,
        }
    }
}

/// Reads the header of `path`: a little-endian RISC-V ELF; returns its class.
pub fn riscv_class(path: &Path) -> Result<ElfClass, ElfError> {
    let read = |source| ElfError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut header = Vec::with_capacity(HEADER_LEN);
    std::fs::File::open(path)
        .map_err(read)?
        .take(HEADER_LEN as u64)
        .read_to_end(&mut header)
        .map_err(read)?;
    riscv_class_of(&header, path)
}

/// Like [`riscv_class`] for the first bytes of a file held in memory.
pub fn riscv_class_of(header: &[u8], path: &Path) -> Result<ElfClass, ElfError> {
    let not_elf = |reason: &str| ElfError::NotElf {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if header.len() < 16 || &header[..4] != b"\x7fELF" {
        return Err(not_elf("it does not start with the ELF magic"));
    }
    let (class, machine) = match header[4] {
        1 => {
            let h = object::elf::FileHeader32::<object::Endianness>::parse(header)
                .map_err(|e| not_elf(&e.to_string()))?;
            let endian = h.endian().map_err(|e| not_elf(&e.to_string()))?;
            (ElfClass::Elf32, h.e_machine(endian).0)
        }
        2 => {
            let h = object::elf::FileHeader64::<object::Endianness>::parse(header)
                .map_err(|e| not_elf(&e.to_string()))?;
            let endian = h.endian().map_err(|e| not_elf(&e.to_string()))?;
            (ElfClass::Elf64, h.e_machine(endian).0)
        }
        _ => return Err(not_elf("its class is neither ELF32 nor ELF64")),
    };
    if header[5] != 1 {
        return Err(not_elf("it is not little-endian"));
    }
    if machine != EM_RISCV {
        return Err(ElfError::NotRiscv {
            path: path.to_path_buf(),
            machine,
        });
    }
    Ok(class)
}

/// The target to sign for: `target` if it agrees with the class, else the class's default.
pub fn resolve_target(
    path: &Path,
    class: ElfClass,
    target: Option<&str>,
) -> Result<String, ElfError> {
    match target {
        None => Ok(class.default_target().to_string()),
        Some(target) if target.starts_with(class.target_prefix()) => Ok(target.to_string()),
        Some(target) => Err(ElfError::TargetMismatch {
            path: path.to_path_buf(),
            class,
            target: target.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(class: u8, machine: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = class;
        h[5] = 1;
        h[6] = 1;
        h[16] = 2;
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h[20] = 1;
        h
    }

    #[test]
    fn classifies_and_checks_targets() {
        let p = Path::new("g.elf");
        assert_eq!(riscv_class_of(&header(1, 243), p).unwrap(), ElfClass::Elf32);
        assert_eq!(riscv_class_of(&header(2, 243), p).unwrap(), ElfClass::Elf64);
        assert!(matches!(
            riscv_class_of(&header(2, 62), p),
            Err(ElfError::NotRiscv { machine: 62, .. })
        ));
        assert!(matches!(
            riscv_class_of(b"#!/bin/sh\n", p),
            Err(ElfError::NotElf { .. })
        ));
        assert!(matches!(
            riscv_class_of(&header(2, 243)[..20], p),
            Err(ElfError::NotElf { .. })
        ));
        assert_eq!(
            resolve_target(p, ElfClass::Elf32, None).unwrap(),
            "riscv32im-unknown-none-elf"
        );
        assert!(resolve_target(p, ElfClass::Elf32, Some("riscv32imac-unknown-none-elf")).is_ok());
        assert!(matches!(
            resolve_target(p, ElfClass::Elf64, Some("riscv32im-unknown-none-elf")),
            Err(ElfError::TargetMismatch { .. })
        ));
    }
}
