//! The toolbox image: Dockerfile.toolbox on the builder image (a host C/C++ toolchain and the
//! libraries the zkVMs' crates build and link against), tagged by its inputs like the builder
//! image: `zkelf-toolbox:<16 hex>` of sha256(Dockerfile.toolbox ‖ builder image id).

use zkelf_trust::digest::{OciDigest, Sha256Digest};

use crate::docker::Engine;
use crate::error::BuilderError;
use crate::image::{BuilderImage, build_dockerfile};
use crate::reporter::Reporter;

/// The toolbox image's Dockerfile, compiled in.
pub const DOCKERFILE: &str = include_str!("../../../Dockerfile.toolbox");
/// The repository toolbox images are tagged in.
pub const REPOSITORY: &str = "zkelf-toolbox";

/// A toolbox image ready to build and run toolboxes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolboxImage {
    /// `zkelf-toolbox:<hash of inputs>`.
    pub tag: String,
    /// The engine's image id.
    pub id: OciDigest,
    /// sha256 of Dockerfile.toolbox.
    pub dockerfile_sha256: Sha256Digest,
    /// The builder image it was built on.
    pub builder: OciDigest,
}

/// The tag of the toolbox image on `builder`.
pub fn image_tag(builder: &BuilderImage) -> String {
    crate::image::derived_tag(REPOSITORY, DOCKERFILE, &builder.id)
}

/// Finds or builds the toolbox image on `builder`.
pub async fn ensure(
    engine: &Engine,
    builder: &BuilderImage,
    reporter: &dyn Reporter,
) -> Result<ToolboxImage, BuilderError> {
    let tag = image_tag(builder);
    let found = match engine.image(&tag).await? {
        Some(image) => image,
        None => {
            reporter.step(&format!("building {tag} on {}", builder.tag));
            let builder_id = builder.id.to_string();
            let dockerfile_sha256 = Sha256Digest::of(DOCKERFILE.as_bytes()).to_string();
            build_dockerfile(
                engine,
                DOCKERFILE,
                &tag,
                &[("BUILDER_IMAGE", &builder_id)],
                &[
                    ("dev.zkelf.dockerfile.sha256", &dockerfile_sha256),
                    ("dev.zkelf.builder.id", &builder_id),
                ],
                reporter,
            )
            .await?;
            let image = engine
                .image(&tag)
                .await?
                .ok_or_else(|| BuilderError::ImageBuild {
                    tag: tag.clone(),
                    engine: "the engine reported success but has no such image".into(),
                })?;
            reporter.finish(&format!("built {tag}"));
            image
        }
    };
    let id = found.id.unwrap_or_default();
    let id: OciDigest = id.parse().map_err(|_| BuilderError::ImageBuild {
        tag: tag.clone(),
        engine: format!("the engine gave the image the id `{id}`, not a sha256 digest"),
    })?;
    Ok(ToolboxImage {
        tag,
        id,
        dockerfile_sha256: Sha256Digest::of(DOCKERFILE.as_bytes()),
        builder: builder.id,
    })
}
