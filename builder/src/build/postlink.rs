//! After the link: what turns the linked ELF into the artifact. Only RISC Zero has a step: the
//! user ELF wrapped with the v1compat kernel into a program binary, whose image id is the VK.
//!
//! The kernel comes from the guest's own `Cargo.lock` (`risc0-zkvm` depends on
//! `risc0-zkos-v1compat`), vendored by the fetch container like every crate: its `.crate`
//! checksum is the lock file's, and the kernel file's sha256 is the one `cargo vendor` recorded
//! for it, so the kernel is pinned by the lock file exactly as the guest's own code is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use zkelf_trust::digest::{OciDigest, Sha256Digest};

use super::compile::Linked;
use super::plan::Plan;
use crate::error::BuilderError;
use crate::error::problem::PostLinkProblem;
use crate::fsutil::sha256_file;
use crate::profile::PostLink;
use crate::provenance::{ResourceDescriptor, deps, sha256_digest};
use crate::reporter::Reporter;

/// The artifact of one build: the linked ELF itself, or what the profile's post-link step made
/// of it, with the VK derived on the way.
#[derive(Debug)]
pub(crate) struct Finished {
    /// `<staging>/<guest>-<zkvm>.elf`.
    pub elf: PathBuf,
    pub sha256: Sha256Digest,
    pub size: u64,
    /// The linked ELF (what `--check-reproducible` compared).
    pub linked: Linked,
    /// What the post-link step did, when the profile has one.
    pub post: Option<PostLinked>,
    /// `<staging>/<guest>-<zkvm>.vk` and the VK as the zkVM prints it.
    pub vk: Option<(PathBuf, String)>,
}

impl Finished {
    /// Its provenance records: the kernel a post-link step used (a resolved dependency).
    pub fn dependencies(&self) -> Vec<ResourceDescriptor> {
        let Some(post) = &self.post else {
            return Vec::new();
        };
        let (name, version) = post
            .kernel_crate
            .split_once('@')
            .unwrap_or((post.kernel_crate.as_str(), ""));
        vec![ResourceDescriptor {
            name: Some(deps::POST_LINK_KERNEL.into()),
            uri: Some(format!("pkg:cargo/{name}@{version}#{}", post.kernel_file)),
            digest: sha256_digest(post.kernel_sha256),
            annotations: BTreeMap::from([(
                "crateSha256".to_string(),
                post.kernel_crate_sha256.to_string().into(),
            )]),
            ..Default::default()
        }]
    }

    /// Its byproducts: the linked ELF a post-link step wrapped, and the VK.
    pub fn byproducts(&self, plan: &Plan) -> Vec<ResourceDescriptor> {
        let Some(post) = &self.post else {
            return Vec::new();
        };
        vec![
            ResourceDescriptor {
                name: Some(deps::LINKED_ELF.into()),
                uri: Some(format!("{}-{}.linked.elf", plan.guest, plan.zkvm)),
                digest: sha256_digest(self.linked.sha256),
                annotations: BTreeMap::from([("size".to_string(), self.linked.size.into())]),
                ..Default::default()
            },
            ResourceDescriptor {
                name: Some(deps::VK.into()),
                uri: Some(format!("{}-{}.vk", plan.guest, plan.zkvm)),
                digest: sha256_digest(Sha256Digest::of(&post.vk)),
                annotations: BTreeMap::from([("imageId".to_string(), post.vk_id.clone().into())]),
                ..Default::default()
            },
        ]
    }
}

/// The post-link step of `plan`'s profile applied to `linked` (none: the linked ELF is the
/// artifact), in `staging` as `<stem>.elf` and `<stem>.vk`. The step's inputs come from the
/// vendored crates (`vendor`) and the lock file.
pub(crate) async fn finish(
    plan: &Plan,
    linked: Linked,
    vendor: Option<&Path>,
    cargo_lock: Option<&[u8]>,
    staging: &Path,
    reporter: &dyn Reporter,
) -> Result<Finished, BuilderError> {
    let stem = format!("{}-{}", plan.guest, plan.zkvm);
    let elf = staging.join(format!("{stem}.elf"));
    let Some(step) = plan.profile.post_link.clone() else {
        let (from, to) = (linked.path.clone(), elf.clone());
        super::blocking(move || {
            std::fs::rename(&from, &to).map_err(|e| BuilderError::io("cannot rename into", &to, e))
        })
        .await?;
        return Ok(Finished {
            elf,
            sha256: linked.sha256,
            size: linked.size,
            linked,
            post: None,
            vk: None,
        });
    };
    reporter.step(&format!(
        "post-link step for {stem} ({})",
        post_link_name(&step)
    ));
    let (Some(vendor), Some(lock)) = (vendor, cargo_lock) else {
        return Err(BuilderError::PostLink {
            artifact: stem,
            problem: Box::new(PostLinkProblem::NotCargo),
        });
    };
    let (vendor, lock, linked_path) = (vendor.to_path_buf(), lock.to_vec(), linked.path.clone());
    let vk_path = staging.join(format!("{stem}.vk"));
    let (out, vk_out, what) = (elf.clone(), vk_path.clone(), stem.clone());
    let (post, sha256, size) = super::blocking(move || {
        let user_elf = std::fs::read(&linked_path)
            .map_err(|e| BuilderError::io("cannot read", &linked_path, e))?;
        let done = apply(&step, &user_elf, &vendor, &lock, &what)?;
        std::fs::write(&out, &done.program)
            .map_err(|e| BuilderError::io("cannot write", &out, e))?;
        std::fs::write(&vk_out, &done.vk)
            .map_err(|e| BuilderError::io("cannot write", &vk_out, e))?;
        let (sha256, size) = sha256_file(&out)?;
        Ok((done, sha256, size))
    })
    .await?;
    reporter.finish(&format!(
        "{stem}.elf {}, vk {}",
        OciDigest::from(sha256),
        post.vk_id
    ));
    let vk = Some((vk_path, post.vk_id.clone()));
    Ok(Finished {
        elf,
        sha256,
        size,
        linked,
        post: Some(post),
        vk,
    })
}

/// How a post-link step is named in progress messages.
fn post_link_name(step: &PostLink) -> &'static str {
    match step {
        PostLink::Risc0ProgramBinary { .. } => "the user ELF wrapped with RISC Zero's kernel",
    }
}

/// The artifact a post-link step made, and what it used.
#[derive(Debug)]
pub(crate) struct PostLinked {
    /// The artifact's bytes.
    pub program: Vec<u8>,
    /// The verification key derived from them.
    pub vk: Vec<u8>,
    /// The VK as the zkVM prints it (RISC Zero: the image id in hex).
    pub vk_id: String,
    /// `<crate>@<version>`, the crate the kernel came from.
    pub kernel_crate: String,
    /// The kernel's path in that crate.
    pub kernel_file: String,
    /// sha256 of the kernel.
    pub kernel_sha256: Sha256Digest,
    /// sha256 of the `.crate` (from `Cargo.lock`).
    pub kernel_crate_sha256: Sha256Digest,
}

/// Applies `step` to the linked `user_elf`, taking inputs from the vendored crates and the
/// lock file. `what` names the artifact in errors.
pub(crate) fn apply(
    step: &PostLink,
    user_elf: &[u8],
    vendor: &Path,
    cargo_lock: &[u8],
    what: &str,
) -> Result<PostLinked, BuilderError> {
    let failed = |problem| BuilderError::PostLink {
        artifact: what.to_string(),
        problem: Box::new(problem),
    };
    match step {
        PostLink::Risc0ProgramBinary {
            kernel_crate,
            kernel_file,
        } => {
            let (version, checksum) = locked_crate(cargo_lock, kernel_crate).map_err(failed)?;
            let dir = vendor.join(format!("{kernel_crate}-{version}"));
            let kernel_path = dir.join(kernel_file);
            let kernel = std::fs::read(&kernel_path)
                .map_err(|e| BuilderError::io("cannot read", &kernel_path, e))?;
            let kernel_sha256 = Sha256Digest::of(&kernel);
            let recorded = vendored_checksums(&dir)?;
            if recorded.package() != Some(checksum) {
                return Err(failed(PostLinkProblem::KernelCrate {
                    name: kernel_crate.clone(),
                    version,
                    pinned: checksum,
                }));
            }
            if recorded.file(kernel_file) != Some(kernel_sha256) {
                return Err(failed(PostLinkProblem::KernelFile {
                    file: kernel_file.clone(),
                    name: kernel_crate.clone(),
                    version,
                    found: kernel_sha256,
                }));
            }
            let program = zkelf_zkvm::risc0::wrap(user_elf, &kernel);
            let image_id = zkelf_zkvm::risc0::image_id(&program)
                .map_err(|e| failed(PostLinkProblem::Load(e.to_string())))?;
            Ok(PostLinked {
                program,
                vk: image_id.as_bytes().to_vec(),
                vk_id: image_id.to_string(),
                kernel_crate: format!("{kernel_crate}@{version}"),
                kernel_file: kernel_file.clone(),
                kernel_sha256,
                kernel_crate_sha256: checksum,
            })
        }
    }
}

/// The version and `.crate` checksum `Cargo.lock` pins for the registry crate `name`.
fn locked_crate(cargo_lock: &[u8], name: &str) -> Result<(String, Sha256Digest), PostLinkProblem> {
    let text = std::str::from_utf8(cargo_lock)
        .map_err(|_| PostLinkProblem::Lock("it is not UTF-8".into()))?;
    let lock: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| PostLinkProblem::Lock(e.message().to_string()))?;
    let found: Vec<(String, String)> = lock
        .get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_table())
        .filter(|p| p.get("name").and_then(|n| n.as_str()) == Some(name))
        .filter_map(|p| {
            let field = |k: &str| p.get(k).and_then(|v| v.as_str()).map(String::from);
            Some((field("version")?, field("checksum")?))
        })
        .collect();
    match found.as_slice() {
        [(version, checksum)] => {
            let checksum = checksum.parse().map_err(|_| {
                PostLinkProblem::Lock(format!("the checksum of `{name}` is not a sha256"))
            })?;
            Ok((version.clone(), checksum))
        }
        [] => Err(PostLinkProblem::NoKernelCrate(name.to_string())),
        _ => Err(PostLinkProblem::KernelCrateTwice {
            name: name.to_string(),
            count: found.len(),
        }),
    }
}

/// `.cargo-checksum.json` of a vendored crate.
struct Checksums {
    package: Option<String>,
    files: serde_json::Map<String, serde_json::Value>,
}

impl Checksums {
    /// The sha256 cargo recorded for `path` (none if absent or not a sha256).
    fn file(&self, path: &str) -> Option<Sha256Digest> {
        self.files.get(path)?.as_str()?.parse().ok()
    }

    /// The sha256 of the `.crate` cargo recorded (none if absent or not a sha256).
    fn package(&self) -> Option<Sha256Digest> {
        self.package.as_deref()?.parse().ok()
    }
}

fn vendored_checksums(dir: &Path) -> Result<Checksums, BuilderError> {
    let path = dir.join(".cargo-checksum.json");
    let bytes = std::fs::read(&path).map_err(|e| BuilderError::io("cannot read", &path, e))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        BuilderError::io("cannot parse", &path, std::io::Error::other(e.to_string()))
    })?;
    Ok(Checksums {
        package: value
            .get("package")
            .and_then(|p| p.as_str())
            .map(String::from),
        files: value
            .get("files")
            .and_then(|f| f.as_object())
            .cloned()
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "risc0-zkos-v1compat"
version = "2.2.3"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

[[package]]
name = "guest"
version = "0.1.0"
"#;

    fn step() -> PostLink {
        PostLink::Risc0ProgramBinary {
            kernel_crate: "risc0-zkos-v1compat".into(),
            kernel_file: "elfs/v1compat.elf".into(),
        }
    }

    fn vendor_with(kernel: &[u8], package: &str, file_sha: &str) -> tempfile::TempDir {
        let vendor = tempfile::tempdir().unwrap();
        let dir = vendor.path().join("risc0-zkos-v1compat-2.2.3");
        std::fs::create_dir_all(dir.join("elfs")).unwrap();
        std::fs::write(dir.join("elfs/v1compat.elf"), kernel).unwrap();
        std::fs::write(
            dir.join(".cargo-checksum.json"),
            serde_json::json!({ "package": package, "files": { "elfs/v1compat.elf": file_sha } })
                .to_string(),
        )
        .unwrap();
        vendor
    }

    #[test]
    fn the_kernel_must_be_the_one_the_lock_file_pins() {
        let kernel = b"not really a kernel";
        let sha = Sha256Digest::of(kernel).to_string();
        let message = |vendor: &tempfile::TempDir, lock: &str| {
            apply(&step(), b"user", vendor.path(), lock.as_bytes(), "g-risc0")
                .unwrap_err()
                .to_string()
        };
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        let other_crate = vendor_with(kernel, &b, &sha);
        assert!(message(&other_crate, LOCK).contains("is not the `.crate` `Cargo.lock` pins"));
        let edited = vendor_with(kernel, &a, &"0".repeat(64));
        assert!(message(&edited, LOCK).contains("not the one cargo recorded"));
        let good = vendor_with(kernel, &a, &sha);
        let not_a_digest = LOCK.replace(&a, "aaaa");
        assert!(
            message(&good, &not_a_digest)
                .contains("the checksum of `risc0-zkos-v1compat` is not a sha256")
        );
        let no_kernel = LOCK.replace("risc0-zkos-v1compat", "other");
        assert!(message(&good, &no_kernel).contains("has no registry crate `risc0-zkos-v1compat`"));
        // The right kernel, but the bytes are not ELFs RISC Zero can load.
        assert!(message(&good, LOCK).contains("RISC Zero cannot load the program it wraps"));
    }
}
