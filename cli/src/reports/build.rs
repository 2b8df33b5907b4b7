//! Reports of `build`, `builder base`, `builder image` and `diff`.

use std::io::Write;

use serde::Serialize;
use zkelf_builder::BuiltArtifact;
use zkelf_builder::base::BaseImage;
use zkelf_builder::diff::ElfDiff;
use zkelf_builder::image::BuilderImage;
use zkelf_trust::digest::OciDigest;

use crate::render::Report;

/// What `build` reports: the artifacts written.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct BuildReport {
    pub artifacts: Vec<BuiltArtifact>,
}

impl Report for BuildReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for a in &self.artifacts {
            writeln!(out, "{}  {}", a.sha256, a.elf.display())?;
            writeln!(out, "{}  {}", a.provenance_sha256, a.provenance.display())?;
            if let (Some(vk), Some(sha256), Some(id)) = (&a.vk, &a.vk_sha256, &a.vk_id) {
                writeln!(out, "{sha256}  {} (vk {id})", vk.display())?;
            }
        }
        Ok(())
    }
}

/// What `builder base` reports.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct BaseReport {
    pub base: BaseImage,
    /// False when the image existed and nothing was done.
    pub created: bool,
}

impl Report for BaseReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{} {}", self.base.tag, self.base.id)?;
        writeln!(out, "rootfs {}", OciDigest::from(self.base.rootfs_sha256))
    }
}

/// What `builder image` reports.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ImageReport {
    pub image: BuilderImage,
}

impl Report for ImageReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let image = &self.image;
        writeln!(out, "{} {}", image.tag, image.id)?;
        writeln!(
            out,
            "Dockerfile.builder {}",
            OciDigest::from(image.dockerfile_sha256)
        )?;
        writeln!(
            out,
            "base {} rootfs {}",
            image.base.id,
            OciDigest::from(image.base.rootfs_sha256)
        )?;
        writeln!(
            out,
            "{}",
            image.toolchain.rustc.lines().next().unwrap_or_default()
        )
    }
}

/// What `builder toolbox` reports: each toolbox, ready in the cache.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ToolboxReport {
    pub toolboxes: Vec<ToolboxEntry>,
}

/// One toolbox: what decided its bytes and what they are.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ToolboxEntry {
    pub zkvm: String,
    /// The toolbox image's tag and id.
    pub image: String,
    pub image_id: OciDigest,
    /// The cache key (sha256 of the key document).
    pub key: String,
    pub key_document: zkelf_builder::toolbox::KeyDocument,
    /// The cache entry's digest (its manifest's sha256): what provenance records.
    pub digest: OciDigest,
    /// The program's sha256.
    pub program_sha256: Option<zkelf_trust::digest::Sha256Digest>,
}

impl ToolboxEntry {
    pub fn of(toolbox: &zkelf_builder::toolbox::Toolbox) -> Self {
        Self {
            zkvm: toolbox.spec.zkvm.to_string(),
            image: toolbox.image.tag.clone(),
            image_id: toolbox.image.id,
            key: toolbox.key.key(),
            key_document: toolbox.key.clone(),
            digest: toolbox.digest().into(),
            program_sha256: toolbox.program_sha256(),
        }
    }
}

impl Report for ToolboxReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for t in &self.toolboxes {
            writeln!(
                out,
                "{} toolbox {} (key {}, {})",
                t.zkvm,
                t.digest,
                &t.key[..16],
                t.image
            )?;
        }
        Ok(())
    }
}

/// What `diff` reports: the comparison as it is.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct DiffReport(pub ElfDiff);

impl Report for DiffReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(self.0.render().as_bytes())
    }
}
