//! What the diff reads of an ELF: its named sections (with their bytes' file range) and its
//! symbols (with their bytes, found through their section by index).

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;

use object::{Object, ObjectSection, ObjectSymbol};

use super::DiffError;

/// A named section.
pub(super) struct Section {
    pub name: String,
    pub file_range: Option<Range<usize>>,
    pub size: u64,
    pub address: u64,
}

/// A named symbol (not a RISC-V mapping symbol).
pub(super) struct Sym {
    pub name: String,
    pub address: u64,
    pub size: u64,
    pub section: Option<String>,
    pub bytes: Option<Range<usize>>,
}

/// The sections and symbols of the ELF `bytes` (`name` labels it in errors).
pub(super) fn parse(bytes: &[u8], name: &str) -> Result<(Vec<Section>, Vec<Sym>), DiffError> {
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
