//! A guest's `zkelf.toml`: its name, version, build kind and one artifact per zkVM, each built
//! with a zkVM profile (SPEC §8.1, [`crate::profile`]).
//!
//! ```toml
//! name = "keccak"
//! version = "0.1.0"
//! build = "cargo"          # or "make"
//! # package = "keccak"     # cargo package to build; default: name
//! # build-std = ["core", "alloc"]   # overrides the profile's -Zbuild-std set
//!
//! [[artifact]]
//! profile = "rv32im"       # rv32im | rv64im | sp1 | risc0 | openvm | zisk
//! # zkvm = "rv32im"        # label in file names and tags; default: the profile's name
//! # target = "riscv32im-unknown-none-elf"   # implied by the profile; must agree if given
//! # bin = "keccak"         # cargo binary / make output name; default: package (make: name)
//! # hash-mode = "blake3"   # zisk profiles: the proving key's hash family the VK is derived for
//! ```
//!
//! An artifact without `profile` takes the profile its `zkvm` names (manifests written before
//! profiles existed say `zkvm = "rv32im"` and `target = …`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use zkelf_trust::bounded::{self, BoundedReadError};

use zkelf_trust::name::is_valid_name;

use crate::error::BuilderError;
use crate::error::problem::ManifestProblem;
use crate::profile::{self, Profile};

/// The manifest's file name.
pub const MANIFEST_FILE: &str = "zkelf.toml";

/// How a guest is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildKind {
    /// `cargo build -Zbuild-std` of a no_std Rust crate.
    Cargo,
    /// `make OUT=… TARGET=…` with the RISC-V gcc and picolibc.
    Make,
}

/// One ELF the guest ships: a zkVM label and the profile it is built with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// zkVM label (`[a-z0-9][a-z0-9._-]{0,63}`), part of the file name `<guest>-<zkvm>.elf`;
    /// defaults to the profile's name.
    #[serde(default)]
    pub zkvm: String,
    /// The profile's name (defaults to `zkvm`).
    #[serde(default)]
    pub profile: String,
    /// Target triple: the profile's; an explicit one must agree.
    #[serde(default)]
    pub target: String,
    /// Cargo binary or make output name; defaults to the package (cargo) or guest name (make).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin: Option<String>,
    /// ZisK's hash mode, the proving key's family its VK (the ROM Merkle root) is derived for:
    /// `blake3` (ZisK 1.4's default, and the default here), `poseidon2` or `poseidon1`. ZisK
    /// profiles only.
    #[serde(default, rename = "hash-mode", skip_serializing_if = "Option::is_none")]
    pub hash_mode: Option<String>,
}

impl Artifact {
    /// The built-in profile the artifact is built with (checked at load).
    pub fn profile(&self) -> Profile {
        profile::builtin(&self.profile).unwrap_or_else(|| unreachable!("checked at load"))
    }
}

/// A parsed, validated `zkelf.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// Guest name (`[a-z0-9][a-z0-9._-]{0,63}`).
    pub name: String,
    /// Semver version of the release.
    pub version: String,
    /// Build kind.
    pub build: BuildKind,
    /// Cargo package to build (default: `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Crates of the sysroot built with `-Zbuild-std` (default: core, alloc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_std: Option<Vec<String>>,
    /// Cargo features to enable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// The artifacts, one per zkVM.
    #[serde(rename = "artifact")]
    pub artifacts: Vec<Artifact>,
}

impl Manifest {
    /// Reads and validates `<dir>/zkelf.toml`.
    pub fn load(dir: &Path) -> Result<Self, BuilderError> {
        let path = dir.join(MANIFEST_FILE);
        let text = match bounded::read_no_follow(&path, bounded::MAX_MANIFEST_LEN)
            .and_then(bounded::into_text)
        {
            Ok(text) => text,
            Err(e) if e.is_not_found() => {
                return Err(BuilderError::ManifestMissing {
                    dir: dir.to_path_buf(),
                });
            }
            Err(source @ BoundedReadError::NotRegular(_)) => {
                return Err(BuilderError::Read { path, source });
            }
            Err(BoundedReadError::Io(e)) => return Err(BuilderError::io("cannot read", path, e)),
            Err(e @ BoundedReadError::TooLarge { .. }) => {
                let BoundedReadError::TooLarge { limit } = e else {
                    unreachable!("matched above")
                };
                return Err(BuilderError::ManifestInvalid {
                    path,
                    problem: ManifestProblem::TooLarge(limit),
                });
            }
        };
        Self::parse(&text, &path)
    }

    /// Parses and validates manifest text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, BuilderError> {
        let invalid = |problem| BuilderError::ManifestInvalid {
            path: path.to_path_buf(),
            problem,
        };
        let manifest: Manifest = toml::from_str(text)
            .map_err(|e| invalid(ManifestProblem::Parse(e.message().to_string())))?;
        if !is_valid_name(&manifest.name) {
            return Err(invalid(ManifestProblem::NotALabel {
                field: "name",
                value: manifest.name,
            }));
        }
        if semver::Version::parse(&manifest.version).is_err() {
            return Err(invalid(ManifestProblem::NotSemver(manifest.version)));
        }
        let mut manifest = manifest;
        if manifest.artifacts.is_empty() {
            return Err(invalid(ManifestProblem::NoArtifact));
        }
        for artifact in &mut manifest.artifacts {
            resolve_profile(artifact, manifest.build, path)?;
        }
        for (i, artifact) in manifest.artifacts.iter().enumerate() {
            if !is_valid_name(&artifact.zkvm) {
                return Err(invalid(ManifestProblem::NotALabel {
                    field: "zkvm",
                    value: artifact.zkvm.clone(),
                }));
            }
            if manifest.artifacts[..i]
                .iter()
                .any(|a| a.zkvm == artifact.zkvm)
            {
                return Err(invalid(ManifestProblem::Duplicate(artifact.zkvm.clone())));
            }
            if let Some(bin) = artifact.bin.as_ref().filter(|bin| !is_word(bin)) {
                return Err(invalid(ManifestProblem::NotAFileName(bin.clone())));
            }
            if let Some(mode) = &artifact.hash_mode {
                check_hash_mode(artifact, mode).map_err(invalid)?;
            }
        }
        for word in manifest
            .package
            .iter()
            .chain(manifest.features.iter())
            .chain(manifest.build_std.iter().flatten())
        {
            if !is_word(word) {
                return Err(invalid(ManifestProblem::NotAnIdentifier(word.clone())));
            }
        }
        Ok(manifest)
    }

    /// The cargo package to build.
    pub fn package(&self) -> &str {
        self.package.as_deref().unwrap_or(&self.name)
    }

    /// The binary (cargo) or output file (make) an artifact produces.
    pub fn bin<'a>(&'a self, artifact: &'a Artifact) -> &'a str {
        artifact.bin.as_deref().unwrap_or(match self.build {
            BuildKind::Cargo => self.package(),
            BuildKind::Make => &self.name,
        })
    }

    /// The `-Zbuild-std` crates for `profile`: the manifest's `build-std` when it sets one.
    pub fn build_std(&self, profile: &Profile) -> Vec<String> {
        self.build_std
            .clone()
            .unwrap_or_else(|| profile.build_std.clone())
    }

    /// The artifacts selected by `zkvm` (all when `None`).
    pub fn select(&self, zkvm: Option<&str>) -> Result<Vec<&Artifact>, BuilderError> {
        match zkvm {
            None => Ok(self.artifacts.iter().collect()),
            Some(zkvm) => match self.artifacts.iter().find(|a| a.zkvm == zkvm) {
                Some(artifact) => Ok(vec![artifact]),
                None => Err(BuilderError::UnknownArtifact {
                    guest: self.name.clone(),
                    zkvm: zkvm.to_string(),
                    available: self
                        .artifacts
                        .iter()
                        .map(|a| format!("`{}`", a.zkvm))
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
            },
        }
    }

    /// Where an artifact's outputs go under `out`: `<out>/<guest>/<version>/`.
    pub fn output_dir(&self, out: &Path) -> PathBuf {
        out.join(&self.name).join(&self.version)
    }
}

/// Fills in an artifact's profile, zkVM label and target, and checks they agree.
fn resolve_profile(
    artifact: &mut Artifact,
    build: BuildKind,
    path: &Path,
) -> Result<(), BuilderError> {
    if artifact.profile.is_empty() {
        if artifact.zkvm.is_empty() {
            return Err(BuilderError::ManifestInvalid {
                path: path.to_path_buf(),
                problem: ManifestProblem::NoProfile {
                    known: profile::known(),
                },
            });
        }
        artifact.profile = artifact.zkvm.clone();
    }
    let profile =
        profile::builtin(&artifact.profile).ok_or_else(|| BuilderError::UnknownProfile {
            path: path.to_path_buf(),
            profile: artifact.profile.clone(),
        })?;
    if artifact.zkvm.is_empty() {
        artifact.zkvm = profile.name.clone();
    }
    if artifact.target.is_empty() {
        artifact.target = profile.target.clone();
    } else if artifact.target != profile.target {
        return Err(BuilderError::TargetMismatch {
            path: path.to_path_buf(),
            zkvm: artifact.zkvm.clone(),
            target: artifact.target.clone(),
            profile: profile.name.clone(),
        });
    }
    if build == BuildKind::Make && !profile.allows_make() {
        return Err(BuilderError::ManifestInvalid {
            path: path.to_path_buf(),
            problem: ManifestProblem::MakeWithZkvm(profile.name),
        });
    }
    Ok(())
}

/// `hash-mode` is ZisK's, and one of its modes.
fn check_hash_mode(artifact: &Artifact, mode: &str) -> Result<(), ManifestProblem> {
    if !profile::is_zisk(&artifact.profile) {
        return Err(ManifestProblem::HashModeNotZisk(artifact.profile.clone()));
    }
    if !profile::ZISK_HASH_MODES.contains(&mode) {
        return Err(ManifestProblem::UnknownHashMode(mode.to_owned()));
    }
    Ok(())
}

/// A plain identifier safe on a command line and in a path.
fn is_word(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-/".contains(&b))
        && !s.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "keccak"
version = "0.1.0"
build = "cargo"

[[artifact]]
zkvm = "rv32im"
target = "riscv32im-unknown-none-elf"

[[artifact]]
zkvm = "rv64im"
target = "riscv64im-unknown-none-elf"
"#;

    fn parse(text: &str) -> Result<Manifest, BuilderError> {
        Manifest::parse(text, Path::new("zkelf.toml"))
    }

    #[test]
    fn an_oversized_manifest_is_refused_not_cut() {
        let dir = tempfile::tempdir().unwrap();
        let padding = "# padding\n".repeat(110_000);
        std::fs::write(dir.path().join("zkelf.toml"), format!("{GOOD}{padding}")).unwrap();
        let err = Manifest::load(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("zkelf.toml`: it is larger than 1 MiB (1048576 bytes)"),
            "{err}"
        );
    }

    #[test]
    fn parses_and_round_trips() {
        let manifest = parse(GOOD).unwrap();
        assert_eq!(manifest.name, "keccak");
        assert_eq!(manifest.artifacts.len(), 2);
        assert_eq!(manifest.bin(&manifest.artifacts[0]), "keccak");
        let again = parse(&toml::to_string(&manifest).unwrap()).unwrap();
        assert_eq!(again, manifest);
    }

    #[test]
    fn profiles_fill_in_label_and_target() {
        let manifest =
            parse("name = \"g\"\nversion = \"1.0.0\"\nbuild = \"cargo\"\n[[artifact]]\nprofile = \"sp1\"\n[[artifact]]\nprofile = \"risc0\"\nzkvm = \"risc0-v3\"\n")
                .unwrap();
        let a = &manifest.artifacts;
        assert_eq!(
            (a[0].zkvm.as_str(), a[0].target.as_str()),
            ("sp1", "riscv64im-succinct-zkvm-elf")
        );
        assert_eq!(
            (a[1].zkvm.as_str(), a[1].profile.as_str()),
            ("risc0-v3", "risc0")
        );
        assert_eq!(a[1].target, "riscv32im-risc0-zkvm-elf");
        assert_eq!(
            manifest.build_std(&a[0].profile()),
            ["core", "alloc", "std", "panic_abort"]
        );
        let again = parse(&toml::to_string(&manifest).unwrap()).unwrap();
        assert_eq!(again, manifest);
    }

    #[test]
    fn rejects_a_target_the_profile_does_not_build() {
        let err = parse(&GOOD.replace("riscv64im-unknown-none-elf", "x86_64-unknown-linux-gnu"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "artifact `rv64im` in `zkelf.toml` names target `x86_64-unknown-linux-gnu`, but profile `rv64im` builds for `riscv64im-unknown-none-elf`"
        );
    }

    #[test]
    fn rejects_unknown_profiles_listing_the_known_ones() {
        let err = parse(&GOOD.replace("zkvm = \"rv64im\"", "profile = \"jolt\"")).unwrap_err();
        assert_eq!(err.to_string(), "unknown profile `jolt` in `zkelf.toml`");
        assert_eq!(
            err.hint().unwrap(),
            "the builder knows the profiles `rv32im`, `rv64im`, `sp1`, `risc0`, `openvm`, `zisk`, `zisk-std`"
        );
        let err = parse(
            "name = \"g\"\nversion = \"1.0.0\"\nbuild = \"cargo\"\n[[artifact]]\nbin = \"g\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("needs `profile = …`"), "{err}");
    }

    #[test]
    fn make_guests_take_the_bare_profiles_only() {
        let err = parse("name = \"c\"\nversion = \"1.0.0\"\nbuild = \"make\"\n[[artifact]]\nprofile = \"zisk\"\n")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("profile `zisk` builds Rust guests only"),
            "{err}"
        );
    }

    #[test]
    fn rejects_near_misses() {
        for bad in [
            GOOD.replace("name = \"keccak\"", "name = \"Keccak\""),
            GOOD.replace("0.1.0", "0.1"),
            GOOD.replace("\"cargo\"", "\"bazel\""),
            GOOD.replace(
                "zkvm = \"rv64im\"\ntarget = \"riscv64im-unknown-none-elf\"",
                "zkvm = \"rv32im\"\ntarget = \"riscv32im-unknown-none-elf\"",
            ),
            GOOD.replace("zkvm = \"rv64im\"", "zkvm = \"rv64im\"\nbin = \"../x\""),
            GOOD.replace("build = \"cargo\"", "build = \"cargo\"\nfeature = []"),
            "name = \"x\"\nversion = \"1.0.0\"\nbuild = \"make\"\nartifact = []\n".into(),
        ] {
            assert!(
                matches!(parse(&bad), Err(BuilderError::ManifestInvalid { .. })),
                "accepted:\n{bad}"
            );
        }
    }

    #[test]
    fn selects_artifacts() {
        let manifest = parse(GOOD).unwrap();
        assert_eq!(manifest.select(Some("rv64im")).unwrap()[0].zkvm, "rv64im");
        let err = manifest.select(Some("sp1")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "guest `keccak` has no artifact for zkvm `sp1` (it has: `rv32im`, `rv64im`)"
        );
    }

    #[test]
    fn a_hash_mode_is_zisks_and_one_of_its_modes() {
        let zisk = |extra: &str| {
            parse(&format!(
                "name = \"h\"\nversion = \"0.1.0\"\nbuild = \"cargo\"\n\n[[artifact]]\nprofile = \"zisk\"\n{extra}"
            ))
        };
        assert_eq!(zisk("").unwrap().artifacts[0].hash_mode, None);
        let manifest = zisk("hash-mode = \"poseidon2\"\n").unwrap();
        assert_eq!(
            manifest.artifacts[0].hash_mode.as_deref(),
            Some("poseidon2")
        );
        let err = zisk("hash-mode = \"sha3\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid `zkelf.toml`: `hash-mode = \"sha3\"` is not one of ZisK's modes: `blake3`, `poseidon2`, `poseidon1`"
        );
        let sp1 = GOOD.replace(
            "zkvm = \"rv64im\"",
            "zkvm = \"rv64im\"\nhash-mode = \"blake3\"",
        );
        assert!(matches!(
            parse(&sp1),
            Err(BuilderError::ManifestInvalid {
                problem: ManifestProblem::HashModeNotZisk(_),
                ..
            })
        ));
    }
}
