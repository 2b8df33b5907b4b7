//! Staged entries (`.partial-*` directories): the lock their builder holds, and the sweep of
//! the ones a killed or failed build left.

use std::path::Path;
use std::time::{Duration, SystemTime};

use zkelf_trust::bounded;
use zkelf_trust::files::STALE_AFTER;

/// The name a staged entry's directory starts with.
pub(super) const PARTIAL: &str = ".partial-";
/// The lock file in a staged entry, held by the process building it.
pub(super) const PARTIAL_LOCK: &str = ".zkelf-building.lock";
/// How old an unlocked staged entry must be before a sweep removes it: a process that has just
/// made the directory takes its lock a moment later.
const PARTIAL_GRACE: Duration = Duration::from_secs(60);

/// Removes from `root` the staged entries (`.partial-*` directories) a killed or failed build
/// left: one whose lock no process holds (a minute after it last changed), or, without a lock
/// file (older zkelf versions made none), one untouched for [`STALE_AFTER`]. A locked one, or
/// anything that is not a directory, stays; links are never followed. Best effort. Returns how
/// many were removed.
pub(crate) fn sweep_partials(root: &Path, now: SystemTime) -> usize {
    let Ok(entries) = std::fs::read_dir(root) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let partial = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(PARTIAL));
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !partial || !meta.is_dir() {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        let stale = match bounded::open_no_follow(&path.join(PARTIAL_LOCK)) {
            // Whoever built it is gone when its lock can be taken (and is released at once).
            Ok((file, _)) => age >= PARTIAL_GRACE && file.try_lock().is_ok(),
            Err(_) => age >= STALE_AFTER,
        };
        if stale && std::fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use zkelf_trust::files::FileLock;

    use super::*;

    #[test]
    fn staged_entries_a_killed_build_left_are_swept_and_live_ones_kept() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        let staged = |name: &str, lock: bool| {
            let dir = r.join(name);
            std::fs::create_dir_all(dir.join("lib")).unwrap();
            if lock {
                std::fs::write(dir.join(PARTIAL_LOCK), "").unwrap();
            }
            dir
        };
        // A build still running holds its lock; one killed left its lock file unlocked; an
        // older zkelf's had none.
        let live = staged(".partial-live", false);
        let held = FileLock::acquire(&live.join(PARTIAL_LOCK)).unwrap();
        let killed = staged(".partial-killed", true);
        let old = staged(".partial-old", false);
        // Not a staged entry, or not one to follow.
        let entry = staged("0123abcd", false);
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), r.join(".partial-link")).unwrap();
        std::fs::write(r.join(".partial-file"), "").unwrap();

        let now = SystemTime::now();
        // Just made: nothing is touched (a new partial takes its lock a moment after mkdir).
        assert_eq!(sweep_partials(r, now), 0);
        // A few minutes on: the unlocked one goes.
        assert_eq!(sweep_partials(r, now + Duration::from_secs(5 * 60)), 1);
        assert!(!killed.exists() && old.exists() && live.exists());
        // An hour on: the one without a lock file goes; the locked one stays for ever.
        let later = now + STALE_AFTER + Duration::from_secs(60);
        assert_eq!(sweep_partials(r, later), 1);
        assert!(!old.exists() && live.join("lib").is_dir() && entry.is_dir());
        assert!(r.join(".partial-link").symlink_metadata().is_ok());
        assert!(r.join(".partial-file").is_file());
        drop(held);
        assert_eq!(sweep_partials(r, later), 1);
        assert!(!live.exists());
    }
}
