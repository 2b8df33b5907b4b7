//! How long `zkelf diff` takes on ELFs with many symbols or many sections.
//!
//! A program that prints figures, not a timed test: `cargo bench -p zkelf-builder --bench diff`
//! (add `-- 100000` to run only the cases with that many symbols or sections). The ELFs are
//! generated in memory with `object::write`; `b` differs from `a` in every tenth symbol's bytes,
//! in one symbol's size, and by one symbol renamed, so every matching path is taken.

use std::time::Instant;

use object::write::{Object, StandardSection, Symbol, SymbolSection};
use object::{Architecture, BinaryFormat, Endianness, SectionKind, SymbolFlags, SymbolKind};
use object::{SymbolScope, write::SectionId};

use zkelf_builder::diff::diff_elf;

/// `symbols` function symbols of 16 bytes in one `.text`, or one per section when `per_section`.
fn elf(symbols: usize, per_section: bool, variant: bool) -> Vec<u8> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::Riscv64, Endianness::Little);
    let text = obj.section_id(StandardSection::Text);
    for i in 0..symbols {
        let section: SectionId = if per_section {
            obj.add_section(
                Vec::new(),
                format!(".text.f{i}").into_bytes(),
                SectionKind::Text,
            )
        } else {
            text
        };
        let mut code = [0u8; 16];
        code[..8].copy_from_slice(&(i as u64).to_le_bytes());
        if variant && i % 10 == 0 {
            code[8] = 0xff;
        }
        let size = if variant && i == 1 { 12 } else { 16 };
        let offset = obj.append_section_data(section, &code[..size], 4);
        let name = if variant && i == 2 {
            format!("renamed_{i}")
        } else {
            format!("_ZN5guest6module8function{i}17h0123456789abcdefE")
        };
        obj.add_symbol(Symbol {
            name: name.into_bytes(),
            value: offset,
            size: size as u64,
            kind: SymbolKind::Text,
            scope: SymbolScope::Linkage,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        });
    }
    obj.write().expect("object writes the ELF")
}

#[allow(clippy::print_stdout)]
fn main() {
    // `cargo bench` passes `--bench`; a bare number selects the cases of that size.
    let only: Option<usize> = std::env::args().skip(1).find_map(|a| a.parse().ok());
    let cases = [
        ("symbols", 10_000, false),
        ("symbols", 100_000, false),
        ("sections", 8_000, true),
    ];
    println!(
        "{:<9} {:>8} {:>10} {:>10} {:>9}",
        "case", "count", "elf bytes", "diff ms", "changes"
    );
    for (label, count, per_section) in cases {
        if only.is_some_and(|n| n != count) {
            continue;
        }
        let (a, b) = (
            elf(count, per_section, false),
            elf(count, per_section, true),
        );
        let start = Instant::now();
        let diff = diff_elf(&a, &b, "a.elf", "b.elf").expect("both are ELFs");
        let elapsed = start.elapsed();
        println!(
            "{label:<9} {count:>8} {:>10} {:>10.1} {:>9}",
            a.len(),
            elapsed.as_secs_f64() * 1e3,
            diff.sections.len() + diff.symbols.len()
        );
    }
}
