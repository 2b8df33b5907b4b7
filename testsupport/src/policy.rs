//! A typed builder of trust policy files (SPEC's policy section, read by
//! `zkelf_trust::policy::Policy::load`), so no test writes policy TOML by hand.
//!
//! ```ignore
//! let toml = PolicyFile::new()
//!     .key(Key::release("rel", &public_base64).guests(["fib"]))
//!     .key(Key::rebuild("auditor-a", &auditor_base64))
//!     .require(1, 1)
//!     .write(&dir.join("policy.toml"));
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A whole policy: version, revoked key ids, trusted keys and the `[require]` table.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    version: i64,
    revoked: Vec<String>,
    keys: Vec<Key>,
    require: Option<(u32, u32)>,
    padding: String,
    extra: String,
}

impl Default for PolicyFile {
    fn default() -> Self {
        Self::new()
    }
}

impl PolicyFile {
    /// `version = 1`, nothing revoked, no keys, no `[require]` table (release = 1, rebuild = 0).
    pub fn new() -> Self {
        Self {
            version: 1,
            revoked: Vec::new(),
            keys: Vec::new(),
            require: None,
            padding: String::new(),
            extra: String::new(),
        }
    }

    /// Another `version =` (to test its rejection).
    pub fn version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// Adds a key id to `revoked`.
    pub fn revoke(mut self, key_id: impl Into<String>) -> Self {
        self.revoked.push(key_id.into());
        self
    }

    /// Adds a `[[key]]` table.
    pub fn key(mut self, key: Key) -> Self {
        self.keys.push(key);
        self
    }

    /// `[require] release = … rebuild = …`.
    pub fn require(mut self, release: u32, rebuild: u32) -> Self {
        self.require = Some((release, rebuild));
        self
    }

    /// Raw TOML written after the keys and before `[require]` (comments that push `[require]`
    /// past a size bound).
    pub fn padding(mut self, toml: &str) -> Self {
        self.padding.push_str(toml);
        self
    }

    /// Raw TOML appended at the end, for near-misses the builder cannot express (an unknown
    /// field, a malformed value).
    pub fn raw(mut self, toml: &str) -> Self {
        self.extra.push_str(toml);
        self
    }

    /// The policy as TOML text.
    pub fn render(&self) -> String {
        let mut text = format!("version = {}\n", self.version);
        let revoked: Vec<String> = self.revoked.iter().map(|id| quote(id)).collect();
        writeln!(text, "revoked = [{}]", revoked.join(", ")).unwrap();
        for key in &self.keys {
            text.push('\n');
            key.render_into(&mut text);
        }
        text.push_str(&self.padding);
        if let Some((release, rebuild)) = self.require {
            write!(
                text,
                "\n[require]\nrelease = {release}\nrebuild = {rebuild}\n"
            )
            .unwrap();
        }
        if !self.extra.is_empty() {
            text.push('\n');
            text.push_str(&self.extra);
        }
        text
    }

    /// Writes the policy to `path` and returns it.
    pub fn write(&self, path: &Path) -> PathBuf {
        std::fs::write(path, self.render()).unwrap();
        path.to_path_buf()
    }
}

/// One `[[key]]`: a name, the key (inline base64 or a file), roles, guests and `not_after`.
#[derive(Debug, Clone)]
pub struct Key {
    name: String,
    source: KeySource,
    roles: Vec<String>,
    guests: Option<Vec<String>>,
    not_after: Option<String>,
    extra: String,
}

#[derive(Debug, Clone)]
enum KeySource {
    Public(String),
    File(String),
}

impl Key {
    /// A key given inline (`public = "RW…"`) with the given roles.
    pub fn public(name: &str, base64: &str, roles: &[&str]) -> Self {
        Self {
            name: name.into(),
            source: KeySource::Public(base64.into()),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            guests: None,
            not_after: None,
            extra: String::new(),
        }
    }

    /// A key read from a file relative to the policy (`file = "…"`) with the given roles.
    pub fn file(name: &str, file: &str, roles: &[&str]) -> Self {
        Self {
            source: KeySource::File(file.into()),
            ..Self::public(name, "", roles)
        }
    }

    /// An inline key with the `release` role.
    pub fn release(name: &str, base64: &str) -> Self {
        Self::public(name, base64, &["release"])
    }

    /// An inline key with the `rebuild` role.
    pub fn rebuild(name: &str, base64: &str) -> Self {
        Self::public(name, base64, &["rebuild"])
    }

    /// Limits the key to these guest patterns (`guests = [...]`).
    pub fn guests<I: IntoIterator<Item = S>, S: Into<String>>(mut self, guests: I) -> Self {
        self.guests = Some(guests.into_iter().map(Into::into).collect());
        self
    }

    /// `not_after = <date>` (a TOML local date, `YYYY-MM-DD`, written as given).
    pub fn not_after(mut self, date: &str) -> Self {
        self.not_after = Some(date.into());
        self
    }

    /// A raw line at the end of the table, for a field the policy does not know (`weight = 2`).
    pub fn raw(mut self, line: &str) -> Self {
        self.extra.push_str(line);
        self.extra.push('\n');
        self
    }

    fn render_into(&self, text: &mut String) {
        writeln!(text, "[[key]]\nname = {}", quote(&self.name)).unwrap();
        match &self.source {
            KeySource::Public(key) => writeln!(text, "public = {}", quote(key)).unwrap(),
            KeySource::File(file) => writeln!(text, "file = {}", quote(file)).unwrap(),
        }
        let roles: Vec<String> = self.roles.iter().map(|r| quote(r)).collect();
        writeln!(text, "roles = [{}]", roles.join(", ")).unwrap();
        if let Some(guests) = &self.guests {
            let guests: Vec<String> = guests.iter().map(|g| quote(g)).collect();
            writeln!(text, "guests = [{}]", guests.join(", ")).unwrap();
        }
        if let Some(date) = &self.not_after {
            writeln!(text, "not_after = {date}").unwrap();
        }
        text.push_str(&self.extra);
    }
}

/// A TOML basic string.
fn quote(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_the_policy_loader_reads() {
        let text = PolicyFile::new()
            .revoke("0123456789ABCDEF")
            .key(
                Key::release("rel", "RWabc")
                    .guests(["fi*"])
                    .not_after("2999-12-31"),
            )
            .key(Key::file("aud", "aud.pub", &["rebuild"]))
            .require(1, 1)
            .render();
        assert_eq!(
            text,
            "version = 1\nrevoked = [\"0123456789ABCDEF\"]\n\n[[key]]\nname = \"rel\"\npublic = \"RWabc\"\nroles = [\"release\"]\nguests = [\"fi*\"]\nnot_after = 2999-12-31\n\n[[key]]\nname = \"aud\"\nfile = \"aud.pub\"\nroles = [\"rebuild\"]\n\n[require]\nrelease = 1\nrebuild = 1\n"
        );
    }
}
