//! Section- and symbol-level comparison of two ELF files (`zkelf diff`, `--check-reproducible`).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use object::{Object, ObjectSection, ObjectSymbol};
use serde::Serialize;

use zkelf_trust::digest::Sha256Digest;

/// At most this many symbols, strings and byte runs are reported.
const LIMIT: usize = 40;
/// Bytes either side of a difference searched for strings.
const WINDOW: usize = 96;

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

struct Section {
    name: String,
    file_range: Option<Range<usize>>,
    size: u64,
    address: u64,
}

struct Sym {
    name: String,
    address: u64,
    size: u64,
    section: Option<String>,
    bytes: Option<Range<usize>>,
}

fn parse(bytes: &[u8], name: &str) -> Result<(Vec<Section>, Vec<Sym>), DiffError> {
    let file = object::File::parse(bytes).map_err(|source| DiffError::NotElf {
        path: PathBuf::from(name),
        source,
    })?;
    let mut sections = Vec::new();
    // Where each ELF section landed in `sections`: symbols find theirs by index, not by name,
    // since names repeat.
    let mut position = HashMap::new();
    for section in file.sections() {
        let name = section.name().unwrap_or("?").to_string();
        if name.is_empty() {
            continue;
        }
        position.insert(section.index(), sections.len());
        let file_range = section.file_range().and_then(|(off, len)| {
            let start = usize::try_from(off).ok()?;
            let end = start.checked_add(usize::try_from(len).ok()?)?;
            (end <= bytes.len()).then_some(start..end)
        });
        sections.push(Section {
            name,
            file_range,
            size: section.size(),
            address: section.address(),
        });
    }
    let mut symbols = Vec::new();
    for symbol in file.symbols() {
        let Ok(name) = symbol.name() else { continue };
        // `$x`/`$d` are RISC-V mapping symbols, one per code/data run: noise in a diff.
        if name.is_empty() || name.starts_with('$') {
            continue;
        }
        let index = symbol.section_index();
        let section = index
            .and_then(|i| file.section_by_index(i).ok())
            .and_then(|s| s.name().ok().map(str::to_string));
        let bytes = index
            .and_then(|i| position.get(&i))
            .map(|&p| &sections[p])
            .and_then(|s| {
                let range = s.file_range.clone()?;
                let start =
                    range.start + usize::try_from(symbol.address().checked_sub(s.address)?).ok()?;
                let end = start.checked_add(usize::try_from(symbol.size()).ok()?)?;
                (end <= range.end && symbol.size() > 0).then_some(start..end)
            });
        symbols.push(Sym {
            name: name.to_string(),
            address: symbol.address(),
            size: symbol.size(),
            section,
            bytes,
        });
    }
    Ok((sections, symbols))
}

/// Compares two ELF images; `name_a`/`name_b` label them in the result.
pub fn diff_elf(a: &[u8], b: &[u8], name_a: &str, name_b: &str) -> Result<ElfDiff, DiffError> {
    let (sections_a, symbols_a) = parse(a, name_a)?;
    let (sections_b, symbols_b) = parse(b, name_b)?;
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

    // Byte runs that differ, as (range in a, range in b), to look for strings around.
    let mut runs: Vec<(Range<usize>, Range<usize>, Option<String>)> = Vec::new();
    let (section_pairs, section_in_a) = pair_by_name(&sections_a, &sections_b, |s| &s.name);
    for (sa, pair) in sections_a.iter().zip(section_pairs) {
        let Some(sb) = pair.map(|i| &sections_b[i]) else {
            diff.sections.push(SectionDiff {
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
        diff.sections.push(SectionDiff {
            name: sa.name.clone(),
            change: "changed",
            size_a: Some(sa.size),
            size_b: Some(sb.size),
            first_difference: first_difference(da, db).map(|o| o as u64),
            bytes_differing: differing + (da.len().max(db.len()) - common) as u64,
        });
        if let (Some(ra), Some(rb)) = (&sa.file_range, &sb.file_range) {
            for run in differing_runs(da, db).into_iter().take(8) {
                runs.push((
                    ra.start + run.start..ra.start + run.end.min(da.len()),
                    rb.start + run.start..rb.start + run.end.min(db.len()),
                    Some(sa.name.clone()),
                ));
            }
        }
    }
    for (sb, _) in sections_b
        .iter()
        .zip(section_in_a)
        .filter(|(_, paired)| !paired)
    {
        diff.sections.push(SectionDiff {
            name: sb.name.clone(),
            change: "only-in-b",
            size_a: None,
            size_b: Some(sb.size),
            first_difference: None,
            bytes_differing: 0,
        });
    }
    if let (true, Some(o)) = (runs.is_empty(), first) {
        runs.push((o..o + 1, o..o + 1, None));
    }

    let (symbol_pairs, symbol_in_a) = pair_by_name(&symbols_a, &symbols_b, |s| &s.name);
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
            diff.symbols.push(SymbolDiff {
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
        diff.symbols.push(SymbolDiff {
            name: sym.name.clone(),
            section: sym.section.clone(),
            change: "only-in-b",
        });
    }
    diff.symbols.truncate(LIMIT);

    let (mut in_a, mut in_b) = (Strings::new(a), Strings::new(b));
    'runs: for (ra, rb, _) in &runs {
        for (side, bytes, other, range, sections) in [
            ("a", a, &mut in_b, ra, &sections_a),
            ("b", b, &mut in_a, rb, &sections_b),
        ] {
            for (offset, text) in strings_near(bytes, range.clone()) {
                if diff.strings.len() >= LIMIT {
                    break 'runs;
                }
                // A string both files contain only moved; the ones that differ are the cause.
                if other.contains(text.as_bytes())
                    || diff
                        .strings
                        .iter()
                        .any(|s| s.side == side && s.offset == offset as u64)
                {
                    continue;
                }
                let section = sections
                    .iter()
                    .find(|s| s.file_range.as_ref().is_some_and(|r| r.contains(&offset)))
                    .map(|s| s.name.clone());
                diff.strings.push(NearbyString {
                    side,
                    section,
                    offset: offset as u64,
                    kind: classify(&text),
                    text,
                });
            }
        }
    }
    Ok(diff)
}

/// Pairs the items of `a` and `b` that share a name, the k-th of a name in `a` with the k-th of it
/// in `b` (names repeat in real ELFs: local symbols, COMDAT sections). Returns the partner in `b`
/// of each item of `a`, and whether each item of `b` has one.
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

/// Substring search in one file, with its whole printable strings indexed: a string near a
/// difference is usually one the other file holds whole, found without scanning the file.
struct Strings<'b> {
    bytes: &'b [u8],
    whole: Option<HashSet<&'b [u8]>>,
}

impl<'b> Strings<'b> {
    fn new(bytes: &'b [u8]) -> Self {
        Self { bytes, whole: None }
    }

    fn contains(&mut self, needle: &[u8]) -> bool {
        let whole = self.whole.get_or_insert_with(|| {
            self.bytes
                .split(|&b| !is_printable(b))
                .filter(|s| s.len() >= 6)
                .collect()
        });
        needle.is_empty()
            || whole.contains(needle)
            || memchr::memmem::find(self.bytes, needle).is_some()
    }
}

fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => Some(i),
        None if a.len() != b.len() => Some(a.len().min(b.len())),
        None => None,
    }
}

/// Runs of differing bytes over the common length (adjacent runs within 16 bytes merged),
/// plus the tail when the lengths differ.
fn differing_runs(a: &[u8], b: &[u8]) -> Vec<Range<usize>> {
    let common = a.len().min(b.len());
    let mut runs: Vec<Range<usize>> = Vec::new();
    for i in (0..common).filter(|&i| a[i] != b[i]) {
        match runs.last_mut() {
            Some(last) if i <= last.end + 16 => last.end = i + 1,
            _ => runs.push(i..i + 1),
        }
        if runs.len() > LIMIT {
            break;
        }
    }
    if a.len() != b.len() {
        runs.push(common..a.len().max(b.len()));
    }
    runs
}

/// Printable ASCII runs of at least 6 bytes that overlap `range` widened by `WINDOW`.
fn strings_near(bytes: &[u8], range: Range<usize>) -> Vec<(usize, String)> {
    let start = range.start.saturating_sub(WINDOW);
    let end = (range.end + WINDOW).min(bytes.len());
    if start >= end {
        return Vec::new();
    }
    // Extend to the whole string the window cuts into.
    let mut s = start;
    while s > 0 && is_printable(bytes[s - 1]) {
        s -= 1;
    }
    let mut e = end;
    while e < bytes.len() && is_printable(bytes[e]) {
        e += 1;
    }
    let mut found = Vec::new();
    let mut i = s;
    while i < e {
        if !is_printable(bytes[i]) {
            i += 1;
            continue;
        }
        let begin = i;
        while i < e && is_printable(bytes[i]) {
            i += 1;
        }
        // Shorter runs are mostly instruction bytes that happen to be printable.
        if i - begin >= 6 {
            let text: String = String::from_utf8_lossy(&bytes[begin..i])
                .chars()
                .take(120)
                .collect();
            found.push((begin, text));
        }
    }
    found
}

fn is_printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || b == b'\t'
}

/// `path`, `time` or `text`.
fn classify(text: &str) -> &'static str {
    let bytes = text.as_bytes();
    let digits_at = |i: usize, n: usize| {
        bytes
            .get(i..i + n)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let looks_like_time = (0..bytes.len()).any(|i| {
        // 12:34:56, 2026-11-24, or a 10-digit unix time.
        (digits_at(i, 2) && bytes.get(i + 2) == Some(&b':') && digits_at(i + 3, 2))
            || (digits_at(i, 4)
                && bytes.get(i + 4) == Some(&b'-')
                && digits_at(i + 5, 2)
                && bytes.get(i + 7) == Some(&b'-'))
            || (digits_at(i, 10)
                && !digits_at(i + 10, 1)
                && (i == 0 || !bytes[i - 1].is_ascii_digit()))
    }) || [
        "Jan ", "Feb ", "Mar ", "Apr ", "May ", "Jun ", "Jul ", "Aug ", "Sep ", "Oct ", "Nov ",
        "Dec ",
    ]
    .iter()
    .any(|m| text.contains(m));
    if text.contains('/')
        && (text.starts_with('/')
            || text.contains("/src")
            || text.contains("/home")
            || text.contains("/tmp")
            || text.contains(".rs")
            || text.contains(".c"))
    {
        "path"
    } else if looks_like_time {
        "time"
    } else {
        "text"
    }
}

impl ElfDiff {
    /// The diff as text for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.identical {
            let _ = writeln!(
                out,
                "identical: {} bytes, sha256 {}",
                self.a.size, self.a.sha256
            );
            return out;
        }
        for (label, f) in [("a", &self.a), ("b", &self.b)] {
            let _ = writeln!(
                out,
                "{label}: {} ({} bytes, sha256 {})",
                f.name, f.size, f.sha256
            );
        }
        if let Some(offset) = self.first_difference {
            let _ = write!(out, "first difference at file offset {offset:#x}");
            match &self.first_difference_section {
                Some(section) => {
                    let _ = writeln!(out, " (in section `{section}`)");
                }
                None => out.push('\n'),
            }
        }
        if self.headers_differ {
            let _ = writeln!(out, "the ELF header differs");
        }
        for note in &self.notes {
            let _ = writeln!(out, "{note}");
        }
        if !self.sections.is_empty() {
            let _ = writeln!(out, "sections:");
            for s in &self.sections {
                let size = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
                let _ = write!(
                    out,
                    "  {:<20} {:<10} size {} -> {}",
                    s.name,
                    s.change,
                    size(s.size_a),
                    size(s.size_b)
                );
                if let Some(first) = s.first_difference {
                    let _ = write!(out, ", {} bytes differ from +{first:#x}", s.bytes_differing);
                }
                out.push('\n');
            }
        }
        if !self.symbols.is_empty() {
            let _ = writeln!(out, "symbols:");
            for s in &self.symbols {
                let _ = writeln!(
                    out,
                    "  {:<40} {:<10} {}",
                    s.name,
                    s.change,
                    s.section.as_deref().unwrap_or("")
                );
            }
        }
        if !self.strings.is_empty() {
            let _ = writeln!(out, "strings near the differences:");
            for s in &self.strings {
                let _ = writeln!(
                    out,
                    "  {} {:#08x} {:<5} {:<10} {:?}",
                    s.side,
                    s.offset,
                    s.kind,
                    s.section.as_deref().unwrap_or(""),
                    s.text
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
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
