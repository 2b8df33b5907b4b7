//! The printable strings near the bytes that differ: what usually names the cause (a path, a
//! hostname, a time) of a build that does not reproduce.

use std::collections::HashSet;
use std::ops::Range;

use super::elf::Section;
use super::{LIMIT, NearbyString};

/// Bytes either side of a difference searched for strings.
const WINDOW: usize = 96;

/// A run of differing bytes, as its range in each file.
pub(super) struct Run {
    pub a: Range<usize>,
    pub b: Range<usize>,
}

/// The strings (at most [`LIMIT`]) near `runs` in either file that the other file does not
/// contain (a string both hold only moved), each with its section.
pub(super) fn near_runs(
    a: &[u8],
    b: &[u8],
    runs: &[Run],
    sections_a: &[Section],
    sections_b: &[Section],
) -> Vec<NearbyString> {
    let mut found: Vec<NearbyString> = Vec::new();
    let (mut in_a, mut in_b) = (Strings::new(a), Strings::new(b));
    'runs: for run in runs {
        for (side, bytes, other, range, sections) in [
            ("a", a, &mut in_b, &run.a, sections_a),
            ("b", b, &mut in_a, &run.b, sections_b),
        ] {
            for (offset, text) in strings_near(bytes, range.clone()) {
                if found.len() >= LIMIT {
                    break 'runs;
                }
                // A string both files contain only moved; the ones that differ are the cause.
                if other.contains(text.as_bytes())
                    || found
                        .iter()
                        .any(|s| s.side == side && s.offset == offset as u64)
                {
                    continue;
                }
                let section = sections
                    .iter()
                    .find(|s| s.file_range.as_ref().is_some_and(|r| r.contains(&offset)))
                    .map(|s| s.name.clone());
                found.push(NearbyString {
                    side,
                    section,
                    offset: offset as u64,
                    kind: classify(&text),
                    text,
                });
            }
        }
    }
    found
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

/// Runs of differing bytes over the common length (adjacent runs within 16 bytes merged),
/// plus the tail when the lengths differ.
pub(super) fn differing_runs(a: &[u8], b: &[u8]) -> Vec<Range<usize>> {
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
pub(super) fn strings_near(bytes: &[u8], range: Range<usize>) -> Vec<(usize, String)> {
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
pub(super) fn classify(text: &str) -> &'static str {
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
