//! What of a checkout a cargo guest's build needs: its workspace (the directory holding
//! `Cargo.lock`), every path package the workspace reaches (members, path dependencies of any
//! kind, `[patch]` paths, recursively) and the workspace roots those inherit from. The
//! directory mounted into the build is the nearest one holding all of them, so path
//! dependencies may live anywhere in the same checkout (ere-guests keeps each guest in
//! `bin/<guest>/<zkvm>/` with path dependencies on `../../../crates/…`).
//!
//! The checkout may be a release's (a rebuild): every path is resolved lexically, must stay
//! inside the checkout and meet no symbolic link, and every manifest is read within a bound.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use zkelf_trust::bounded;

use crate::error::problem::ManifestProblem;
use crate::error::{BuilderError, UnsafePathReason};

/// Dependency tables whose path entries a workspace needs (also under `[target.<cfg>]`).
const DEPENDENCY_TABLES: &[&str] = &["dependencies", "dev-dependencies", "build-dependencies"];

/// `root/rel` when `rel` names a directory inside `root` without leaving it: relative, plain
/// components only (no `..`), and no symbolic link on the way. `what` names `rel` in errors.
pub fn contained_dir(root: &Path, rel: &Path, what: &'static str) -> Result<PathBuf, BuilderError> {
    let refuse = |reason| BuilderError::UnsafePath {
        what,
        path: rel.to_path_buf(),
        reason,
    };
    let mut dir = root.to_path_buf();
    for component in rel.components() {
        match component {
            Component::Normal(name) => dir.push(name),
            Component::CurDir => {}
            Component::ParentDir => return Err(refuse(UnsafePathReason::LeavesTree)),
            Component::RootDir | Component::Prefix(_) => {
                return Err(refuse(UnsafePathReason::Absolute));
            }
        }
        let meta = std::fs::symlink_metadata(&dir)
            .map_err(|e| BuilderError::io("cannot read", &dir, e))?;
        let at = dir.strip_prefix(root).unwrap_or(&dir).to_path_buf();
        if meta.file_type().is_symlink() {
            return Err(refuse(UnsafePathReason::Symlink(at)));
        }
        if !meta.is_dir() {
            return Err(refuse(UnsafePathReason::NotDirectory(at)));
        }
    }
    Ok(dir)
}

/// The directories of a cargo guest's build, relative to the checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    /// The workspace: the directory holding `Cargo.lock`.
    pub workspace: PathBuf,
    /// Every path package the workspace reaches outside itself.
    pub outside: BTreeSet<PathBuf>,
    /// The directory to mount: the nearest one holding the workspace and all of those.
    pub mount: PathBuf,
    /// Every git dependency the workspace's manifests declare (not `[patch]` entries, which
    /// may go unused): the dependency's key and the source the lock must name,
    /// `git+<url>[?branch=…|?tag=…|?rev=…]`.
    pub git: BTreeSet<(String, String)>,
}

/// The needs of the workspace at `workspace` (relative to `root`, the checkout).
pub fn needs(root: &Path, workspace: &Path) -> Result<Needs, BuilderError> {
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    let mut git = BTreeSet::new();
    let mut queue = vec![workspace.to_path_buf()];
    while let Some(dir) = queue.pop() {
        if !seen.insert(dir.clone()) {
            continue;
        }
        contained_dir(root, &dir, "a path dependency")?;
        dirs.insert(dir.clone());
        let manifest = read(root, &dir)?;
        git.extend(git_entries(&manifest));
        let mut next = path_entries(&manifest);
        if let Some(ws) = manifest.get("workspace").and_then(|w| w.as_table()) {
            let members = ws.get("members").and_then(|m| m.as_array());
            for member in members.into_iter().flatten().filter_map(|m| m.as_str()) {
                next.extend(expand(root, &dir, member)?);
            }
            next.extend(
                ws.get("dependencies")
                    .and_then(|d| d.as_table())
                    .into_iter()
                    .flat_map(|t| t.values())
                    .filter_map(|d| d.get("path").and_then(|p| p.as_str()).map(PathBuf::from)),
            );
        }
        if manifest.get("package").is_some() && inherits(&manifest) {
            // Inherited fields come from the nearest workspace root above it.
            if let Some(parent) = find_workspace_root(root, &dir)? {
                next.push(relative(&dir, &parent));
            }
        }
        for rel in next {
            let joined = normalize(&dir.join(&rel)).ok_or_else(|| BuilderError::UnsafePath {
                what: "a path dependency",
                path: dir.join(&rel),
                reason: UnsafePathReason::LeavesTree,
            })?;
            queue.push(joined);
        }
    }
    let mount = dirs.iter().fold(workspace.to_path_buf(), |common, d| {
        common_ancestor(&common, d)
    });
    let outside = dirs
        .into_iter()
        .filter(|d| !d.starts_with(workspace))
        .collect();
    Ok(Needs {
        workspace: workspace.to_path_buf(),
        outside,
        mount,
        git,
    })
}

fn read(root: &Path, dir: &Path) -> Result<toml::Table, BuilderError> {
    let path = root.join(dir).join("Cargo.toml");
    let text = bounded::read_no_follow(&path, bounded::MAX_CARGO_TOML_LEN)
        .and_then(bounded::into_text)
        .map_err(|source| BuilderError::Read {
            path: path.clone(),
            source,
        })?;
    text.parse()
        .map_err(|e: toml::de::Error| BuilderError::ManifestInvalid {
            path,
            problem: ManifestProblem::Parse(e.message().to_string()),
        })
}

/// The dependency tables of `manifest`: the top-level ones, `[target.<cfg>]`'s and the
/// workspace's.
fn dependency_tables(manifest: &toml::Table) -> Vec<&toml::Table> {
    let mut tables: Vec<&toml::Table> = Vec::new();
    for key in DEPENDENCY_TABLES {
        tables.extend(manifest.get(*key).and_then(|t| t.as_table()));
    }
    for target in manifest
        .get("target")
        .and_then(|t| t.as_table())
        .into_iter()
        .flat_map(|t| t.values())
    {
        for key in DEPENDENCY_TABLES {
            tables.extend(target.get(*key).and_then(|t| t.as_table()));
        }
    }
    tables.extend(
        manifest
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(|d| d.as_table()),
    );
    tables
}

/// Every git dependency of `manifest`: its key and the source id the lock names it by.
fn git_entries(manifest: &toml::Table) -> Vec<(String, String)> {
    dependency_tables(manifest)
        .into_iter()
        .flat_map(|t| t.iter())
        .filter_map(|(key, dep)| {
            let url = dep.get("git")?.as_str()?;
            let query = ["branch", "tag", "rev"]
                .iter()
                .find_map(|k| {
                    dep.get(*k)
                        .and_then(|v| v.as_str())
                        .map(|v| format!("?{k}={v}"))
                })
                .unwrap_or_default();
            Some((key.clone(), format!("git+{url}{query}")))
        })
        .collect()
}

/// The `path` of every dependency and `[patch]` entry of `manifest`.
fn path_entries(manifest: &toml::Table) -> Vec<PathBuf> {
    let mut tables: Vec<&toml::Table> = Vec::new();
    for key in DEPENDENCY_TABLES {
        tables.extend(manifest.get(*key).and_then(|t| t.as_table()));
    }
    for target in manifest
        .get("target")
        .and_then(|t| t.as_table())
        .into_iter()
        .flat_map(|t| t.values())
    {
        for key in DEPENDENCY_TABLES {
            tables.extend(target.get(*key).and_then(|t| t.as_table()));
        }
    }
    for patch in manifest
        .get("patch")
        .and_then(|t| t.as_table())
        .into_iter()
        .flat_map(|t| t.values())
    {
        tables.extend(patch.as_table());
    }
    tables
        .into_iter()
        .flat_map(|t| t.values())
        .filter_map(|d| d.get("path").and_then(|p| p.as_str()).map(PathBuf::from))
        .collect()
}

/// Whether any field of the manifest is `{ workspace = true }`.
fn inherits(manifest: &toml::Table) -> bool {
    fn walk(value: &toml::Value) -> bool {
        match value {
            toml::Value::Table(t) => {
                t.get("workspace").and_then(|w| w.as_bool()) == Some(true) || t.values().any(walk)
            }
            _ => false,
        }
    }
    manifest
        .iter()
        .filter(|(k, _)| *k != "workspace")
        .any(|(_, v)| walk(v))
}

/// The nearest directory above `dir` (inside the checkout) whose manifest has `[workspace]`.
fn find_workspace_root(root: &Path, dir: &Path) -> Result<Option<PathBuf>, BuilderError> {
    for ancestor in dir.ancestors().skip(1) {
        let path = root.join(ancestor).join("Cargo.toml");
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
            && read(root, ancestor)?.contains_key("workspace")
        {
            return Ok(Some(ancestor.to_path_buf()));
        }
    }
    Ok(None)
}

/// The directories a `members` pattern names under `dir` (`*` and `?` within components).
fn expand(root: &Path, dir: &Path, pattern: &str) -> Result<Vec<PathBuf>, BuilderError> {
    let mut found = vec![PathBuf::new()];
    for part in pattern.split('/').filter(|p| !p.is_empty() && *p != ".") {
        let mut next = Vec::new();
        for base in &found {
            if !part.contains(['*', '?']) {
                next.push(base.join(part));
                continue;
            }
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(base)) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().to_str().map(String::from))
                .filter(|n| wildcard(part, n))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| base.join(n)));
        }
        found = next;
    }
    Ok(found
        .into_iter()
        .filter(|rel| root.join(dir).join(rel).join("Cargo.toml").is_file())
        .collect())
}

/// `*` and `?` matching, as cargo's member globs use them.
fn wildcard(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

/// `path` with `.` and `..` resolved lexically; `None` when it climbs above the checkout.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// The path from `from` to `to` (both relative to the checkout).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let common = common_ancestor(from, to);
    let up = from.components().count() - common.components().count();
    let mut out: PathBuf = (0..up).map(|_| "..").collect();
    out.push(to.strip_prefix(&common).unwrap_or(to));
    out
}

fn common_ancestor(a: &Path, b: &Path) -> PathBuf {
    a.components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_path_stays_inside_the_checkout() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("guests/fib")).unwrap();
        std::fs::write(root.path().join("guests/file"), "").unwrap();
        std::os::unix::fs::symlink("/", root.path().join("guests/out")).unwrap();
        std::os::unix::fs::symlink("fib", root.path().join("guests/in")).unwrap();
        assert_eq!(
            contained_dir(root.path(), Path::new("guests/fib"), "source.path").unwrap(),
            root.path().join("guests/fib")
        );
        assert_eq!(
            contained_dir(root.path(), Path::new(""), "source.path").unwrap(),
            root.path()
        );
        for (rel, reason) in [
            ("/etc", UnsafePathReason::Absolute),
            ("../..", UnsafePathReason::LeavesTree),
            ("guests/fib/../../..", UnsafePathReason::LeavesTree),
            ("guests/out", UnsafePathReason::Symlink("guests/out".into())),
            ("guests/in", UnsafePathReason::Symlink("guests/in".into())),
            (
                "guests/file",
                UnsafePathReason::NotDirectory("guests/file".into()),
            ),
        ] {
            match contained_dir(root.path(), Path::new(rel), "source.path") {
                Err(BuilderError::UnsafePath { reason: got, .. }) => {
                    assert_eq!(got, reason, "{rel}")
                }
                other => panic!("{rel}: {other:?}"),
            }
        }
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn path_dependencies_anywhere_in_the_checkout_are_mounted() {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path();
        write(
            r,
            "bin/val/sp1/Cargo.toml",
            "[package]\nname = \"g\"\n[workspace]\n[dependencies]\nv = { path = \"../../../crates/v\" }\n[patch.crates-io]\nsha2 = { path = \"../../../patches/sha2\" }\n",
        );
        write(
            r,
            "crates/v/Cargo.toml",
            "[package]\nname = \"v\"\nversion.workspace = true\n[target.'cfg(x)'.dependencies]\nw = { path = \"../w\" }\n",
        );
        write(r, "crates/w/Cargo.toml", "[package]\nname = \"w\"\n");
        write(
            r,
            "crates/Cargo.toml",
            "[workspace]\nmembers = [\"*\"]\n[workspace.package]\nversion = \"1.0.0\"\n",
        );
        write(r, "patches/sha2/Cargo.toml", "[package]\nname = \"sha2\"\n");
        let needs = needs(r, Path::new("bin/val/sp1")).unwrap();
        assert_eq!(needs.mount, PathBuf::new());
        assert_eq!(
            needs
                .outside
                .iter()
                .map(|p| p.to_str().unwrap())
                .collect::<Vec<_>>(),
            ["crates", "crates/v", "crates/w", "patches/sha2"]
        );
        // A workspace of members only needs itself.
        write(
            r,
            "guests/Cargo.toml",
            "[workspace]\nmembers = [\"a\", \"rt\"]\n",
        );
        write(
            r,
            "guests/a/Cargo.toml",
            "[package]\nname = \"a\"\n[dependencies]\nrt = { path = \"../rt\" }\n",
        );
        write(r, "guests/rt/Cargo.toml", "[package]\nname = \"rt\"\n");
        let needs = super::needs(r, Path::new("guests")).unwrap();
        assert_eq!(needs.mount, PathBuf::from("guests"));
        assert!(needs.outside.is_empty());
        // Out of the checkout.
        write(
            r,
            "x/Cargo.toml",
            "[package]\nname = \"x\"\n[dependencies]\ny = { path = \"../../y\" }\n",
        );
        assert!(super::needs(r, Path::new("x")).is_err());
        assert!(wildcard("crates-*", "crates-a") && !wildcard("crates-?", "crates-ab"));
        assert_eq!(
            relative(Path::new("a/b"), Path::new("a/c/d")),
            PathBuf::from("../c/d")
        );
    }
}
