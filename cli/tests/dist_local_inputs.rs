//! Local inputs of `pull` and `inspect` a hostile party can shape: symbolic links where zkelf
//! takes its locks (cache, lock file, rollback state), lock and state files past their bounds,
//! and store strings made to drive the terminal. Each asserts the exit code, the message and
//! that nothing was written (no output, no file at a link's target). No Docker: OCI layouts.

mod dist_common;

use std::path::{Path, PathBuf};

use dist_common::{World, layout_manifest};
use zkelf_testsupport::assert_cli_snapshot;
use zkelf_testsupport::cli::{self, Tree};
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_trust::digest::Sha256Digest;

const TAG: &str = "1.0.0-sp1";

/// A world with `fib` 1.0.0 for `sp1` published into the layout `layout`; returns the reference.
fn published(w: &World) -> String {
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "genuine\n");
    let layout = w.publish_layout(&dist, "layout");
    format!("oci-layout:{}:{TAG}", layout.display())
}

/// `pull <reference> -o out/fib.elf` plus `extra`.
fn pull(w: &World, reference: &str, extra: &[&str]) -> cli::Output {
    cli::Output::from(w.pull(reference, &w.path("out/fib.elf"), extra))
}

/// What a refused pull must leave as it was: the output directory, cache, state, and `more`
/// (a lock file, a link's target). The cache's per-digest lock files may appear.
fn untouched(w: &World, more: &[&Path]) -> Tree {
    let mut roots = vec![w.path("out"), w.path("cache"), w.path("state")];
    roots.extend(more.iter().map(|p| p.to_path_buf()));
    Tree::of(&roots).allowing_lock_files_under(w.path("cache/locks"))
}

/// Makes `link` a symbolic link to `<world>/outside/<name>` (which does not exist).
fn link_outside(w: &World, link: &Path, name: &str) -> PathBuf {
    let target = w.path(&format!("outside/{name}"));
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&target, link).unwrap();
    target
}

#[test]
fn a_symlinked_cache_lock_is_refused_and_its_target_not_created() {
    let w = World::new();
    let reference = published(&w);
    let (_, manifest) = layout_manifest(&w.path("layout"), TAG);
    let elf_digest = manifest["layers"][0]["digest"].as_str().unwrap();
    let link = w.path(&format!("cache/locks/{}.lock", &elf_digest[7..]));
    let target = link_outside(&w, &link, "cache.lock");
    let before = untouched(&w, &[&target]);
    let out = pull(&w, &reference, &[]);
    out.assert_exit(2);
    assert_cli_snapshot!("symlinked_cache_lock", out);
    assert!(!target.exists(), "the lock was created through the link");
    before.assert_unchanged();
}

#[test]
fn a_symlinked_lock_file_lock_is_refused_before_anything_is_written() {
    let w = World::new();
    let reference = published(&w);
    let link = w.path("out-lock/.zkelf.lock.lock");
    let target = link_outside(&w, &link, "lockfile.lock");
    let lock = w.path("out-lock/zkelf.lock");
    let before = untouched(&w, &[&target, &lock]);
    let out = pull(&w, &reference, &["--lock", lock.to_str().unwrap()]);
    out.assert_exit(2);
    assert_cli_snapshot!("symlinked_lock_file_lock", out);
    assert!(!target.exists());
    assert!(!lock.exists(), "the lock file was written");
    before.assert_unchanged();
}

#[test]
fn a_symlinked_rollback_lock_is_refused_before_anything_is_written() {
    let w = World::new();
    let reference = published(&w);
    let link = w.path("state/rollback.lock");
    let target = link_outside(&w, &link, "rollback.lock");
    let before = untouched(&w, &[&target]);
    let out = pull(&w, &reference, &[]);
    out.assert_exit(2);
    assert_cli_snapshot!("symlinked_rollback_lock", out);
    assert!(!target.exists());
    before.assert_unchanged();
}

#[test]
fn lock_and_state_files_past_their_bound_are_refused_whole() {
    let w = World::new();
    let reference = published(&w);
    // Valid TOML and JSON whose useful part comes after the bound: never read as a prefix.
    let lock = w.path("zkelf.lock");
    let padding = "# padding\n".repeat(450_000);
    let lock_text = format!("{padding}version = 1\n");
    std::fs::write(&lock, &lock_text).unwrap();
    let before = untouched(&w, &[&lock]);
    let out = pull(&w, &reference, &["--lock", lock.to_str().unwrap()]);
    out.assert_exit(2);
    assert_cli_snapshot!("lock_file_past_its_bound", out);
    before.assert_unchanged();

    let state = w.path("state/rollback.json");
    let state_text = format!("{{\"pad\": \"{}\"}}", "x".repeat(4 << 20));
    std::fs::write(&state, &state_text).unwrap();
    let before = untouched(&w, &[]);
    let out = pull(&w, &reference, &[]);
    out.assert_exit(2);
    assert_cli_snapshot!("rollback_state_past_its_bound", out);
    before.assert_unchanged();
}

#[test]
fn inspect_escapes_store_strings_that_would_drive_the_terminal() {
    let w = World::new();
    let dir = w.path("dist/fib/1.0.0");
    std::fs::create_dir_all(&dir).unwrap();
    let elf = dir.join("fib-sp1.elf");
    ElfSpec::new(Class::Elf32).write_to(&elf).unwrap();
    // Unsigned strings: clear the screen, go home, overwrite the line, fake a verdict, and
    // reverse the text that follows.
    let fake = "\u{1b}[2J\u{1b}[H\rverdict    verified: the policy accepts it\n\u{202e}lfe.bif";
    let provenance = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "fib-sp1.elf"}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"externalParameters": {"source": {
            "uri": fake,
            "commit": "\u{9b}2J\u{2066}",
        }}}},
    });
    let bytes = serde_json::to_vec(&provenance).unwrap();
    std::fs::write(dir.join("fib-sp1.provenance.json"), &bytes).unwrap();
    w.sign(
        &elf,
        "fib",
        "1.0.0",
        "sp1",
        Class::Elf32,
        Some(Sha256Digest::of(&bytes)),
    );
    let layout = w.publish_layout(&dir, "layout");
    let reference = format!("oci-layout:{}:{TAG}", layout.display());
    let policy = w.policy.to_str().unwrap();

    let human = w.run(&["inspect", &reference, "--policy", policy]);
    let run = cli::Output::from(&human);
    run.assert_exit(0).stdout_has(&[
        "source \\x1b[2J\\x1b[H\\rverdict    verified: the policy accepts it\\n\\u{202e}lfe.bif commit \\u{9b}2J\\u{2066} builder ?",
    ]);
    let stdout = String::from_utf8(human.stdout.clone()).unwrap();
    for c in ['\u{1b}', '\r', '\u{9b}', '\u{202e}', '\u{2066}'] {
        assert!(!stdout.contains(c), "{c:?} reached the terminal: {stdout}");
    }
    let verdicts = stdout.lines().filter(|l| l.starts_with("verdict")).count();
    assert_eq!(verdicts, 1, "{stdout}");

    // JSON is escaped by serde and keeps the string as the store gave it.
    let json = w.run(&["inspect", &reference, "--policy", policy, "--json"]);
    let report = dist_common::json_report(&json, 0);
    assert_eq!(report["provenance"]["source"], fake);
    assert!(!String::from_utf8(json.stdout).unwrap().contains('\u{1b}'));
}

#[test]
fn a_lock_file_of_another_version_or_with_unknown_fields_is_refused_as_it_is() {
    let w = World::new();
    let reference = published(&w);
    let lock = w.path("zkelf.lock");
    for (name, text) in [
        ("lock_file_of_version_2", "version = 2\n"),
        (
            "lock_file_with_an_unknown_field",
            "version = 1\n\n[[pin]]\nreference = \"x/fib:1\"\nelf = \"sha256:00\"\nsigned_by = \"me\"\n",
        ),
    ] {
        std::fs::write(&lock, text).unwrap();
        let before = untouched(&w, &[&lock]);
        let out = pull(&w, &reference, &["--lock", lock.to_str().unwrap()]);
        out.assert_exit(2);
        assert_cli_snapshot!(name, out);
        before.assert_unchanged();
    }
}

#[test]
fn a_pull_without_zkvm_pins_no_zkvm() {
    let w = World::new();
    let reference = published(&w);
    let lock = w.path("zkelf.lock");
    pull(&w, &reference, &["--lock", lock.to_str().unwrap()]).assert_exit(0);
    let text = std::fs::read_to_string(&lock).unwrap();
    assert!(!text.contains("zkvm"), "{text}");
    // The pin it wrote is the one the next pull finds.
    std::fs::remove_file(w.path("out/fib.elf")).unwrap();
    pull(&w, &reference, &["--lock", lock.to_str().unwrap()]).assert_exit(0);
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), text);
}

#[test]
fn a_url_missing_its_slashes_is_not_read_as_a_registry_named_https() {
    let w = World::new();
    // Read as a registry, the host would be `https:` and the hints `docker login https:` and
    // `--insecure-registry http:`.
    for (name, reference) in [
        ("url_missing_a_slash", "https:/example.com/x/fib.elf"),
        ("url_in_capitals", "HTTP://example.com/x/fib.elf"),
    ] {
        let before = untouched(&w, &[]);
        let out = pull(&w, reference, &[]);
        out.assert_exit(2);
        assert_cli_snapshot!(name, out);
        before.assert_unchanged();
    }
}

/// Makes a FIFO at `path` (nobody ever writes to it or reads from it).
fn fifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn a_fifo_where_zkelf_keeps_a_lock_or_state_is_refused_at_once() {
    let w = World::new();
    let reference = published(&w);
    let (_, manifest) = layout_manifest(&w.path("layout"), TAG);
    let elf_hex = manifest["layers"][0]["digest"].as_str().unwrap()[7..].to_owned();
    let lock = w.path("locks/zkelf.lock");
    for (name, at, extra) in [
        ("fifo_rollback_state", "state/rollback.json", false),
        ("fifo_rollback_lock", "state/rollback.lock", false),
        (
            "fifo_cache_lock",
            &*format!("cache/locks/{elf_hex}.lock"),
            false,
        ),
        ("fifo_lock_file", "locks/zkelf.lock", true),
        ("fifo_lock_file_lock", "locks/.zkelf.lock.lock", true),
    ] {
        let path = w.path(at);
        fifo(&path);
        let before = untouched(&w, &[&w.path("locks")]);
        let mut args = vec!["pull", &reference, "-o", "out/fib.elf"];
        args.extend(["--policy", w.policy.to_str().unwrap()]);
        if extra {
            args.extend(["--lock", lock.to_str().unwrap()]);
        }
        let out = zkelf_testsupport::cli::Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
            .isolated(w.dir.path())
            .args(&args)
            .timeout(std::time::Duration::from_secs(20))
            .run();
        out.assert_exit(2);
        assert_cli_snapshot!(name, out);
        before.assert_unchanged();
        std::fs::remove_file(&path).unwrap();
    }
    // `--policy` too: an I/O error (exit 2), not a verification failure.
    let policy = w.path("policy.fifo");
    fifo(&policy);
    let out = zkelf_testsupport::cli::Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
        .isolated(w.dir.path())
        .args(["pull", &reference, "-o", "out/fib.elf", "--policy"])
        .arg(&policy)
        .timeout(std::time::Duration::from_secs(20))
        .run();
    out.assert_exit(2);
    assert_cli_snapshot!("fifo_policy", out);
}

#[test]
fn a_linked_cache_directory_is_not_followed() {
    let w = World::new();
    let reference = published(&w);
    let elsewhere = w.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    for sub in ["cache/locks", "cache/blobs"] {
        std::os::unix::fs::symlink(&elsewhere, w.path(sub)).unwrap();
        let before = untouched(&w, &[&elsewhere]);
        let out = pull(&w, &reference, &[]);
        out.assert_exit(2);
        assert_cli_snapshot!(format!("linked_{}", sub.replace('/', "_")), out);
        before.assert_unchanged();
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
        std::fs::remove_file(w.path(sub)).unwrap();
    }
}
