//! What exactly is wrong, as typed values the builder's errors carry (`#[source]`): a
//! `zkelf.toml`, a provenance document a rebuild cannot replay, a post-link step, a crate
//! archive. A leaf module: the error enum names these, nothing here names it.

use std::path::PathBuf;

/// Why a `zkelf.toml` is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestProblem {
    /// Not TOML, or fields of the wrong type or unknown (the parser's words).
    #[error("{0}")]
    Parse(String),
    /// Larger than its bound.
    #[error("it is larger than {}", zkelf_trust::bounded::human(*.0))]
    TooLarge(u64),
    /// A name that is not a label.
    #[error("`{field} = \"{value}\"` must match `[a-z0-9][a-z0-9._-]{{0,63}}`")]
    NotALabel {
        /// `name` or `zkvm`.
        field: &'static str,
        /// The value.
        value: String,
    },
    /// A version that is not semver.
    #[error("`version = \"{0}\"` is not semver")]
    NotSemver(String),
    /// No artifact.
    #[error("no `[[artifact]]`")]
    NoArtifact,
    /// An artifact with neither profile nor zkVM.
    #[error("an `[[artifact]]` needs `profile = …` (one of {known})")]
    NoProfile {
        /// The known profiles, for the message.
        known: String,
    },
    /// One zkVM label twice.
    #[error("zkvm `{0}` is listed twice")]
    Duplicate(String),
    /// A `bin` that is not a file name.
    #[error("`bin = \"{0}\"` is not a plain file name")]
    NotAFileName(String),
    /// A package, feature or build-std crate that is not an identifier.
    #[error("`{0}` is not a plain identifier")]
    NotAnIdentifier(String),
    /// A zkVM profile for a make guest.
    #[error(
        "profile `{0}` builds Rust guests only (`build = \"cargo\"`); make guests use `rv32im` or `rv64im`"
    )]
    MakeWithZkvm(String),
    /// `hash-mode` on an artifact whose profile is not ZisK's.
    #[error("`hash-mode` is ZisK's (its VK's hash family), but the artifact's profile is `{0}`")]
    HashModeNotZisk(String),
    /// A `hash-mode` ZisK does not have.
    #[error("`hash-mode = \"{0}\"` is not one of ZisK's modes: `blake3`, `poseidon2`, `poseidon1`")]
    UnknownHashMode(String),
    /// A workspace `Cargo.toml` that does not parse (the parser's words).
    #[error("the workspace Cargo.toml does not parse: {0}")]
    Workspace(String),
}

/// Why a provenance document cannot drive a rebuild.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvenanceProblem {
    /// Not JSON of the expected shape (the parser's words).
    #[error("does not parse: {0}")]
    Parse(String),
    /// A `_type`, `predicateType` or `buildType` other than zkelf's.
    #[error("`{field}` is `{found}`, not `{expected}`")]
    Type {
        /// The field.
        field: &'static str,
        /// Its value.
        found: String,
        /// What zkelf writes.
        expected: &'static str,
    },
    /// A build type zkelf cannot replay.
    #[error("`buildType` is `{0}`, which zkelf does not know how to rebuild")]
    BuildType(String),
    /// Not exactly one subject with a sha256.
    #[error("needs exactly one subject with a sha256 digest")]
    Subject,
    /// A build of a dirty tree.
    #[error(
        "the recorded build was of a dirty tree (`dirty: true`); it cannot be rebuilt from a commit"
    )]
    Dirty,
    /// The clone is at another commit.
    #[error("it names commit `{recorded}`, the checkout is at `{checkout}`")]
    Commit {
        /// The recorded commit.
        recorded: String,
        /// The clone's `HEAD`.
        checkout: String,
    },
    /// The checkout's manifest names another guest or version.
    #[error(
        "it names guest `{recorded}` {recorded_version}, the checkout has `{found}` {found_version}"
    )]
    Guest {
        /// Recorded guest.
        recorded: String,
        /// Recorded version.
        recorded_version: String,
        /// The checkout's.
        found: String,
        /// The checkout's version.
        found_version: String,
    },
    /// The checkout's manifest has no such artifact.
    #[error("no artifact `{0}`")]
    NoArtifact(String),
    /// Another target.
    #[error("it names target `{recorded}`, the checkout's manifest `{found}`")]
    Target {
        /// Recorded.
        recorded: String,
        /// The checkout's.
        found: String,
    },
    /// The recorded profile is one zkelf refuses to replay.
    #[error(transparent)]
    InvalidProfile(#[from] crate::profile::InvalidProfile),
    /// Another profile.
    #[error(
        "it records profile `{recorded}` for `{target}`, the checkout's manifest builds `{zkvm}` with profile `{found}`"
    )]
    Profile {
        /// Recorded profile.
        recorded: String,
        /// Recorded target.
        target: String,
        /// The artifact's zkVM label.
        zkvm: String,
        /// The checkout's profile.
        found: String,
    },
}

/// Why a post-link step could not make the artifact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostLinkProblem {
    /// It needs the vendored crates, and a make guest has none.
    #[error("a post-link step needs the vendored crates of a cargo guest")]
    NotCargo,
    /// The lock does not parse.
    #[error("`Cargo.lock` does not parse: {0}")]
    Lock(String),
    /// The kernel's crate is not locked once.
    #[error(
        "the guest's `Cargo.lock` has no registry crate `{0}`, which holds the kernel the profile wraps the ELF with (a `risc0-zkvm` dependency brings it)"
    )]
    NoKernelCrate(String),
    /// The kernel's crate is locked more than once.
    #[error("the guest's `Cargo.lock` has {count} versions of `{name}`; the kernel must be one")]
    KernelCrateTwice {
        /// The crate.
        name: String,
        /// How many versions.
        count: usize,
    },
    /// The vendored crate is not the locked one.
    #[error(
        "vendored `{name}` {version} is not the `.crate` `Cargo.lock` pins (sha256 `{pinned}`)"
    )]
    KernelCrate {
        /// The crate.
        name: String,
        /// Its version.
        version: String,
        /// The lock's checksum.
        pinned: zkelf_trust::digest::Sha256Digest,
    },
    /// The kernel file is not the one cargo recorded.
    #[error(
        "`{file}` of vendored `{name}` {version} has sha256 `{found}`, not the one cargo recorded"
    )]
    KernelFile {
        /// The file.
        file: String,
        /// The crate.
        name: String,
        /// Its version.
        version: String,
        /// Its sha256.
        found: zkelf_trust::digest::Sha256Digest,
    },
    /// RISC Zero cannot load the wrapped program.
    #[error(
        "RISC Zero cannot load the program it wraps ({0}); is the guest built for `riscv32im-risc0-zkvm-elf`?"
    )]
    Load(String),
}

/// Why a crates.io archive is not one zkelf unpacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveProblem {
    /// Not a gzipped tar (the decoder's words).
    #[error("it is not a gzipped tar ({0})")]
    NotTar(String),
    /// An entry that does not read (the decoder's words).
    #[error("an entry does not read ({0})")]
    Entry(String),
    /// An entry outside `<name>-<version>/`.
    #[error("`{}` is not under `{prefix}/`", path.display())]
    Outside {
        /// The entry.
        path: PathBuf,
        /// The directory every entry must be under.
        prefix: String,
    },
    /// A link, a device…
    #[error("`{}` is neither a file nor a directory", .0.display())]
    Kind(PathBuf),
}

/// The digests of two builds that should have agreed: shown as ``sha256 `a` then `b` ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoDigests {
    /// The first build's.
    pub first: zkelf_trust::digest::Sha256Digest,
    /// The second's.
    pub second: zkelf_trust::digest::Sha256Digest,
}

impl std::fmt::Display for TwoDigests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sha256 `{}` then `{}`", self.first, self.second)
    }
}

/// What went wrong with a zkVM toolbox (building it, or running it on a program).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolboxProblem {
    /// zkelf has no toolbox for the zkVM or profile named.
    #[error("zkelf has no toolbox for `{0}` (it has: sp1, risc0, openvm, zisk)")]
    Unknown(String),
    /// Its build container failed.
    #[error("building it failed (exit code {code}):\n{output}")]
    BuildFailed {
        /// The container's exit code.
        code: i64,
        /// Its last lines of output.
        output: String,
    },
    /// Its build container exited 0 but left no program.
    #[error("its build produced no `{0}`")]
    NoProgram(String),
    /// `vk` or `exec` failed for another reason than the guest (usage, a program the zkVM
    /// refuses, a panic inside the zkVM's crates).
    #[error("`{command}` failed (exit code {code}):\n{output}")]
    Failed {
        /// `vk` or `exec`.
        command: &'static str,
        /// Its exit code.
        code: i64,
        /// Its last lines of output.
        output: String,
    },
    /// The guest was built for a version of the zkVM this toolbox is not: it is not run, and
    /// no VK is derived for it.
    #[error("the guest was built for {found} ({origin}), and zkelf's toolbox supports {supported}")]
    UnsupportedVersion {
        /// The version found (`` `sp1-zkvm` 6.9.1 ``, or a VK derivation's id).
        found: String,
        /// Where it was found.
        origin: &'static str,
        /// What the toolbox supports.
        supported: String,
    },
    /// Its report is not the JSON object it documents.
    #[error("`{command}` gave a report zkelf cannot read: {problem}")]
    BadReport {
        /// `vk` or `exec`.
        command: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}
