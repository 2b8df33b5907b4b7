//! Section- and symbol-level comparison of two ELF files (`zkelf diff`, `--check-reproducible`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use zkelf_trust::digest::Sha256Digest;

mod elf;
mod render;
mod strings;

use elf::{Section, Sym};
use strings::Run;

/// At most this many symbols, strings and byte runs are reported.
const LIMIT: usize = 40;

/// Why two files could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A file cannot be read.
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file starts like a RISC Zero program binary but does not decode as one.
    #[error("`{}` is not a valid RISC Zero program binary", path.display())]
    NotProgram {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        #[source]
        source: zkelf_zkvm::risc0::Risc0Error,
    },
    /// A file is not an ELF the `object` crate parses.
    #[error("`{}` is not an ELF file", path.display())]
    NotElf {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: object::Error,
    },
}

/// How two ELF files differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ElfDiff {
    /// Whether the bytes are identical.
    pub identical: bool,
    /// The two files as compared.
    pub a: FileSummary,
    /// The two files as compared.
    pub b: FileSummary,
    /// First file offset where the bytes differ (or where the shorter file ends).
    pub first_difference: Option<u64>,
    /// The section containing `first_difference` in `a`, if any.
    pub first_difference_section: Option<String>,
    /// Whether the ELF header or program headers differ.
    pub headers_differ: bool,
    /// Sections that differ or exist in only one file.
    pub sections: Vec<SectionDiff>,
    /// Symbols that moved, resized, changed content or exist in only one file.
    pub symbols: Vec<SymbolDiff>,
    /// Printable strings near the differences.
    pub strings: Vec<NearbyString>,
    /// What differs outside the ELFs compared (the kernel of RISC Zero program binaries).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Name, size and digest of one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FileSummary {
    /// The label given (a path).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// sha256 in hex.
    pub sha256: String,
}

/// One section that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SectionDiff {
    /// Section name.
    pub name: String,
    /// `changed`, `only-in-a` or `only-in-b`.
    pub change: &'static str,
    /// Size in `a` (when present).
    pub size_a: Option<u64>,
    /// Size in `b` (when present).
    pub size_b: Option<u64>,
    /// Offset within the section of the first differing byte.
    pub first_difference: Option<u64>,
    /// Number of differing bytes over the common length.
    pub bytes_differing: u64,
}

/// One symbol that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SymbolDiff {
    /// Symbol name.
    pub name: String,
    /// Section of the symbol in `a` (or `b`).
    pub section: Option<String>,
    /// `address`, `size`, `content`, `only-in-a` or `only-in-b`.
    pub change: &'static str,
}

/// A printable string near a difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NearbyString {
    /// `a` or `b`.
    pub side: &'static str,
    /// Section it is in.
    pub section: Option<String>,
    /// File offset of its first byte.
    pub offset: u64,
    /// `path`, `time` or `text`.
    pub kind: &'static str,
    /// The string (at most 120 characters).
    pub text: String,
}

/// Compares two ELF files on disk.
pub fn diff_files(a: &Path, b: &Path) -> Result<ElfDiff, DiffError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| DiffError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let (bytes_a, bytes_b) = (read(a)?, read(b)?);
    let (name_a, name_b) = (a.display().to_string(), b.display().to_string());
    use zkelf_zkvm::risc0;
    if !(risc0::is_program_binary(&bytes_a) && risc0::is_program_binary(&bytes_b)) {
        return diff_elf(&bytes_a, &bytes_b, &name_a, &name_b);
    }
    // RISC Zero program binaries: the user ELFs are what a build changes; the kernel is pinned.
    let parts = |bytes: &[u8], path: &Path| {
        risc0::parts(bytes)
            .map(|(user, kernel)| (user.to_vec(), kernel.to_vec()))
            .map_err(|source| DiffError::NotProgram {
                path: path.to_path_buf(),
                source,
            })
    };
    let ((user_a, kernel_a), (user_b, kernel_b)) = (parts(&bytes_a, a)?, parts(&bytes_b, b)?);
    let mut diff = diff_elf(
        &user_a,
        &user_b,
        &format!("{name_a} (user ELF)"),
        &format!("{name_b} (user ELF)"),
    )?;
    if kernel_a != kernel_b {
        diff.notes.push(format!(
            "the kernels differ: sha256 {} then {}",
            Sha256Digest::of(&kernel_a),
            Sha256Digest::of(&kernel_b)
        ));
    }
    if bytes_a != bytes_b && diff.identical {
        diff.identical = false;
        if diff.notes.is_empty() {
            diff.notes.push(
                "the program binaries' headers differ (the user ELFs and kernels are identical)"
                    .into(),
            );
        }
    }
    Ok(diff)
}

/// Compares two ELF images; `name_a`/`name_b` label them in the result.
pub fn diff_elf(a: &[u8], b: &[u8], name_a: &str, name_b: &str) -> Result<ElfDiff, DiffError> {
    let (sections_a, symbols_a) = elf::parse(a, name_a)?;
    let (sections_b, symbols_b) = elf::parse(b, name_b)?;
    let summary = |name: &str, bytes: &[u8]| FileSummary {
        name: name.to_string(),
        size: bytes.len() as u64,
        sha256: Sha256Digest::of(bytes).to_string(),
    };
    let first = first_difference(a, b);
    let mut diff = ElfDiff {
        identical: a == b,
        a: summary(name_a, a),
        b: summary(name_b, b),
        first_difference: first.map(|o| o as u64),
        first_difference_section: first.and_then(|o| {
            sections_a
                .iter()
                .find(|s| s.file_range.as_ref().is_some_and(|r| r.contains(&o)))
                .map(|s| s.name.clone())
        }),
        headers_differ: false,
        sections: Vec::new(),
        symbols: Vec::new(),
        strings: Vec::new(),
        notes: Vec::new(),
    };
    if diff.identical {
        return Ok(diff);
    }
    let header_len = 64.min(a.len()).min(b.len());
    diff.headers_differ = a[..header_len] != b[..header_len] || a.len().min(64) != b.len().min(64);
    let (sections, mut runs) = compare_sections(a, b, &sections_a, &sections_b);
    diff.sections = sections;
    if let (true, Some(o)) = (runs.is_empty(), first) {
        runs.push(Run {
            a: o..o + 1,
            b: o..o + 1,
        });
    }
    diff.symbols = compare_symbols(a, b, &symbols_a, &symbols_b);
    diff.strings = strings::near_runs(a, b, &runs, &sections_a, &sections_b);
    Ok(diff)
}

/// Every section that differs (paired by name), and the byte runs that differ inside them (at
/// most 8 per section), to look for strings around.
fn compare_sections(
    a: &[u8],
    b: &[u8],
    sections_a: &[Section],
    sections_b: &[Section],
) -> (Vec<SectionDiff>, Vec<Run>) {
    let (mut out, mut runs) = (Vec::new(), Vec::new());
    let (section_pairs, section_in_a) = pair_by_name(sections_a, sections_b, |s| &s.name);
    for (sa, pair) in sections_a.iter().zip(section_pairs) {
        let Some(sb) = pair.map(|i| &sections_b[i]) else {
            out.push(SectionDiff {
                name: sa.name.clone(),
                change: "only-in-a",
                size_a: Some(sa.size),
                size_b: None,
                first_difference: None,
                bytes_differing: 0,
            });
            continue;
        };
        let (da, db) = match (&sa.file_range, &sb.file_range) {
            (Some(ra), Some(rb)) => (&a[ra.clone()], &b[rb.clone()]),
            _ => (&[][..], &[][..]),
        };
        if da == db && sa.size == sb.size {
            continue;
        }
        let common = da.len().min(db.len());
        let differing = da[..common]
            .iter()
            .zip(&db[..common])
            .filter(|(x, y)| x != y)
            .count() as u64;
        out.push(SectionDiff {
            name: sa.name.clone(),
            change: "changed",
            size_a: Some(sa.size),
            size_b: Some(sb.size),
            first_difference: first_difference(da, db).map(|o| o as u64),
            bytes_differing: differing + (da.len().max(db.len()) - common) as u64,
        });
        if let (Some(ra), Some(rb)) = (&sa.file_range, &sb.file_range) {
            for run in strings::differing_runs(da, db).into_iter().take(8) {
                runs.push(Run {
                    a: ra.start + run.start..ra.start + run.end.min(da.len()),
                    b: rb.start + run.start..rb.start + run.end.min(db.len()),
                });
            }
        }
    }
    for (sb, _) in sections_b
        .iter()
        .zip(section_in_a)
        .filter(|(_, paired)| !paired)
    {
        out.push(SectionDiff {
            name: sb.name.clone(),
            change: "only-in-b",
            size_a: None,
            size_b: Some(sb.size),
            first_difference: None,
            bytes_differing: 0,
        });
    }
    (out, runs)
}

/// Every symbol that moved, resized, changed content or exists on one side only (at most
/// [`LIMIT`]).
fn compare_symbols(a: &[u8], b: &[u8], symbols_a: &[Sym], symbols_b: &[Sym]) -> Vec<SymbolDiff> {
    let mut out = Vec::new();
    let (symbol_pairs, symbol_in_a) = pair_by_name(symbols_a, symbols_b, |s| &s.name);
    for (sym, pair) in symbols_a.iter().zip(symbol_pairs) {
        let change = match pair.map(|i| &symbols_b[i]) {
            None => Some("only-in-a"),
            Some(other) if other.size != sym.size => Some("size"),
            Some(other) if other.address != sym.address => Some("address"),
            Some(other) => match (&sym.bytes, &other.bytes) {
                (Some(ra), Some(rb)) if a[ra.clone()] != b[rb.clone()] => Some("content"),
                _ => None,
            },
        };
        if let Some(change) = change {
            out.push(SymbolDiff {
                name: sym.name.clone(),
                section: sym.section.clone(),
                change,
            });
        }
    }
    for (sym, _) in symbols_b
        .iter()
        .zip(symbol_in_a)
        .filter(|(_, paired)| !paired)
    {
        out.push(SymbolDiff {
            name: sym.name.clone(),
            section: sym.section.clone(),
            change: "only-in-b",
        });
    }
    out.truncate(LIMIT);
    out
}

fn pair_by_name<'t, T>(
    a: &'t [T],
    b: &'t [T],
    name: impl Fn(&'t T) -> &'t str,
) -> (Vec<Option<usize>>, Vec<bool>) {
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, item) in b.iter().enumerate() {
        by_name.entry(name(item)).or_default().push(i);
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut paired = vec![false; b.len()];
    let pairs = a
        .iter()
        .map(|item| {
            let occurrence = seen.entry(name(item)).or_default();
            let partner = by_name.get(name(item))?.get(*occurrence).copied();
            *occurrence += 1;
            if let Some(i) = partner {
                paired[i] = true;
            }
            partner
        })
        .collect();
    (pairs, paired)
}

/// The first offset where `a` and `b` differ, or where the shorter ends.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => Some(i),
        None if a.len() != b.len() => Some(a.len().min(b.len())),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::strings::{classify, differing_runs, strings_near};
    use super::*;

    #[test]
    fn finds_strings_and_classifies_them() {
        assert_eq!(classify("/build/src/guests/main.rs"), "path");
        assert_eq!(classify("built 2026-11-24 at 03:40:11"), "time");
        assert_eq!(classify("1764000000"), "time");
        assert_eq!(classify("zkelf-builder"), "text");
        let bytes = b"\0\0hello world\0\0/home/a/src\0x\0abc\0";
        let found = strings_near(bytes, 20..21);
        assert_eq!(
            found,
            vec![
                (2, "hello world".to_string()),
                (15, "/home/a/src".to_string())
            ]
        );
    }

    #[test]
    fn merges_runs() {
        assert_eq!(differing_runs(b"aaaaaaaa", b"abaaabaa"), vec![1..6]);
        assert_eq!(differing_runs(b"aa", b"aab"), vec![2..3]);
    }

    /// A relocatable RISC-V ELF: sections by name and contents (names may repeat), and symbols
    /// as (name, index into `sections`, offset, size).
    fn elf(sections: &[(&str, &[u8])], symbols: &[(&str, usize, u64, u64)]) -> Vec<u8> {
        use object::write::{Object, Symbol, SymbolSection};
        use object::{SectionKind, SymbolFlags, SymbolKind, SymbolScope};
        let mut obj = Object::new(
            object::BinaryFormat::Elf,
            object::Architecture::Riscv64,
            object::Endianness::Little,
        );
        let ids: Vec<_> = sections
            .iter()
            .map(|(name, data)| {
                let id = obj.add_section(Vec::new(), name.as_bytes().to_vec(), SectionKind::Data);
                obj.append_section_data(id, data, 1);
                id
            })
            .collect();
        for &(name, section, value, size) in symbols {
            obj.add_symbol(Symbol {
                name: name.as_bytes().to_vec(),
                value,
                size,
                kind: SymbolKind::Data,
                scope: SymbolScope::Compilation,
                weak: false,
                section: SymbolSection::Section(ids[section]),
                flags: SymbolFlags::None,
            });
        }
        obj.write().unwrap()
    }

    fn changes<'d>(
        items: impl IntoIterator<Item = (&'d str, &'static str)>,
    ) -> Vec<(String, &'static str)> {
        items
            .into_iter()
            .filter(|(name, _)| !matches!(*name, ".symtab" | ".strtab" | ".shstrtab"))
            .map(|(name, change)| (name.to_string(), change))
            .collect()
    }

    fn section_changes(diff: &ElfDiff) -> Vec<(String, &'static str)> {
        changes(diff.sections.iter().map(|s| (s.name.as_str(), s.change)))
    }

    fn symbol_changes(diff: &ElfDiff) -> Vec<(String, &'static str)> {
        changes(diff.symbols.iter().map(|s| (s.name.as_str(), s.change)))
    }

    #[test]
    fn reports_in_the_order_of_a_then_what_only_b_has() {
        let a = elf(
            &[(".text", b"abcdefgh"), (".gone", b"1234"), (".same", b"xy")],
            &[
                ("f", 0, 0, 4),
                ("g", 0, 4, 4),
                ("gone", 1, 0, 4),
                ("same", 2, 0, 2),
            ],
        );
        let b = elf(
            &[(".same", b"xy"), (".new", b"5678"), (".text", b"abcdXfgh")],
            &[
                ("new", 1, 0, 4),
                ("g", 2, 4, 4),
                ("f", 2, 0, 4),
                ("same", 0, 0, 2),
            ],
        );
        let diff = diff_elf(&a, &b, "a", "b").unwrap();
        let owned = |v: &[(&str, &'static str)]| changes(v.iter().copied());
        assert_eq!(
            section_changes(&diff),
            owned(&[
                (".text", "changed"),
                (".gone", "only-in-a"),
                (".new", "only-in-b")
            ])
        );
        assert_eq!(
            symbol_changes(&diff),
            owned(&[
                ("g", "content"),
                ("gone", "only-in-a"),
                ("new", "only-in-b")
            ])
        );
    }

    /// Local symbols and COMDAT sections repeat names: the k-th of a name in `a` is compared
    /// with the k-th in `b`, and each symbol's bytes come from its own section.
    #[test]
    fn pairs_repeated_names_by_occurrence() {
        let a = elf(
            &[(".text.dup", b"1111"), (".text.dup", b"2222")],
            &[
                ("dup", 0, 0, 4),
                ("dup", 1, 0, 4),
                ("local", 0, 0, 2),
                ("local", 0, 2, 2),
            ],
        );
        let b = elf(
            &[
                (".text.dup", b"1111"),
                (".text.dup", b"2X22"),
                (".text.dup", b"3333"),
            ],
            &[
                ("dup", 0, 0, 4),
                ("dup", 1, 0, 4),
                ("local", 0, 0, 2),
                ("local", 0, 2, 2),
                ("local", 2, 0, 2),
            ],
        );
        let diff = diff_elf(&a, &b, "a", "b").unwrap();
        let owned = |v: &[(&str, &'static str)]| changes(v.iter().copied());
        assert_eq!(
            section_changes(&diff),
            owned(&[(".text.dup", "changed"), (".text.dup", "only-in-b")])
        );
        assert_eq!(diff.sections[0].first_difference, Some(1));
        assert_eq!(
            symbol_changes(&diff),
            owned(&[("dup", "content"), ("local", "only-in-b")])
        );
    }

    #[test]
    fn reports_only_strings_the_other_file_lacks() {
        let a = elf(
            &[(
                ".rodata",
                b"\0/home/alice/src/main.rs\0moved string\0needle_string\0",
            )],
            &[],
        );
        let b = elf(
            &[(
                ".rodata",
                b"\0/home/bob/src/main.rs\0moved string\0xx_needle_string_yy\0",
            )],
            &[],
        );
        let diff = diff_elf(&a, &b, "a", "b").unwrap();
        let strings: Vec<_> = diff
            .strings
            .iter()
            .map(|s| (s.side, s.kind, s.text.as_str()))
            .collect();
        assert_eq!(
            strings,
            [
                ("a", "path", "/home/alice/src/main.rs"),
                ("b", "path", "/home/bob/src/main.rs"),
                ("b", "text", "xx_needle_string_yy"),
            ]
        );
    }

    #[test]
    fn rejects_non_elf() {
        let err = diff_elf(b"not an elf", b"not an elf", "x", "y").unwrap_err();
        assert_eq!(err.to_string(), "`x` is not an ELF file");
    }
}
