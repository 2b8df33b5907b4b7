//! The fetch step: every source a cargo guest's `Cargo.lock` names (and the std library's, for
//! the sysroot), made into directories cargo reads offline in the build container.
//!
//! - crates.io packages: `.crate` archives, checked against the lock's sha256 on every use and
//!   unpacked afresh into `vendor/` (`crates`);
//! - git packages (dependencies and `[patch]` forks): each locked commit's tree, checked against
//!   its commit on every use (`gittree`), each package vendored standing alone into
//!   `git/<i>/`, one directory per git source (`gitpkg`), so one name and version from two
//!   sources builds.
//!
//! Only what the caches lack is fetched, by the fetch container (network on, through mirrors:
//! [`mirror`], `container`). Caches restored from an untrusted build cannot change a build:
//! what does not verify is named, removed and fetched again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use zkelf_trust::bounded;
use zkelf_trust::digest::{OciDigest, Sha256Digest};

use super::BuildOptions;
use crate::docker::Engine;
use crate::error::BuilderError;
use crate::fsutil::{self, read_input};
use crate::image::BuilderImage;
use crate::provenance::{ResourceDescriptor, deps, sha256_digest};
use crate::reporter::Reporter;
use crate::source::Source;

mod container;
mod crates;
pub(crate) mod gitpkg;
pub(crate) mod gittree;
pub(crate) mod lock;
pub mod mirror;

use crates::{CrateId, CrateStore};
pub use gitpkg::GitPackageProblem;
pub use gittree::TreeProblem;
pub use lock::LockProblem;
use lock::{GitSource, LockedPackage};

/// A cargo guest's workspace files, read once on the host: what the fetch, the sysroot key and
/// a rebuild's checks all read.
#[derive(Debug, Clone)]
pub(crate) struct GuestInputs {
    /// `Cargo.lock`'s bytes.
    pub cargo_lock: Vec<u8>,
    /// Its sha256.
    pub cargo_lock_sha256: Sha256Digest,
    /// Its packages.
    pub packages: Vec<LockedPackage>,
    /// Its git sources, sorted: source `i` is served from `/build/git/<i>`.
    pub git_sources: Vec<GitSource>,
    /// The workspace's `Cargo.toml`: its path and text (its `[profile.release]` is the
    /// sysroot's).
    pub workspace: (PathBuf, String),
}

impl GuestInputs {
    /// Reads `Cargo.lock` and `Cargo.toml` of the workspace: regular files, not links, within
    /// their bounds; a lock naming a source zkelf cannot fetch safely is refused here.
    pub fn read(source: &Source) -> Result<Self, BuilderError> {
        let root = source.git_root.join(&source.workspace_root);
        let lock_path = root.join("Cargo.lock");
        let cargo_lock = read_input(&lock_path, bounded::MAX_CARGO_LOCK_LEN)?;
        let invalid = |problem| BuilderError::Lock {
            path: lock_path.clone(),
            problem: Box::new(problem),
        };
        let text = std::str::from_utf8(&cargo_lock)
            .map_err(|_| invalid(LockProblem::Parse("it is not UTF-8".into())))?;
        let packages = lock::parse(text).map_err(invalid)?;
        let git_sources: Vec<GitSource> = lock::git_sources(&packages).into_keys().collect();
        // A git dependency the lock does not pin would send cargo to the network in the
        // build container, to fail there in its own words: say what is wrong here instead.
        let trim = |id: &str| {
            id.trim_end_matches('/')
                .trim_end_matches(".git")
                .to_string()
        };
        for (key, id) in &source.git_dependencies {
            if !git_sources.iter().any(|g| trim(&g.id()) == trim(id)) {
                return Err(invalid(LockProblem::Unlocked {
                    key: key.clone(),
                    source_id: id.clone(),
                }));
            }
        }
        // The guest's own manifest, which only cargo reads: one that is not a regular file
        // within its bound (a link to `/dev/zero`) is refused here, not in the container.
        let guest = source.git_root.join(&source.guest_path).join("Cargo.toml");
        if guest != root.join("Cargo.toml") {
            read_input(&guest, bounded::MAX_CARGO_TOML_LEN)?;
        }
        let path = root.join("Cargo.toml");
        let text = bounded::read_no_follow(&path, bounded::MAX_CARGO_TOML_LEN)
            .and_then(bounded::into_text)
            .map_err(|source| BuilderError::Read {
                path: path.clone(),
                source,
            })?;
        Ok(Self {
            cargo_lock_sha256: Sha256Digest::of(&cargo_lock),
            cargo_lock,
            packages,
            git_sources,
            workspace: (path, text),
        })
    }
}

/// One vendored git package.
#[derive(Debug, Clone)]
pub(crate) struct VendoredGit {
    pub name: String,
    pub version: String,
    pub source: GitSource,
    /// sha256 of its `.cargo-checksum.json` (every file and its sha256).
    pub digest: Sha256Digest,
}

/// The vendored sources of a build.
#[derive(Debug)]
pub(crate) struct Vendored {
    /// crates.io packages (`/build/vendor`), the std library's included.
    pub dir: PathBuf,
    /// Git sources, `<i>/<name>-<version>` (`/build/git`), when there are any.
    pub git_dir: Option<PathBuf>,
    /// `(name, version, sha256 of the .crate)` of every crates.io package, sorted.
    pub crates: Vec<(String, String, Sha256Digest)>,
    /// Every git package.
    pub git: Vec<VendoredGit>,
    /// Keeps the vendor directories alive for the build.
    _temp: tempfile::TempDir,
}

impl Vendored {
    /// Its provenance records: `Cargo.lock` (in the workspace `root`), one `crate:<name>` per
    /// crates.io package and one `git:<name>` per git package (the URL as written, the locked
    /// commit, the digest of the vendored package).
    pub fn dependencies(&self, inputs: &GuestInputs, root: &Path) -> Vec<ResourceDescriptor> {
        let mut out = vec![ResourceDescriptor {
            name: Some(deps::CARGO_LOCK.into()),
            uri: Some(format!("{}/Cargo.lock", root.display())),
            digest: sha256_digest(inputs.cargo_lock_sha256),
            ..Default::default()
        }];
        out.extend(
            self.crates
                .iter()
                .map(|(name, version, checksum)| ResourceDescriptor {
                    name: Some(format!("crate:{name}")),
                    uri: Some(format!("pkg:cargo/{name}@{version}")),
                    digest: sha256_digest(*checksum),
                    ..Default::default()
                }),
        );
        out.extend(self.git.iter().map(|g| ResourceDescriptor {
            name: Some(format!("git:{}", g.name)),
            uri: Some(g.source.to_string()),
            digest: sha256_digest(g.digest),
            annotations: BTreeMap::from([
                ("url".to_string(), g.source.url.clone().into()),
                ("commit".to_string(), g.source.commit.clone().into()),
                ("version".to_string(), g.version.clone().into()),
            ]),
            ..Default::default()
        }));
        out
    }
}

/// Vendors every source of `inputs` and of the std library into fresh directories, fetching
/// (through `options.git_mirrors`) only what `options.cache_dir` does not hold verified.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn vendor(
    engine: &Engine,
    image: &BuilderImage,
    guest: &str,
    inputs: &GuestInputs,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<Vendored, BuilderError> {
    // A local mirror that cannot be read is the user's mistake, said before any work.
    container::plan_git(&[], &options.git_mirrors)?;
    let library = library_packages(engine, image).await?;
    let lock = inputs.workspace.0.with_file_name("Cargo.lock");
    let packages: Vec<LockedPackage> = inputs.packages.iter().chain(&library).cloned().collect();
    vendor_packages(engine, image, guest, &lock, &packages, options, reporter).await
}

/// Vendors `packages` (of the lock file at `lock`, named in errors) as [`vendor`] does,
/// without the std library's: for a host program (a zkVM toolbox).
pub(crate) async fn vendor_packages(
    engine: &Engine,
    image: &BuilderImage,
    guest: &str,
    lock: &Path,
    packages: &[LockedPackage],
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<Vendored, BuilderError> {
    let wanted = lock::registry_crates(packages).map_err(|problem| BuilderError::Lock {
        path: lock.to_path_buf(),
        problem: Box::new(problem),
    })?;
    let git = lock::git_sources(packages);
    let temp = fsutil::tempdir("zkelf-vendor-")?;
    let stores = match &options.cache_dir {
        Some(cache) => (
            crate::cache::root(cache, "crates")?,
            crate::cache::root(cache, "git")?,
        ),
        None => (temp.path().join("crates"), temp.path().join("git-store")),
    };
    let crate_store = CrateStore::open(&stores.0)?;
    let git_store = stores.1;
    let note = |m: &str| reporter.note(m);
    let (missing_crates, missing_git) = {
        let (store, wanted, git_store, sources) = (
            crate_store.clone(),
            wanted.clone(),
            git_store.clone(),
            git.keys().cloned().collect::<Vec<_>>(),
        );
        let notes = Mutex::new(Vec::new());
        let found = super::blocking(move || {
            let note = |m: &str| notes.lock().unwrap().push(m.to_string());
            let crates = store.missing(&wanted, &note)?;
            let git = missing_commits(&git_store, &sources, &note)?;
            Ok((crates, git, notes.into_inner().unwrap_or_default()))
        })
        .await?;
        found.2.iter().for_each(|m| note(m));
        (found.0, found.1)
    };
    if !missing_crates.is_empty() || !missing_git.is_empty() {
        reporter.step(&format!(
            "fetching {} crates and {} git commits of {guest}",
            missing_crates.len(),
            missing_git.len()
        ));
        fetch_missing(
            engine,
            image,
            &missing_crates,
            &missing_git,
            &git,
            &crate_store,
            &wanted,
            &git_store,
            options,
            reporter,
        )
        .await?;
        reporter.finish("sources fetched");
    }
    let vendor_dir = temp.path().join("vendor");
    let git_dir = temp.path().join("git");
    let (store, wanted_c, sources, out, out_git) = (
        crate_store.clone(),
        wanted.clone(),
        git.clone(),
        vendor_dir.clone(),
        git_dir.clone(),
    );
    let vendored_git = super::blocking(move || {
        crates::create_dir(&out)?;
        store.unpack_all(&wanted_c, &out)?;
        vendor_git(&git_store, &sources, &out_git)
    })
    .await?;
    Ok(Vendored {
        dir: vendor_dir,
        git_dir: (!vendored_git.is_empty()).then_some(git_dir),
        crates: wanted
            .into_iter()
            .map(|((name, version), sum)| (name, version, sum))
            .collect(),
        git: vendored_git,
        _temp: temp,
    })
}

/// The packages of the std library's lock file in `image` (read once per image and process).
async fn library_packages(
    engine: &Engine,
    image: &BuilderImage,
) -> Result<Vec<LockedPackage>, BuilderError> {
    static CACHE: OnceLock<Mutex<BTreeMap<OciDigest, Vec<LockedPackage>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(&image.id).cloned()) {
        return Ok(found);
    }
    let bytes = engine
        .read_file(
            &image.id.to_string(),
            container::LIBRARY_LOCK,
            bounded::MAX_CARGO_LOCK_LEN,
        )
        .await?;
    let invalid = |problem| BuilderError::Lock {
        path: PathBuf::from(container::LIBRARY_LOCK),
        problem: Box::new(problem),
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| invalid(LockProblem::Parse("it is not UTF-8".into())))?;
    let packages = lock::parse(&text).map_err(invalid)?;
    if let Ok(mut c) = cache.lock() {
        c.insert(image.id, packages.clone());
    }
    Ok(packages)
}

/// The commits of `sources` the git store does not hold verified; an entry that does not
/// verify is removed, and `note` says why.
fn missing_commits(
    store: &Path,
    sources: &[GitSource],
    note: &dyn Fn(&str),
) -> Result<Vec<GitSource>, BuilderError> {
    let mut missing = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for source in sources {
        if !seen.insert(&source.commit) {
            continue;
        }
        let dir = store.join(&source.commit);
        if !dir.exists() {
            missing.push(source.clone());
            continue;
        }
        if let Err(problem) = verify_commit(&dir, &source.commit) {
            note(&format!(
                "note: the cached tree of `{}` at `{}` cannot be used: {problem}; fetching it again",
                source.url, source.commit
            ));
            std::fs::remove_dir_all(&dir)
                .map_err(|e| BuilderError::io("cannot remove", &dir, e))?;
            missing.push(source.clone());
        }
    }
    Ok(missing)
}

/// Checks `<dir>/tree` against the commit whose object is `<dir>/commit`.
fn verify_commit(dir: &Path, commit: &str) -> Result<(), TreeProblem> {
    let read = |name: &str| {
        let path = dir.join(name);
        bounded::read_no_follow(&path, 1 << 20).map_err(|e| TreeProblem::Io {
            path,
            source: e.into(),
        })
    };
    let object = read("commit")?;
    let links = read("gitlinks")?;
    let gitlinks = links
        .split(|&b| b == 0)
        .filter_map(|record| {
            let text = std::str::from_utf8(record).ok()?;
            let rest = text.strip_prefix("160000 ")?;
            let (id, path) = rest.split_once(' ')?;
            Some((PathBuf::from(path), id.to_string()))
        })
        .collect();
    gittree::verify(&dir.join("tree"), commit, &object, &gitlinks)
}

/// Runs the fetch container for what the stores lack, then checks it and moves it in.
#[allow(clippy::too_many_arguments)]
async fn fetch_missing(
    engine: &Engine,
    image: &BuilderImage,
    crates: &[CrateId],
    commits: &[GitSource],
    git: &BTreeMap<GitSource, Vec<(String, String)>>,
    crate_store: &CrateStore,
    wanted: &BTreeMap<CrateId, Sha256Digest>,
    git_store: &Path,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<(), BuilderError> {
    let (fetches, binds) = container::plan_git(commits, &options.git_mirrors)?;
    let scratch = fsutil::tempdir("zkelf-fetch-")?;
    let failed = container::run(
        engine,
        image,
        crates,
        &fetches,
        binds,
        scratch.path(),
        &options.ca_bundle,
        reporter,
    )
    .await?;
    if let Some(failed) = failed {
        let (container::Failed::Missing(commit) | container::Failed::Unreachable(commit)) = &failed;
        let fetch = fetches.iter().find(|f| &f.source.commit == commit);
        let packages = git
            .iter()
            .filter(|(s, _)| &s.commit == commit)
            .flat_map(|(_, p)| p.iter().map(|(n, v)| format!("{n} {v}")))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(BuilderError::GitFetch {
            packages,
            url: fetch.map(|f| f.source.url.clone()).unwrap_or_default(),
            commit: commit.clone(),
            mirror: fetch.and_then(|f| f.mirror.clone()),
            missing: matches!(failed, container::Failed::Missing(_)),
        });
    }
    let (downloaded, trees) = container::outputs(scratch.path());
    for (name, version) in crates {
        if !downloaded.join(format!("{name}-{version}.crate")).is_file() {
            return Err(BuilderError::CrateFetch {
                name: name.clone(),
                version: version.clone(),
            });
        }
    }
    let (store, crates, wanted, commits, git_store) = (
        crate_store.clone(),
        crates.to_vec(),
        wanted.clone(),
        commits.to_vec(),
        git_store.to_path_buf(),
    );
    super::blocking(move || {
        store.adopt(&downloaded, &crates, &wanted)?;
        std::fs::create_dir_all(&git_store)
            .map_err(|e| BuilderError::io("cannot create", &git_store, e))?;
        for source in &commits {
            let fetched = trees.join(&source.commit);
            verify_commit(&fetched, &source.commit).map_err(|problem| BuilderError::GitTree {
                url: source.url.clone(),
                commit: source.commit.clone(),
                problem: Box::new(problem),
            })?;
            let dest = git_store.join(&source.commit);
            if std::fs::rename(&fetched, &dest).is_err() && !dest.exists() {
                return Err(BuilderError::io(
                    "cannot store",
                    &dest,
                    std::io::Error::other("rename failed"),
                ));
            }
        }
        Ok(())
    })
    .await
}

/// Vendors every package of every git source into `out/<i>/<name>-<version>`, from the
/// store's trees (verified again as they are read).
fn vendor_git(
    store: &Path,
    sources: &BTreeMap<GitSource, Vec<(String, String)>>,
    out: &Path,
) -> Result<Vec<VendoredGit>, BuilderError> {
    let mut vendored = Vec::new();
    for (i, (source, packages)) in sources.iter().enumerate() {
        let dir = store.join(&source.commit);
        verify_commit(&dir, &source.commit).map_err(|problem| BuilderError::GitTree {
            url: source.url.clone(),
            commit: source.commit.clone(),
            problem: Box::new(problem),
        })?;
        for (name, version) in packages {
            let dest = out.join(i.to_string()).join(format!("{name}-{version}"));
            let digest = gitpkg::vendor(&dir.join("tree"), name, version, &dest)?;
            vendored.push(VendoredGit {
                name: name.clone(),
                version: version.clone(),
                source: source.clone(),
                digest,
            });
        }
    }
    Ok(vendored)
}
