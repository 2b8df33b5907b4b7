//! A package of a git dependency, vendored from its repository's verified tree the way
//! `cargo vendor` vendors it: found by name and version among the repository's manifests,
//! its files copied (not nested packages, not git's files), and its `Cargo.toml` written with
//! everything it inherits from its workspace resolved, so it stands alone in a directory
//! source. Path dependencies on packages of the same repository stay: cargo reads them as
//! dependencies on the same source, which the same directory serves.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use zkelf_trust::digest::Sha256Digest;

use super::crates::{create_dir, vendored, write_file};
use crate::error::BuilderError;

pub(crate) mod problem;
pub use problem::GitPackageProblem;

/// The largest manifest of a git dependency read.
const MAX_MANIFEST: u64 = 1 << 20;

/// Package fields a member may inherit with `field.workspace = true`.
const INHERITABLE: &[&str] = &[
    "version",
    "authors",
    "description",
    "documentation",
    "readme",
    "homepage",
    "repository",
    "license",
    "license-file",
    "keywords",
    "categories",
    "publish",
    "edition",
    "rust-version",
    "exclude",
    "include",
];

/// Dependency tables of a manifest (and of each `[target.<cfg>]`).
const DEPENDENCY_TABLES: &[&str] = &["dependencies", "dev-dependencies", "build-dependencies"];

/// A package found in a repository: its directory (relative) and manifest.
struct Found {
    dir: PathBuf,
    manifest: toml::Table,
}

/// Vendors package `name` `version` of the repository tree `tree` into `dest` (a new
/// directory); returns the sha256 of the `.cargo-checksum.json` written, which lists every
/// file with its sha256: the digest of the vendored package.
pub(crate) fn vendor(
    tree: &Path,
    name: &str,
    version: &str,
    dest: &Path,
) -> Result<Sha256Digest, BuilderError> {
    let problem = |p: GitPackageProblem| BuilderError::GitPackage { problem: p };
    let found = find(tree, name, version).map_err(problem)?;
    let manifest = normalize(tree, &found).map_err(problem)?;
    create_dir(dest)?;
    let mut files = BTreeMap::new();
    copy_files(tree, &found.dir, Path::new(""), dest, &mut files)?;
    let text = toml::to_string(&manifest).map_err(|e| {
        problem(GitPackageProblem::Manifest {
            manifest: found.dir.join("Cargo.toml"),
            words: e.to_string(),
        })
    })?;
    write_file(&dest.join("Cargo.toml"), text.as_bytes(), false)?;
    files.insert(
        "Cargo.toml".to_string(),
        Sha256Digest::of(text.as_bytes()).to_string(),
    );
    let checksums = serde_json::json!({ "files": files, "package": null }).to_string();
    write_file(
        &dest.join(".cargo-checksum.json"),
        checksums.as_bytes(),
        false,
    )?;
    Ok(Sha256Digest::of(checksums.as_bytes()))
}

/// The package `name` `version` among the tree's manifests (as cargo's git source finds it:
/// hidden directories and `target/` skipped).
fn find(tree: &Path, name: &str, version: &str) -> Result<Found, GitPackageProblem> {
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let abs = tree.join(&rel);
        let manifest_path = abs.join("Cargo.toml");
        if std::fs::symlink_metadata(&manifest_path).is_ok_and(|m| m.is_file()) {
            let manifest = read_manifest(tree, &rel)?;
            if let Some(package) = manifest.get("package").and_then(|p| p.as_table())
                && package.get("name").and_then(|n| n.as_str()) == Some(name)
            {
                let found = Found {
                    dir: rel.clone(),
                    manifest,
                };
                let resolved = normalize(tree, &found)?;
                let v = resolved
                    .get("package")
                    .and_then(|p| p.get("version"))
                    .and_then(|v| v.as_str())
                    .unwrap_or("0.0.0");
                if v == version {
                    return Ok(found);
                }
            }
        }
        let Ok(entries) = std::fs::read_dir(&abs) else {
            continue;
        };
        let mut subdirs: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name())
            .filter(|n| !n.to_string_lossy().starts_with('.') && n != "target")
            .map(|n| rel.join(n))
            .collect();
        subdirs.sort();
        subdirs.reverse();
        stack.extend(subdirs);
    }
    Err(GitPackageProblem::NotFound {
        name: name.to_string(),
        version: version.to_string(),
    })
}

fn read_manifest(tree: &Path, dir: &Path) -> Result<toml::Table, GitPackageProblem> {
    let rel = dir.join("Cargo.toml");
    let invalid = |words: String| GitPackageProblem::Manifest {
        manifest: rel.clone(),
        words,
    };
    let bytes = zkelf_trust::bounded::read_no_follow(&tree.join(&rel), MAX_MANIFEST)
        .and_then(zkelf_trust::bounded::into_text)
        .map_err(|e| invalid(e.to_string()))?;
    bytes
        .parse::<toml::Table>()
        .map_err(|e| invalid(e.message().to_string()))
}

/// The nearest manifest with a `[workspace]` table at or above `dir` (within the tree).
fn workspace_root(
    tree: &Path,
    dir: &Path,
) -> Result<Option<(PathBuf, toml::Table)>, GitPackageProblem> {
    for ancestor in dir.ancestors() {
        if !tree.join(ancestor).join("Cargo.toml").is_file() {
            continue;
        }
        let manifest = read_manifest(tree, ancestor)?;
        if manifest.contains_key("workspace") {
            return Ok(Some((ancestor.to_path_buf(), manifest)));
        }
    }
    Ok(None)
}

/// The package's manifest with its workspace inheritance resolved, and the tables that only
/// mean something in a workspace root (`[workspace]`, `[patch]`, `[replace]`, `[profile]`)
/// removed.
fn normalize(tree: &Path, found: &Found) -> Result<toml::Table, GitPackageProblem> {
    let mut manifest = found.manifest.clone();
    let inherited = |what, key: String| GitPackageProblem::Inherited {
        manifest: found.dir.join("Cargo.toml"),
        what,
        key,
    };
    let root = workspace_root(tree, &found.dir)?;
    let ws = root
        .as_ref()
        .and_then(|(_, m)| m.get("workspace"))
        .and_then(|w| w.as_table());
    if let Some(package) = manifest.get_mut("package").and_then(|p| p.as_table_mut()) {
        package.remove("workspace");
        for key in INHERITABLE {
            if !inherits(package.get(*key)) {
                continue;
            }
            let value = ws
                .and_then(|w| w.get("package"))
                .and_then(|p| p.get(*key))
                .ok_or_else(|| inherited("package field", key.to_string()))?;
            package.insert(key.to_string(), value.clone());
        }
    }
    let empty = toml::Table::new();
    let ws_deps = ws
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table())
        .unwrap_or(&empty);
    let rebase = relative_path(
        root.as_ref().map_or(Path::new(""), |(r, _)| r.as_path()),
        &found.dir,
    );
    for table in DEPENDENCY_TABLES {
        if let Some(deps) = manifest.get_mut(*table).and_then(|d| d.as_table_mut()) {
            inherit_dependencies(deps, ws_deps, &rebase)
                .map_err(|key| inherited("dependency", key))?;
        }
    }
    if let Some(targets) = manifest.get_mut("target").and_then(|t| t.as_table_mut()) {
        for (_, target) in targets.iter_mut() {
            let Some(target) = target.as_table_mut() else {
                continue;
            };
            for table in DEPENDENCY_TABLES {
                if let Some(deps) = target.get_mut(*table).and_then(|d| d.as_table_mut()) {
                    inherit_dependencies(deps, ws_deps, &rebase)
                        .map_err(|key| inherited("dependency", key))?;
                }
            }
        }
    }
    if inherits(manifest.get("lints")) {
        match ws.and_then(|w| w.get("lints")) {
            Some(lints) => manifest.insert("lints".into(), lints.clone()),
            None => manifest.remove("lints"),
        };
    }
    for key in ["workspace", "patch", "replace", "profile"] {
        manifest.remove(key);
    }
    Ok(manifest)
}

/// Whether `value` is `{ workspace = true, … }`.
fn inherits(value: Option<&toml::Value>) -> bool {
    value
        .and_then(|v| v.get("workspace"))
        .and_then(|w| w.as_bool())
        == Some(true)
}

/// Resolves every `dep.workspace = true` of `deps` from the workspace's dependencies: the
/// member's `features` are added to the workspace's and its `optional` kept; a workspace
/// `path` is made relative to the member (`rebase`: from the member to the workspace root).
/// A dependency the workspace does not declare is returned by name.
fn inherit_dependencies(
    deps: &mut toml::Table,
    ws_deps: &toml::Table,
    rebase: &Path,
) -> Result<(), String> {
    for (name, dep) in deps.iter_mut() {
        if !inherits(Some(dep)) {
            continue;
        }
        let member = dep.as_table().cloned().unwrap_or_default();
        let mut resolved = match ws_deps.get(name) {
            Some(toml::Value::String(version)) => {
                toml::Table::from_iter([("version".to_string(), version.clone().into())])
            }
            Some(toml::Value::Table(t)) => t.clone(),
            _ => return Err(name.clone()),
        };
        if let Some(path) = resolved.get("path").and_then(|p| p.as_str()) {
            let joined = rebase.join(path).to_string_lossy().into_owned();
            resolved.insert("path".into(), joined.into());
        }
        if let Some(extra) = member.get("features").and_then(|f| f.as_array()) {
            let mut features = resolved
                .get("features")
                .and_then(|f| f.as_array())
                .cloned()
                .unwrap_or_default();
            features.extend(extra.iter().cloned());
            resolved.insert("features".into(), features.into());
        }
        for key in ["optional", "public"] {
            if let Some(v) = member.get(key) {
                resolved.insert(key.into(), v.clone());
            }
        }
        *dep = toml::Value::Table(resolved);
    }
    Ok(())
}

/// The path from `from` to `to`, both relative to the same root (`../..` up, then down).
fn relative_path(to: &Path, from: &Path) -> PathBuf {
    let up = from.components().count();
    let mut out: PathBuf = (0..up).map(|_| "..").collect();
    out.push(to);
    out
}

/// Copies the package's files under `tree/dir/rel` into `dest/rel`, recording their sha256:
/// not nested packages (a directory with its own `Cargo.toml`), not git's files, not
/// `Cargo.toml` (written normalized). A symbolic link is copied as the file it names when that
/// is inside the repository.
fn copy_files(
    tree: &Path,
    dir: &Path,
    rel: &Path,
    dest: &Path,
    files: &mut BTreeMap<String, String>,
) -> Result<(), BuilderError> {
    let abs = tree.join(dir).join(rel);
    let entries = std::fs::read_dir(&abs).map_err(|e| BuilderError::io("cannot read", &abs, e))?;
    let mut names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
    names.sort();
    for name in names {
        let child = rel.join(&name);
        let source = abs.join(&name);
        let meta = std::fs::symlink_metadata(&source)
            .map_err(|e| BuilderError::io("cannot read", &source, e))?;
        if child == Path::new("Cargo.toml") || !vendored(&child) {
            continue;
        }
        if meta.is_dir() {
            if source.join("Cargo.toml").exists()
                || (rel.as_os_str().is_empty() && name == "target")
            {
                continue;
            }
            create_dir(&dest.join(&child))?;
            copy_files(tree, dir, &child, dest, files)?;
            continue;
        }
        let (content, executable) = if meta.file_type().is_symlink() {
            let target = link_target(tree, &dir.join(&child))?;
            let content =
                std::fs::read(&target).map_err(|e| BuilderError::io("cannot read", &target, e))?;
            (content, false)
        } else {
            use std::os::unix::fs::PermissionsExt as _;
            let content =
                std::fs::read(&source).map_err(|e| BuilderError::io("cannot read", &source, e))?;
            (content, meta.permissions().mode() & 0o100 != 0)
        };
        write_file(&dest.join(&child), &content, executable)?;
        files.insert(
            child.to_string_lossy().into_owned(),
            Sha256Digest::of(&content).to_string(),
        );
    }
    Ok(())
}

/// The regular file inside `tree` that the link at `link` (relative) names, resolved
/// lexically; anything else is refused.
fn link_target(tree: &Path, link: &Path) -> Result<PathBuf, BuilderError> {
    let refuse = || BuilderError::GitPackage {
        problem: GitPackageProblem::Link {
            path: link.to_path_buf(),
        },
    };
    let target = std::fs::read_link(tree.join(link))
        .map_err(|e| BuilderError::io("cannot read", tree.join(link), e))?;
    let mut resolved = link.parent().unwrap_or(Path::new("")).to_path_buf();
    for component in target.components() {
        match component {
            Component::Normal(part) => resolved.push(part),
            Component::CurDir => {}
            Component::ParentDir if resolved.pop() => {}
            _ => return Err(refuse()),
        }
    }
    let abs = tree.join(&resolved);
    match std::fs::symlink_metadata(&abs) {
        Ok(m) if m.is_file() => Ok(abs),
        _ => Err(refuse()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_workspace_member_is_vendored_standing_alone() {
        let tree = tempfile::tempdir().unwrap();
        let t = tree.path();
        write(
            t,
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\n[workspace.package]\nversion = \"0.2.0\"\nedition = \"2021\"\n[workspace.dependencies]\nb = { path = \"crates/b\" }\nitoa = { version = \"1\", default-features = false }\n[profile.release]\nlto = true\n",
        );
        write(
            t,
            "crates/a/Cargo.toml",
            "[package]\nname = \"itoa\"\nversion = \"1.0.15\"\nedition.workspace = true\n[dependencies]\nb.workspace = true\nitoa = { workspace = true, features = [\"x\"], optional = true }\n[target.'cfg(unix)'.dependencies]\nb = { workspace = true }\n",
        );
        write(t, "crates/a/src/lib.rs", "pub fn f() {}\n");
        write(t, "crates/a/.gitignore", "target\n");
        write(
            t,
            "crates/a/fixtures/nested/Cargo.toml",
            "[package]\nname = \"n\"\n",
        );
        write(t, "crates/a/fixtures/data.txt", "data\n");
        write(
            t,
            "crates/b/Cargo.toml",
            "[package]\nname = \"b\"\nversion.workspace = true\nedition.workspace = true\n",
        );
        std::os::unix::fs::symlink("../../README", t.join("crates/a/README")).unwrap();
        write(t, "README", "readme\n");
        let out = tempfile::tempdir().unwrap();
        let dest = out.path().join("itoa-1.0.15");
        let digest = vendor(t, "itoa", "1.0.15", &dest).unwrap();
        let manifest: toml::Table = std::fs::read_to_string(dest.join("Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(manifest["package"]["edition"].as_str(), Some("2021"));
        assert_eq!(
            manifest["dependencies"]["b"]["path"].as_str(),
            Some("../../crates/b")
        );
        assert_eq!(
            manifest["dependencies"]["itoa"]["default-features"].as_bool(),
            Some(false)
        );
        assert_eq!(
            manifest["dependencies"]["itoa"]["optional"].as_bool(),
            Some(true)
        );
        assert_eq!(
            manifest["target"]["cfg(unix)"]["dependencies"]["b"]["path"].as_str(),
            Some("../../crates/b")
        );
        assert!(manifest.get("profile").is_none());
        assert!(dest.join("src/lib.rs").is_file());
        assert!(dest.join("fixtures/data.txt").is_file());
        assert!(
            !dest.join("fixtures/nested").exists(),
            "a nested package is not part of it"
        );
        assert!(!dest.join(".gitignore").exists());
        assert_eq!(
            std::fs::read_to_string(dest.join("README")).unwrap(),
            "readme\n"
        );
        let sums = std::fs::read(dest.join(".cargo-checksum.json")).unwrap();
        assert_eq!(digest, Sha256Digest::of(&sums));

        let b = out.path().join("b-0.2.0");
        vendor(t, "b", "0.2.0", &b).unwrap();
        let problem = |err: BuilderError| match err {
            BuilderError::GitPackage { problem } => problem.to_string(),
            other => panic!("{other}"),
        };
        let err = vendor(t, "b", "0.3.0", &out.path().join("b-0.3.0")).unwrap_err();
        assert_eq!(
            problem(err),
            "no `Cargo.toml` in the repository is package `b` 0.3.0"
        );
        std::os::unix::fs::symlink("/etc/passwd", t.join("crates/b/evil")).unwrap();
        let err = vendor(t, "b", "0.2.0", &out.path().join("b2")).unwrap_err();
        assert!(problem(err).contains("`crates/b/evil` is a symbolic link"));
    }
}
