//! Which version of its zkVM a guest was built for, as its provenance records it, against the
//! version zkelf's toolbox is: a guest of another version is never run in this toolbox's
//! executor, and no VK is derived for it with this toolbox (docs/toolbox.md, "Versions").
//!
//! A provenance records the version twice: the zkVM guest crate its `Cargo.lock` pinned (a
//! `crate:<name>` or `git:<name>` resolved dependency), and, for a VK a toolbox derived, that
//! toolbox's id in the `vk` byproduct (`toolbox: "sp1-6.10.0"`). Both are checked when present.

use super::{Spec, sources};
use crate::build::fetch::lock;
use crate::error::BuilderError;
use crate::error::problem::ToolboxProblem;
use crate::profile::guest_crate;
use crate::provenance::{Provenance, deps};

/// What a provenance says of the zkVM version its guest was built for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The versions it records, every one this toolbox's (`` `sp1-zkvm` 6.10.0, VK by sp1-6.10.0 ``).
    Supported(String),
    /// It names no version of this zkVM's guest crate and no VK derivation.
    NotRecorded,
    /// It describes a guest of the profile named, whose toolbox is another: `--zkvm` chose this
    /// one, so its versions say nothing about this toolbox's.
    OtherZkvm(String),
}

impl Spec {
    /// The toolbox's derivation id, as its `vk` reports it: `<zkvm>-<version of its primary
    /// crate>` in the `Cargo.lock` compiled into zkelf (`sp1-6.10.0`).
    pub fn toolbox_id(&self) -> String {
        let version = sources::file(self.zkvm, "Cargo.lock")
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .and_then(|text| lock::parse(text).ok())
            .and_then(|packages| {
                packages
                    .into_iter()
                    .find(|p| p.name == self.primary_crate)
                    .map(|p| p.version)
            })
            .unwrap_or_else(|| "unknown".into());
        format!("{}-{version}", self.zkvm)
    }

    /// The versions this toolbox supports, for messages: the guest crate's (as the profile
    /// describes it) and the VK derivation's.
    pub fn supported(&self) -> String {
        match guest_crate(self.profiles[0]) {
            Some((krate, req)) => format!("`{krate}` {req} ({})", self.toolbox_id()),
            None => self.toolbox_id(),
        }
    }

    /// Checks what `provenance` records of its guest's zkVM version against this toolbox: a
    /// version it does not support is [`ToolboxProblem::UnsupportedVersion`], naming both.
    pub fn check_recorded(&self, provenance: &Provenance) -> Result<Recorded, BuilderError> {
        let profile = &provenance.external().profile.name;
        if Spec::for_profile(profile).is_some_and(|s| s != self) {
            return Ok(Recorded::OtherZkvm(profile.clone()));
        }
        let mut found = Vec::new();
        if let Some((krate, req)) = guest_crate(self.profiles[0]) {
            let req = semver::VersionReq::parse(req).unwrap_or(semver::VersionReq::STAR);
            for version in locked_versions(provenance, krate) {
                if !semver::Version::parse(&version).is_ok_and(|v| req.matches(&v)) {
                    return Err(self.unsupported(
                        format!("`{krate}` {version}"),
                        "the version its `Cargo.lock` pinned",
                    ));
                }
                found.push(format!("`{krate}` {version}"));
            }
        }
        if let Some(derivation) = vk_derivation(provenance) {
            if derivation != self.toolbox_id() {
                return Err(
                    self.unsupported(format!("`{derivation}`"), "the toolbox that derived its VK")
                );
            }
            found.push(format!("VK by {derivation}"));
        }
        Ok(match found.is_empty() {
            true => Recorded::NotRecorded,
            false => Recorded::Supported(found.join(", ")),
        })
    }

    fn unsupported(&self, found: String, origin: &'static str) -> BuilderError {
        self.error(ToolboxProblem::UnsupportedVersion {
            found,
            origin,
            supported: self.supported(),
        })
    }
}

/// The versions of `krate` the provenance's resolved dependencies name: `crate:<krate>`
/// (`pkg:cargo/<krate>@<version>`) and `git:<krate>` (its `version` annotation).
fn locked_versions(provenance: &Provenance, krate: &str) -> Vec<String> {
    let registry = format!("crate:{krate}");
    let git = format!("git:{krate}");
    let prefix = format!("pkg:cargo/{krate}@");
    provenance
        .predicate
        .build_definition
        .resolved_dependencies
        .iter()
        .filter_map(|d| match d.name.as_deref() {
            Some(name) if name == registry => d
                .uri
                .as_deref()
                .and_then(|u| u.strip_prefix(&prefix))
                .map(str::to_owned),
            Some(name) if name == git => d
                .annotations
                .get("version")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            _ => None,
        })
        .collect()
}

/// The toolbox id the `vk` byproduct records (`toolbox`), when a toolbox derived the VK.
fn vk_derivation(provenance: &Provenance) -> Option<String> {
    provenance
        .byproduct(deps::VK)
        .and_then(|b| b.annotations.get("toolbox"))
        .and_then(|t| t.as_str())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::provenance::ResourceDescriptor;

    #[test]
    fn each_toolbox_names_its_derivation_from_its_compiled_in_lock() {
        let ids: Vec<String> = super::super::SPECS.iter().map(Spec::toolbox_id).collect();
        assert_eq!(
            ids,
            [
                "sp1-6.10.0",
                "risc0-3.0.6",
                "openvm-2.0.2",
                "zisk-1.4.0-alpha"
            ]
        );
        // The toolbox program names the same primary crate (its `version`/`vk` reports use it).
        for spec in super::super::SPECS {
            let main = sources::file(spec.zkvm, "src/main.rs").unwrap();
            let wanted = format!("primary_crate: \"{}\"", spec.primary_crate);
            assert!(
                String::from_utf8_lossy(main).contains(&wanted),
                "{}",
                spec.zkvm
            );
        }
        assert_eq!(
            Spec::for_zkvm("sp1").unwrap().supported(),
            "`sp1-zkvm` =6.10.0 (sp1-6.10.0)"
        );
    }

    fn provenance(profile: &str, deps: Vec<ResourceDescriptor>, vk: Option<&str>) -> Provenance {
        let mut p = crate::provenance::tests::sample();
        p.predicate
            .build_definition
            .external_parameters
            .profile
            .name = profile.into();
        p.predicate.build_definition.resolved_dependencies = deps;
        p.predicate.run_details.byproducts = vk
            .map(|t| ResourceDescriptor {
                name: Some(deps::VK.into()),
                annotations: BTreeMap::from([("toolbox".to_string(), t.into())]),
                ..Default::default()
            })
            .into_iter()
            .collect();
        p
    }

    fn krate(name: &str, version: &str) -> ResourceDescriptor {
        ResourceDescriptor {
            name: Some(format!("crate:{name}")),
            uri: Some(format!("pkg:cargo/{name}@{version}")),
            ..Default::default()
        }
    }

    #[test]
    fn a_recorded_version_is_checked_and_another_is_refused_naming_both() {
        let sp1 = Spec::for_zkvm("sp1").unwrap();
        let good = provenance(
            "sp1",
            vec![krate("serde", "1.0.0"), krate("sp1-zkvm", "6.10.0")],
            Some("sp1-6.10.0"),
        );
        assert_eq!(
            sp1.check_recorded(&good).unwrap(),
            Recorded::Supported("`sp1-zkvm` 6.10.0, VK by sp1-6.10.0".into())
        );
        let bare = provenance("sp1", vec![krate("serde", "1.0.0")], None);
        assert_eq!(sp1.check_recorded(&bare).unwrap(), Recorded::NotRecorded);
        assert_eq!(
            Spec::for_zkvm("risc0")
                .unwrap()
                .check_recorded(&good)
                .unwrap(),
            Recorded::OtherZkvm("sp1".into())
        );

        let old = provenance("sp1", vec![krate("sp1-zkvm", "6.9.1")], None);
        assert_eq!(
            sp1.check_recorded(&old).unwrap_err().to_string(),
            "the sp1 toolbox: the guest was built for `sp1-zkvm` 6.9.1 (the version its \
             `Cargo.lock` pinned), and zkelf's toolbox supports `sp1-zkvm` =6.10.0 (sp1-6.10.0)"
        );
        let git = ResourceDescriptor {
            name: Some("git:sp1-zkvm".into()),
            annotations: BTreeMap::from([("version".to_string(), "6.11.0".into())]),
            ..Default::default()
        };
        assert!(
            sp1.check_recorded(&provenance("sp1", vec![git], None))
                .is_err()
        );
        let other_vk = provenance("sp1", vec![krate("sp1-zkvm", "6.10.0")], Some("sp1-6.9.0"));
        assert_eq!(
            sp1.check_recorded(&other_vk).unwrap_err().to_string(),
            "the sp1 toolbox: the guest was built for `sp1-6.9.0` (the toolbox that derived its \
             VK), and zkelf's toolbox supports `sp1-zkvm` =6.10.0 (sp1-6.10.0)"
        );
    }
}
