//! The diff as text for people (`zkelf diff`, a `--check-reproducible` failure).

use std::fmt::Write as _;

use super::ElfDiff;

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
