//! The sysroot step: the `-Zbuild-std` output of a (builder image, target, build-std set and
//! features, compile flags, profile environment, cargo `[profile.release]`) key, built once in
//! its own hermetic container (`Plan::sysroot_container` in `plan.rs`), kept as a
//! content-addressed entry of the builder's cache ([`crate::cache`]) under
//! `<cache>/sysroot/<key>/`, and verified on every use. Guests are then built with
//! `--sysroot` and no `-Zbuild-std`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use zkelf_trust::digest::Sha256Digest;

use super::plan::{Mounts, Plan, Variation};
use crate::cache::{self, Sealed};
use crate::docker::Engine;
use crate::error::BuilderError;
use crate::fsutil::{self, world_writable_tempdir};
use crate::provenance::{self, ResourceDescriptor, deps, sha256_digest};
use crate::reporter::Reporter;

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
    ) -> Result<Self, String> {
        let set = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v.dedup();
            v
        };
        let table: toml::Table = workspace_manifest
            .parse()
            .map_err(|e| format!("the workspace Cargo.toml does not parse: {e}"))?;
        let release = table
            .get("profile")
            .and_then(|p| p.get("release"))
            .cloned()
            .unwrap_or(toml::Value::Table(Default::default()));
        let profile_release = serde_json::to_value(sorted(&release))
            .map_err(|e| format!("cannot encode [profile.release]: {e}"))?;
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

/// Whether a build may read and fill the sysroot cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SysrootCache {
    /// Use the entry of the key under `<cache>/sysroot/` (building and storing it if absent).
    Use,
    /// Build the sysroot afresh in a temporary directory (a rebuild).
    Bypass,
}

/// The sysroot a guest is built against: verified, read-only from its build's point of view.
#[derive(Debug)]
pub(crate) struct Sysroot {
    /// The entry (`lib/rustlib/<target>/lib/*.rlib` and the manifest).
    pub dir: PathBuf,
    pub key: KeyDocument,
    /// The entry's manifest and its sha256.
    pub sealed: Sealed,
    /// Keeps an uncached sysroot alive for the build.
    _temp: Option<tempfile::TempDir>,
}

impl Sysroot {
    /// Its provenance record: the key document says what decided its bytes, the manifest (the
    /// content) lists every rlib with its sha256, and the digest is the manifest's: the same
    /// whether the build found it in the cache or built it.
    pub fn dependency(&self, plan: &Plan) -> ResourceDescriptor {
        ResourceDescriptor {
            name: Some(deps::SYSROOT.into()),
            uri: Some(format!("zkelf-sysroot:{}", self.key.key())),
            digest: sha256_digest(&self.sealed.digest),
            content: Some(provenance::base64(&self.sealed.manifest)),
            annotations: BTreeMap::from([
                ("key".to_string(), self.key.key().into()),
                ("keyDocument".to_string(), self.key.to_value()),
                ("command".to_string(), plan.sysroot_command().into()),
                ("flags".to_string(), plan.sysroot_flags().into()),
            ]),
        }
    }
}

/// The sysroot for `plan`: the verified cache entry of its key when `cache` has one, else built
/// in a sysroot container (under `variation`) and, with a `cache`, stored there by its key.
/// `workspace` is the guest workspace's `Cargo.toml` (its path and text).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn ensure(
    engine: &Engine,
    plan: &Plan,
    workspace: &(PathBuf, String),
    variation: &Variation,
    mounts: &Mounts<'_>,
    cache: Option<&Path>,
    reporter: &dyn Reporter,
) -> Result<Sysroot, BuilderError> {
    let (path, text) = workspace;
    let key = key_document(plan, path, text)?;
    let id = key.key();
    if let Some(root) = cache {
        let note = |m: &str| reporter.note(m);
        if let Some((dir, sealed)) = cache::lookup(root, &id, "sysroot", &note)? {
            reporter.step(&format!(
                "using the cached sysroot {} for {} ({})",
                &id[..16],
                plan.target,
                plan.build_std.join(", ")
            ));
            reporter.finish(&format!("sysroot sha256:{}", sealed.digest));
            return Ok(Sysroot {
                dir,
                key,
                sealed,
                _temp: None,
            });
        }
    }
    reporter.step(&format!(
        "building the sysroot for {} ({}; key {})",
        plan.target,
        plan.build_std.join(", "),
        &id[..16]
    ));
    let scratch = fsutil::tempdir("zkelf-sysroot-")?;
    let crate_dir = scratch.path().join("crate");
    let files = Plan::sysroot_crate(text).map_err(|message| BuilderError::ManifestInvalid {
        path: path.clone(),
        message,
    })?;
    fsutil::write_readable_dir(&crate_dir, files.iter().map(|(n, c)| (*n, c.as_bytes())))?;
    let out = world_writable_tempdir("zkelf-sysroot-out-")?;
    let spec = plan.sysroot_container(variation, &crate_dir, mounts, out.path());
    let exit = engine.run(&spec, reporter).await?;
    let built_lib = out.path().join("lib");
    if exit.code != 0 || !built_lib.is_dir() {
        return Err(BuilderError::SysrootFailed {
            target: plan.target.clone(),
            crates: plan.build_std.join(","),
            code: exit.code,
            output: exit.tail,
        });
    }
    let (dir, sealed, temp) = store(built_lib, scratch, cache, id).await?;
    reporter.finish(&format!("sysroot sha256:{}", sealed.digest));
    Ok(Sysroot {
        dir,
        key,
        sealed,
        _temp: temp,
    })
}

/// Stages the rlibs the container built where they will live (the cache's directory, or a
/// temporary one in `scratch`), seals them, and renames them into place: a reader never sees
/// a partial entry under its key.
async fn store(
    built_lib: PathBuf,
    scratch: tempfile::TempDir,
    cache: Option<&Path>,
    id: String,
) -> Result<(PathBuf, Sealed, Option<tempfile::TempDir>), BuilderError> {
    let cache = cache.map(Path::to_path_buf);
    super::blocking(move || {
        let (staged, temp) = match &cache {
            Some(root) => {
                std::fs::create_dir_all(root)
                    .map_err(|e| BuilderError::io("cannot create", root, e))?;
                let dir = tempfile::Builder::new()
                    .prefix(".partial-")
                    .tempdir_in(root)
                    .map_err(|e| {
                        BuilderError::io("cannot create a temporary directory in", root, e)
                    })?;
                (dir.keep(), None)
            }
            None => {
                let dir = scratch.path().join("sysroot");
                std::fs::create_dir(&dir)
                    .map_err(|e| BuilderError::io("cannot create", &dir, e))?;
                (dir, Some(scratch))
            }
        };
        let sealed = copy_readable_tree(&built_lib, &staged.join("lib"))
            .and_then(|()| cache::seal(&staged, &id));
        let sealed = match sealed {
            Ok(sealed) => sealed,
            Err(e) => {
                if cache.is_some() {
                    let _ = std::fs::remove_dir_all(&staged);
                }
                return Err(e);
            }
        };
        let (dir, sealed) = match &cache {
            Some(root) => cache::insert(root, &id, &staged, sealed)?,
            None => (staged, sealed),
        };
        Ok((dir, sealed, temp))
    })
    .await
}

/// The key document of `plan`'s sysroot, from the guest workspace's `Cargo.toml` (at `path`,
/// read as `text`).
pub(crate) fn key_document(
    plan: &Plan,
    path: &Path,
    text: &str,
) -> Result<KeyDocument, BuilderError> {
    plan.sysroot_key(text)
        .map_err(|message| BuilderError::ManifestInvalid {
            path: path.to_path_buf(),
            message,
        })
}

/// Copies the regular files and directories under `from` to `to` (which must not exist), as
/// ours, 0755 directories and 0644 files: what a build container may read.
fn copy_readable_tree(from: &Path, to: &Path) -> Result<(), BuilderError> {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![(from.to_path_buf(), to.to_path_buf())];
    while let Some((src, dest)) = stack.pop() {
        std::fs::create_dir(&dest).map_err(|e| BuilderError::io("cannot create", &dest, e))?;
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| BuilderError::io("cannot set permissions of", &dest, e))?;
        let entries =
            std::fs::read_dir(&src).map_err(|e| BuilderError::io("cannot read", &src, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| BuilderError::io("cannot read", &src, e))?;
            let ft = entry
                .file_type()
                .map_err(|e| BuilderError::io("cannot read", entry.path(), e))?;
            let target = dest.join(entry.file_name());
            if ft.is_dir() {
                stack.push((entry.path(), target));
            } else if ft.is_file() {
                std::fs::copy(entry.path(), &target)
                    .map_err(|e| BuilderError::io("cannot copy", entry.path(), e))?;
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644))
                    .map_err(|e| BuilderError::io("cannot set permissions of", &target, e))?;
            }
            // Anything else (a link the container made) is not part of a sysroot.
        }
    }
    Ok(())
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
