//! The provenance step: the document (SPEC §4) assembled from what the other steps recorded,
//! in a fixed order: the builder image, Dockerfile.builder, the base image and the toolchain,
//! then the fetch step's `Cargo.lock` and crates, the sysroot, and the post-link kernel.

use std::collections::BTreeMap;

use zkelf_trust::digest::Sha256Digest;

use super::plan::{BUILD_PATH, Plan, Variation};
use crate::image::{BuilderImage, DOCKERFILE};
use crate::provenance::{
    self, BUILD_TYPE, BUILDER_ID, BuildDefinition, BuilderId, ExternalParameters,
    InternalParameters, PREDICATE_TYPE, Predicate, Provenance, ResourceDescriptor, RunDetails,
    STATEMENT_TYPE, Subject, deps, sha256_digest,
};

/// The provenance of the artifact `plan` built (sha256 `subject`) under `variation`, with the
/// steps' records: `dependencies` after the image's, and `byproducts`.
pub(crate) fn assemble(
    plan: &Plan,
    variation: &Variation,
    zkelf_version: &str,
    image: &BuilderImage,
    subject: &Sha256Digest,
    dependencies: Vec<ResourceDescriptor>,
    byproducts: Vec<ResourceDescriptor>,
) -> Provenance {
    let mut resolved = image_dependencies(image);
    resolved.extend(dependencies);
    let (env, command, flags) = plan.recorded(variation);
    Provenance {
        statement_type: STATEMENT_TYPE.into(),
        subject: vec![Subject {
            name: format!("{}-{}.elf", plan.guest, plan.zkvm),
            digest: sha256_digest(*subject),
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
                resolved_dependencies: resolved,
            },
            run_details: RunDetails {
                builder: BuilderId {
                    id: BUILDER_ID.into(),
                    version: BTreeMap::from([("zkelf".to_string(), zkelf_version.to_owned())]),
                },
                byproducts,
            },
        },
    }
}

/// The builder image, its Dockerfile (with its content and build argument), the base image it
/// stands on and the toolchain it reports.
fn image_dependencies(image: &BuilderImage) -> Vec<ResourceDescriptor> {
    let annotations = |pairs: Vec<(&str, serde_json::Value)>| {
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>()
    };
    vec![
        ResourceDescriptor {
            name: Some(deps::BUILDER_IMAGE.into()),
            uri: Some(format!("docker-image:{}", image.tag)),
            digest: sha256_digest(image.id.sha256()),
            ..Default::default()
        },
        ResourceDescriptor {
            name: Some(deps::DOCKERFILE.into()),
            digest: sha256_digest(image.dockerfile_sha256),
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
            digest: sha256_digest(image.base.rootfs_sha256),
            annotations: annotations(vec![
                ("imageId", image.base.id.to_string().into()),
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
    ]
}
