//! How reports render as text, and the one escaping of untrusted strings: a leaf that
//! `reports/`, the printer and the error document share.

use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;

/// A command's result: serialized as-is for `--json`, rendered by `human` otherwise.
pub trait Report: Serialize + Documented {
    /// Writes the human rendering (data only; it goes to stdout).
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()>;
}

/// What every report must be to have its `--json` document published (`reports/schema.rs`,
/// `docs/schemas/`): in test builds, a type with a JSON Schema, so a report that does not derive
/// `JsonSchema` fails to compile its tests (and clippy `--all-targets`); nothing otherwise.
#[cfg(test)]
pub trait Documented: schemars::JsonSchema {}
#[cfg(test)]
impl<T: schemars::JsonSchema> Documented for T {}
/// Nothing outside test builds, which carry no schema code.
#[cfg(not(test))]
pub trait Documented {}
#[cfg(not(test))]
impl<T> Documented for T {}

/// A string from a store or a file zkelf does not trust, made safe to print on one line: C0
/// controls (ESC, CR, LF, tab…), DEL, C1 controls and the bidi overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069, and the marks U+200E, U+200F, U+061C) are shown as escapes
/// (`\x1b`, `\r`, `\u{202e}`), so such a string cannot move the cursor, clear the screen,
/// reorder the text or start a line of its own. JSON output needs none of this: serde escapes.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_with(text, false)
}

/// Like [`escape`] for text of several lines: newlines are kept.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    escape_with(text, true)
}

fn escape_with(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && !(keep_newlines && c == '\n'))
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}')
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            c if !unsafe_char(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// Prints a statement's fields, one per line.
pub fn write_statement(
    out: &mut dyn Write,
    s: &zkelf_trust::statement::Statement,
) -> std::io::Result<()> {
    let dash = |d: &Option<zkelf_trust::digest::Sha256Digest>| {
        d.map_or_else(|| "-".to_string(), |d| d.to_string())
    };
    writeln!(out, "  kind        {}", s.kind)?;
    writeln!(out, "  guest       {}", s.guest)?;
    writeln!(out, "  version     {}", s.version)?;
    writeln!(out, "  zkvm        {}", s.zkvm)?;
    writeln!(out, "  target      {}", s.target)?;
    writeln!(out, "  sha256      {}", s.sha256)?;
    writeln!(out, "  size        {}", s.size)?;
    writeln!(out, "  provenance  {}", dash(&s.provenance))?;
    writeln!(out, "  vk          {}", dash(&s.vk))?;
    if let Some(builder) = &s.builder {
        writeln!(out, "  builder     {builder}")?;
    }
    writeln!(out, "  created     {}", s.created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_act_on() {
        assert!(matches!(escape("fib 1.0.0 ünïcode"), Cow::Borrowed(_)));
        assert_eq!(
            escape("a\x1b[2J\x1b[H\rverdict ok\nb\tc\x7f\u{9b}31m"),
            "a\\x1b[2J\\x1b[H\\rverdict ok\\nb\\tc\\x7f\\u{9b}31m"
        );
        assert_eq!(
            escape("\u{202e}gpj.exe\u{2066}x\u{2069}\u{200f}"),
            "\\u{202e}gpj.exe\\u{2066}x\\u{2069}\\u{200f}"
        );
        assert_eq!(escape_lines("one\ntwo\x1b[1A\r"), "one\ntwo\\x1b[1A\\r");
    }
}
