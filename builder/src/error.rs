//! The builder's errors: each names the object it failed on and keeps the cause as its source.

use std::path::PathBuf;

pub mod problem;

use zkelf_trust::diagnose::{Diagnose, Outcome};

/// Everything that can go wrong while bootstrapping, building or comparing guests.
#[derive(Debug, thiserror::Error)]
pub enum BuilderError {
    /// The Docker engine did not answer.
    #[error("cannot reach the Docker engine at `{host}`")]
    DockerUnreachable {
        /// The engine address tried (`DOCKER_HOST` or the default socket).
        host: String,
        /// What the connection attempt returned.
        #[source]
        source: bollard::errors::Error,
    },
    /// A Docker API call failed.
    #[error("docker: {action} failed")]
    Docker {
        /// What was being done (`create container`, `build image zkelf-builder:…`).
        action: String,
        /// The engine's error.
        #[source]
        source: bollard::errors::Error,
    },
    /// The base image has not been bootstrapped.
    #[error("base image `{tag}` does not exist")]
    BaseImageMissing {
        /// The tag looked for.
        tag: String,
    },
    /// Building an image (Dockerfile.builder, Dockerfile.toolbox) failed.
    #[error("building the image `{tag}` failed: {engine}")]
    ImageBuild {
        /// The tag being built.
        tag: String,
        /// What the engine (or the toolchain in the image) said, verbatim.
        engine: String,
    },
    /// A host tool the base bootstrap needs (debootstrap) failed or is missing.
    #[error("`{command}` failed: {output}")]
    HostCommand {
        /// The command line run.
        command: String,
        /// Its exit status and last output lines, verbatim.
        output: String,
    },
    /// No `zkelf.toml` in the guest directory.
    #[error("no `zkelf.toml` in `{}`", dir.display())]
    ManifestMissing {
        /// The guest directory given.
        dir: PathBuf,
    },
    /// `zkelf.toml` does not parse or names something invalid.
    #[error("invalid `{}`: {problem}", path.display())]
    ManifestInvalid {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        problem: problem::ManifestProblem,
    },
    /// An artifact names a profile the builder does not know.
    #[error("unknown profile `{profile}` in `{}`", path.display())]
    UnknownProfile {
        /// The manifest.
        path: PathBuf,
        /// The profile named.
        profile: String,
    },
    /// An artifact's explicit target is not the one its (built-in) profile builds for.
    #[error(
        "artifact `{zkvm}` in `{}` names target `{target}`, but profile `{profile}` builds for `{}`",
        path.display(),
        crate::profile::builtin(profile).map(|p| p.target).unwrap_or_default()
    )]
    TargetMismatch {
        /// The manifest.
        path: PathBuf,
        /// The artifact's zkVM label.
        zkvm: String,
        /// The target it names.
        target: String,
        /// Its profile.
        profile: String,
    },
    /// The guest locks a version of its zkVM's guest crate that its profile does not describe.
    #[error("profile `{profile}` describes `{krate}` {supported}, but the guest locks {found}")]
    UnsupportedZkvmVersion {
        /// The profile.
        profile: String,
        /// The zkVM's guest crate.
        krate: String,
        /// The locked version.
        found: String,
        /// The versions the profile describes.
        supported: String,
    },
    /// `--artifact` names a zkVM the manifest does not list.
    #[error("guest `{guest}` has no artifact for zkvm `{zkvm}` (it has: {available})")]
    UnknownArtifact {
        /// The guest.
        guest: String,
        /// The zkVM asked for.
        zkvm: String,
        /// The zkVMs it has, comma-separated.
        available: String,
    },
    /// A cargo guest without a `Cargo.lock`.
    #[error("no `Cargo.lock` for guest `{guest}` (looked in `{}` and its parents)", dir.display())]
    NoCargoLock {
        /// The guest.
        guest: String,
        /// The guest directory.
        dir: PathBuf,
    },
    /// The guest is not inside a git checkout.
    #[error("`{}` is not inside a git checkout", dir.display())]
    NotGitCheckout {
        /// The guest directory.
        dir: PathBuf,
    },
    /// A source or commit that git could take as an option or a command-running transport.
    #[error("refusing to {action} `{}`: {reason}", value.escape_debug())]
    UnsafeSource {
        /// `clone` (a source URI) or `check out commit` (a commit).
        action: &'static str,
        /// The value, as the provenance or the user gave it.
        value: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A path a provenance records would leave the tree it names a place in.
    #[error("refusing {what} `{}`: {reason}", path.display())]
    UnsafePath {
        /// The recorded field (`source.path`).
        what: &'static str,
        /// The path as recorded.
        path: PathBuf,
        /// Why it is refused.
        reason: UnsafePathReason,
    },
    /// A git command failed.
    #[error("`git {args}` failed in `{}`: {stderr}", dir.display())]
    Git {
        /// The arguments.
        args: String,
        /// Where it ran.
        dir: PathBuf,
        /// What git said, verbatim.
        stderr: String,
    },
    /// The source tree has uncommitted changes and `--allow-dirty` was not given.
    #[error("the source of guest `{guest}` has uncommitted changes: {files}")]
    DirtyTree {
        /// The guest.
        guest: String,
        /// The first changed paths, comma-separated.
        files: String,
    },
    /// A lock file names sources zkelf cannot fetch safely, or does not parse.
    #[error("cannot fetch the sources of `{}`", path.display())]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        problem: Box<crate::build::fetch::lock::LockProblem>,
    },
    /// A git commit the lock pins could not be fetched.
    #[error(
        "cannot fetch commit `{commit}` of `{url}`{} for {packages}: {}",
        mirror.as_ref().map(|m| format!(" (mirror `{m}`)")).unwrap_or_default(),
        if *missing { "the repository does not have it" } else { "the repository cannot be read" }
    )]
    GitFetch {
        /// The locked packages from that commit (`name version`, comma-separated).
        packages: String,
        /// The URL as the lock writes it.
        url: String,
        /// The locked commit.
        commit: String,
        /// The mirror it was fetched through.
        mirror: Option<String>,
        /// Whether the repository answered without the commit (else it did not answer).
        missing: bool,
    },
    /// A git tree is not the commit the lock pins.
    #[error("the tree fetched for commit `{commit}` of `{url}` is not that commit's")]
    GitTree {
        /// The URL.
        url: String,
        /// The locked commit.
        commit: String,
        /// How it differs.
        #[source]
        problem: Box<crate::build::fetch::gittree::TreeProblem>,
    },
    /// A git package cannot be vendored from its verified tree.
    #[error("cannot vendor a git dependency")]
    GitPackage {
        /// Why.
        #[source]
        problem: crate::build::fetch::gitpkg::problem::GitPackageProblem,
    },
    /// A local git mirror cannot be read.
    #[error("cannot read the git mirror `{mirror}`")]
    MirrorUnreadable {
        /// The mirror (`prefix=path`).
        mirror: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A crates.io archive could not be downloaded.
    #[error("cannot fetch crate `{name}` {version} from crates.io")]
    CrateFetch {
        /// The crate.
        name: String,
        /// Its version.
        version: String,
    },
    /// A crates.io archive is not the one `Cargo.lock` pins.
    #[error("crate `{name}` {version} has sha256 `{found}`, not the `{pinned}` `Cargo.lock` pins")]
    CrateChecksum {
        /// The crate.
        name: String,
        /// Its version.
        version: String,
        /// The lock's checksum.
        pinned: zkelf_trust::digest::Sha256Digest,
        /// What the archive hashes to.
        found: zkelf_trust::digest::Sha256Digest,
    },
    /// A crates.io archive that zkelf does not unpack (an entry out of its directory, a link).
    #[error("crate `{name}` {version} is not a crate archive zkelf unpacks: {problem}")]
    CrateArchive {
        /// The crate.
        name: String,
        /// Its version.
        version: String,
        /// What is wrong.
        problem: problem::ArchiveProblem,
    },
    /// The fetch container (`cargo vendor`) failed.
    #[error("fetching the crates of guest `{guest}` failed (exit code {code})\n{output}")]
    FetchFailed {
        /// The guest.
        guest: String,
        /// The container's exit code.
        code: i64,
        /// The last lines of its output.
        output: String,
    },
    /// The build container failed: a compile error, a build script that wanted the network…
    #[error("building guest `{guest}` for `{zkvm}` failed (exit code {code})\n{output}")]
    BuildFailed {
        /// The guest.
        guest: String,
        /// The artifact's zkVM.
        zkvm: String,
        /// The container's exit code.
        code: i64,
        /// The last lines of the compiler's output.
        output: String,
    },
    /// The sysroot container (`-Zbuild-std` of the standard library) failed.
    #[error("building the sysroot ({crates}) for `{target}` failed (exit code {code})\n{output}")]
    SysrootFailed {
        /// The target triple.
        target: String,
        /// The `-Zbuild-std` crates, comma-separated.
        crates: String,
        /// The container's exit code.
        code: i64,
        /// The last lines of the compiler's output.
        output: String,
    },
    /// Two builds of the same sysroot key gave different files.
    #[error("the sysroot for `{target}` is not reproducible: {digests}: {difference}")]
    SysrootNotReproducible {
        /// The target triple.
        target: String,
        /// Digests of the first sysroot and of the second, varied one (their manifests').
        digests: Box<problem::TwoDigests>,
        /// The first file that differs.
        difference: String,
    },
    /// The post-link step (RISC Zero's kernel wrap) could not make the artifact.
    #[error("the post-link step for `{artifact}` failed: {problem}")]
    PostLink {
        /// `<guest>-<zkvm>`.
        artifact: String,
        /// What went wrong.
        problem: Box<problem::PostLinkProblem>,
    },
    /// A zkVM toolbox could not be built or run.
    #[error("the {zkvm} toolbox: {problem}")]
    Toolbox {
        /// The toolbox's zkVM (`sp1`, `risc0`, `openvm`, `zisk`).
        zkvm: String,
        /// What went wrong.
        problem: problem::ToolboxProblem,
    },
    /// A guest run in its zkVM's executor did not halt successfully.
    #[error("the guest `{}` failed in the {zkvm} executor: {message}", program.display())]
    GuestFailed {
        /// The zkVM.
        zkvm: String,
        /// The program run.
        program: PathBuf,
        /// What the executor said (a panic, a trap, an exit code, running out of steps).
        message: String,
    },
    /// Two builds of the same inputs gave different bytes.
    #[error("guest `{guest}` for `{zkvm}` is not reproducible: {digests}\n{diff}")]
    NotReproducible {
        /// The guest.
        guest: String,
        /// The artifact's zkVM.
        zkvm: String,
        /// sha256 of the first build and of the second, varied one.
        digests: Box<problem::TwoDigests>,
        /// The rendered ELF diff.
        diff: String,
    },
    /// A rebuild would run another builder than the recorded one.
    #[error(
        "it was built with a different builder than this zkelf's:{}",
        differences.iter().map(|d| format!("\n  {d}")).collect::<String>()
    )]
    DifferentBuilder {
        /// Every difference.
        differences: Vec<crate::rebuild::difference::Difference>,
    },
    /// A provenance document cannot drive a rebuild.
    #[error("provenance: {problem}")]
    Provenance {
        /// What is missing or inconsistent.
        problem: problem::ProvenanceProblem,
    },
    /// A guest's input file (`zkelf.toml`, `Cargo.toml`, `Cargo.lock`) cannot be read: missing,
    /// not a regular file (a link, a FIFO, a device), or larger than its bound.
    #[error("cannot read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: zkelf_trust::bounded::BoundedReadError,
    },
    /// A file operation failed.
    #[error("{action} `{}`", path.display())]
    Io {
        /// What was being done (`cannot read`, `cannot write`).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Blocking work handed off the async runtime panicked or was cancelled.
    #[error("a background task failed")]
    Task {
        /// It panicked, or the runtime dropped it.
        #[source]
        source: tokio::task::JoinError,
    },
    /// Blocking work on threads of its own panicked.
    #[error("a worker thread of `{0}` panicked")]
    Worker(&'static str),
    /// An ELF file cannot be compared.
    #[error(transparent)]
    Diff(#[from] crate::diff::DiffError),
}

/// Why a recorded path is refused ([`BuilderError::UnsafePath`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsafePathReason {
    /// It is absolute.
    #[error("it is absolute")]
    Absolute,
    /// It has a `..` component.
    #[error("it leaves the checkout through `..`")]
    LeavesTree,
    /// A component is a symbolic link.
    #[error("`{}` is a symbolic link", .0.display())]
    Symlink(PathBuf),
    /// A component is not a directory.
    #[error("`{}` is not a directory", .0.display())]
    NotDirectory(PathBuf),
}

impl Diagnose for BuilderError {
    fn hint(&self) -> Option<String> {
        match self {
            BuilderError::DockerUnreachable { .. } => Some(
                "start dockerd (`scripts/setup` does), or point `DOCKER_HOST` at a running engine"
                    .into(),
            ),
            BuilderError::BaseImageMissing { .. } => {
                Some("bootstrap it with `zkelf builder base` (needs root and debootstrap)".into())
            }
            BuilderError::ManifestMissing { .. } => Some(
                "a guest directory needs a `zkelf.toml` with `name`, `version`, `build` and `[[artifact]]`; see docs/builder.md"
                    .into(),
            ),
            BuilderError::UnknownProfile { .. } => Some(format!(
                "the builder knows the profiles {}",
                crate::profile::known()
            )),
            BuilderError::UnsupportedZkvmVersion { krate, supported, .. } => {
                let precise = supported.strip_prefix('=').unwrap_or("<version>");
                Some(format!(
                    "lock `{krate}` at {supported} (`cargo update -p {krate} --precise {precise}`), or build with a zkelf whose profile and toolbox describe the version you use"
                ))
            }
            BuilderError::TargetMismatch { .. } => Some(
                "drop `target` (the profile implies it), or pick the profile for that target".into(),
            ),
            BuilderError::GitFetch { mirror: Some(_), .. } => Some(
                "update the mirror so it has the locked commit, or drop `--git-mirror` for that prefix".into(),
            ),
            BuilderError::GitFetch { mirror: None, .. } => Some(
                "check the URL and the network, or map it to a mirror with `--git-mirror <prefix>=<url-or-path>`".into(),
            ),
            BuilderError::MirrorUnreadable { .. } => Some(
                "a local mirror must be a readable directory holding the repositories under the prefix's paths".into(),
            ),
            BuilderError::Lock { .. } => Some(
                "zkelf builds from crates.io and git sources pinned by `Cargo.lock` (`cargo generate-lockfile`, then commit it)".into(),
            ),
            BuilderError::NoCargoLock { .. } => Some(
                "run `cargo generate-lockfile` in the guest's workspace and commit `Cargo.lock`"
                    .into(),
            ),
            BuilderError::UnsafeSource { .. } => Some(
                "zkelf clones only `https://`, `ssh://`, `file://`, `git@host:path` and local paths, at a hex commit id; pass `--source` with a clone you trust".into(),
            ),
            BuilderError::DifferentBuilder { .. } => Some(
                "rebuild with the zkelf version that made the release, or pass `--allow-different-builder` (a mismatch may then be the builder's doing)".into(),
            ),
            BuilderError::UnsafePath { .. } => Some(
                "a release's provenance names its guest by a plain relative path inside its repository; this one is not a release zkelf made".into(),
            ),
            BuilderError::NotGitCheckout { .. } => {
                Some("builds are recorded by git commit; `git init` and commit the guest".into())
            }
            BuilderError::DirtyTree { .. } => Some(
                "commit the changes, or pass `--allow-dirty` (the provenance then records `dirty: true`)"
                    .into(),
            ),
            BuilderError::NotReproducible { .. } | BuilderError::SysrootNotReproducible { .. } => Some(
                "look for build inputs that vary: embedded paths, hostnames, times, `env!` of the environment"
                    .into(),
            ),
            BuilderError::Toolbox {
                problem: problem::ToolboxProblem::Unknown(_),
                ..
            } => Some(
                "name the zkVM with `--zkvm`, or use an artifact built with one of the zkVM profiles".into(),
            ),
            BuilderError::Toolbox {
                problem: problem::ToolboxProblem::UnsupportedVersion { .. },
                ..
            } => Some(
                "use a zkelf whose toolbox supports that version: zkelf neither runs a guest in another version's executor nor derives its VK with one".into(),
            ),
            BuilderError::HostCommand { command, .. } if command.starts_with("debootstrap") => {
                Some("`zkelf builder base` runs debootstrap, which needs root and `apt-get install debootstrap`".into())
            }
            _ => None,
        }
    }

    /// The bytes are not what they should be (exit 1): not reproducible, or a vendored crate or
    /// git tree that is not what the lock names; or a guest run that failed (SPEC §9).
    fn outcome(&self) -> Outcome {
        match self {
            BuilderError::NotReproducible { .. }
            | BuilderError::SysrootNotReproducible { .. }
            | BuilderError::CrateChecksum { .. }
            | BuilderError::GitTree { .. }
            | BuilderError::GuestFailed { .. } => Outcome::VerificationFailed,
            _ => Outcome::Error,
        }
    }
}

impl BuilderError {
    /// [`Diagnose::hint`], for callers in this crate that do not import the trait.
    pub fn hint(&self) -> Option<String> {
        <Self as Diagnose>::hint(self)
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        BuilderError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn docker(action: impl Into<String>, source: bollard::errors::Error) -> Self {
        BuilderError::Docker {
            action: action.into(),
            source,
        }
    }
}
