//! The outputs step: every artifact is staged in a temporary directory while the build runs,
//! and installed under `<out>/<guest>/<version>/` only once every selected artifact built (and
//! reproduced): each file written to a temporary file beside its destination, fsynced and
//! renamed. After any failure nothing is written there.

use std::path::{Path, PathBuf};

use zkelf_trust::digest::{OciDigest, Sha256Digest};

use super::BuiltArtifact;
use super::plan::Plan;
use super::postlink::Finished;
use crate::error::BuilderError;
use crate::fsutil::{self, install_file, sha256_file, write_atomic};
use crate::manifest::Manifest;
use crate::provenance::Provenance;

/// The staging directory of one `build`.
#[derive(Debug)]
pub(crate) struct Staging {
    dir: tempfile::TempDir,
}

impl Staging {
    /// A fresh staging directory.
    pub fn new() -> Result<Self, BuilderError> {
        Ok(Self {
            dir: fsutil::tempdir("zkelf-stage-")?,
        })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `plan`'s profile data files (target spec, linker script) into
    /// `<staging>/<guest>-<zkvm>.profile`, readable by the container's user, and returns that
    /// directory; `None` when the profile has none.
    pub fn profile_files(&self, plan: &Plan) -> Result<Option<PathBuf>, BuilderError> {
        let files = plan.profile_files();
        if files.is_empty() {
            return Ok(None);
        }
        let dir = self
            .path()
            .join(format!("{}-{}.profile", plan.guest, plan.zkvm));
        fsutil::write_readable_dir(&dir, files.iter().map(|(n, c)| (*n, c.as_bytes())))?;
        Ok(Some(dir))
    }
}

/// One artifact built and staged, with its provenance.
#[derive(Debug)]
pub(crate) struct Staged {
    /// The artifact's zkVM label, profile and target.
    pub zkvm: String,
    pub profile: String,
    pub target: String,
    pub finished: Finished,
    pub provenance: Provenance,
    pub reproduced: Option<bool>,
}

/// Installs every staged artifact (ELF 0755, VK and provenance 0644) under
/// `<out_dir>/<guest>/<version>/`.
pub(crate) fn install(
    manifest: &Manifest,
    out_dir: &Path,
    staged: Vec<Staged>,
    commit: &str,
    source_date_epoch: u64,
    builder_image: &OciDigest,
) -> Result<Vec<BuiltArtifact>, BuilderError> {
    let out = manifest.output_dir(out_dir);
    std::fs::create_dir_all(&out).map_err(|e| BuilderError::io("cannot create", &out, e))?;
    let mut built = Vec::new();
    for s in staged {
        let base = format!("{}-{}", manifest.name, s.zkvm);
        let elf = out.join(format!("{base}.elf"));
        let prov = out.join(format!("{base}.provenance.json"));
        install_file(&s.finished.elf, &elf, 0o755)?;
        let (vk, vk_sha256, vk_id) = match &s.finished.vk {
            Some((staged_vk, id)) => {
                let path = out.join(format!("{base}.vk"));
                install_file(staged_vk, &path, 0o644)?;
                let (sha, _) = sha256_file(&path)?;
                (Some(path), Some(sha), Some(id.clone()))
            }
            // A VK the user put beside the ELF (made with the zkVM's own key generation) is
            // theirs: `sign --vk` binds it.
            None => (None, None, None),
        };
        let provenance = s.provenance.to_json();
        write_atomic(&prov, &provenance, 0o644)?;
        built.push(BuiltArtifact {
            guest: manifest.name.clone(),
            version: manifest.version.clone(),
            zkvm: s.zkvm,
            profile: s.profile,
            target: s.target,
            elf,
            provenance: prov,
            sha256: s.finished.sha256,
            size: s.finished.size,
            provenance_sha256: Sha256Digest::of(&provenance),
            vk,
            vk_sha256,
            vk_id,
            commit: commit.to_string(),
            source_date_epoch,
            reproduced: s.reproduced,
            builder_image: *builder_image,
        });
    }
    Ok(built)
}
