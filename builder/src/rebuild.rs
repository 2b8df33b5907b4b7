//! Rebuilding a release from nothing but its provenance (`zkelf rebuild`), in two steps:
//! [`prepare`] checks the recorded source against a fresh clone before Docker is even asked
//! (the commit first, then every path the provenance names), and [`rebuild`] compares the
//! recorded builder with this one ([`Difference`]) and replays the recorded recipe.
//!
//! Everything in the provenance and in the clone is the release's, so hostile: git never runs
//! what the clone's tree could configure ([`crate::git`]), and recorded paths stay inside it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::build::fetch::GuestInputs;
use crate::build::{self, BuildOptions, BuiltArtifact, SysrootCache, Variation, plan, sysroot};
use crate::docker::Engine;
use crate::error::BuilderError;
use crate::error::problem::ProvenanceProblem;
use crate::image::{BuilderImage, ensure_builder_image};
use crate::manifest::{Artifact, BuildKind, Manifest};
use crate::profile::Profile;
use crate::provenance::{Provenance, deps};
use crate::reporter::Reporter;
use crate::source::Source;

pub mod difference;
pub use difference::Difference;

/// A provenance checked against a clone of its source: what [`rebuild`] builds.
#[derive(Debug, Clone)]
pub struct Prepared {
    provenance: Provenance,
    manifest: Manifest,
    artifact: Artifact,
    profile: Profile,
    source: Source,
    /// The workspace's `Cargo.toml` (a cargo guest's), read within its bound.
    workspace: Option<(std::path::PathBuf, String)>,
    /// The git sources of its lock file.
    git: Vec<crate::build::fetch::lock::GitSource>,
}

impl Prepared {
    /// The guest's source in the clone.
    pub fn source(&self) -> &Source {
        &self.source
    }
}

/// A rebuilt artifact and how this builder differed from the recorded one (empty unless
/// [`BuildOptions::allow_different_builder`] let the rebuild go on).
#[derive(Debug, Clone)]
pub struct Rebuilt {
    /// What the rebuild wrote.
    pub built: BuiltArtifact,
    /// Every difference from the recorded builder.
    pub differences: Vec<Difference>,
}

/// Checks `provenance` against `checkout`, a fresh clone of its `source.uri` at
/// `source.commit` ([`crate::source::checkout`]): the commit before anything reads the tree,
/// then the recorded guest path (inside the clone, no link), its `zkelf.toml`, artifact,
/// target and profile. Needs no Docker.
pub fn prepare(provenance: &Provenance, checkout: &Path) -> Result<Prepared, BuilderError> {
    let external = provenance.external();
    let mismatch = |problem| BuilderError::Provenance { problem };
    if external.source.dirty {
        return Err(mismatch(ProvenanceProblem::Dirty));
    }
    let (source, manifest) = Source::of_clone(
        checkout,
        &external.source.path,
        &external.source.commit,
        Manifest::load,
    )?;
    if manifest.name != external.guest || manifest.version != external.version {
        return Err(mismatch(ProvenanceProblem::Guest {
            recorded: external.guest.clone(),
            recorded_version: external.version.clone(),
            found: manifest.name.clone(),
            found_version: manifest.version.clone(),
        }));
    }
    let artifact = manifest
        .select(Some(&external.zkvm))?
        .into_iter()
        .next()
        .cloned()
        .ok_or_else(|| mismatch(ProvenanceProblem::NoArtifact(external.zkvm.clone())))?;
    if artifact.target != external.target {
        return Err(mismatch(ProvenanceProblem::Target {
            recorded: external.target.clone(),
            found: artifact.target.clone(),
        }));
    }
    // The recorded profile is replayed, not this zkelf's built-in one of that name: a rebuild
    // must compile as the release did, whatever this zkelf's version of the profile says.
    let profile = external.profile.clone();
    if profile.name != artifact.profile || profile.target != artifact.target {
        return Err(mismatch(ProvenanceProblem::Profile {
            recorded: profile.name.clone(),
            target: profile.target.clone(),
            zkvm: artifact.zkvm.clone(),
            found: artifact.profile.clone(),
        }));
    }
    profile
        .validate()
        .map_err(|e| mismatch(ProvenanceProblem::InvalidProfile(e)))?;
    // The files a build reads on this host, read now within their bounds (and refused when
    // they are links, FIFOs or devices), before Docker is asked for anything.
    let (workspace, git) = match manifest.build {
        BuildKind::Cargo => {
            let inputs = GuestInputs::read(&source)?;
            (Some(inputs.workspace), inputs.git_sources)
        }
        BuildKind::Make => (None, Vec::new()),
    };
    Ok(Prepared {
        provenance: provenance.clone(),
        manifest,
        artifact,
        profile,
        source,
        workspace,
        git,
    })
}

/// Rebuilds what `prepared` describes, under `options.out_dir`; the caller compares the
/// result's `sha256` with the subject's. A builder that differs from the recorded one
/// ([`differences`]) is refused (`BuilderError::DifferentBuilder`) unless
/// `options.allow_different_builder`. The sysroot is built afresh and not kept: an auditor
/// trusts no cache.
pub async fn rebuild(
    engine: &Engine,
    prepared: &Prepared,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<Rebuilt, BuilderError> {
    let image = ensure_builder_image(engine, &options.suite, reporter).await?;
    let differences = differences(prepared, &image)?;
    if !differences.is_empty() && !options.allow_different_builder {
        return Err(BuilderError::DifferentBuilder { differences });
    }
    let sde = prepared.provenance.internal().source_date_epoch;
    let mut built = build::build_selected(
        engine,
        &prepared.manifest,
        &[(prepared.artifact.clone(), prepared.profile.clone())],
        &prepared.source,
        sde,
        options,
        SysrootCache::Bypass,
        reporter,
    )
    .await?;
    Ok(Rebuilt {
        built: built.remove(0),
        differences,
    })
}

/// Every way `image` and this zkelf would build `prepared` otherwise than recorded:
/// Dockerfile.builder, the toolchain (`rustc -vV`, `cargo -V`, the C compiler, every pinned
/// Debian package), the container's environment, command and flags, and the sysroot's key
/// document (less the builder image's id: a base bootstrapped anew is no difference, the
/// toolchain packages are compared apart).
pub fn differences(
    prepared: &Prepared,
    image: &BuilderImage,
) -> Result<Vec<Difference>, BuilderError> {
    let provenance = &prepared.provenance;
    let mut out = toolchain_differences(provenance, image);
    let plan = plan::Plan::new(
        &prepared.manifest,
        &prepared.artifact,
        prepared.profile.clone(),
        &prepared.source,
        provenance.internal().source_date_epoch,
        image,
        &prepared.git,
    );
    let (env, command, flags) = plan.recorded(&Variation::standard());
    let internal = provenance.internal();
    out.extend(differs_map(&internal.env, &env));
    out.extend(differs_list("command", &internal.command, &command));
    out.extend(differs_list("flags", &internal.flags, &flags));
    let ours = match &prepared.workspace {
        Some((path, text)) => Some(sysroot::key_document(&plan, path, text)?.to_value()),
        None => None,
    };
    let recorded = provenance
        .dependency(deps::SYSROOT)
        .and_then(|d| d.annotations.get("keyDocument"))
        .cloned();
    out.extend(differs_key(recorded.as_ref(), ours.as_ref()));
    Ok(out)
}

/// Dockerfile.builder and the toolchain, recorded against `image`'s.
fn toolchain_differences(provenance: &Provenance, image: &BuilderImage) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut differ = |what: String, recorded: &str, ours: &str| {
        if recorded != ours {
            let (recorded, ours) = differing_line(recorded, ours);
            out.push(Difference {
                what,
                recorded,
                ours,
            });
        }
    };
    let recorded_dockerfile = provenance
        .dependency(deps::DOCKERFILE)
        .and_then(|d| d.digest.get("sha256"))
        .map_or(NONE, String::as_str);
    differ(
        "Dockerfile.builder sha256".into(),
        recorded_dockerfile,
        &image.dockerfile_sha256.to_string(),
    );
    let empty = BTreeMap::new();
    let toolchain = provenance
        .dependency(deps::TOOLCHAIN)
        .map_or(&empty, |d| &d.annotations);
    let text = |key: &str| toolchain.get(key).and_then(|v| v.as_str()).unwrap_or(NONE);
    differ("rustc -vV".into(), text("rustc"), &image.toolchain.rustc);
    differ("cargo -V".into(), text("cargo"), &image.toolchain.cargo);
    differ("C compiler".into(), text("cc"), &image.toolchain.cc);
    let recorded_packages: BTreeMap<String, String> = toolchain
        .get("debianPackages")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let names: BTreeSet<&String> = recorded_packages
        .keys()
        .chain(image.toolchain.packages.keys())
        .collect();
    for name in names {
        differ(
            format!("Debian package `{name}`"),
            recorded_packages.get(name).map_or(NONE, String::as_str),
            image
                .toolchain
                .packages
                .get(name)
                .map_or(NONE, String::as_str),
        );
    }
    out
}

/// How an absent value is shown.
const NONE: &str = "<none>";

/// The first line where two multi-line tool outputs differ (or the first line of each).
fn differing_line(recorded: &str, ours: &str) -> (String, String) {
    let (mut a, mut b) = (recorded.lines(), ours.lines());
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => return (x.unwrap_or(NONE).to_owned(), y.unwrap_or(NONE).to_owned()),
        }
    }
}

/// The first difference between two recorded lists (`command`, `flags`).
fn differs_list(what: &str, recorded: &[String], ours: &[String]) -> Option<Difference> {
    if recorded == ours {
        return None;
    }
    let i = recorded
        .iter()
        .zip(ours)
        .take_while(|(a, b)| a == b)
        .count();
    let at = |list: &[String]| list.get(i).cloned().unwrap_or_else(|| NONE.into());
    Some(Difference {
        what: format!("{what}, item {}", i + 1),
        recorded: at(recorded),
        ours: at(ours),
    })
}

/// Every variable of two recorded environments that differs.
fn differs_map(
    recorded: &BTreeMap<String, String>,
    ours: &BTreeMap<String, String>,
) -> Vec<Difference> {
    let keys: BTreeSet<&String> = recorded.keys().chain(ours.keys()).collect();
    keys.into_iter()
        .filter(|k| recorded.get(*k) != ours.get(*k))
        .map(|k| Difference {
            what: format!("environment variable `{k}`"),
            recorded: recorded.get(k).cloned().unwrap_or_else(|| NONE.into()),
            ours: ours.get(k).cloned().unwrap_or_else(|| NONE.into()),
        })
        .collect()
}

/// The first field where the recorded sysroot key document and ours differ, the builder
/// image's id left out.
fn differs_key(
    recorded: Option<&serde_json::Value>,
    ours: Option<&serde_json::Value>,
) -> Option<Difference> {
    let without_image = |v: &serde_json::Value| {
        let mut v = v.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove("image");
        }
        v
    };
    let (recorded, ours) = (recorded.map(without_image), ours.map(without_image));
    let shown = |v: Option<&serde_json::Value>| v.map_or_else(|| NONE.into(), |v| v.to_string());
    match (recorded.as_ref(), ours.as_ref()) {
        (a, b) if a == b => None,
        (Some(a), Some(b)) => {
            let field = a
                .as_object()
                .zip(b.as_object())
                .and_then(|(a, b)| {
                    a.keys()
                        .chain(b.keys())
                        .find(|k| a.get(*k) != b.get(*k))
                        .cloned()
                })
                .unwrap_or_default();
            Some(Difference {
                what: format!("sysroot key document `{field}`"),
                recorded: shown(a.get(&field)),
                ours: shown(b.get(&field)),
            })
        }
        (a, b) => Some(Difference {
            what: "sysroot".into(),
            recorded: if a.is_some() { "a sysroot" } else { NONE }.into(),
            ours: if b.is_some() { "a sysroot" } else { NONE }.into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rebuild_compares_the_sysroot_key_document_but_the_image_id() {
        let doc =
            |image: &str, std: &[&str]| serde_json::json!({ "image": image, "buildStd": std });
        let a = doc("sha256:one", &["core", "alloc"]);
        assert_eq!(differs_key(Some(&a), Some(&a)), None);
        // A base bootstrapped anew: another image id, the same sysroot inputs.
        assert_eq!(
            differs_key(Some(&a), Some(&doc("sha256:two", &["core", "alloc"]))),
            None
        );
        let other = differs_key(Some(&a), Some(&doc("sha256:one", &["core"]))).unwrap();
        assert_eq!(other.what, "sysroot key document `buildStd`");
        assert_eq!(other.recorded, r#"["core","alloc"]"#);
        assert_eq!(differs_key(None, Some(&a)).unwrap().recorded, "<none>");
        assert_eq!(differs_key(Some(&a), None).unwrap().ours, "<none>");
        assert_eq!(differs_key(None, None), None);
    }

    #[test]
    fn lists_and_environments_name_their_first_difference() {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(differs_list("flags", &list(&["a"]), &list(&["a"])), None);
        let d = differs_list("flags", &list(&["a", "b"]), &list(&["a", "c", "d"])).unwrap();
        assert_eq!(
            d.to_string(),
            "flags, item 2: recorded `b`, this builder has `c`"
        );
        let d = differs_list("command", &list(&["a"]), &list(&["a", "x"])).unwrap();
        assert_eq!((d.recorded.as_str(), d.ours.as_str()), ("<none>", "x"));
        let env = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let d = differs_map(
            &env(&[("A", "1"), ("B", "2")]),
            &env(&[("A", "1"), ("C", "3")]),
        );
        assert_eq!(
            d.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "environment variable `B`: recorded `2`, this builder has `<none>`",
                "environment variable `C`: recorded `<none>`, this builder has `3`",
            ]
        );
        assert_eq!(
            differing_line("rustc 1.95\nhost: x", "rustc 1.96\nhost: x"),
            ("rustc 1.95".into(), "rustc 1.96".into())
        );
    }
}
