//! The one way tests run the real `zkelf` binary ([`Zkelf`]), what a run printed ([`Output`]),
//! and the one check that it wrote nothing ([`Tree`]).
//!
//! ```ignore
//! let out = Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
//!     .isolated(dir.path())
//!     .args(["verify", "fib.elf", "--key", "rel.pub"])
//!     .run();
//! out.assert_exit(1);
//! zkelf_testsupport::assert_cli_snapshot!("verify_flipped_byte", out);
//! ```

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variables a run keeps from the test's own environment: finding tools and the
/// Docker engine. Everything else (HOME, XDG_*, ZKELF_*, SOURCE_DATE_EPOCH, proxies) is cleared.
const INHERITED: &[&str] = &["PATH", "DOCKER_HOST"];

/// A `zkelf` invocation being set up: arguments, environment, stdin, working directory and
/// timeout. The environment starts empty but for `INHERITED` (`PATH`, `DOCKER_HOST`) and `NO_COLOR=1`.
#[derive(Debug)]
pub struct Zkelf {
    command: Command,
    display: Vec<String>,
    stdin: Option<Vec<u8>>,
    timeout: Option<Duration>,
    redactions: Vec<(String, String)>,
}

impl Zkelf {
    /// The binary at `bin` (an integration test passes `env!("CARGO_BIN_EXE_zkelf")`).
    pub fn new(bin: impl AsRef<Path>) -> Self {
        let mut command = Command::new(bin.as_ref());
        command.env_clear().env("NO_COLOR", "1");
        for name in INHERITED {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        Self {
            command,
            display: Vec::new(),
            stdin: None,
            timeout: None,
            redactions: Vec::new(),
        }
    }

    /// Runs in `root` with `HOME`, `ZKELF_STATE_DIR` and `ZKELF_CACHE_DIR` set to its `home/`,
    /// `state/` and `cache/` (created), so a run reads and writes nothing outside it. `root`
    /// shows as `[TMP]` in snapshots.
    pub fn isolated(mut self, root: &Path) -> Self {
        for sub in ["home", "state", "cache"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        self.command
            .env("HOME", root.join("home"))
            .env("ZKELF_STATE_DIR", root.join("state"))
            .env("ZKELF_CACHE_DIR", root.join("cache"))
            .current_dir(root);
        self.redact(root, "[TMP]")
    }

    /// Uses `dir` as `ZKELF_CACHE_DIR` (after [`Zkelf::isolated`]: the Docker-build tests share
    /// one, so the vendored sysroot crates stay warm).
    pub fn cache_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.env("ZKELF_CACHE_DIR", dir.as_ref());
        // The cache's entries are trusted through records kept beside it (never inside it), so
        // tests sharing the cache share the records.
        self.command.env(
            "ZKELF_BUILDER_TRUST_DIR",
            crate::docker::trust_dir_of(dir.as_ref()),
        );
        self
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.display
            .push(arg.as_ref().to_string_lossy().into_owned());
        self.command.arg(arg);
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Sets each `(name, value)` pair.
    pub fn envs<K: AsRef<OsStr>, V: AsRef<OsStr>>(mut self, vars: &[(K, V)]) -> Self {
        for (key, value) in vars {
            self.command.env(key, value);
        }
        self
    }

    /// Removes an environment variable (one set earlier, or an inherited one).
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Runs in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Feeds `bytes` on stdin (stdin is empty otherwise: a prompt never waits).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Kills the run and fails the test when it takes longer than `limit`.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Shows `path` (and its canonical form) as `label` in [`Output::transcript`].
    pub fn redact(mut self, path: &Path, label: &str) -> Self {
        let mut forms = vec![path.to_path_buf()];
        if let Ok(canonical) = path.canonicalize() {
            forms.push(canonical);
        }
        for form in forms {
            let text = form.to_string_lossy().into_owned();
            if !text.is_empty() && !self.redactions.iter().any(|(p, _)| *p == text) {
                self.redactions.push((text, label.to_owned()));
            }
        }
        // Longest first, so a path inside another redacted path keeps its own label.
        self.redactions
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        self
    }

    /// Starts the run with piped stdout/stderr, for a test that kills it or talks to it.
    pub fn spawn(mut self) -> Child {
        let stdin = if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        let mut child = self
            .command
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `zkelf`: {e}"));
        if let Some(bytes) = self.stdin.take() {
            let mut pipe = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                // The binary may exit without reading all of it.
                let _ = pipe.write_all(&bytes);
            });
        }
        child
    }

    /// Runs to the end and returns what it printed.
    pub fn run(self) -> Output {
        let args = self.display.join(" ");
        let timeout = self.timeout;
        let redactions = self.redactions.clone();
        let mut child = self.spawn();
        let stdout = reader(child.stdout.take().unwrap());
        let stderr = reader(child.stderr.take().unwrap());
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if timeout.is_some_and(|limit| started.elapsed() > limit) {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`zkelf {args}` did not finish within {:?}\n--- stderr\n{}",
                    timeout.unwrap(),
                    String::from_utf8_lossy(&stderr.join().unwrap())
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        Output {
            args,
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout.join().unwrap()).into_owned(),
            stderr: String::from_utf8_lossy(&stderr.join().unwrap()).into_owned(),
            redactions,
        }
    }
}

fn reader(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).unwrap();
        bytes
    })
}

/// One finished run: exit code (-1 when killed by a signal) and both streams, decoded lossily.
#[derive(Debug, Clone)]
pub struct Output {
    /// The arguments, space-separated, for messages.
    pub args: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    redactions: Vec<(String, String)>,
}

impl Output {
    /// Asserts the exit code, showing the output otherwise.
    #[track_caller]
    pub fn assert_exit(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "expected exit {code}\n{}", self.text());
        self
    }

    /// Asserts the exit code and parses stdout as the `--json` report.
    #[track_caller]
    pub fn json(&self, code: i32) -> serde_json::Value {
        self.assert_exit(code);
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e})\n{}", self.text()))
    }

    /// Asserts that stderr contains every needle (for facts a snapshot cannot hold, such as
    /// a value computed by the test).
    #[track_caller]
    pub fn stderr_has(&self, needles: &[&str]) -> &Self {
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr lacks {needle:?}:\n{}",
                self.text()
            );
        }
        self
    }

    /// Asserts that stdout contains every needle.
    #[track_caller]
    pub fn stdout_has(&self, needles: &[&str]) -> &Self {
        for needle in needles {
            assert!(
                self.stdout.contains(needle),
                "stdout lacks {needle:?}:\n{}",
                self.text()
            );
        }
        self
    }

    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// The command, exit code and both streams, for assertion messages.
    pub fn text(&self) -> String {
        format!(
            "zkelf {}\nexit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    /// The arguments with the run's temp directories replaced by their labels: the snapshot's
    /// description, so it does not change from run to run.
    pub fn description(&self) -> String {
        self.redact(self.args.clone())
    }

    fn redact(&self, mut text: String) -> String {
        for (path, label) in &self.redactions {
            text = text.replace(path.as_str(), label);
        }
        text
    }

    /// Exit code, stdout and stderr as one text, with the run's temp directories replaced by
    /// their labels: what [`assert_cli_snapshot!`](crate::assert_cli_snapshot) records.
    pub fn transcript(&self) -> String {
        self.redact(format!(
            "exit: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.code, self.stdout, self.stderr
        ))
    }
}

impl From<&std::process::Output> for Output {
    /// A run spawned some other way (a test's own `Command`), for [`crate::assert_cli_snapshot!`]:
    /// no arguments to show and no named redactions, so temp paths go through the
    /// [`snapshot_settings`] filters only.
    fn from(out: &std::process::Output) -> Self {
        Self {
            args: String::new(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            redactions: Vec::new(),
        }
    }
}

impl From<std::process::Output> for Output {
    fn from(out: std::process::Output) -> Self {
        Self::from(&out)
    }
}

/// The filters every snapshot of `zkelf` output goes through: whatever differs between runs
/// (temp paths, digests, random key ids, timestamps, durations, ports) becomes a placeholder.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    for (regex, replacement) in FILTERS {
        settings.add_filter(regex, *replacement);
    }
    settings
}

const FILTERS: &[(&str, &str)] = &[
    // tempfile's directories, when a test did not name them with `Zkelf::redact`.
    (r"/(?:tmp|var/tmp)/\.tmp[A-Za-z0-9]{6}", "[TMP]"),
    // zkelf's own temporary files (`.zkelf-pull-<random>.part`, `.zkelf-<random>.tmp`).
    (
        r"\.zkelf-([a-z]+-)?[A-Za-z0-9]{6}\.(tmp|part)\b",
        ".zkelf-${1}[RANDOM].${2}",
    ),
    (r"sha256:[0-9a-f]{64}", "sha256:[DIGEST]"),
    (r"\b[0-9a-f]{64}\b", "[SHA256]"),
    (r"\b[0-9a-f]{128}\b", "[BLAKE2B]"),
    // minisign key ids (random per generated key) and base64 public keys.
    (r"\b[0-9A-F]{16}\b", "[KEYID]"),
    (r"\bRW[A-Za-z0-9+/]{54}\b", "[PUBKEY]"),
    (
        r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})",
        "[TIME]",
    ),
    (r"\b\d+(?:\.\d+)?\s?(?:ms|s)\b", "[DURATION]"),
    (r"(127\.0\.0\.1|localhost|0\.0\.0\.0):\d{2,5}", "$1:[PORT]"),
];

/// Asserts `output`'s [`Output::transcript`] against `cli/tests/snapshots/<test>__<name>.snap`
/// (the test binary's name and `name`), through [`snapshot_settings`]. A mismatch fails; with
/// `INSTA_UPDATE=always` (or `cargo insta review`) the new text is written for review.
#[macro_export]
macro_rules! assert_cli_snapshot {
    ($name:expr, $output:expr $(,)?) => {
        // `match` keeps a temporary (`run().assert_exit(1)`) alive for the whole assertion, and
        // `ref` borrows an `Output` variable rather than moving it.
        match $output {
            ref value => {
                let output: &$crate::cli::Output = ::std::borrow::Borrow::borrow(value);
                let mut settings = $crate::cli::snapshot_settings();
                settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"));
                settings.set_description(output.description());
                settings.bind(|| {
                    $crate::insta::assert_snapshot!(
                        ::std::format!("{}__{}", env!("CARGO_CRATE_NAME"), $name),
                        output.transcript()
                    )
                });
            }
        }
    };
}

/// Runs `$run` (a closure returning a [`cli::Output`](crate::cli::Output) or a
/// `std::process::Output`) and asserts that it exits with `$code`, that its transcript matches
/// the snapshot `$name` and that nothing under `$untouched` (a [`cli::Tree`](crate::cli::Tree)
/// taken before the run) was created, removed or changed; evaluates to the output, for checks of
/// values the snapshot filters. The one refusal check of the tests: each fixture's `rejects`
/// only chooses the tree. A macro, so the snapshot is named after the calling test binary.
#[macro_export]
macro_rules! rejects {
    ($untouched:expr, $name:expr, $code:expr, $run:expr $(,)?) => {{
        let before: $crate::cli::Tree = $untouched;
        let output = $crate::cli::Output::from(($run)());
        output.assert_exit($code);
        $crate::assert_cli_snapshot!($name, output);
        before.assert_unchanged();
        output
    }};
}

/// What was under some paths at one moment: every file with its bytes and mode, every
/// directory, and which paths did not exist. Take one before a run that must write nothing,
/// then [`Tree::assert_unchanged`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    roots: Vec<PathBuf>,
    entries: BTreeMap<PathBuf, Entry>,
    lock_dirs: Vec<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Missing,
    Dir,
    File { bytes: Vec<u8>, mode: u32 },
    Link(PathBuf),
}

impl Tree {
    /// Everything under each of `paths` (files or directories, existing or not: an output
    /// path, the cache and state directories, a lock file).
    pub fn of<P: AsRef<Path>>(paths: &[P]) -> Self {
        let roots: Vec<PathBuf> = paths.iter().map(|p| p.as_ref().to_path_buf()).collect();
        let mut entries = BTreeMap::new();
        for root in &roots {
            walk(root, &mut entries);
        }
        Self {
            roots,
            entries,
            lock_dirs: Vec::new(),
        }
    }

    /// Lets a run create empty files under `dir` (and its parent directories): the cache's
    /// per-digest lock files, which a refused pull may leave by design. Nothing else may appear.
    pub fn allowing_lock_files_under(mut self, dir: impl AsRef<Path>) -> Self {
        self.lock_dirs.push(dir.as_ref().to_path_buf());
        self
    }

    fn is_allowed_lock(&self, path: &Path, entry: &Entry) -> bool {
        self.lock_dirs.iter().any(|dir| match entry {
            Entry::File { bytes, .. } => bytes.is_empty() && path.starts_with(dir),
            Entry::Dir => dir.starts_with(path) || path.starts_with(dir),
            _ => false,
        })
    }

    /// Asserts that nothing under the paths was created, removed or changed since this tree
    /// was taken, listing every difference.
    #[track_caller]
    pub fn assert_unchanged(&self) {
        let after = Self::of(&self.roots);
        let mut diff = Vec::new();
        for (path, before) in &self.entries {
            match after.entries.get(path) {
                None => diff.push(format!("removed  {}", path.display())),
                Some(now) if *before == Entry::Missing && self.is_allowed_lock(path, now) => {}
                Some(now) if now != before => diff.push(format!(
                    "changed  {} ({})",
                    path.display(),
                    change(before, now)
                )),
                Some(_) => {}
            }
        }
        for (path, now) in &after.entries {
            if !self.entries.contains_key(path) && !self.is_allowed_lock(path, now) {
                diff.push(format!("created  {} ({})", path.display(), kind(now)));
            }
        }
        assert!(
            diff.is_empty(),
            "expected nothing written under {:?}, but:\n  {}",
            self.roots,
            diff.join("\n  ")
        );
    }
}

fn kind(entry: &Entry) -> String {
    match entry {
        Entry::Missing => "missing".into(),
        Entry::Dir => "directory".into(),
        Entry::File { bytes, mode } => format!("file, {} bytes, mode {mode:o}", bytes.len()),
        Entry::Link(to) => format!("symlink to {}", to.display()),
    }
}

fn change(before: &Entry, now: &Entry) -> String {
    match (before, now) {
        (Entry::File { bytes: a, mode: m }, Entry::File { bytes: b, mode: n }) if a == b => {
            format!("mode {m:o} -> {n:o}")
        }
        (Entry::File { .. }, Entry::File { .. }) => "contents".into(),
        _ => format!("{} -> {}", kind(before), kind(now)),
    }
}

fn walk(path: &Path, entries: &mut BTreeMap<PathBuf, Entry>) {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            entries.insert(path.to_path_buf(), Entry::Missing);
            return;
        }
        Err(e) => panic!("cannot read `{}`: {e}", path.display()),
    };
    let entry = if meta.file_type().is_symlink() {
        Entry::Link(std::fs::read_link(path).unwrap())
    } else if meta.is_dir() {
        let mut children: Vec<OsString> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        children.sort();
        for child in children {
            walk(&path.join(child), entries);
        }
        Entry::Dir
    } else if meta.is_file() {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()));
        Entry::File {
            bytes,
            mode: meta.permissions().mode(),
        }
    } else {
        // A fifo or socket a test made: its presence is what counts.
        Entry::File {
            bytes: Vec::new(),
            mode: meta.permissions().mode(),
        }
    };
    entries.insert(path.to_path_buf(), entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panics(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let err = std::panic::catch_unwind(f).expect_err("expected a panic");
        err.downcast_ref::<String>().cloned().unwrap_or_default()
    }

    #[test]
    fn a_tree_lists_what_was_created_changed_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (kept, gone) = (dir.path().join("kept"), dir.path().join("gone"));
        std::fs::write(&kept, b"a").unwrap();
        std::fs::write(&gone, b"b").unwrap();
        let missing = dir.path().join("out/fib.elf");
        let before = Tree::of(&[dir.path(), &missing]);
        before.assert_unchanged();
        std::fs::write(&kept, b"c").unwrap();
        std::fs::remove_file(&gone).unwrap();
        std::fs::create_dir(dir.path().join("out")).unwrap();
        std::fs::write(&missing, b"elf").unwrap();
        let message = panics(|| before.assert_unchanged());
        assert!(
            message.contains("changed  ") && message.contains("kept (contents)"),
            "{message}"
        );
        assert!(
            message.contains("removed  ") && message.contains("gone"),
            "{message}"
        );
        assert!(
            message.contains("fib.elf (missing -> file, 3 bytes"),
            "{message}"
        );
    }

    #[test]
    fn only_empty_lock_files_may_appear_where_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let locks = dir.path().join("cache/locks");
        let before = Tree::of(&[dir.path()]).allowing_lock_files_under(&locks);
        std::fs::create_dir_all(&locks).unwrap();
        std::fs::write(locks.join("sha256-ab"), b"").unwrap();
        before.assert_unchanged();
        std::fs::write(locks.join("blob"), b"bytes").unwrap();
        let message = panics(|| before.assert_unchanged());
        assert!(message.contains("blob"), "{message}");
    }
}
