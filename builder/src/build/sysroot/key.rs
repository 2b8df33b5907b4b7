//! The sysroot's key: everything that decides its bytes, as a document whose canonical JSON
//! hashes to the key.

use std::collections::BTreeMap;

use serde::Serialize;
use zkelf_trust::digest::Sha256Digest;

use crate::error::problem::ManifestProblem;

/// Bumped whenever the sysroot step changes: old entries stop matching.
pub(crate) const FORMAT: u32 = 1;

/// Everything that decides the bytes of a sysroot. The key is the sha256 of its canonical JSON
/// (sorted keys, no whitespace), so neither the order of the build-std crates and features
/// nor the layout of the guest's `Cargo.toml` changes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyDocument {
    pub format: u32,
    /// The builder image's id.
    pub image: String,
    /// The target triple (for a JSON spec, its file stem).
    pub target: String,
    /// sha256 of the JSON target spec, if any.
    pub target_spec_sha256: Option<String>,
    /// `-Zbuild-std` crates (sorted, deduplicated).
    pub build_std: Vec<String>,
    /// `-Zbuild-std-features` (sorted, deduplicated).
    pub build_std_features: Vec<String>,
    /// The rustc flags std is compiled with, in order (order matters to rustc).
    pub rustflags: Vec<String>,
    /// The profile's environment (build scripts of std's dependencies read it).
    pub env: BTreeMap<String, String>,
    /// The guest workspace's `[profile.release]`, as parsed TOML (JSON, sorted keys).
    pub profile_release: serde_json::Value,
}

impl KeyDocument {
    /// A key document; sorts the sets and parses `profile_release` (the table's TOML text, or
    /// the whole `Cargo.toml` of the workspace root).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        image: &str,
        target: &str,
        target_spec: Option<&str>,
        build_std: &[String],
        build_std_features: &[String],
        rustflags: &[String],
        env: &BTreeMap<String, String>,
        workspace_manifest: &str,
    ) -> Result<Self, ManifestProblem> {
        let set = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v.dedup();
            v
        };
        let table: toml::Table = workspace_manifest
            .parse()
            .map_err(|e: toml::de::Error| ManifestProblem::Workspace(e.message().to_string()))?;
        let release = table
            .get("profile")
            .and_then(|p| p.get("release"))
            .cloned()
            .unwrap_or(toml::Value::Table(Default::default()));
        let profile_release = serde_json::to_value(sorted(&release))
            .map_err(|e| ManifestProblem::Workspace(e.to_string()))?;
        Ok(Self {
            format: FORMAT,
            image: image.into(),
            target: target.into(),
            target_spec_sha256: target_spec.map(|s| Sha256Digest::of(s.as_bytes()).to_string()),
            build_std: set(build_std),
            build_std_features: set(build_std_features),
            rustflags: rustflags.to_vec(),
            env: env.clone(),
            profile_release,
        })
    }

    /// The canonical bytes: compact JSON with sorted keys.
    pub fn canonical(&self) -> Vec<u8> {
        // serde_json's map is a BTreeMap (no `preserve_order`), and `sorted` made the TOML
        // tables maps, so every object's keys come out sorted.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The key: sha256 of the canonical bytes, hex.
    pub fn key(&self) -> String {
        Sha256Digest::of(&self.canonical()).to_string()
    }

    /// The document as JSON (what the provenance records).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// A TOML value with every table as a sorted map (whatever toml's map type is).
fn sorted(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), sorted(v)))
                .collect::<serde_json::Map<_, _>>(),
        ),
        toml::Value::Array(a) => serde_json::Value::Array(a.iter().map(sorted).collect()),
        toml::Value::String(s) => s.clone().into(),
        toml::Value::Integer(i) => (*i).into(),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or_else(|| f.to_string().into()),
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Datetime(d) => d.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WS: &str = "[workspace]\nmembers = []\n\n[profile.release]\npanic = \"abort\"\nopt-level = \"s\"\nlto = true\n";

    fn doc(ws: &str) -> KeyDocument {
        KeyDocument::new(
            "sha256:img",
            "riscv64im-unknown-none-elf",
            None,
            &["core".into(), "alloc".into()],
            &["compiler-builtins-mem".into()],
            &["-Ccodegen-units=1".into()],
            &BTreeMap::new(),
            ws,
        )
        .unwrap()
    }

    #[test]
    fn the_key_ignores_order_and_whitespace() {
        let base = doc(WS);
        let reordered = "[profile.release]\nlto=true\n  opt-level = 's'\npanic='abort'\n[workspace]\nmembers=[]\n";
        assert_eq!(base.key(), doc(reordered).key());
        let other_set = KeyDocument::new(
            "sha256:img",
            "riscv64im-unknown-none-elf",
            None,
            &["alloc".into(), "core".into(), "core".into()],
            &["compiler-builtins-mem".into()],
            &["-Ccodegen-units=1".into()],
            &BTreeMap::new(),
            WS,
        )
        .unwrap();
        assert_eq!(base.key(), other_set.key());
        // Only the release profile counts, not the rest of the workspace.
        assert_eq!(
            base.key(),
            doc(&format!("{WS}\n[profile.dev]\nopt-level = 1\n")).key()
        );
    }

    #[test]
    fn every_input_changes_the_key() {
        let base = doc(WS);
        let mut variants = Vec::new();
        let mut d = base.clone();
        d.image = "sha256:other".into();
        variants.push(d);
        let mut d = base.clone();
        d.target = "riscv32im-unknown-none-elf".into();
        variants.push(d);
        let mut d = base.clone();
        d.target_spec_sha256 = Some("00".into());
        variants.push(d);
        let mut d = base.clone();
        d.build_std.push("std".into());
        variants.push(d);
        let mut d = base.clone();
        d.build_std_features.clear();
        variants.push(d);
        let mut d = base.clone();
        d.rustflags.push("-Cembed-bitcode=yes".into());
        variants.push(d);
        let mut d = base.clone();
        d.env.insert("CC_x".into(), "gcc".into());
        variants.push(d);
        variants.push(doc(&WS.replace("\"s\"", "3")));
        let mut d = base.clone();
        d.format += 1;
        variants.push(d);
        let mut keys: Vec<String> = variants.iter().map(KeyDocument::key).collect();
        keys.push(base.key());
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "every input must change the key");
        // Flag order matters to rustc, so it matters to the key.
        let mut d = base.clone();
        d.rustflags = vec!["-Ca".into(), "-Cb".into()];
        let mut e = base.clone();
        e.rustflags = vec!["-Cb".into(), "-Ca".into()];
        assert_ne!(d.key(), e.key());
    }
}
