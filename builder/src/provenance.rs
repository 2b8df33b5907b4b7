//! `provenance.json`: an in-toto Statement v1 with a SLSA Provenance v1 predicate (SPEC §4).
//!
//! Everything a rebuild needs is in it: the source (uri, commit, dirty, path), the guest and
//! artifact, the whole zkVM profile (target spec and linker script with their contents, every
//! flag, the post-link step), the exact environment, command and flags of the build container,
//! and the resolved dependencies (builder image, Dockerfile.builder with its content, base
//! image, toolchain versions, Cargo.lock and every vendored crate with its checksum, the kernel
//! a post-link step used). What the build made besides the artifact (the linked user ELF, the
//! VK) is listed in `runDetails.byproducts`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use zkelf_trust::digest::Sha256Digest;

use crate::error::BuilderError;
use crate::error::problem::ProvenanceProblem;
use crate::manifest::BuildKind;
use crate::profile::Profile;

/// in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// SLSA Provenance v1.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
/// The build type: what `buildDefinition` means. v2: `externalParameters.profile` is the zkVM
/// profile (v1 had the cargo profile's name there, now `cargoProfile`). v3: a cargo guest is
/// compiled against a sysroot built in its own container (`resolvedDependencies` `sysroot`:
/// key document, manifest, digest), with `--sysroot` and no `-Zbuild-std` in its command.
pub const BUILD_TYPE: &str = "https://zkelf.dev/builder/docker/v3";
/// The builder's id in `runDetails`.
pub const BUILDER_ID: &str = "https://zkelf.dev/builder/v1";

/// An in-toto statement whose predicate is SLSA provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The ELF with its sha256.
    pub subject: Vec<Subject>,
    /// Always [`PREDICATE_TYPE`].
    pub predicate_type: String,
    /// The SLSA predicate.
    pub predicate: Predicate,
}

/// One subject: a file name and its digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// `<guest>-<zkvm>.elf`.
    pub name: String,
    /// Algorithm → hex digest (`sha256`).
    pub digest: BTreeMap<String, String>,
}

/// SLSA Provenance v1 predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Predicate {
    /// What was built and how.
    pub build_definition: BuildDefinition,
    /// Who built it.
    pub run_details: RunDetails,
}

/// `buildDefinition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    /// Always [`BUILD_TYPE`].
    pub build_type: String,
    /// The inputs a user chooses.
    pub external_parameters: ExternalParameters,
    /// The inputs the builder fixes.
    pub internal_parameters: InternalParameters,
    /// Images, toolchain, lock file and crates.
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

/// User-chosen inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalParameters {
    /// Where the source is.
    pub source: SourceParameters,
    /// Guest name.
    pub guest: String,
    /// Guest version.
    pub version: String,
    /// zkVM label.
    pub zkvm: String,
    /// Target triple.
    pub target: String,
    /// `cargo` or `make`.
    pub build: BuildKind,
    /// Cargo package (cargo guests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Binary or output name.
    pub bin: String,
    /// The zkVM profile, whole: what `rebuild` replays.
    pub profile: Profile,
    /// Cargo profile (`release`).
    pub cargo_profile: String,
    /// Cargo features.
    pub features: Vec<String>,
    /// `-Zbuild-std` crates (cargo guests).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_std: Vec<String>,
}

/// The source checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceParameters {
    /// Repository URL (`remote.origin.url`, or `file://…`).
    pub uri: String,
    /// Git commit.
    pub commit: String,
    /// Whether uncommitted changes were built (`--allow-dirty`).
    pub dirty: bool,
    /// Guest directory relative to the repository root.
    pub path: PathBuf,
    /// Directory mounted as source relative to the repository root: the cargo workspace, or
    /// the nearest directory holding it and every path package it reaches.
    pub root: PathBuf,
    /// The cargo workspace (the directory holding `Cargo.lock`), when it is not `root`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<PathBuf>,
}

/// Builder-fixed inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InternalParameters {
    /// `SOURCE_DATE_EPOCH` (the commit time).
    pub source_date_epoch: u64,
    /// Where the repository is mounted in the container.
    pub build_path: String,
    /// `uid:gid` the build ran as.
    pub user: String,
    /// Container hostname.
    pub hostname: String,
    /// umask.
    pub umask: String,
    /// Container network (`none`).
    pub network: String,
    /// The container's environment, exactly.
    pub env: BTreeMap<String, String>,
    /// The compiler invocation (argv), exactly.
    pub command: Vec<String>,
    /// rustc flags (`CARGO_ENCODED_RUSTFLAGS`) or C/link flags given to make.
    pub flags: Vec<String>,
}

/// A SLSA ResourceDescriptor.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Algorithm → hex digest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    /// The resource's bytes, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Extra facts (versions, image ids).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, serde_json::Value>,
}

/// `runDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    /// The builder.
    pub builder: BuilderId,
    /// What the build made besides the artifact: the linked ELF a post-link step wrapped, the VK.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byproducts: Vec<ResourceDescriptor>,
}

/// `runDetails.builder`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuilderId {
    /// Always [`BUILDER_ID`].
    pub id: String,
    /// Component → version (`zkelf`).
    #[serde(default)]
    pub version: BTreeMap<String, String>,
}

/// Names of the resolved dependencies zkelf records.
pub mod deps {
    /// The builder image (digest: its image id).
    pub const BUILDER_IMAGE: &str = "builder-image";
    /// Dockerfile.builder (digest and content).
    pub const DOCKERFILE: &str = "Dockerfile.builder";
    /// The debootstrapped base (digest: its rootfs tar).
    pub const BASE_IMAGE: &str = "base-image";
    /// `rustc -vV` etc. in annotations.
    pub const TOOLCHAIN: &str = "toolchain";
    /// The guest's Cargo.lock.
    pub const CARGO_LOCK: &str = "Cargo.lock";
    /// The kernel ELF a RISC Zero post-link step wrapped the guest with.
    pub const POST_LINK_KERNEL: &str = "post-link-kernel";
    /// Byproduct: the ELF the linker wrote, before a post-link step.
    pub const LINKED_ELF: &str = "linked-elf";
    /// Byproduct: the verification key.
    pub const VK: &str = "vk";
    /// The sysroot the guest was built against (v3): key, key document, manifest, digest.
    pub const SYSROOT: &str = "sysroot";
    /// The zkVM toolbox that derived the VK: key, key document, digest of its entry.
    pub const TOOLBOX: &str = "toolbox";
}

impl Provenance {
    /// Parses and checks the statement and predicate types.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BuilderError> {
        let provenance: Provenance =
            serde_json::from_slice(bytes).map_err(|e| BuilderError::Provenance {
                problem: ProvenanceProblem::Parse(e.to_string()),
            })?;
        if provenance.statement_type != STATEMENT_TYPE {
            return Err(BuilderError::Provenance {
                problem: ProvenanceProblem::Type {
                    field: "_type",
                    found: provenance.statement_type,
                    expected: STATEMENT_TYPE,
                },
            });
        }
        if provenance.predicate_type != PREDICATE_TYPE {
            return Err(BuilderError::Provenance {
                problem: ProvenanceProblem::Type {
                    field: "predicateType",
                    found: provenance.predicate_type,
                    expected: PREDICATE_TYPE,
                },
            });
        }
        if provenance.predicate.build_definition.build_type != BUILD_TYPE {
            return Err(BuilderError::Provenance {
                problem: ProvenanceProblem::BuildType(
                    provenance.predicate.build_definition.build_type,
                ),
            });
        }
        if provenance.subject.len() != 1 || provenance.subject_sha256().is_none() {
            return Err(BuilderError::Provenance {
                problem: ProvenanceProblem::Subject,
            });
        }
        Ok(provenance)
    }

    /// Canonical bytes: pretty JSON with a trailing newline (what zkelf writes).
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The subject's sha256 (`None` when it is absent or not 64 hex digits).
    pub fn subject_sha256(&self) -> Option<Sha256Digest> {
        self.subject.first()?.digest.get("sha256")?.parse().ok()
    }

    /// The external parameters.
    pub fn external(&self) -> &ExternalParameters {
        &self.predicate.build_definition.external_parameters
    }

    /// The internal parameters.
    pub fn internal(&self) -> &InternalParameters {
        &self.predicate.build_definition.internal_parameters
    }

    /// A resolved dependency by name.
    pub fn dependency(&self, name: &str) -> Option<&ResourceDescriptor> {
        self.predicate
            .build_definition
            .resolved_dependencies
            .iter()
            .find(|d| d.name.as_deref() == Some(name))
    }

    /// A byproduct by name (`vk`, `linked-elf`).
    pub fn byproduct(&self, name: &str) -> Option<&ResourceDescriptor> {
        self.predicate
            .run_details
            .byproducts
            .iter()
            .find(|b| b.name.as_deref() == Some(name))
    }

    /// The Dockerfile.builder text recorded in it.
    pub fn dockerfile(&self) -> Option<String> {
        let content = self.dependency(deps::DOCKERFILE)?.content.as_deref()?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(content)
            .ok()?;
        String::from_utf8(bytes).ok()
    }
}

/// base64 of bytes, for `ResourceDescriptor::content`.
pub(crate) fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `{"sha256": hex}` of a digest (or its hex).
pub(crate) fn sha256_digest(digest: Sha256Digest) -> BTreeMap<String, String> {
    BTreeMap::from([("sha256".to_string(), digest.to_string())])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Provenance {
        Provenance {
            statement_type: STATEMENT_TYPE.into(),
            subject: vec![Subject {
                name: "g-rv32im.elf".into(),
                digest: sha256_digest("ab".repeat(32).parse().unwrap()),
            }],
            predicate_type: PREDICATE_TYPE.into(),
            predicate: Predicate {
                build_definition: BuildDefinition {
                    build_type: BUILD_TYPE.into(),
                    external_parameters: ExternalParameters {
                        source: SourceParameters {
                            uri: "https://example.invalid/r".into(),
                            commit: "c".repeat(40),
                            dirty: false,
                            workspace: None,
                            path: "guests/g".into(),
                            root: "guests".into(),
                        },
                        guest: "g".into(),
                        version: "1.0.0".into(),
                        zkvm: "rv32im".into(),
                        target: "riscv32im-unknown-none-elf".into(),
                        build: BuildKind::Cargo,
                        package: Some("g".into()),
                        bin: "g".into(),
                        profile: crate::profile::builtin("zisk").unwrap(),
                        cargo_profile: "release".into(),
                        features: vec![],
                        build_std: vec!["core".into()],
                    },
                    internal_parameters: InternalParameters {
                        source_date_epoch: 1,
                        build_path: "/build/src".into(),
                        user: "1000:1000".into(),
                        hostname: "zkelf-builder".into(),
                        umask: "022".into(),
                        network: "none".into(),
                        env: BTreeMap::from([("TZ".into(), "UTC".into())]),
                        command: vec!["cargo".into(), "build".into()],
                        flags: vec!["-Ccodegen-units=1".into()],
                    },
                    resolved_dependencies: vec![ResourceDescriptor {
                        name: Some(deps::DOCKERFILE.into()),
                        content: Some(base64(b"FROM x\n")),
                        ..Default::default()
                    }],
                },
                run_details: RunDetails {
                    builder: BuilderId {
                        id: BUILDER_ID.into(),
                        version: BTreeMap::new(),
                    },
                    byproducts: vec![],
                },
            },
        }
    }

    #[test]
    fn round_trips() {
        let provenance = sample();
        let parsed = Provenance::from_json(&provenance.to_json()).unwrap();
        assert_eq!(parsed, provenance);
        assert_eq!(parsed.to_json(), provenance.to_json());
        assert_eq!(parsed.dockerfile().as_deref(), Some("FROM x\n"));
        assert_eq!(
            parsed.subject_sha256(),
            Some("ab".repeat(32).parse().unwrap())
        );
    }

    #[test]
    fn rejects_near_misses() {
        let json = String::from_utf8(sample().to_json()).unwrap();
        for (from, to) in [
            (
                "https://in-toto.io/Statement/v1",
                "https://in-toto.io/Statement/v0.1",
            ),
            (
                "https://slsa.dev/provenance/v1",
                "https://slsa.dev/provenance/v0.2",
            ),
            (BUILD_TYPE, "https://example.invalid/other"),
            ("\"sha256\": \"abab", "\"sha512\": \"abab"),
            ("\"dirty\": false", "\"dirty\": \"no\""),
            ("\"cargoProfile\": \"release\"", "\"profile\": \"release\""),
        ] {
            let bad = json.replacen(from, to, 1);
            assert_ne!(bad, json, "{from} not found");
            assert!(
                matches!(
                    Provenance::from_json(bad.as_bytes()),
                    Err(BuilderError::Provenance { .. })
                ),
                "accepted with {to}"
            );
        }
    }
}
