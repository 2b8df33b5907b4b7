//! Where a pulled ELF is written while it arrives ([`Sink`]), and step 6 of a pull
//! ([`commit`]): the state, the lock, the cache, then the ELF and its VK given their names,
//! both or neither. A file the pull replaces at `-o` is kept until the VK is in place too, so a
//! VK that cannot be written puts it back rather than leaving the output lost, and the state
//! and the lock are put back with it.

use std::fs::File;
use std::path::{Path, PathBuf};

use zkelf_trust::statement::Statement;

use super::vk::{PulledVk, VkOutput};
use super::{Output, PullOptions, Resolved};
use crate::digest::OciDigest;
use crate::error::{ElfUndo, Error};
use crate::fsutil::{self, Rewritten, TempFile, TempKind};
use crate::lockfile::Pin;

/// Where the ELF is written while it arrives: an unnamed temporary file beside the output
/// (named by [`commit`]), or an anonymous one for [`Output::Memory`].
pub(super) struct Sink {
    pub(super) temp: Option<TempFile>,
    /// For errors about the file (a full disk): the directory it is written in (it has no
    /// name there).
    pub(super) path: PathBuf,
}

impl Sink {
    pub(super) fn create(output: &Output) -> Result<Self, Error> {
        match output {
            Output::File(path) => {
                let dir = fsutil::parent(path);
                let temp = TempFile::new_in(&dir, TempKind::Pull).map_err(Error::io(&dir))?;
                Ok(Self {
                    path: dir,
                    temp: Some(temp),
                })
            }
            Output::Memory => Ok(Self {
                temp: None,
                path: std::env::temp_dir(),
            }),
        }
    }

    /// An empty file to stream into (again, after a corrupt cache entry).
    pub(super) fn open(&self) -> Result<File, Error> {
        use std::io::Seek as _;
        match &self.temp {
            Some(temp) => {
                let io = Error::io(&self.path);
                let mut file = temp.as_file().try_clone().map_err(Error::io(&self.path))?;
                file.set_len(0).and_then(|()| file.rewind()).map_err(io)?;
                Ok(file)
            }
            None => tempfile::tempfile().map_err(Error::io(std::env::temp_dir())),
        }
    }
}

/// What [`commit`] leaves.
pub(super) struct Committed {
    pub(super) bytes: Option<Vec<u8>>,
    pub(super) vk: Option<PulledVk>,
    pub(super) pinned: bool,
}

/// Step 6: state, lock, cache, then the ELF and the VK given their names, in that order: a
/// pull killed from here on leaves a verified version recorded, never an installed one the
/// state does not know. A pull that fails to give the ELF or the VK its name puts the state and
/// the lock back as they were, as it puts back the output: a lock never pins a release next to
/// the ELF it replaced.
#[allow(clippy::too_many_arguments)] // one call site, each argument a step's result
pub(super) fn commit(
    resolved: &Resolved,
    pin: Option<&Pin>,
    statement: Option<&Statement>,
    mut vk: Option<PulledVk>,
    file: Option<File>,
    sink: Sink,
    output: &Output,
    from_cache: bool,
    options: &PullOptions<'_>,
) -> Result<Committed, Error> {
    // The VK's file is prepared before anything is given its name.
    let vk_temp = match (options.vk, &vk, &resolved.vk) {
        (VkOutput::File(path), Some(_), Some(bytes)) => Some((path, prepare_file(path, bytes)?)),
        _ => None,
    };
    let mut rewritten = Vec::new();
    let placed = record(
        resolved,
        pin,
        statement,
        vk.as_ref(),
        options,
        &mut rewritten,
    )
    .and_then(|pinned| {
        let bytes = place(
            resolved, &mut vk, vk_temp, file, sink, output, from_cache, options,
        )?;
        Ok(Committed { bytes, vk, pinned })
    });
    if placed.is_err() {
        for step in rewritten.into_iter().rev() {
            let path = step.path().to_path_buf();
            match step.undo() {
                Ok(true) => {}
                Ok(false) => options.reporter.note(&format!(
                    "`{}` changed since this pull wrote it, and is left as it is",
                    path.display()
                )),
                Err(e) => options.reporter.note(&format!(
                    "cannot put `{}` back as it was before the pull: {e}",
                    path.display()
                )),
            }
        }
    }
    placed
}

/// The version in the rollback state, and the pin in the lock file when it had none; each
/// file's rewrite is pushed to `rewritten`, for [`commit`] to put back. Returns whether a pin
/// was written.
fn record(
    resolved: &Resolved,
    pin: Option<&Pin>,
    statement: Option<&Statement>,
    vk: Option<&PulledVk>,
    options: &PullOptions<'_>,
    rewritten: &mut Vec<Rewritten>,
) -> Result<bool, Error> {
    let reference = &resolved.reference;
    if let (Some(state), Some(s)) = (options.state, statement) {
        rewritten.push(state.record(&reference.source(), &s.guest, &s.zkvm, &s.version)?);
    }
    let (Some(lock), None) = (options.lock, pin) else {
        return Ok(false);
    };
    rewritten.push(
        lock.write(Pin {
            reference: reference.to_string(),
            zkvm: options.zkvm.unwrap_or_default().to_owned(),
            manifest: Some(resolved.manifest_digest.to_string()),
            elf: resolved.layers.elf.digest.to_string(),
            vk: vk
                .filter(|v| v.verified())
                .map(|v| OciDigest::from(v.sha256).to_string()),
        })?,
    );
    Ok(true)
}

/// The cache, then the ELF and the VK given their names, both or neither; the ELF's bytes for
/// [`Output::Memory`].
#[allow(clippy::too_many_arguments)] // [`commit`]'s arguments, less what [`record`] took
fn place(
    resolved: &Resolved,
    vk: &mut Option<PulledVk>,
    vk_temp: Option<(&Path, TempFile)>,
    file: Option<File>,
    sink: Sink,
    output: &Output,
    from_cache: bool,
    options: &PullOptions<'_>,
) -> Result<Option<Vec<u8>>, Error> {
    let elf_desc = &resolved.layers.elf;
    let mut bytes = None;
    let mut placed = None;
    if let Some(mut file) = file {
        file.sync_all().map_err(Error::io(&sink.path))?;
        match (output, sink.temp) {
            (Output::File(out), Some(temp)) => {
                if let (Some(cache), false) = (options.cache, from_cache)
                    && let Err(e) = cache.insert(&elf_desc.digest, temp.as_file())
                {
                    options.reporter.note(&format!(
                        "cannot add the ELF to the cache `{}`: {e}",
                        cache.dir().display()
                    ));
                }
                placed = Some(place_elf(temp, out, vk_temp.is_some())?);
            }
            _ => bytes = Some(read_back(&mut file, elf_desc.size)?),
        }
    }
    if let (Some(v), Some((vk_path, temp))) = (vk.as_mut(), vk_temp) {
        if let Err(source) = temp.persist(vk_path, true) {
            // Neither file, then: the output as it was before the pull.
            let elf = placed.map(Placed::undo).unwrap_or(ElfUndo::NotPlaced);
            return Err(Error::VkNotWritten {
                path: vk_path.to_path_buf(),
                source,
                elf,
            });
        }
        fsutil::sync_dir(&fsutil::parent(vk_path));
        v.path = Some(vk_path.to_path_buf());
    }
    if let (Some(v), VkOutput::Memory | VkOutput::IfPresent) = (vk.as_mut(), options.vk) {
        v.bytes = resolved.vk.clone();
    }
    Ok(bytes)
}

/// The ELF given its name `out`, and what was there before (kept while a VK is still to be
/// written).
struct Placed {
    out: PathBuf,
    previous: Previous,
}

/// What was at the output before the pull replaced it.
enum Previous {
    /// Nothing.
    Nothing,
    /// A file, kept under a temporary name (removed when dropped).
    Kept(tempfile::NamedTempFile<()>),
    /// A file that could not be kept (the filesystem has no hard links), or none was needed.
    Unkept,
}

/// Gives the verified ELF its name `out` (mode 0755: an ELF is a program, and qemu-user, for
/// one, refuses files without an x bit), keeping the file it replaces when `keep`.
fn place_elf(temp: TempFile, out: &Path, keep: bool) -> Result<Placed, Error> {
    use std::os::unix::fs::PermissionsExt as _;
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o755))
        .map_err(Error::io(out))?;
    let previous = if keep {
        keep_previous(out)?
    } else {
        Previous::Unkept
    };
    temp.persist(out, true).map_err(Error::io(out))?;
    fsutil::sync_dir(&fsutil::parent(out));
    Ok(Placed {
        out: out.to_path_buf(),
        previous,
    })
}

/// A second name (a hard link, which a rename over `out` leaves alone) for what is at `out`.
fn keep_previous(out: &Path) -> Result<Previous, Error> {
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Previous::Nothing),
        Err(e) => return Err(Error::io(out)(e)),
        Ok(_) => {}
    }
    let kept = tempfile::Builder::new()
        .prefix(".zkelf-pull-")
        .suffix(".part")
        .make_in(fsutil::parent(out), |name| std::fs::hard_link(out, name));
    Ok(match kept {
        Ok(kept) => Previous::Kept(kept),
        Err(_) => Previous::Unkept,
    })
}

impl Placed {
    /// Puts back what was at the output before the ELF replaced it.
    fn undo(self) -> ElfUndo {
        let out = self.out;
        match self.previous {
            Previous::Kept(kept) => match kept.persist(&out) {
                Ok(()) => ElfUndo::Restored(out),
                Err(_) => ElfUndo::Left(out),
            },
            Previous::Nothing => match std::fs::remove_file(&out) {
                Ok(()) => ElfUndo::Removed(out),
                Err(_) => ElfUndo::Left(out),
            },
            Previous::Unkept => ElfUndo::Left(out),
        }
    }
}

/// An unnamed temporary file beside `path` holding `bytes` (mode 0644), synced, ready to be
/// given its name.
fn prepare_file(path: &Path, bytes: &[u8]) -> Result<TempFile, Error> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let dir = fsutil::parent(path);
    let temp = TempFile::new_in(&dir, TempKind::Pull).map_err(Error::io(&dir))?;
    let mut file = temp.as_file();
    file.write_all(bytes)
        .and_then(|()| file.set_permissions(std::fs::Permissions::from_mode(0o644)))
        .and_then(|()| file.sync_all())
        .map_err(Error::io(path))?;
    Ok(temp)
}

/// The ELF streamed into an anonymous file, read back for [`Output::Memory`].
fn read_back(file: &mut File, size: u64) -> Result<Vec<u8>, Error> {
    use std::io::{Read as _, Seek as _};
    file.rewind().map_err(Error::io("the downloaded ELF"))?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(size)
        .read_to_end(&mut bytes)
        .map_err(Error::io("the downloaded ELF"))?;
    Ok(bytes)
}

/// Refuses outputs that name one file (`-o L --lock L`, `-o x --vk-out ./x`): one would
/// overwrite the other. Checked before anything is fetched.
pub(super) fn check_outputs(output: &Output, options: &PullOptions<'_>) -> Result<(), Error> {
    let mut named: Vec<(&'static str, &Path)> = Vec::new();
    if let Output::File(path) = output {
        named.push(("the ELF's output", path));
    }
    if let VkOutput::File(path) = options.vk {
        named.push(("the VK's output", path));
    }
    if let Some(lock) = options.lock {
        named.push(("the lock file", lock.path()));
    }
    for (i, (first, a)) in named.iter().enumerate() {
        for (second, b) in &named[i + 1..] {
            if fsutil::same_file(a, b) {
                return Err(Error::SameFile {
                    first,
                    second,
                    path: b.to_path_buf(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_puts_back_what_the_elf_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("fib.elf");
        std::fs::write(&out, "old release").unwrap();
        let temp = TempFile::new_in(dir.path(), TempKind::Pull).unwrap();
        std::io::Write::write_all(&mut temp.as_file(), b"new release").unwrap();
        let placed = place_elf(temp, &out, true).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "new release");
        assert!(matches!(placed.undo(), ElfUndo::Restored(_)));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "old release");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");

        // Nothing there before: the ELF is taken away again.
        let fresh = dir.path().join("fresh.elf");
        let temp = TempFile::new_in(dir.path(), TempKind::Pull).unwrap();
        assert!(matches!(
            place_elf(temp, &fresh, true).unwrap().undo(),
            ElfUndo::Removed(_)
        ));
        assert!(!fresh.exists());
    }
}
