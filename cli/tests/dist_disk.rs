//! Filesystem faults that lose nothing: a disk that fills during a pull or a publish to an OCI
//! layout, and a read-only output directory. Each exits 2 naming the path and the cause, leaves
//! no partial file, keeps the cache, the layout's `index.json` and the state as they were, and
//! the same command succeeds once there is room.
//!
//! The small and read-only filesystems are tmpfs mounts (the tests run as root, as CI does);
//! they fail, never skip, where mounting is impossible.

mod dist_common;

use std::path::{Path, PathBuf};
use std::process::Output;

use dist_common::*;
use zkelf_testsupport::assert_cli_snapshot;
use zkelf_testsupport::cli::{self, Tree};
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::mount::Tmpfs;
use zkelf_testsupport::run::wait_for;
use zkelf_trust::digest::hash_file;

const MIB: u64 = 1 << 20;

/// A signed `fib` `<version>` for `sp1` with `padding` bytes after the image.
fn dist(w: &World, version: &str, padding: u64) -> PathBuf {
    let spec = ElfSpec::new(Class::Elf32)
        .message("survived\n")
        .padding(padding);
    w.dist_spec("fib", version, "sp1", spec)
}

/// `zkelf pull <reference> -o <out>` with the cache and state in the given directories.
fn pull_with(w: &World, reference: &str, out: &Path, cache: &Path, state: &Path) -> Output {
    w.zkelf()
        .env("ZKELF_CACHE_DIR", cache)
        .env("ZKELF_STATE_DIR", state)
        .args(["-v", "pull", reference, "-o", out.to_str().unwrap()])
        .args(["--policy", w.policy.to_str().unwrap()])
        .output()
        .unwrap()
}

/// Files in `dir` (none when it does not exist).
fn files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Asserts that every file in a blob tree is a complete blob (named by its SHA-256), with no
/// temporary file beside them.
#[track_caller]
fn assert_blobs_intact(blobs: &Path) {
    for name in files(blobs) {
        let path = blobs.join(&name);
        let digest = hash_file(&path).unwrap().sha256;
        assert_eq!(
            name,
            digest.to_string(),
            "`{}` is not the blob its name says (a partial or temporary file)",
            path.display()
        );
    }
}

/// Asserts `index.json` of `layout` is `before`, byte for byte, and parses.
#[track_caller]
fn assert_index_unchanged(layout: &Path, before: &[u8]) {
    let now = std::fs::read(layout.join("index.json")).unwrap();
    assert!(now == before, "`index.json` changed");
    serde_json::from_slice::<serde_json::Value>(&now).expect("`index.json` parses");
}

#[test]
fn a_disk_that_fills_during_a_pull_keeps_nothing_and_the_retry_succeeds() {
    let w = World::new();
    let dist = dist(&w, "1.0.0", MIB);
    let layout = w.publish_layout(&dist, "layout");
    let reference = format!("oci-layout:{}:1.0.0-sp1", layout.display());
    // Output, cache and state all on a filesystem too small for the 1 MiB ELF.
    let disk = Tmpfs::mount(512 << 10);
    let out_dir = disk.join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("fib.elf");
    let (cache, state) = (disk.join("cache"), disk.join("state"));

    let before =
        Tree::of(&[&out_dir, &cache, &state]).allowing_lock_files_under(cache.join("locks"));
    let output = cli::Output::from(pull_with(&w, &reference, &out, &cache, &state));
    output.assert_exit(2);
    assert_cli_snapshot!("disk_full_during_pull", output);
    before.assert_unchanged();

    disk.resize(8 * MIB);
    let output = pull_with(&w, &reference, &out, &cache, &state);
    assert_exit(&output, 0);
    assert_eq!(run_qemu(Class::Elf32, &out), "survived\n");
    assert_eq!(files(&out_dir), ["fib.elf"]);
    let elf = hash_file(&dist.join("fib-sp1.elf")).unwrap();
    assert_eq!(files(&cache.join("blobs/sha256")), [elf.sha256.to_string()]);
    assert_blobs_intact(&cache.join("blobs/sha256"));
    let seen = std::fs::read_to_string(state.join("rollback.json")).unwrap();
    assert!(seen.contains("\"1.0.0\""), "{seen}");
}

#[test]
fn a_full_cache_does_not_fail_the_pull_nor_keep_a_partial_entry() {
    let w = World::new();
    let dist = dist(&w, "1.0.0", MIB);
    let layout = w.publish_layout(&dist, "layout");
    let reference = format!("oci-layout:{}:1.0.0-sp1", layout.display());
    let cache = Tmpfs::mount(256 << 10);
    let out = w.path("out/fib.elf");

    let output = pull_with(&w, &reference, &out, cache.path(), &w.path("state"));
    cli::Output::from(&output).assert_exit(0).stderr_has(&[
        &format!(
            "cannot add the ELF to the cache `{}`",
            cache.path().display()
        ),
        "No space left on device",
    ]);
    assert_eq!(run_qemu(Class::Elf32, &out), "survived\n");
    assert!(
        files(&cache.join("blobs/sha256")).is_empty(),
        "a partial cache entry or temporary file was kept: {:?}",
        files(&cache.join("blobs/sha256"))
    );

    // With room, the next pull fills the cache and the one after reads from it.
    cache.resize(8 * MIB);
    std::fs::remove_file(&out).unwrap();
    assert_exit(
        &pull_with(&w, &reference, &out, cache.path(), &w.path("state")),
        0,
    );
    assert_blobs_intact(&cache.join("blobs/sha256"));
    let report = w
        .zkelf()
        .env("ZKELF_CACHE_DIR", cache.path())
        .args(["--json", "pull", &reference, "-o", out.to_str().unwrap()])
        .args(["--policy", w.policy.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(json_report(&report, 0)["from_cache"], true);
}

#[test]
fn a_disk_that_fills_during_a_publish_keeps_the_layout_index() {
    let w = World::new();
    let disk = Tmpfs::mount(512 << 10);
    let layout = disk.join("layout");
    let to = format!("oci-layout:{}", layout.display());
    assert_exit(&w.publish(&dist(&w, "0.9.0", 0), &to, &[]), 0);
    let index = std::fs::read(layout.join("index.json")).unwrap();

    let big = dist(&w, "1.0.0", MIB);
    let output = cli::Output::from(w.publish(&big, &to, &[]));
    let blobs = layout.join("blobs/sha256");
    // Complete blobs may stay (a layout keeps unreferenced blobs); the index may not change.
    output.assert_exit(2);
    assert_cli_snapshot!("disk_full_during_publish", output);
    assert_index_unchanged(&layout, &index);
    assert_blobs_intact(&blobs);
    let out = w.path("out/fib.elf");
    assert_exit(&w.pull(&format!("{to}:0.9.0-sp1"), &out, &[]), 0);

    disk.resize(8 * MIB);
    assert_exit(&w.publish(&big, &to, &[]), 0);
    assert_blobs_intact(&blobs);
    assert_exit(
        &w.pull(&format!("{to}:1.0.0-sp1"), &out, &["--allow-downgrade"]),
        0,
    );
    assert_eq!(
        hash_file(&out).unwrap(),
        hash_file(&big.join("fib-sp1.elf")).unwrap()
    );
}

#[test]
fn a_disk_that_fills_just_before_the_index_is_written_keeps_the_old_index() {
    let w = World::new();
    let disk = Tmpfs::mount(4 * MIB);
    let layout = disk.join("layout");
    let to = format!("oci-layout:{}", layout.display());
    assert_exit(&w.publish(&dist(&w, "0.9.0", 0), &to, &[]), 0);
    let index = std::fs::read(layout.join("index.json")).unwrap();
    let blobs = layout.join("blobs/sha256");
    let before = files(&blobs).len();
    let next = dist(&w, "1.0.0", 4096);

    // Hold the index lock so the publish stops after its blobs, fill the disk, then let it go.
    let lock_path = layout.join(".zkelf-index.lock");
    let lock = zkelf_registry::fsutil::FileLock::acquire(&lock_path).unwrap();
    let child = w
        .publish_command(&next, &to, &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The ELF, its signature and its manifest (the config and provenance are 0.9.0's).
    wait_for(
        || files(&blobs).len() >= before + 3,
        "the publish to write its blobs",
    );
    let filler = disk.join("filler");
    fill(&filler);
    drop(lock);
    let output = cli::Output::from(child.wait_with_output().unwrap());
    output.assert_exit(2);
    assert_cli_snapshot!("disk_full_before_the_index", output);
    assert_index_unchanged(&layout, &index);
    assert_blobs_intact(&blobs);

    std::fs::remove_file(&filler).unwrap();
    assert_exit(&w.publish(&next, &to, &[]), 0);
    let out = w.path("out/fib.elf");
    assert_exit(&w.pull(&format!("{to}:1.0.0-sp1"), &out, &[]), 0);
    assert_eq!(run_qemu(Class::Elf32, &out), "survived\n");
}

#[test]
fn a_read_only_output_directory_fails_cleanly_and_keeps_cache_and_state() {
    let w = World::new();
    let dist = dist(&w, "1.0.0", 64 << 10);
    let layout = w.publish_layout(&dist, "layout");
    let reference = format!("oci-layout:{}:1.0.0-sp1", layout.display());
    // A first pull fills the cache and the state.
    assert_exit(&w.pull(&reference, &w.path("out/first.elf"), &[]), 0);
    assert!(w.path("cache").read_dir().unwrap().next().is_some());
    assert!(w.path("state").read_dir().unwrap().next().is_some());

    let read_only = Tmpfs::read_only();
    let out = read_only.join("fib.elf");
    let before = Tree::of(&[
        w.path("out"),
        w.path("cache"),
        w.path("state"),
        read_only.path().to_path_buf(),
    ]);
    let output = cli::Output::from(w.pull(&reference, &out, &[]));
    output.assert_exit(2);
    assert_cli_snapshot!("read_only_output_directory", output);
    before.assert_unchanged();
}

/// Writes `path` until its filesystem is full.
fn fill(path: &Path) {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 << 10];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling `{}`: {e}", path.display()),
        }
    }
    // The last partial page.
    while file.write(&[0u8]).is_ok_and(|n| n == 1) {}
}
