//! Provenances of zkVM guests as `zkelf build` records them, for tests of what `run` and
//! `pull --derive-vk` read from one (the zkVM's profile, the guest crate's locked version, the
//! toolbox that derived the VK) without building anything.

use std::collections::BTreeMap;
use std::path::Path;

use zkelf_builder::manifest::BuildKind;
use zkelf_builder::provenance::{
    BUILD_TYPE, BUILDER_ID, BuildDefinition, BuilderId, ExternalParameters, InternalParameters,
    PREDICATE_TYPE, Predicate, Provenance, ResourceDescriptor, RunDetails, STATEMENT_TYPE,
    SourceParameters, Subject, deps,
};
use zkelf_trust::digest::hash_file;

/// What a zkVM guest's provenance says of its zkVM.
pub struct Zkvm<'a> {
    /// The profile (`sp1`, `openvm`…).
    pub profile: &'a str,
    /// The guest crate and the version its lock pinned (`("sp1-zkvm", "6.10.0")`).
    pub guest_crate: Option<(&'a str, &'a str)>,
    /// The toolbox that derived its VK (`sp1-6.10.0`), and what it reported beside the key.
    pub vk: Option<(&'a str, serde_json::Value)>,
}

/// The provenance of `elf`, guest `guest` 0.1.0 built with `zkvm`'s profile.
pub fn of(elf: &Path, guest: &str, zkvm: &Zkvm<'_>) -> Provenance {
    let sha256 = hash_file(elf).unwrap().sha256.to_string();
    let profile = zkelf_builder::profile::builtin(zkvm.profile).unwrap();
    let resolved = zkvm
        .guest_crate
        .map(|(name, version)| ResourceDescriptor {
            name: Some(format!("crate:{name}")),
            uri: Some(format!("pkg:cargo/{name}@{version}")),
            digest: BTreeMap::from([("sha256".into(), "ab".repeat(32))]),
            ..Default::default()
        })
        .into_iter()
        .collect();
    let byproducts = zkvm
        .vk
        .as_ref()
        .map(|(toolbox, derivation)| ResourceDescriptor {
            name: Some(deps::VK.into()),
            uri: Some(format!("{guest}-{}.vk", zkvm.profile)),
            annotations: BTreeMap::from([
                ("toolbox".to_string(), (*toolbox).into()),
                ("derivation".to_string(), derivation.clone()),
            ]),
            ..Default::default()
        })
        .into_iter()
        .collect();
    Provenance {
        statement_type: STATEMENT_TYPE.into(),
        subject: vec![Subject {
            name: format!("{guest}-{}.elf", zkvm.profile),
            digest: BTreeMap::from([("sha256".into(), sha256)]),
        }],
        predicate_type: PREDICATE_TYPE.into(),
        predicate: Predicate {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE.into(),
                external_parameters: ExternalParameters {
                    source: SourceParameters {
                        uri: format!("https://example.com/{guest}.git"),
                        commit: "0123456789abcdef0123456789abcdef01234567".into(),
                        dirty: false,
                        path: format!("guests/{guest}").into(),
                        root: format!("guests/{guest}").into(),
                        workspace: None,
                    },
                    guest: guest.into(),
                    version: "0.1.0".into(),
                    zkvm: zkvm.profile.into(),
                    target: profile.target.clone(),
                    build: BuildKind::Cargo,
                    package: Some(guest.into()),
                    bin: guest.into(),
                    profile,
                    cargo_profile: "release".into(),
                    features: vec![],
                    build_std: vec!["core".into()],
                },
                internal_parameters: InternalParameters {
                    source_date_epoch: 1_700_000_000,
                    build_path: "/build/src".into(),
                    user: "1000:1000".into(),
                    hostname: "zkelf-builder".into(),
                    umask: "022".into(),
                    network: "none".into(),
                    env: BTreeMap::new(),
                    command: vec!["cargo".into(), "build".into()],
                    flags: vec![],
                },
                resolved_dependencies: resolved,
            },
            run_details: RunDetails {
                builder: BuilderId {
                    id: BUILDER_ID.into(),
                    version: BTreeMap::new(),
                },
                byproducts,
            },
        },
    }
}

/// SP1 6.10.0, as zkelf builds it today.
pub fn sp1() -> Zkvm<'static> {
    Zkvm {
        profile: "sp1",
        guest_crate: Some(("sp1-zkvm", "6.10.0")),
        vk: Some(("sp1-6.10.0", serde_json::json!({"mprotect": false}))),
    }
}
