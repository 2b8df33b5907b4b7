//! `zkelf build` as a pipeline of steps, one file each: [`fetch`] (the guest's inputs, then
//! vendoring with the network on) → `sysroot` (the standard library, content-addressed) →
//! `compile` (the guest's `--network none` container, and `--check-reproducible`'s varied
//! second build) → `postlink` (the profile's step after the link) → [`vk`] (the verification
//! key, by the zkVM's toolbox) →
//! `provenance` (assembled from the steps' records) → `outputs` (staged, then installed
//! atomically under `<out>/<guest>/<version>/`). `plan` says what every container runs.

use std::path::{Path, PathBuf};

use serde::Serialize;
use zkelf_trust::digest::{OciDigest, Sha256Digest};

use crate::docker::Engine;
use crate::error::BuilderError;
use crate::image::{BuilderImage, ensure_builder_image};
use crate::manifest::{Artifact, BuildKind, Manifest};
use crate::profile::Profile;
use crate::reporter::Reporter;
use crate::source::Source;

pub(crate) mod compile;
pub mod fetch;
pub(crate) mod outputs;
pub(crate) mod plan;
pub(crate) mod postlink;
pub(crate) mod provenance;
pub(crate) mod sysroot;
pub mod vk;

use fetch::{GuestInputs, Vendored};
use outputs::{Staged, Staging};
use plan::Mounts;
pub use plan::{BUILD_PATH, Variation};
pub(crate) use sysroot::SysrootCache;

/// The host CA bundle mounted into the fetch container.
pub const DEFAULT_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// How to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Output root: files go to `<out_dir>/<guest>/<version>/`.
    pub out_dir: PathBuf,
    /// Only the artifact of this zkVM (all when `None`).
    pub zkvm: Option<String>,
    /// Build a tree with uncommitted changes (recorded as `dirty: true`).
    pub allow_dirty: bool,
    /// Build a second time with varied conditions and require identical bytes.
    pub check_reproducible: bool,
    /// Where vendored crates are kept between builds (keyed by Cargo.lock and image); none: no cache.
    pub cache_dir: Option<PathBuf>,
    /// Debian suite of the base image.
    pub suite: String,
    /// CA bundle mounted into the fetch container, if it exists.
    pub ca_bundle: PathBuf,
    /// For a rebuild: go on (with a note) when this zkelf would run the build with
    /// other flags, environment or command than the provenance records; refuse otherwise.
    pub allow_different_builder: bool,
    /// Git URL prefixes fetched from mirrors (`--git-mirror`, `ZKELF_GIT_MIRRORS`).
    pub git_mirrors: Vec<fetch::mirror::GitMirror>,
    /// Where the digests of the cache entries this machine built are recorded: somewhere a
    /// restored cache cannot reach (the state directory). `None`: no entry is reused.
    pub trust_dir: Option<PathBuf>,
    /// The zkelf that builds, as the provenance records it (`runDetails.builder.version.zkelf`):
    /// the binary passes what `zkelf --version` prints, its version and commit.
    pub zkelf_version: String,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            out_dir: PathBuf::from("dist"),
            zkvm: None,
            allow_dirty: false,
            check_reproducible: false,
            cache_dir: None,
            suite: crate::base::DEFAULT_SUITE.into(),
            ca_bundle: PathBuf::from(DEFAULT_CA_BUNDLE),
            allow_different_builder: false,
            git_mirrors: Vec::new(),
            trust_dir: None,
            zkelf_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// One ELF written to the output directory, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BuiltArtifact {
    /// Guest name.
    pub guest: String,
    /// Guest version.
    pub version: String,
    /// zkVM label.
    pub zkvm: String,
    /// The profile it was built with.
    pub profile: String,
    /// Target triple.
    pub target: String,
    /// `<out>/<guest>/<version>/<guest>-<zkvm>.elf`: the artifact (for RISC Zero, the program
    /// binary, not an ELF).
    pub elf: PathBuf,
    /// `<out>/<guest>/<version>/<guest>-<zkvm>.provenance.json`.
    pub provenance: PathBuf,
    /// sha256 of the ELF.
    pub sha256: Sha256Digest,
    /// Size of the ELF in bytes.
    pub size: u64,
    /// sha256 of the provenance file.
    pub provenance_sha256: Sha256Digest,
    /// `<out>/<guest>/<version>/<guest>-<zkvm>.vk`, when the profile derives the VK (RISC
    /// Zero: the image id, 32 bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vk: Option<PathBuf>,
    /// sha256 of the VK file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vk_sha256: Option<Sha256Digest>,
    /// The VK as the zkVM prints it (RISC Zero: the image id in hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vk_id: Option<String>,
    /// Git commit built.
    pub commit: String,
    /// `SOURCE_DATE_EPOCH` of the build.
    pub source_date_epoch: u64,
    /// Whether a second, varied build gave the same bytes (`None`: not checked).
    pub reproduced: Option<bool>,
    /// The builder image's id.
    pub builder_image: zkelf_trust::digest::OciDigest,
}

/// Builds the artifacts of the guest in `guest_dir` and writes them under `options.out_dir`.
///
/// Nothing is written there unless every selected artifact built (and, with
/// `check_reproducible`, reproduced).
pub async fn build_guest(
    engine: &Engine,
    guest_dir: &Path,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<Vec<BuiltArtifact>, BuilderError> {
    let manifest = Manifest::load(guest_dir)?;
    let selected: Vec<Artifact> = manifest
        .select(options.zkvm.as_deref())?
        .into_iter()
        .cloned()
        .collect();
    let (dir, m) = (guest_dir.to_path_buf(), manifest.clone());
    let source = tokio::task::spawn_blocking(move || Source::inspect(&dir, &m))
        .await
        .map_err(|e| BuilderError::io("cannot inspect", guest_dir, std::io::Error::other(e)))??;
    if source.dirty && !options.allow_dirty {
        return Err(BuilderError::DirtyTree {
            guest: manifest.name.clone(),
            files: source
                .changes
                .iter()
                .take(5)
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let sde = source.commit_time;
    let selected: Vec<(Artifact, Profile)> = selected
        .into_iter()
        .map(|a| {
            let profile = a.profile();
            (a, profile)
        })
        .collect();
    build_selected(
        engine,
        &manifest,
        &selected,
        &source,
        sde,
        options,
        SysrootCache::Use,
        reporter,
    )
    .await
}

/// What every artifact of one `build` shares: the guest, its source and inputs, the builder
/// image and the vendored crates.
struct Context<'a> {
    engine: &'a Engine,
    manifest: &'a Manifest,
    source: &'a Source,
    sde: u64,
    options: &'a BuildOptions,
    image: BuilderImage,
    inputs: Option<GuestInputs>,
    vendored: Option<Vendored>,
    sysroot_cache: Option<PathBuf>,
    trust: crate::cache::Trust,
    reporter: &'a dyn Reporter,
}

/// The pipeline for the `selected` artifacts of `manifest`: fetch once, then per artifact
/// sysroot → compile (→ reproduce) → post-link → provenance, staged; then every output
/// installed. Nothing is installed unless every artifact built.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn build_selected(
    engine: &Engine,
    manifest: &Manifest,
    selected: &[(Artifact, Profile)],
    source: &Source,
    sde: u64,
    options: &BuildOptions,
    sysroot_cache: SysrootCache,
    reporter: &dyn Reporter,
) -> Result<Vec<BuiltArtifact>, BuilderError> {
    // The cache's own directories are checked before any is used or a container runs.
    if let Some(cache) = &options.cache_dir {
        let sysroot = matches!(sysroot_cache, SysrootCache::Use).then_some("sysroot");
        for kind in ["crates", "git"].into_iter().chain(sysroot) {
            crate::cache::root(cache, kind)?;
        }
    }
    // The guest's own inputs first: a lock or a zkVM version zkelf refuses costs no container.
    let inputs = match manifest.build {
        BuildKind::Cargo => {
            let src = source.clone();
            let inputs = blocking(move || GuestInputs::read(&src)).await?;
            for (_, profile) in selected {
                let locked = inputs
                    .packages
                    .iter()
                    .map(|p| (p.name.as_str(), p.version.as_str()));
                check_guest_crate(&profile.name, locked)?;
            }
            Some(inputs)
        }
        BuildKind::Make => None,
    };
    let image = ensure_builder_image(engine, &options.suite, reporter).await?;
    let vendored = match &inputs {
        Some(inputs) => {
            Some(fetch::vendor(engine, &image, &manifest.name, inputs, options, reporter).await?)
        }
        None => None,
    };
    let ctx = Context {
        engine,
        manifest,
        source,
        sde,
        options,
        sysroot_cache: match (sysroot_cache, &options.cache_dir) {
            (SysrootCache::Use, Some(cache)) => Some(crate::cache::root(cache, "sysroot")?),
            _ => None,
        },
        image,
        inputs,
        vendored,
        trust: crate::cache::Trust::new(options.trust_dir.clone()),
        reporter,
    };
    let staging = Staging::new()?;
    let mut staged = Vec::new();
    for (artifact, profile) in selected {
        staged.push(build_one(&ctx, artifact, profile, &staging).await?);
    }
    // Every artifact built: now, and only now, write the outputs (copies, fsyncs and hashes:
    // off the runtime).
    let (manifest, out_dir) = (manifest.clone(), options.out_dir.clone());
    let (commit, image) = (source.commit.clone(), ctx.image.id);
    let built =
        blocking(move || outputs::install(&manifest, &out_dir, staged, &commit, sde, &image)).await;
    drop(staging);
    built
}

/// One artifact through sysroot → compile (→ reproduce) → post-link → provenance.
async fn build_one(
    ctx: &Context<'_>,
    artifact: &Artifact,
    profile: &Profile,
    staging: &Staging,
) -> Result<Staged, BuilderError> {
    let (manifest, reporter) = (ctx.manifest, ctx.reporter);
    let plan = plan::Plan::new(
        manifest,
        artifact,
        profile.clone(),
        ctx.source,
        ctx.sde,
        &ctx.image,
        ctx.inputs
            .as_ref()
            .map_or(&[], |i| i.git_sources.as_slice()),
    );
    let stem = format!("{}-{}", manifest.name, artifact.zkvm);
    let profile_dir = staging.profile_files(&plan)?;
    let mut mounts = Mounts {
        vendor: ctx.vendored.as_ref().map(|v| v.dir.as_path()),
        profile: profile_dir.as_deref(),
        sysroot: None,
        git: ctx.vendored.as_ref().and_then(|v| v.git_dir.as_deref()),
    };
    let workspace = ctx.inputs.as_ref().map(|i| &i.workspace);
    let standard = Variation::standard();
    let sysroot = match workspace {
        Some(workspace) => Some(
            sysroot::ensure(
                ctx.engine,
                &plan,
                workspace,
                &standard,
                &mounts,
                ctx.sysroot_cache.as_deref().map(|root| (root, &ctx.trust)),
                reporter,
            )
            .await?,
        ),
        None => None,
    };
    mounts.sysroot = sysroot.as_ref().map(|s| s.dir.as_path());
    reporter.step(&format!(
        "building {} {} for {} (profile {}, {})",
        manifest.name, manifest.version, artifact.zkvm, profile.name, artifact.target
    ));
    let linked_path = staging.path().join(format!("{stem}.linked.elf"));
    let linked = compile::compile(
        ctx.engine,
        &plan,
        ctx.source,
        &mounts,
        linked_path,
        reporter,
    )
    .await?;
    reporter.finish(&match profile.post_link {
        None => format!("{stem}.elf {}", OciDigest::from(linked.sha256)),
        Some(_) => format!("linked {stem} {}", OciDigest::from(linked.sha256)),
    });
    let reproduced = if ctx.options.check_reproducible {
        compile::reproduce(
            ctx.engine,
            &plan,
            ctx.source,
            workspace,
            sysroot.as_ref(),
            &mounts,
            &linked,
            reporter,
        )
        .await?;
        Some(true)
    } else {
        None
    };
    let mut finished = postlink::finish(
        &plan,
        linked,
        ctx.vendored.as_ref().map(|v| v.dir.as_path()),
        ctx.inputs.as_ref().map(|i| i.cargo_lock.as_slice()),
        staging.path(),
        reporter,
    )
    .await?;
    let derived = vk::derive(
        ctx.engine,
        &ctx.image,
        &plan,
        &mut finished,
        &ctx.source.git_root.join(&ctx.source.guest_path),
        staging.path(),
        ctx.options,
        reporter,
    )
    .await?;
    let mut dependencies = Vec::new();
    if let (Some(vendored), Some(inputs)) = (&ctx.vendored, &ctx.inputs) {
        dependencies.extend(vendored.dependencies(inputs, &ctx.source.workspace_root));
        dependencies.extend(ctx.source.outside.iter().map(|dir| {
            crate::provenance::ResourceDescriptor {
                name: Some(format!("path:{}", dir.display())),
                uri: Some(dir.display().to_string()),
                ..Default::default()
            }
        }));
    }
    dependencies.extend(sysroot.as_ref().map(|s| s.dependency(&plan)));
    dependencies.extend(finished.dependencies());
    dependencies.extend(derived.dependency);
    let mut byproducts = finished.byproducts(&plan);
    byproducts.extend(derived.byproduct);
    let provenance = provenance::assemble(
        &plan,
        &standard,
        &ctx.options.zkelf_version,
        &ctx.image,
        &finished.sha256,
        dependencies,
        byproducts,
    );
    Ok(Staged {
        zkvm: artifact.zkvm.clone(),
        profile: profile.name.clone(),
        target: artifact.target.clone(),
        finished,
        provenance,
        reproduced,
    })
}

/// Checks the versions `locked` (name, version) holds of `profile`'s guest crate.
fn check_guest_crate<'a>(
    profile: &str,
    locked: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), BuilderError> {
    let Some((krate, supported)) = crate::profile::guest_crate(profile) else {
        return Ok(());
    };
    let req = semver::VersionReq::parse(supported).unwrap_or(semver::VersionReq::STAR);
    for (name, version) in locked {
        let fits = semver::Version::parse(version).is_ok_and(|v| req.matches(&v));
        if name == krate && !fits {
            return Err(BuilderError::UnsupportedZkvmVersion {
                profile: profile.to_string(),
                krate: krate.to_string(),
                found: version.to_string(),
                supported: supported.to_string(),
            });
        }
    }
    Ok(())
}

/// Runs blocking work (file IO, hashing) off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, BuilderError> + Send + 'static,
) -> Result<T, BuilderError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|source| BuilderError::Task { source })?
}

/// [`crate::cache::lookup`] off the async runtime (it re-hashes every file of the entry); the
/// notes it makes on the way (a rejected entry, named) go to `reporter` afterwards.
pub(crate) async fn cached(
    root: &Path,
    key: &str,
    kind: &'static str,
    trust: &crate::cache::Trust,
    reporter: &dyn Reporter,
) -> Result<Option<(PathBuf, crate::cache::Sealed)>, BuilderError> {
    let (root, key, trust) = (root.to_path_buf(), key.to_owned(), trust.clone());
    let (found, notes) = blocking(move || {
        let notes = std::cell::RefCell::new(Vec::new());
        let note = |m: &str| notes.borrow_mut().push(m.to_owned());
        let found = crate::cache::lookup(&root, &key, kind, &trust, &note)?;
        Ok((found, notes.into_inner()))
    })
    .await?;
    for note in notes {
        reporter.note(&note);
    }
    Ok(found)
}

/// The source parameters of a provenance document.
fn source_parameters(source: &Source) -> crate::provenance::SourceParameters {
    crate::provenance::SourceParameters {
        uri: source.uri.clone(),
        commit: source.commit.clone(),
        dirty: source.dirty,
        path: source.guest_path.clone(),
        root: source.source_root.clone(),
        workspace: (source.workspace_root != source.source_root)
            .then(|| source.workspace_root.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_crate_version_the_profile_does_not_describe_is_named() {
        check_guest_crate("sp1", [("sp1-zkvm", "6.10.0"), ("serde", "1.0.0")]).unwrap();
        check_guest_crate("zisk", [("ziskos", "1.4.0-alpha")]).unwrap();
        check_guest_crate("rv32im", [("sp1-zkvm", "5.0.0")]).unwrap();
        let err = check_guest_crate("sp1", [("sp1-zkvm", "5.2.1")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "profile `sp1` describes `sp1-zkvm` =6.10.0, but the guest locks 5.2.1"
        );
        assert!(check_guest_crate("zisk", [("ziskos", "1.1.0-alpha")]).is_err());
        // No toolbox derives a 6.10.1 guest's key: refused, not guessed.
        assert!(check_guest_crate("sp1", [("sp1-zkvm", "6.10.1")]).is_err());
    }
}
