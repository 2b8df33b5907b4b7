//! Small filesystems for fault tests: a size-limited tmpfs (a disk that fills) or a read-only
//! one (a directory root cannot write to, since root ignores permission bits), unmounted when
//! dropped so a failed test leaves no mount behind.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted on a fresh directory, unmounted (lazily, so open files do not keep it) and
/// removed when dropped.
#[derive(Debug)]
pub struct Tmpfs {
    dir: tempfile::TempDir,
    mounted: bool,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` bytes. Panics with a clear message when mounting is impossible
    /// (not root, no `CAP_SYS_ADMIN`): the fault tests need it and never skip silently.
    pub fn mount(size: u64) -> Self {
        Self::mount_with(&format!("size={size}"))
    }

    /// Mounts a read-only tmpfs: every write under it fails with `EROFS`, even as root.
    pub fn read_only() -> Self {
        Self::mount_with("ro,size=1m")
    }

    fn mount_with(options: &str) -> Self {
        let dir = tempfile::tempdir().expect("tmpfs mount point");
        mount(&["-t", "tmpfs", "-o", options, "tmpfs"], dir.path());
        Self { dir, mounted: true }
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `<mount point>/<rel>`.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Changes the size limit (what was written stays): frees space for a retry.
    pub fn resize(&self, size: u64) {
        mount(
            &["-o", &format!("remount,size={size}"), "tmpfs"],
            self.dir.path(),
        );
    }
}

fn mount(args: &[&str], dir: &Path) {
    let out = Command::new("mount")
        .args(args)
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `mount`: {e}"));
    assert!(
        out.status.success(),
        "`mount {} {}` failed (the fault tests need root or CAP_SYS_ADMIN to mount a tmpfs): {}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
            self.mounted = false;
        }
    }
}
