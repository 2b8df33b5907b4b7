//! The ELF check `sign` and `import` share: a well-formed little-endian RISC-V executable
//! (`ET_EXEC`) whose class agrees with the target triple it is signed for.

use std::path::{Path, PathBuf};

use object::read::elf::{FileHeader, ProgramHeader as _, SectionHeader as _};
use object::read::{ReadCache, ReadRef};

use crate::diagnose::Diagnose;

/// `e_machine` of RISC-V.
const EM_RISCV: u16 = 243;

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
    #[error("`{}` is not an ELF file", path.display())]
    NotElf {
        /// The file.
        path: PathBuf,
        /// What gives it away.
        #[source]
        problem: ElfProblem,
    },
    /// An ELF for another machine.
    #[error("`{}` is an ELF for machine {machine}, not RISC-V (EM_RISCV = 243)", path.display())]
    NotRiscv {
        /// The file.
        path: PathBuf,
        /// Its `e_machine`.
        machine: u16,
    },
    /// A RISC-V ELF that is not an executable: a relocatable object, a shared object, a core dump.
    #[error("`{}` is {} (e_type {e_type}), not an executable (ET_EXEC); only executables are guests", path.display(), type_name(object::elf::FileType(*e_type)))]
    NotExecutable {
        /// The file.
        path: PathBuf,
        /// Its `e_type`.
        e_type: u16,
    },
    /// A RISC-V ELF whose headers do not hold together (tables or segments past the end of the
    /// file, bad entry sizes, no loadable segment…).
    #[error("`{}` is a malformed ELF", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        problem: ElfProblem,
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

/// What makes a file no ELF, or a malformed one.
#[derive(Debug, thiserror::Error)]
pub enum ElfProblem {
    /// The first bytes are not `\x7fELF`.
    #[error("it does not start with the ELF magic")]
    NoMagic,
    /// A big-endian ELF.
    #[error("it is not little-endian")]
    NotLittleEndian,
    /// `EI_CLASS` is neither 1 nor 2.
    #[error("its class is neither ELF32 nor ELF64")]
    UnknownClass,
    /// The file's length cannot be read.
    #[error("its length cannot be read")]
    Length,
    /// What the ELF parser (`object`) found wrong, in lowercase.
    #[error("{}", lowercase_first(&.0.to_string()))]
    Parse(object::read::Error),
    /// A program header maps bytes past the end of the file.
    #[error(
        "program header {index} maps bytes {offset}..+{size}, past the end of the file ({len} bytes)"
    )]
    SegmentPastEnd {
        /// The program header's index.
        index: usize,
        /// Its file offset.
        offset: u64,
        /// Its file size.
        size: u64,
        /// The file's length.
        len: u64,
    },
    /// No `PT_LOAD` segment.
    #[error("it has no loadable segment (PT_LOAD)")]
    NoLoadableSegment,
    /// A section holds bytes past the end of the file.
    #[error(
        "section {index} holds bytes {offset}..+{size}, past the end of the file ({len} bytes)"
    )]
    SectionPastEnd {
        /// The section's index.
        index: usize,
        /// Its file offset.
        offset: u64,
        /// Its size.
        size: u64,
        /// The file's length.
        len: u64,
    },
}

impl Diagnose for ElfProblem {}

impl Diagnose for ElfError {
    fn hint(&self) -> Option<String> {
        match self {
            ElfError::TargetMismatch { class, .. } => Some(format!(
                "give a `{}*` target, or omit `--target` to use `{}`",
                class.target_prefix(),
                class.default_target()
            )),
            ElfError::NotElf { .. }
            | ElfError::NotRiscv { .. }
            | ElfError::NotExecutable { .. }
            | ElfError::Malformed { .. } => {
                Some("sign the linked guest executable that the build produced".into())
            }
            ElfError::Read { .. } => None,
        }
    }
}

/// Checks that `path` is a well-formed little-endian RISC-V executable; returns its class.
/// Reads the headers and tables only (through a cache), so memory does not grow with the ELF.
pub fn riscv_class(path: &Path) -> Result<ElfClass, ElfError> {
    let file = std::fs::File::open(path).map_err(|source| ElfError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    riscv_class_of_reader(file, path)
}

/// Like [`riscv_class`] for a whole file held in memory.
pub fn riscv_class_of(bytes: &[u8], path: &Path) -> Result<ElfClass, ElfError> {
    check(bytes, path)
}

/// Like [`riscv_class`] for any seekable reader, read through the same cache; public only for
/// the fuzz target (`fuzz/`), which checks that it agrees with [`riscv_class_of`].
#[doc(hidden)]
pub fn riscv_class_of_reader<R: std::io::Read + std::io::Seek>(
    reader: R,
    path: &Path,
) -> Result<ElfClass, ElfError> {
    check(&ReadCache::new(reader), path)
}

fn check<'data, R: ReadRef<'data>>(data: R, path: &Path) -> Result<ElfClass, ElfError> {
    let not_elf = |problem| ElfError::NotElf {
        path: path.to_path_buf(),
        problem,
    };
    let ident = data
        .read_bytes_at(0, 16)
        .map_err(|()| not_elf(ElfProblem::NoMagic))?;
    if &ident[..4] != b"\x7fELF" {
        return Err(not_elf(ElfProblem::NoMagic));
    }
    if ident[5] != 1 {
        return Err(not_elf(ElfProblem::NotLittleEndian));
    }
    match ident[4] {
        1 => check_as::<object::elf::FileHeader32<object::Endianness>, R>(data, path)
            .map(|()| ElfClass::Elf32),
        2 => check_as::<object::elf::FileHeader64<object::Endianness>, R>(data, path)
            .map(|()| ElfClass::Elf64),
        _ => Err(not_elf(ElfProblem::UnknownClass)),
    }
}

fn check_as<'data, Elf, R>(data: R, path: &Path) -> Result<(), ElfError>
where
    Elf: FileHeader<Endian = object::Endianness>,
    R: ReadRef<'data>,
{
    let malformed = |problem| ElfError::Malformed {
        path: path.to_path_buf(),
        problem,
    };
    let header = Elf::parse(data).map_err(|e| ElfError::NotElf {
        path: path.to_path_buf(),
        problem: ElfProblem::Parse(e),
    })?;
    let endian = header
        .endian()
        .map_err(|e| malformed(ElfProblem::Parse(e)))?;
    let machine = header.e_machine(endian).0;
    if machine != EM_RISCV {
        return Err(ElfError::NotRiscv {
            path: path.to_path_buf(),
            machine,
        });
    }
    let len = data.len().map_err(|()| malformed(ElfProblem::Length))?;
    let e_type = header.e_type(endian);
    if e_type != object::elf::ET_EXEC {
        return Err(ElfError::NotExecutable {
            path: path.to_path_buf(),
            e_type: e_type.0,
        });
    }
    // `object` checks that the header tables, string and symbol tables lie within the file;
    // segment and section contents it reads lazily, so their ranges are checked here.
    let segments = header
        .program_headers(endian, data)
        .map_err(|e| malformed(ElfProblem::Parse(e)))?;
    let sections = header
        .sections(endian, data)
        .map_err(|e| malformed(ElfProblem::Parse(e)))?;
    sections
        .symbols(endian, data, object::elf::SHT_SYMTAB)
        .map_err(|e| malformed(ElfProblem::Parse(e)))?;
    let within = |offset: u64, size: u64| offset.checked_add(size).is_some_and(|end| end <= len);
    let mut loads = 0;
    for (index, segment) in segments.iter().enumerate() {
        let (offset, size) = segment.file_range(endian);
        if !within(offset, size) {
            return Err(malformed(ElfProblem::SegmentPastEnd {
                index,
                offset,
                size,
                len,
            }));
        }
        if segment.p_type(endian) == object::elf::PT_LOAD {
            loads += 1;
        }
    }
    if loads == 0 {
        return Err(malformed(ElfProblem::NoLoadableSegment));
    }
    for (index, section) in sections.iter().enumerate() {
        if let Some((offset, size)) = section.file_range(endian)
            && !within(offset, size)
        {
            return Err(malformed(ElfProblem::SectionPastEnd {
                index,
                offset,
                size,
                len,
            }));
        }
    }
    Ok(())
}

/// `object`'s messages start with a capital (`Invalid ELF …`); ours are lowercase.
fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// How an `e_type` is called in messages.
fn type_name(e_type: object::elf::FileType) -> &'static str {
    match e_type {
        object::elf::ET_NONE => "an ELF of no type (ET_NONE)",
        object::elf::ET_REL => "a relocatable object (ET_REL)",
        object::elf::ET_DYN => "a shared object or position-independent executable (ET_DYN)",
        object::elf::ET_CORE => "a core dump (ET_CORE)",
        _ => "an ELF of unknown type",
    }
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

    /// The message with its causes, as the cli prints them on one line.
    fn chain(err: &dyn std::error::Error) -> String {
        let mut text = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    }

    /// A minimal executable: the header and one `PT_LOAD` program header mapping the file.
    fn elf(class: u8, machine: u16) -> Vec<u8> {
        let (ehsize, phentsize) = if class == 1 { (52, 32) } else { (64, 56) };
        let len = ehsize + phentsize;
        let mut h = vec![0u8; len];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = class;
        h[5] = 1;
        h[6] = 1;
        h[16] = 2;
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h[20] = 1;
        let ph = ehsize;
        if class == 1 {
            h[28..32].copy_from_slice(&(ehsize as u32).to_le_bytes());
            h[40..42].copy_from_slice(&(ehsize as u16).to_le_bytes());
            h[42..44].copy_from_slice(&(phentsize as u16).to_le_bytes());
            h[44] = 1;
            h[ph] = 1; // PT_LOAD
            h[ph + 16..ph + 20].copy_from_slice(&(len as u32).to_le_bytes());
        } else {
            h[32..40].copy_from_slice(&(ehsize as u64).to_le_bytes());
            h[52..54].copy_from_slice(&(ehsize as u16).to_le_bytes());
            h[54..56].copy_from_slice(&(phentsize as u16).to_le_bytes());
            h[56] = 1;
            h[ph] = 1;
            h[ph + 32..ph + 40].copy_from_slice(&(len as u64).to_le_bytes());
        }
        h
    }

    #[test]
    fn classifies_and_checks_targets() {
        let p = Path::new("g.elf");
        assert_eq!(riscv_class_of(&elf(1, 243), p).unwrap(), ElfClass::Elf32);
        assert_eq!(riscv_class_of(&elf(2, 243), p).unwrap(), ElfClass::Elf64);
        assert!(matches!(
            riscv_class_of(&elf(2, 62), p),
            Err(ElfError::NotRiscv { machine: 62, .. })
        ));
        assert!(matches!(
            riscv_class_of(b"#!/bin/sh\n", p),
            Err(ElfError::NotElf { .. })
        ));
        assert!(matches!(
            riscv_class_of(&elf(2, 243)[..20], p),
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

    #[test]
    fn only_executables_are_guests() {
        let p = Path::new("g.o");
        for (e_type, name) in [
            (1u16, "a relocatable object (ET_REL)"),
            (4, "a core dump (ET_CORE)"),
        ] {
            let mut bytes = elf(1, 243);
            bytes[16..18].copy_from_slice(&e_type.to_le_bytes());
            let err = riscv_class_of(&bytes, p).unwrap_err();
            assert!(matches!(err, ElfError::NotExecutable { e_type: t, .. } if t == e_type));
            assert_eq!(
                err.to_string(),
                format!(
                    "`g.o` is {name} (e_type {e_type}), not an executable (ET_EXEC); only executables are guests"
                )
            );
        }
    }

    #[test]
    fn headers_and_segments_must_lie_within_the_file() {
        let p = Path::new("g.elf");
        // Program headers past the end of the file.
        let mut bytes = elf(1, 243);
        bytes[28..32].copy_from_slice(&0x10_0000u32.to_le_bytes());
        let err = riscv_class_of(&bytes, p).unwrap_err();
        assert!(matches!(err, ElfError::Malformed { .. }), "{err}");
        assert!(chain(&err).contains("program header"), "{err}");
        // A segment whose bytes run past the end.
        let mut bytes = elf(2, 243);
        bytes[64 + 32..64 + 40].copy_from_slice(&0x10_0000u64.to_le_bytes());
        let err = riscv_class_of(&bytes, p).unwrap_err();
        assert_eq!(
            chain(&err),
            "`g.elf` is a malformed ELF: program header 0 maps bytes 0..+1048576, past the end of the file (120 bytes)"
        );
        // Section headers past the end.
        let mut bytes = elf(1, 243);
        bytes[32..36].copy_from_slice(&0x10_0000u32.to_le_bytes());
        bytes[46..48].copy_from_slice(&40u16.to_le_bytes());
        bytes[48..50].copy_from_slice(&3u16.to_le_bytes());
        assert!(matches!(
            riscv_class_of(&bytes, p),
            Err(ElfError::Malformed { .. })
        ));
        // No loadable segment.
        let mut bytes = elf(1, 243);
        bytes[52] = 4; // PT_NOTE
        assert_eq!(
            chain(&riscv_class_of(&bytes, p).unwrap_err()),
            "`g.elf` is a malformed ELF: it has no loadable segment (PT_LOAD)"
        );
    }
}
