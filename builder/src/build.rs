//! `zkelf build`: fetch (network on) and build (`--network none`) containers, the profile's
//! post-link step, provenance, and atomic outputs under `<out>/<guest>/<version>/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::diff::diff_files;
use crate::docker::{ContainerSpec, Engine};
use crate::error::BuilderError;
use crate::fsutil::{install_file, read_input, sha256_file, world_writable_tempdir, write_atomic};
use crate::image::{BuilderImage, DOCKERFILE, ensure_builder_image};
use crate::manifest::{Artifact, BuildKind, Manifest};
use crate::profile::Profile;
use crate::provenance::{
    self, BUILD_TYPE, BUILDER_ID, BuildDefinition, BuilderId, ExternalParameters,
    InternalParameters, PREDICATE_TYPE, Predicate, Provenance, ResourceDescriptor, RunDetails,
    STATEMENT_TYPE, SourceParameters, Subject, deps, sha256_digest,
};
use crate::reporter::Reporter;
use crate::source::Source;
use zkelf_trust::bounded;
use zkelf_trust::digest::Sha256Digest;

pub(crate) mod plan;
mod postlink;
mod sysroot;

use plan::Mounts;
pub use plan::{BUILD_PATH, Variation};

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
    /// For [`rebuild`]: go on (with a note) when this zkelf would run the build with other
    /// flags, environment or command than the provenance records; refuse otherwise.
    pub allow_different_builder: bool,
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
        }
    }
}

/// One ELF written to the output directory, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    pub sha256: String,
    /// Size of the ELF in bytes.
    pub size: u64,
    /// sha256 of the provenance file.
    pub provenance_sha256: String,
    /// `<out>/<guest>/<version>/<guest>-<zkvm>.vk`, when the profile derives the VK (RISC
    /// Zero: the image id, 32 bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vk: Option<PathBuf>,
    /// sha256 of the VK file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vk_sha256: Option<String>,
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
    pub builder_image: String,
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

/// What one build produced in the staging directory.
struct Staged {
    artifact: Artifact,
    elf: PathBuf,
    vk: Option<(PathBuf, String)>,
    provenance: Vec<u8>,
    sha256: String,
    size: u64,
    reproduced: Option<bool>,
}

/// Whether a build may read and fill the sysroot cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SysrootCache {
    /// Use the entry of the key under `<cache>/sysroot/` (building and storing it if absent).
    Use,
    /// Build the sysroot afresh in a temporary directory (a rebuild).
    Bypass,
}

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
    let image = ensure_builder_image(engine, &options.suite, reporter).await?;
    let vendor = match manifest.build {
        BuildKind::Cargo => Some(fetch(engine, &image, manifest, source, options, reporter).await?),
        BuildKind::Make => None,
    };
    let staging = crate::fsutil::tempdir("zkelf-stage-")?;

    let mut staged = Vec::new();
    for (artifact, profile) in selected {
        let plan = plan::Plan::new(manifest, artifact, profile.clone(), source, sde, &image);
        let stem = format!("{}-{}", manifest.name, artifact.zkvm);
        let profile_dir =
            write_profile_files(&plan, &staging.path().join(format!("{stem}.profile")))?;
        let mut mounts = Mounts {
            vendor: vendor.as_ref().map(|v| v.dir.as_path()),
            profile: profile_dir.as_deref(),
            sysroot: None,
        };
        let standard = Variation::standard();
        let cache = match sysroot_cache {
            SysrootCache::Use => options.cache_dir.as_ref().map(|c| c.join("sysroot")),
            SysrootCache::Bypass => None,
        };
        let sysroot = match manifest.build {
            BuildKind::Cargo => Some(
                ensure_sysroot(
                    engine,
                    &plan,
                    source,
                    &standard,
                    &mounts,
                    cache.as_deref(),
                    reporter,
                )
                .await?,
            ),
            BuildKind::Make => None,
        };
        mounts.sysroot = sysroot.as_ref().map(|s| s.dir.as_path());
        reporter.step(&format!(
            "building {} {} for {} (profile {}, {})",
            manifest.name, manifest.version, artifact.zkvm, profile.name, artifact.target
        ));
        let first = run_build(
            engine,
            &plan,
            &standard,
            &source.host_source_root(),
            &mounts,
            reporter,
        )
        .await?;
        let linked = staging.path().join(format!("{stem}.linked.elf"));
        std::fs::copy(first.path().join("out.elf"), &linked)
            .map_err(|e| BuilderError::io("cannot copy", first.path().join("out.elf"), e))?;
        let (linked_sha256, linked_size) = sha256_file(&linked)?;
        reporter.finish(&match profile.post_link {
            None => format!("{stem}.elf sha256:{linked_sha256}"),
            Some(_) => format!("linked {stem} sha256:{linked_sha256}"),
        });

        let reproduced = if options.check_reproducible {
            reporter.step(&format!(
                "rebuilding {} for {} with varied path, uid, hostname, umask, env, CPUs, timezone, locale and file times",
                manifest.name, artifact.zkvm
            ));
            let copy = crate::fsutil::tempdir("zkelf-repro-src-")?;
            let (src, dest) = (source.clone(), copy.path().to_path_buf());
            tokio::task::spawn_blocking(move || {
                src.copy_to(&dest)?;
                plan::shift_mtimes(&dest)
            })
            .await
            .map_err(|e| {
                BuilderError::io("cannot copy", &source.git_root, std::io::Error::other(e))
            })??;
            let varied = Variation::varied();
            // The second build trusts no cache: its sysroot is built afresh, varied too, and
            // must have the first one's files.
            let second_sysroot = match &sysroot {
                Some(first) => {
                    let second =
                        ensure_sysroot(engine, &plan, source, &varied, &mounts, None, reporter)
                            .await?;
                    if second.digest != first.digest {
                        return Err(BuilderError::SysrootNotReproducible {
                            target: plan.target.clone(),
                            first: first.digest.clone(),
                            second: second.digest.clone(),
                            difference: sysroot::difference(&first.manifest, &second.manifest),
                        });
                    }
                    Some(second)
                }
                None => None,
            };
            let varied_mounts = Mounts {
                sysroot: second_sysroot.as_ref().map(|s| s.dir.as_path()),
                ..mounts
            };
            let second = run_build(
                engine,
                &plan,
                &varied,
                &copy.path().join(&source.source_root),
                &varied_mounts,
                reporter,
            )
            .await?;
            // The post-link step is a pure function of the linked ELF and the pinned kernel,
            // so the linked ELFs are what must agree (and what a diff can explain).
            let second_elf = second.path().join("out.elf");
            let (second_sha, _) = sha256_file(&second_elf)?;
            if second_sha != linked_sha256 {
                let (a, b) = (linked.clone(), second_elf.clone());
                let diff = tokio::task::spawn_blocking(move || diff_files(&a, &b))
                    .await
                    .map_err(|e| {
                        BuilderError::io("cannot compare", &linked, std::io::Error::other(e))
                    })??;
                return Err(BuilderError::NotReproducible {
                    guest: manifest.name.clone(),
                    zkvm: artifact.zkvm.clone(),
                    first: linked_sha256,
                    second: second_sha,
                    diff: diff.render(),
                });
            }
            reporter.finish("identical bytes");
            Some(true)
        } else {
            None
        };

        let elf = staging.path().join(format!("{stem}.elf"));
        let mut post = None;
        match &profile.post_link {
            None => {
                std::fs::rename(&linked, &elf)
                    .map_err(|e| BuilderError::io("cannot rename into", &elf, e))?;
            }
            Some(step) => {
                reporter.step(&format!(
                    "post-link step for {stem} ({})",
                    post_link_name(step)
                ));
                let vendor = vendor.as_ref().ok_or_else(|| BuilderError::PostLink {
                    artifact: stem.clone(),
                    message: "a post-link step needs the vendored crates of a cargo guest".into(),
                })?;
                let user_elf = std::fs::read(&linked)
                    .map_err(|e| BuilderError::io("cannot read", &linked, e))?;
                let (step, dir, lock, what) = (
                    step.clone(),
                    vendor.dir.clone(),
                    vendor.cargo_lock.clone(),
                    stem.clone(),
                );
                let done = tokio::task::spawn_blocking(move || {
                    postlink::apply(&step, &user_elf, &dir, &lock, &what)
                })
                .await
                .map_err(|e| {
                    BuilderError::io("cannot wrap", &linked, std::io::Error::other(e))
                })??;
                std::fs::write(&elf, &done.program)
                    .map_err(|e| BuilderError::io("cannot write", &elf, e))?;
                post = Some(done);
            }
        }
        let (sha256, size) = sha256_file(&elf)?;
        if let Some(done) = &post {
            reporter.finish(&format!("{stem}.elf sha256:{sha256}, vk {}", done.vk_id));
        }
        let vk = match &post {
            Some(done) => {
                let path = staging.path().join(format!("{stem}.vk"));
                std::fs::write(&path, &done.vk)
                    .map_err(|e| BuilderError::io("cannot write", &path, e))?;
                Some((path, done.vk_id.clone()))
            }
            None => None,
        };
        let linked = Linked {
            sha256: linked_sha256,
            size: linked_size,
        };
        let provenance = provenance_for(
            &plan,
            &standard,
            &image,
            vendor.as_ref(),
            sysroot.as_ref(),
            &sha256,
            &linked,
            post.as_ref(),
        )?;
        staged.push(Staged {
            artifact: artifact.clone(),
            elf,
            vk,
            provenance: provenance.to_json(),
            sha256,
            size,
            reproduced,
        });
    }

    // Every artifact built: now, and only now, write the outputs.
    let out = manifest.output_dir(&options.out_dir);
    std::fs::create_dir_all(&out).map_err(|e| BuilderError::io("cannot create", &out, e))?;
    let mut built = Vec::new();
    for (s, (_, profile)) in staged.into_iter().zip(selected) {
        let base = format!("{}-{}", manifest.name, s.artifact.zkvm);
        let elf = out.join(format!("{base}.elf"));
        let prov = out.join(format!("{base}.provenance.json"));
        let vk_path = out.join(format!("{base}.vk"));
        install_file(&s.elf, &elf, 0o755)?;
        let (vk, vk_sha256, vk_id) = match &s.vk {
            Some((staged_vk, id)) => {
                install_file(staged_vk, &vk_path, 0o644)?;
                let (sha, _) = sha256_file(&vk_path)?;
                (Some(vk_path), Some(sha), Some(id.clone()))
            }
            // A VK the user put beside the ELF (made with the zkVM's own key generation) is
            // theirs: `sign --vk` binds it.
            None => (None, None, None),
        };
        write_atomic(&prov, &s.provenance, 0o644)?;
        built.push(BuiltArtifact {
            guest: manifest.name.clone(),
            version: manifest.version.clone(),
            zkvm: s.artifact.zkvm.clone(),
            profile: profile.name.clone(),
            target: s.artifact.target.clone(),
            elf,
            provenance: prov,
            sha256: s.sha256,
            size: s.size,
            provenance_sha256: Sha256Digest::of(&s.provenance).to_string(),
            vk,
            vk_sha256,
            vk_id,
            commit: source.commit.clone(),
            source_date_epoch: sde,
            reproduced: s.reproduced,
            builder_image: image.id.clone(),
        });
    }
    Ok(built)
}

/// How a post-link step is named in progress messages.
fn post_link_name(step: &crate::profile::PostLink) -> &'static str {
    match step {
        crate::profile::PostLink::Risc0ProgramBinary { .. } => {
            "the user ELF wrapped with RISC Zero's kernel"
        }
    }
}

/// Writes the profile's data files into `dir` (readable by the container's user) and returns
/// it, or `None` when the profile has none.
fn write_profile_files(plan: &plan::Plan, dir: &Path) -> Result<Option<PathBuf>, BuilderError> {
    let files = plan.profile_files();
    if files.is_empty() {
        return Ok(None);
    }
    write_readable_dir(dir, files.iter().map(|(n, c)| (*n, c.as_bytes())))?;
    Ok(Some(dir.to_path_buf()))
}

/// The ELF the linker wrote, before any post-link step.
struct Linked {
    sha256: String,
    size: u64,
}

/// Vendored crates for a build.
struct Vendor {
    dir: PathBuf,
    cargo_lock: Vec<u8>,
    cargo_lock_sha256: String,
    crates: Vec<(String, String, String)>,
    /// Keeps an uncached vendor directory alive for the build.
    _temp: Option<tempfile::TempDir>,
}

/// The fetch container: `cargo vendor --locked` of the guest and the sysroot's library.
async fn fetch(
    engine: &Engine,
    image: &BuilderImage,
    manifest: &Manifest,
    source: &Source,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<Vendor, BuilderError> {
    let lock = read_cargo_lock(source)?;
    let cargo_lock_sha256 = Sha256Digest::of(&lock).to_string();
    let key = Sha256Digest::of(format!("{cargo_lock_sha256}\0{}", image.id).as_bytes()).to_string();
    let (dir, temp) = match &options.cache_dir {
        Some(cache) => (cache.join("vendor").join(&key[..32]), None),
        None => {
            let temp = crate::fsutil::tempdir("zkelf-vendor-")?;
            (temp.path().join("vendor"), Some(temp))
        }
    };
    if !dir.is_dir() {
        let parent = dir.parent().unwrap_or(Path::new("/"));
        std::fs::create_dir_all(parent)
            .map_err(|e| BuilderError::io("cannot create", parent, e))?;
        let partial = tempfile::Builder::new()
            .prefix(".partial-")
            .tempdir_in(parent)
            .map_err(|e| BuilderError::io("cannot create a temporary directory in", parent, e))?;
        reporter.step(&format!(
            "fetching the crates of {} (cargo vendor --locked)",
            manifest.name
        ));
        let spec = plan::fetch_spec(image, source, partial.path(), &options.ca_bundle);
        let exit = engine.run(&spec, reporter).await?;
        if exit.code != 0 {
            return Err(BuilderError::FetchFailed {
                guest: manifest.name.clone(),
                code: exit.code,
                output: exit.tail,
            });
        }
        let partial = partial.keep();
        if let Err(e) = std::fs::rename(&partial, &dir) {
            // Another build filled the cache meanwhile; use theirs.
            let _ = std::fs::remove_dir_all(&partial);
            if !dir.is_dir() {
                return Err(BuilderError::io("cannot rename into", &dir, e));
            }
        }
        reporter.finish("crates vendored");
    }
    let crates = plan::vendored_crates(&dir)?;
    Ok(Vendor {
        dir,
        cargo_lock: lock,
        cargo_lock_sha256,
        crates,
        _temp: temp,
    })
}

/// The sysroot a guest is built against: verified, read-only from its build's point of view.
struct Sysroot {
    /// The entry (`lib/rustlib/<target>/lib/*.rlib` and the manifest).
    dir: PathBuf,
    key: sysroot::KeyDocument,
    /// sha256 of the manifest, hex.
    digest: String,
    /// The manifest's bytes.
    manifest: Vec<u8>,
    /// Keeps an uncached sysroot alive for the build.
    _temp: Option<tempfile::TempDir>,
}

/// The guest workspace's `Cargo.lock`, within its bound.
pub(crate) fn read_cargo_lock(source: &Source) -> Result<Vec<u8>, BuilderError> {
    read_input(
        &source.host_source_root().join("Cargo.lock"),
        bounded::MAX_CARGO_LOCK_LEN,
    )
}

/// The guest workspace's `Cargo.toml` (its `[profile.release]` is the sysroot's) and its path.
pub(crate) fn workspace_manifest(source: &Source) -> Result<(PathBuf, String), BuilderError> {
    let path = source.host_source_root().join("Cargo.toml");
    let text = bounded::read_no_follow(&path, bounded::MAX_CARGO_TOML_LEN)
        .and_then(bounded::into_text)
        .map_err(|source| BuilderError::Read {
            path: path.clone(),
            source,
        })?;
    Ok((path, text))
}

/// The key document of `plan`'s sysroot, from the guest workspace's `Cargo.toml` (at `path`,
/// read as `text`).
pub(crate) fn sysroot_key(
    plan: &plan::Plan,
    path: &Path,
    text: &str,
) -> Result<sysroot::KeyDocument, BuilderError> {
    plan.sysroot_key(text)
        .map_err(|message| BuilderError::ManifestInvalid {
            path: path.to_path_buf(),
            message,
        })
}

/// The sysroot for `plan`: the verified cache entry of its key when `cache` has one, else built
/// in a sysroot container (under `variation`) and, with a `cache`, stored there by its key.
async fn ensure_sysroot(
    engine: &Engine,
    plan: &plan::Plan,
    source: &Source,
    variation: &Variation,
    mounts: &Mounts<'_>,
    cache: Option<&Path>,
    reporter: &dyn Reporter,
) -> Result<Sysroot, BuilderError> {
    let (workspace, text) = workspace_manifest(source)?;
    let key = sysroot_key(plan, &workspace, &text)?;
    let id = key.key();
    if let Some(root) = cache {
        let note = |m: &str| reporter.note(m);
        if let Some((dir, sealed)) = sysroot::lookup(root, &id, &note)? {
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
                digest: sealed.digest,
                manifest: sealed.manifest,
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
    let scratch = crate::fsutil::tempdir("zkelf-sysroot-")?;
    let crate_dir = scratch.path().join("crate");
    let files =
        plan::Plan::sysroot_crate(&text).map_err(|message| BuilderError::ManifestInvalid {
            path: workspace.clone(),
            message,
        })?;
    write_readable_dir(&crate_dir, files.iter().map(|(n, c)| (*n, c.as_bytes())))?;
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
    // Staged where it will live (the cache's directory, or a temporary one), sealed, then
    // renamed into place: a reader never sees a partial entry under its key.
    let (staged, temp) = match cache {
        Some(root) => {
            std::fs::create_dir_all(root)
                .map_err(|e| BuilderError::io("cannot create", root, e))?;
            let dir = tempfile::Builder::new()
                .prefix(".partial-")
                .tempdir_in(root)
                .map_err(|e| BuilderError::io("cannot create a temporary directory in", root, e))?;
            (dir.keep(), None)
        }
        None => {
            let dir = scratch.path().join("sysroot");
            std::fs::create_dir(&dir).map_err(|e| BuilderError::io("cannot create", &dir, e))?;
            (dir, Some(scratch))
        }
    };
    let staged_result = (|| {
        copy_readable_tree(&built_lib, &staged.join("lib"))?;
        sysroot::seal(&staged, &id)
    })();
    let sealed = match staged_result {
        Ok(sealed) => sealed,
        Err(e) => {
            if cache.is_some() {
                let _ = std::fs::remove_dir_all(&staged);
            }
            return Err(e);
        }
    };
    let (dir, sealed) = match cache {
        Some(root) => sysroot::insert(root, &id, &staged, sealed)?,
        None => (staged, sealed),
    };
    reporter.finish(&format!("sysroot sha256:{}", sealed.digest));
    Ok(Sysroot {
        dir,
        key,
        digest: sealed.digest,
        manifest: sealed.manifest,
        _temp: temp,
    })
}

/// Writes `files` into a new directory `dir`, readable by a container's user (0755/0644).
fn write_readable_dir<'a>(
    dir: &Path,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<(), BuilderError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).map_err(|e| BuilderError::io("cannot create", dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| BuilderError::io("cannot set permissions of", dir, e))?;
    for (name, content) in files {
        write_atomic(&dir.join(name), content, 0o644)?;
    }
    Ok(())
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

/// Runs one build container; returns the directory holding `out.elf`.
async fn run_build(
    engine: &Engine,
    plan: &plan::Plan,
    variation: &Variation,
    host_source_root: &Path,
    mounts: &Mounts<'_>,
    reporter: &dyn Reporter,
) -> Result<tempfile::TempDir, BuilderError> {
    let out = world_writable_tempdir("zkelf-out-")?;
    let spec: ContainerSpec = plan.container(variation, host_source_root, mounts, out.path());
    let exit = engine.run(&spec, reporter).await?;
    if exit.code != 0 || !out.path().join("out.elf").is_file() {
        return Err(BuilderError::BuildFailed {
            guest: plan.guest.clone(),
            zkvm: plan.zkvm.clone(),
            code: exit.code,
            output: exit.tail,
        });
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn provenance_for(
    plan: &plan::Plan,
    variation: &Variation,
    image: &BuilderImage,
    vendor: Option<&Vendor>,
    sysroot: Option<&Sysroot>,
    sha256: &str,
    linked: &Linked,
    post: Option<&postlink::PostLinked>,
) -> Result<Provenance, BuilderError> {
    let annotations = |pairs: Vec<(&str, serde_json::Value)>| {
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>()
    };
    let mut dependencies = vec![
        ResourceDescriptor {
            name: Some(deps::BUILDER_IMAGE.into()),
            uri: Some(format!("docker-image:{}", image.tag)),
            digest: sha256_digest(image.id.trim_start_matches("sha256:")),
            ..Default::default()
        },
        ResourceDescriptor {
            name: Some(deps::DOCKERFILE.into()),
            digest: sha256_digest(&image.dockerfile_sha256),
            content: Some(provenance::base64(DOCKERFILE.as_bytes())),
            annotations: annotations(vec![(
                "buildArgs",
                serde_json::json!({ "BASE_IMAGE": image.base.id }),
            )]),
            ..Default::default()
        },
        ResourceDescriptor {
            name: Some(deps::BASE_IMAGE.into()),
            uri: Some(format!(
                "debootstrap:{}#{}",
                image.base.mirror, image.base.suite
            )),
            digest: sha256_digest(&image.base.rootfs_sha256),
            annotations: annotations(vec![
                ("imageId", image.base.id.clone().into()),
                ("variant", "minbase".into()),
                ("sourceDateEpoch", image.base.source_date_epoch.into()),
            ]),
            ..Default::default()
        },
        ResourceDescriptor {
            name: Some(deps::TOOLCHAIN.into()),
            annotations: annotations(vec![
                ("rustc", image.toolchain.rustc.clone().into()),
                ("cargo", image.toolchain.cargo.clone().into()),
                ("cc", image.toolchain.cc.clone().into()),
                (
                    "debianPackages",
                    serde_json::to_value(&image.toolchain.packages).unwrap_or_default(),
                ),
                (
                    "installedPackages",
                    serde_json::to_value(&image.toolchain.installed).unwrap_or_default(),
                ),
            ]),
            ..Default::default()
        },
    ];
    if let Some(vendor) = vendor {
        dependencies.push(ResourceDescriptor {
            name: Some(deps::CARGO_LOCK.into()),
            uri: Some(format!("{}/Cargo.lock", plan.source.root.display())),
            digest: sha256_digest(&vendor.cargo_lock_sha256),
            ..Default::default()
        });
        for (name, version, checksum) in &vendor.crates {
            dependencies.push(ResourceDescriptor {
                name: Some(format!("crate:{name}")),
                uri: Some(format!("pkg:cargo/{name}@{version}")),
                digest: if checksum.is_empty() {
                    BTreeMap::new()
                } else {
                    sha256_digest(checksum)
                },
                ..Default::default()
            });
        }
    }
    if let Some(sysroot) = sysroot {
        // Its key document says what decided its bytes, its manifest (the content) lists every
        // rlib with its sha256, and the digest is the manifest's: the same whether the build
        // found it in the cache or built it.
        dependencies.push(ResourceDescriptor {
            name: Some(deps::SYSROOT.into()),
            uri: Some(format!("zkelf-sysroot:{}", sysroot.key.key())),
            digest: sha256_digest(&sysroot.digest),
            content: Some(provenance::base64(&sysroot.manifest)),
            annotations: annotations(vec![
                ("key", sysroot.key.key().into()),
                ("keyDocument", sysroot.key.to_value()),
                ("command", plan.sysroot_command().into()),
                ("flags", plan.sysroot_flags().into()),
            ]),
        });
    }
    let mut byproducts = Vec::new();
    if let Some(post) = post {
        let (name, version) = post
            .kernel_crate
            .split_once('@')
            .unwrap_or((post.kernel_crate.as_str(), ""));
        dependencies.push(ResourceDescriptor {
            name: Some(deps::POST_LINK_KERNEL.into()),
            uri: Some(format!("pkg:cargo/{name}@{version}#{}", post.kernel_file)),
            digest: sha256_digest(&post.kernel_sha256),
            annotations: annotations(vec![(
                "crateSha256",
                post.kernel_crate_sha256.clone().into(),
            )]),
            ..Default::default()
        });
        byproducts.push(ResourceDescriptor {
            name: Some(deps::LINKED_ELF.into()),
            uri: Some(format!("{}-{}.linked.elf", plan.guest, plan.zkvm)),
            digest: sha256_digest(&linked.sha256),
            annotations: annotations(vec![("size", linked.size.into())]),
            ..Default::default()
        });
        byproducts.push(ResourceDescriptor {
            name: Some(deps::VK.into()),
            uri: Some(format!("{}-{}.vk", plan.guest, plan.zkvm)),
            digest: sha256_digest(&Sha256Digest::of(&post.vk).to_string()),
            annotations: annotations(vec![("imageId", post.vk_id.clone().into())]),
            ..Default::default()
        });
    }
    let (env, command, flags) = plan.recorded(variation);
    Ok(Provenance {
        statement_type: STATEMENT_TYPE.into(),
        subject: vec![Subject {
            name: format!("{}-{}.elf", plan.guest, plan.zkvm),
            digest: sha256_digest(sha256),
        }],
        predicate_type: PREDICATE_TYPE.into(),
        predicate: Predicate {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE.into(),
                external_parameters: ExternalParameters {
                    source: plan.source.clone(),
                    guest: plan.guest.clone(),
                    version: plan.version.clone(),
                    zkvm: plan.zkvm.clone(),
                    target: plan.target.clone(),
                    build: plan.kind,
                    package: plan.package.clone(),
                    bin: plan.bin.clone(),
                    profile: plan.profile.clone(),
                    cargo_profile: "release".into(),
                    features: plan.features.clone(),
                    build_std: plan.build_std.clone(),
                },
                internal_parameters: InternalParameters {
                    source_date_epoch: plan.sde,
                    build_path: BUILD_PATH.into(),
                    user: variation.user.clone(),
                    hostname: variation.hostname.clone(),
                    umask: variation.umask.clone(),
                    network: "none".into(),
                    env,
                    command,
                    flags,
                },
                resolved_dependencies: dependencies,
            },
            run_details: RunDetails {
                builder: BuilderId {
                    id: BUILDER_ID.into(),
                    version: BTreeMap::from([(
                        "zkelf".to_string(),
                        env!("CARGO_PKG_VERSION").to_string(),
                    )]),
                },
                byproducts,
            },
        },
    })
}

/// The source parameters of a provenance document.
fn source_parameters(source: &Source) -> SourceParameters {
    SourceParameters {
        uri: source.uri.clone(),
        commit: source.commit.clone(),
        dirty: source.dirty,
        path: source.guest_path.clone(),
        root: source.source_root.clone(),
    }
}
