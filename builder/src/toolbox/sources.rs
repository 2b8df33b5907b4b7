//! The toolboxes' sources, compiled into zkelf by `build.rs` from `toolbox/{cli,sp1,risc0,openvm,zisk}`:
//! whichever machine zkelf runs on builds the same toolbox from the same bytes.

use std::path::Path;

use zkelf_trust::digest::Sha256Digest;

use crate::error::BuilderError;
use crate::fsutil::write_readable_dir;

include!(concat!(env!("OUT_DIR"), "/toolbox_sources.rs"));

/// The shared command-line crate every toolbox depends on (`path = "../cli"`).
const CLI_DIR: &str = "cli";

/// The files a toolbox is built from: its own directory and the shared command line, as
/// (path under `toolbox/`, contents), sorted by path.
pub(super) fn files(dir: &str) -> Vec<(&'static str, &'static [u8])> {
    FILES
        .iter()
        .filter(|(path, _)| {
            [CLI_DIR, dir].iter().any(|d| {
                path.strip_prefix(d)
                    .is_some_and(|rest| rest.starts_with('/'))
            })
        })
        .copied()
        .collect()
}

/// One file of `dir`'s toolbox (`Cargo.lock`, …).
pub(super) fn file(dir: &str, name: &str) -> Option<&'static [u8]> {
    let wanted = format!("{dir}/{name}");
    FILES
        .iter()
        .find(|(path, _)| *path == wanted)
        .map(|(_, bytes)| *bytes)
}

/// The digest of `dir`'s sources: sha256 over every file's path, length and bytes, in order.
pub(super) fn digest(dir: &str) -> Sha256Digest {
    let mut input = Vec::new();
    for (path, bytes) in files(dir) {
        input.extend_from_slice(path.as_bytes());
        input.push(0);
        input.extend_from_slice(bytes.len().to_string().as_bytes());
        input.push(0);
        input.extend_from_slice(bytes);
    }
    Sha256Digest::of(&input)
}

/// Writes `dir`'s sources under `root` (`root/cli/…`, `root/<dir>/…`), readable by a
/// container's user.
pub(super) fn write(dir: &str, root: &Path) -> Result<(), BuilderError> {
    let files = files(dir);
    let mut parents: Vec<&str> = files
        .iter()
        .filter_map(|(path, _)| path.rsplit_once('/').map(|(parent, _)| parent))
        .collect();
    parents.sort_unstable();
    parents.dedup();
    write_readable_dir(root, [])?;
    for parent in parents {
        // Every ancestor, so each gets the readable mode.
        let mut at = root.to_path_buf();
        for part in parent.split('/') {
            at.push(part);
            if !at.is_dir() {
                write_readable_dir(&at, [])?;
            }
        }
    }
    write_readable_dir(root, files.iter().map(|(path, bytes)| (*path, *bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_toolbox_has_its_lock_and_the_shared_command_line() {
        for dir in ["sp1", "risc0", "openvm", "zisk"] {
            let files = files(dir);
            assert!(file(dir, "Cargo.lock").is_some(), "{dir}");
            assert!(file(dir, "src/main.rs").is_some(), "{dir}");
            assert!(files.iter().any(|(p, _)| *p == "cli/src/lib.rs"), "{dir}");
            assert!(
                files
                    .iter()
                    .all(|(p, _)| p.starts_with("cli/") || p.starts_with(&format!("{dir}/"))),
                "{dir}"
            );
        }
        // `sp1-sdk-check` is a check, not a toolbox; nothing of it is compiled in.
        assert!(FILES.iter().all(|(p, _)| !p.starts_with("sp1-sdk-check")));
        assert_ne!(digest("sp1"), digest("zisk"));
    }

    #[test]
    fn sources_are_written_readable() {
        let root = tempfile::tempdir().unwrap();
        write("sp1", &root.path().join("src")).unwrap();
        let lock = std::fs::read(root.path().join("src/sp1/Cargo.lock")).unwrap();
        assert_eq!(lock, file("sp1", "Cargo.lock").unwrap());
        assert!(root.path().join("src/sp1/.cargo/config.toml").is_file());
        assert!(root.path().join("src/cli/src/lib.rs").is_file());
    }
}
