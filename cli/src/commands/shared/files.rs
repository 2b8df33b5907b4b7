//! Files the commands write and hash.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use zkelf_trust::digest::{Sha256Digest, hash_file};

use crate::error::UsageError;

/// Writes `bytes` to `path` atomically (`zkelf_registry::fsutil::write_file`); with `!replace`, an
/// existing `path` is a usage error.
pub(crate) fn persist_atomically(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    replace: bool,
) -> anyhow::Result<()> {
    zkelf_registry::fsutil::write_file(path, bytes, mode, replace).map_err(|err| {
        if err.kind() == std::io::ErrorKind::AlreadyExists {
            UsageError::new(
                format!(
                    "`{}` already exists; refusing to overwrite it",
                    path.display()
                ),
                "remove it first or choose another path",
            )
            .into()
        } else {
            anyhow::Error::new(err).context(format!("cannot write `{}`", path.display()))
        }
    })
}

/// Refuses an output path whose directory does not exist, before anything is fetched: the
/// file is written through a temporary file beside it, whose name would otherwise be the error.
pub(crate) fn check_output_dir(flag: &str, path: &Path) -> Result<(), UsageError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => return Ok(()),
    };
    if dir.is_dir() {
        return Ok(());
    }
    let what = if dir.exists() {
        "is not a directory"
    } else {
        "does not exist"
    };
    Err(UsageError::new(
        format!(
            "`{flag} {}`: directory `{}` {what}",
            path.display(),
            dir.display()
        ),
        format!(
            "create it first (`mkdir -p {}`), or write to another path",
            dir.display()
        ),
    ))
}

/// `path` with `suffix` appended to its file name (`fib.elf` → `fib.elf.minisig`).
pub(crate) fn sibling_with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// SHA-256 of a provenance or VK file.
pub(crate) fn hash_blob(path: &Path) -> anyhow::Result<Sha256Digest> {
    Ok(hash_file(path)?.sha256)
}

/// The VK's sha256, after checking it belongs to the guest where zkelf can derive it (a RISC
/// Zero image id): a wrong VK is refused before anything is signed or accepted.
pub(crate) fn check_vk(elf: &Path, vk: &Path) -> anyhow::Result<Sha256Digest> {
    let read = |path: &Path| {
        std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))
    };
    let key = read(vk)?;
    let file =
        std::fs::File::open(elf).with_context(|| format!("cannot read `{}`", elf.display()))?;
    zkelf_zkvm::check_vk_reader(file, &key).with_context(|| {
        format!(
            "`{}` is not the verification key of `{}`",
            vk.display(),
            elf.display()
        )
    })?;
    Ok(Sha256Digest::of(&key))
}
