//! `zkelf builder image`: Dockerfile.builder built on the base image, tagged by its inputs.
//!
//! The tag is `zkelf-builder:<16 hex>` of sha256(Dockerfile.builder ‖ base image id), so a
//! second call with the same inputs finds the image and does nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::base::{BaseImage, find_base};
use crate::docker::{ContainerSpec, Engine};
use crate::error::BuilderError;
use crate::reporter::Reporter;
use zkelf_trust::digest::{OciDigest, Sha256Digest};

/// The builder's Dockerfile, compiled in so that a zkelf binary always builds the same image.
pub const DOCKERFILE: &str = include_str!("../../Dockerfile.builder");
/// The repository builder images are tagged in.
pub const BUILDER_REPOSITORY: &str = "zkelf-builder";
/// Debian packages whose exact versions make the toolchain.
pub const TOOLCHAIN_PACKAGES: &[&str] = &[
    "rustc-web",
    "cargo-web",
    "rust-web-src",
    "lld",
    "gcc-riscv64-unknown-elf",
    "picolibc-riscv64-unknown-elf",
    "clang",
    "libclang-dev",
    "make",
];

/// A builder image ready to run builds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BuilderImage {
    /// `zkelf-builder:<hash of inputs>`.
    pub tag: String,
    /// The engine's image id.
    pub id: OciDigest,
    /// sha256 of Dockerfile.builder.
    pub dockerfile_sha256: Sha256Digest,
    /// The base it was built on.
    pub base: BaseImage,
    /// What the image's toolchain reports about itself.
    pub toolchain: Toolchain,
}

/// Toolchain versions, as the tools print them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Toolchain {
    /// `rustc -vV`.
    pub rustc: String,
    /// `cargo -V`.
    pub cargo: String,
    /// `riscv64-unknown-elf-gcc --version`, first line.
    pub cc: String,
    /// Pinned Debian package → installed version.
    pub packages: BTreeMap<String, String>,
    /// Every installed Debian package → version (`dpkg-query -W`), for auditors.
    #[serde(default)]
    pub installed: BTreeMap<String, String>,
}

/// The tag of the builder image for a base image.
pub fn image_tag(base: &BaseImage) -> String {
    derived_tag(BUILDER_REPOSITORY, DOCKERFILE, &base.id)
}

/// `<repository>:<16 hex>` of sha256(`dockerfile` ‖ 0 ‖ the parent image's id): the tag of an
/// image built from `dockerfile` on `parent`, the same wherever its inputs are the same.
pub(crate) fn derived_tag(repository: &str, dockerfile: &str, parent: &OciDigest) -> String {
    let mut input = dockerfile.as_bytes().to_vec();
    input.push(0);
    input.extend_from_slice(parent.to_string().as_bytes());
    format!(
        "{repository}:{}",
        &Sha256Digest::of(&input).to_string()[..16]
    )
}

/// Finds or builds the builder image on the base image of `suite`.
pub async fn ensure_builder_image(
    engine: &Engine,
    suite: &str,
    reporter: &dyn Reporter,
) -> Result<BuilderImage, BuilderError> {
    let base = find_base(engine, suite)
        .await?
        .ok_or_else(|| BuilderError::BaseImageMissing {
            tag: crate::base::base_tag(suite),
        })?;
    build_builder_image(engine, &base, reporter).await
}

/// Builds Dockerfile.builder on `base` unless an image with the same inputs exists.
pub async fn build_builder_image(
    engine: &Engine,
    base: &BaseImage,
    reporter: &dyn Reporter,
) -> Result<BuilderImage, BuilderError> {
    let tag = image_tag(base);
    let id = match engine.image(&tag).await? {
        Some(image) => image.id.unwrap_or_default(),
        None => {
            reporter.step(&format!("building {tag} on {}", base.tag));
            build(engine, base, &tag, reporter).await?;
            let image = engine
                .image(&tag)
                .await?
                .ok_or_else(|| BuilderError::ImageBuild {
                    tag: tag.clone(),
                    engine: "the engine reported success but has no such image".into(),
                })?;
            reporter.finish(&format!("built {tag}"));
            image.id.unwrap_or_default()
        }
    };
    let id: OciDigest = id.parse().map_err(|_| BuilderError::ImageBuild {
        tag: tag.clone(),
        engine: format!("the engine gave the image the id `{id}`, not a sha256 digest"),
    })?;
    let toolchain = toolchain(engine, &id.to_string(), reporter).await?;
    Ok(BuilderImage {
        tag,
        id,
        dockerfile_sha256: Sha256Digest::of(DOCKERFILE.as_bytes()),
        base: base.clone(),
        toolchain,
    })
}

async fn build(
    engine: &Engine,
    base: &BaseImage,
    tag: &str,
    reporter: &dyn Reporter,
) -> Result<(), BuilderError> {
    let base_id = base.id.to_string();
    let rootfs = base.rootfs_sha256.to_string();
    let dockerfile_sha256 = Sha256Digest::of(DOCKERFILE.as_bytes()).to_string();
    build_dockerfile(
        engine,
        DOCKERFILE,
        tag,
        &[("BASE_IMAGE", &base_id)],
        &[
            ("dev.zkelf.dockerfile.sha256", &dockerfile_sha256),
            ("dev.zkelf.base.id", &base_id),
            ("dev.zkelf.base.rootfs.sha256", &rootfs),
        ],
        reporter,
    )
    .await
}

/// Builds `dockerfile` (the only file of the context) as `tag`, with `build_args` and
/// `labels`, streaming the engine's output to `reporter`.
pub(crate) async fn build_dockerfile(
    engine: &Engine,
    dockerfile: &str,
    tag: &str,
    build_args: &[(&str, &str)],
    labels: &[(&str, &str)],
    reporter: &dyn Reporter,
) -> Result<(), BuilderError> {
    let context = dockerfile_context(dockerfile)?;
    let build_args: HashMap<&str, &str> = build_args.iter().copied().collect();
    let labels: HashMap<&str, &str> = labels.iter().copied().collect();
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(tag)
        .buildargs(&build_args)
        .labels(&labels)
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream =
        engine
            .docker()
            .build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(info) = stream.next().await {
        let info = match info {
            Ok(info) => info,
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                return Err(BuilderError::ImageBuild {
                    tag: tag.to_string(),
                    engine: error,
                });
            }
            Err(e) => return Err(BuilderError::docker(format!("build image `{tag}`"), e)),
        };
        if let Some(detail) = info.error_detail {
            return Err(BuilderError::ImageBuild {
                tag: tag.to_string(),
                engine: detail.message.unwrap_or_default(),
            });
        }
        if let Some(text) = info.stream {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                reporter.output(line);
            }
        }
    }
    Ok(())
}

/// A build context holding only `dockerfile`, with fixed metadata.
fn dockerfile_context(dockerfile: &str) -> Result<Vec<u8>, BuilderError> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(dockerfile.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    builder
        .append_data(&mut header, "Dockerfile", dockerfile.as_bytes())
        .and_then(|()| builder.into_inner())
        .map_err(|e| BuilderError::io("cannot pack", "Dockerfile", e))
}

/// Asks the image's tools for their versions (once per image and process).
async fn toolchain(
    engine: &Engine,
    image_id: &str,
    reporter: &dyn Reporter,
) -> Result<Toolchain, BuilderError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Toolchain>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(image_id).cloned()) {
        return Ok(found);
    }
    let script = format!(
        "rustc -vV; echo @@; cargo -V; echo @@; riscv64-unknown-elf-gcc --version | head -n1; \
         echo @@; dpkg-query -W -f '${{Package}} ${{Version}}\\n' {}; \
         echo @@; dpkg-query -W -f '${{Package}} ${{Version}};'; echo",
        TOOLCHAIN_PACKAGES.join(" ")
    );
    let spec = ContainerSpec {
        image: image_id.to_string(),
        cmd: vec!["sh".into(), "-c".into(), script],
        network_mode: Some("none".into()),
        ..Default::default()
    };
    let exit = engine.run(&spec, &crate::reporter::NoReporter).await?;
    if exit.code != 0 {
        return Err(BuilderError::ImageBuild {
            tag: image_id.to_string(),
            engine: format!("the toolchain does not answer:\n{}", exit.tail),
        });
    }
    let parts: Vec<&str> = exit.tail.split("@@").map(str::trim).collect();
    let [rustc, cargo, cc, packages, installed] = parts.as_slice() else {
        return Err(BuilderError::ImageBuild {
            tag: image_id.to_string(),
            engine: format!("unexpected toolchain report:\n{}", exit.tail),
        });
    };
    let table = |text: &str| {
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(p, v)| (p.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    let toolchain = Toolchain {
        rustc: rustc.to_string(),
        cargo: cargo.to_string(),
        cc: cc.to_string(),
        packages: table(packages),
        // One line (`pkg version;…`): container output is kept as its last lines only.
        installed: table(&installed.replace(';', "\n")),
    };
    reporter.output(&format!(
        "toolchain: {}",
        toolchain.rustc.lines().next().unwrap_or_default()
    ));
    if let Ok(mut c) = cache.lock() {
        c.insert(image_id.to_string(), toolchain.clone());
    }
    Ok(toolchain)
}
