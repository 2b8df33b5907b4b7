//! Checks on a `std::process::Output` of the real `zkelf` binary (for tests that spawn it with
//! their own `Command`), a directory snapshot, and `wait_for`. A finished run as a value is
//! [`crate::cli::Output`]; new tests run the binary through [`crate::cli::Zkelf`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Asserts the exit code, printing both streams when it differs.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "expected exit {code}\n{}",
        streams(output)
    );
}

/// Asserts the exit code and parses stdout as the `--json` report.
#[track_caller]
pub fn json_report(output: &Output, code: i32) -> serde_json::Value {
    assert_exit(output, code);
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e})\n{}", text(output)))
}

/// The exit code and both streams, for assertion messages.
pub fn text(output: &Output) -> String {
    format!("exit {:?}\n{}", output.status.code(), streams(output))
}

fn streams(output: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        stdout(output),
        stderr(output)
    )
}

/// stdout, decoded lossily.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr, decoded lossily.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every file under a directory with its bytes and mode.
pub type Snapshot = BTreeMap<PathBuf, (Vec<u8>, u32)>;

/// Every file under `dir`, recursively, with its bytes and mode.
pub fn snapshot(dir: &Path) -> Snapshot {
    let mut files = BTreeMap::new();
    walk(dir, &mut files);
    files
}

fn walk(dir: &Path, files: &mut Snapshot) {
    use std::os::unix::fs::PermissionsExt as _;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let meta = entry.metadata().unwrap();
        if meta.is_dir() {
            walk(&path, files);
        } else {
            files.insert(
                path.clone(),
                (std::fs::read(&path).unwrap(), meta.permissions().mode()),
            );
        }
    }
}

/// Asserts that no file under `dir` was created, removed or changed since `before`.
#[track_caller]
pub fn assert_unchanged(dir: &Path, before: &Snapshot) {
    let after = snapshot(dir);
    let before_names: Vec<_> = before.keys().collect();
    let after_names: Vec<_> = after.keys().collect();
    assert_eq!(before_names, after_names, "files were created or removed");
    assert!(before == &after, "a file was changed");
}

/// Asserts that `dir` is empty (no output, no temp file left).
#[track_caller]
pub fn assert_nothing_written(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert!(
        left.is_empty(),
        "`{}` is not empty: {left:?}",
        dir.display()
    );
}

/// Polls `done` every few milliseconds until it holds, failing the test after a minute.
#[track_caller]
pub fn wait_for(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// The sizes of the temporary files process `pid` is writing in `dir`: files it has open there
/// that have no name (`O_TMPFILE`, shown as `<dir>/#<inode> (deleted)`) or a temporary's name
/// (`.zkelf-…`). zkelf's temporaries have no name while written, so a test that waits for a
/// download to be under way looks at the process, not at the directory.
pub fn temporaries_of(pid: u32, dir: &Path) -> Vec<u64> {
    let Ok(dir) = dir.canonicalize() else {
        return Vec::new();
    };
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let mut sizes = Vec::new();
    for fd in fds.flatten() {
        let Ok(target) = std::fs::read_link(fd.path()) else {
            continue;
        };
        let text = target.to_string_lossy();
        let in_dir = target.parent() == Some(dir.as_path())
            || text
                .strip_suffix(" (deleted)")
                .is_some_and(|t| Path::new(t).parent() == Some(dir.as_path()));
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned());
        let temporary = name.is_some_and(|n| n.starts_with('#') || n.starts_with(".zkelf-"));
        if in_dir
            && temporary
            && let Ok(meta) = std::fs::metadata(fd.path())
        {
            sizes.push(meta.len());
        }
    }
    sizes
}
