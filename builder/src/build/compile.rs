//! The compile step: the guest's build container (`--network none`, read-only source, crates
//! and sysroot, tmpfs target), the linked ELF it leaves, and `--check-reproducible`'s second,
//! varied build that must give the same bytes.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use zkelf_trust::digest::Sha256Digest;

use super::plan::{Mounts, Plan, Variation};
use super::sysroot::{self, Sysroot};
use crate::diff::diff_files;
use crate::docker::Engine;
use crate::error::BuilderError;
use crate::error::problem::TwoDigests;
use crate::fsutil::{self, sha256_file, world_writable_tempdir};
use crate::reporter::Reporter;
use crate::source::Source;

/// The ELF the linker wrote, before any post-link step, copied into the staging directory.
#[derive(Debug)]
pub(crate) struct Linked {
    /// `<staging>/<guest>-<zkvm>.linked.elf`.
    pub path: PathBuf,
    pub sha256: Sha256Digest,
    pub size: u64,
}

/// Runs the build container for `plan` under the standard conditions and copies the ELF it
/// linked to `dest`.
pub(crate) async fn compile(
    engine: &Engine,
    plan: &Plan,
    source: &Source,
    mounts: &Mounts<'_>,
    dest: PathBuf,
    reporter: &dyn Reporter,
) -> Result<Linked, BuilderError> {
    let out = run(
        engine,
        plan,
        &Variation::standard(),
        &source.host_source_root(),
        mounts,
        reporter,
    )
    .await?;
    let built = out.path().join("out.elf");
    super::blocking(move || {
        std::fs::copy(&built, &dest).map_err(|e| BuilderError::io("cannot copy", &built, e))?;
        let (sha256, size) = sha256_file(&dest)?;
        drop(out);
        Ok(Linked {
            path: dest,
            sha256,
            size,
        })
    })
    .await
}

/// `--check-reproducible`: builds `plan` again from a copy of the source at another path,
/// with every file's mtime moved and every condition of [`Variation::varied`], its sysroot
/// built afresh (never from the cache) and required to have `sysroot`'s files, and requires
/// the linked ELF to be `first`'s bytes (the post-link step is a pure function of the linked
/// ELF and the pinned kernel, so the linked ELFs are what must agree, and what a diff can
/// explain).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn reproduce(
    engine: &Engine,
    plan: &Plan,
    source: &Source,
    workspace: Option<&(PathBuf, String)>,
    sysroot: Option<&Sysroot>,
    mounts: &Mounts<'_>,
    first: &Linked,
    reporter: &dyn Reporter,
) -> Result<(), BuilderError> {
    reporter.step(&format!(
        "rebuilding {} for {} with varied path, uid, hostname, umask, env, CPUs, timezone, locale and file times",
        plan.guest, plan.zkvm
    ));
    let copy = fsutil::tempdir("zkelf-repro-src-")?;
    let (src, dest) = (source.clone(), copy.path().to_path_buf());
    super::blocking(move || {
        src.copy_to(&dest)?;
        shift_mtimes(&dest)
    })
    .await?;
    let varied = Variation::varied();
    let second_sysroot = match (sysroot, workspace) {
        (Some(first), Some(workspace)) => {
            let second =
                sysroot::ensure(engine, plan, workspace, &varied, mounts, None, reporter).await?;
            if second.sealed.digest != first.sealed.digest {
                return Err(BuilderError::SysrootNotReproducible {
                    target: plan.target.clone(),
                    digests: Box::new(TwoDigests {
                        first: first.sealed.digest,
                        second: second.sealed.digest,
                    }),
                    difference: crate::cache::difference(
                        &first.sealed.manifest,
                        &second.sealed.manifest,
                    ),
                });
            }
            Some(second)
        }
        _ => None,
    };
    let varied_mounts = Mounts {
        sysroot: second_sysroot.as_ref().map(|s| s.dir.as_path()),
        ..*mounts
    };
    let second = run(
        engine,
        plan,
        &varied,
        &copy.path().join(&source.source_root),
        &varied_mounts,
        reporter,
    )
    .await?;
    let (first_elf, second_elf) = (first.path.clone(), second.path().join("out.elf"));
    let first_sha = first.sha256;
    let diff = super::blocking(move || {
        let (second_sha, _) = sha256_file(&second_elf)?;
        if second_sha == first_sha {
            return Ok(None);
        }
        let diff = diff_files(&first_elf, &second_elf)?;
        Ok(Some((second_sha, diff.render())))
    })
    .await?;
    drop(second);
    if let Some((second_sha, diff)) = diff {
        return Err(BuilderError::NotReproducible {
            guest: plan.guest.clone(),
            zkvm: plan.zkvm.clone(),
            digests: Box::new(TwoDigests {
                first: first.sha256,
                second: second_sha,
            }),
            diff,
        });
    }
    reporter.finish("identical bytes");
    Ok(())
}

/// Runs one build container; returns the directory holding `out.elf`.
async fn run(
    engine: &Engine,
    plan: &Plan,
    variation: &Variation,
    host_source_root: &Path,
    mounts: &Mounts<'_>,
    reporter: &dyn Reporter,
) -> Result<tempfile::TempDir, BuilderError> {
    let out = world_writable_tempdir("zkelf-out-")?;
    let spec = plan.container(variation, host_source_root, mounts, out.path());
    let exit = engine.run(&spec, reporter).await?;
    if exit.code != 0 || !out.path().join("out.elf").is_file() {
        return Err(BuilderError::BuildFailed {
            guest: plan.guest.clone(),
            zkvm: plan.zkvm.clone(),
            code: exit.code,
            output: exit.tail,
        });
    }
    Ok(out)
}

/// Sets every file's mtime under `dir` to 2033-05-18, a clock the first build did not see.
fn shift_mtimes(dir: &Path) -> Result<(), BuilderError> {
    let when = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| BuilderError::io("cannot read", &d, e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() {
                std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(when))
                    .map_err(|e| BuilderError::io("cannot set the mtime of", &path, e))?;
            }
        }
    }
    Ok(())
}
