//! Faults: each exits 2 with a clear message and writes nothing, and the next attempt succeeds
//! once the fault is gone. Transient faults within the retry budget are survived in one run.

mod dist_common;

use std::path::PathBuf;

use dist_common::*;
use zkelf_testsupport::assert_cli_snapshot;
use zkelf_testsupport::cli;
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::registry::{DockerRegistry, Fault, FaultyRegistry};
use zkelf_testsupport::run::{temporaries_of, wait_for};
use zkelf_trust::digest::hash_file;

/// A 1 MiB ELF published into an OCI layout, served by a misbehaving registry.
fn setup(fault: Fault) -> (World, FaultyRegistry, PathBuf) {
    let w = World::new();
    let spec = ElfSpec::new(Class::Elf32)
        .message("survived\n")
        .padding(1 << 20);
    let dist = w.dist_spec("fib", "1.0.0", "sp1", spec);
    let server = w.serve_faulty(&dist, fault);
    let out = w.path("out/fib.elf");
    (w, server, out)
}

/// Runs `run`, which must fail with exit 2, print the snapshot `name` and write nothing.
#[track_caller]
fn failed(w: &World, name: &str, run: impl FnOnce() -> std::process::Output) -> cli::Output {
    w.rejects(name, 2, run)
}

fn succeeds(w: &World, output: &std::process::Output, elf: &std::path::Path) {
    assert_exit(output, 0);
    assert_eq!(run_qemu(Class::Elf32, elf), "survived\n");
    let _ = w;
}

#[test]
fn registry_killed_mid_download() {
    let (w, mut server, out) = setup(Fault::Vanish);
    let reference = format!("{}/fib:1.0.0-sp1", server.host());
    failed(&w, "registry_vanished", || {
        w.pull(&reference, &out, &["--retries", "2"])
    });
    server.restart();
    succeeds(&w, &w.pull(&reference, &out, &[]), &out);
}

#[test]
fn stalled_server_times_out() {
    let (w, server, out) = setup(Fault::Stall);
    let reference = format!("{}/fib:1.0.0-sp1", server.host());
    let started = std::time::Instant::now();
    failed(&w, "stalled_server", || {
        w.pull(&reference, &out, &["--timeout", "1", "--retries", "1"])
    });
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
    server.set_fault(Fault::None);
    succeeds(&w, &w.pull(&reference, &out, &["--timeout", "1"]), &out);
}

#[test]
fn unauthorized_without_credentials() {
    let (w, server, out) = setup(Fault::Unauthorized);
    let reference = format!("{}/fib:1.0.0-sp1", server.host());
    failed(&w, "unauthorized", || w.pull(&reference, &out, &[]));
    server.set_fault(Fault::None);
    succeeds(&w, &w.pull(&reference, &out, &[]), &out);
}

#[test]
fn plain_http_to_a_non_loopback_host_needs_insecure_registry() {
    let w = World::new();
    let registry = DockerRegistry::start();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "survived\n");
    assert_exit(
        &w.publish(&dist, &format!("{}/fib", registry.host()), &[]),
        0,
    );
    // `0.0.0.0` reaches the loopback listener but is not a loopback name: zkelf insists on https.
    let host = format!("0.0.0.0:{}", registry.port());
    let out = w.path("out/fib.elf");
    let output = failed(&w, "plain_http_to_a_non_loopback_host", || {
        w.pull(&format!("{host}/fib:1.0.0-sp1"), &out, &["--timeout", "5"])
    });
    // The snapshot filters the port: that the hint names this host is checked here.
    output.stderr_has(&[&format!("--insecure-registry {host}`")]);
    let output = w.pull(
        &format!("{host}/fib:1.0.0-sp1"),
        &out,
        &["--insecure-registry", &host],
    );
    succeeds(&w, &output, &out);
}

#[test]
fn a_dropped_connection_resumes_with_range() {
    let (w, server, out) = setup(Fault::DisconnectOnce);
    let output = w.pull(
        &format!("{}/fib:1.0.0-sp1", server.host()),
        &out,
        &["--no-cache"],
    );
    succeeds(&w, &output, &out);
    let (requests, ranged) = server.blob_requests();
    assert_eq!((requests, ranged), (2, 1), "expected one resumed request");
}

#[test]
fn server_errors_are_retried() {
    let (w, server, out) = setup(Fault::ServerErrors(2));
    let output = w.pull(
        &format!("{}/fib:1.0.0-sp1", server.host()),
        &out,
        &["--no-cache"],
    );
    succeeds(&w, &output, &out);
    assert_eq!(server.blob_requests().0, 3);
    // Past the retry budget the 5xx is reported.
    server.set_fault(Fault::ServerErrors(5));
    std::fs::remove_file(&out).unwrap();
    failed(&w, "server_errors_past_the_retries", || {
        w.pull(
            &format!("{}/fib:1.0.0-sp1", server.host()),
            &out,
            &["--no-cache", "--retries", "1"],
        )
    });
}

#[test]
fn docker_registry_killed_mid_download() {
    let w = World::new();
    let mut registry = DockerRegistry::start();
    let spec = ElfSpec::new(Class::Elf32)
        .message("survived\n")
        .padding(128 << 20);
    let dist = w.dist_spec("fib", "1.0.0", "sp1", spec);
    let repo = format!("{}/fib", registry.host());
    assert_exit(&w.publish(&dist, &repo, &[]), 0);
    let out = w.path("out/fib.elf");
    let before = w.untouched();
    let child = w
        .zkelf()
        .args([
            "pull",
            &format!("{repo}:1.0.0-sp1"),
            "-o",
            out.to_str().unwrap(),
        ])
        .args([
            "--policy",
            w.policy.to_str().unwrap(),
            "--retries",
            "0",
            "--no-cache",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Kill the registry once the download is under way (the temporary file has grown).
    let pid = child.id();
    wait_for(
        || partial_size(pid, &w.path("out")).is_some_and(|n| n > (1 << 20)),
        "the download to start",
    );
    registry.kill();
    let output = cli::Output::from(child.wait_with_output().unwrap());
    output.assert_exit(2);
    assert_cli_snapshot!("docker_registry_killed", output);
    before.assert_unchanged();
    registry.restart();
    succeeds(&w, &w.pull(&format!("{repo}:1.0.0-sp1"), &out, &[]), &out);
}

/// Names of the files in `dir` (none when it does not exist), sorted.
fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The size of the temporary file process `pid` writes in `dir` (it has no name there).
fn partial_size(pid: u32, dir: &std::path::Path) -> Option<u64> {
    temporaries_of(pid, dir).into_iter().max()
}

/// Asserts that every file of a blob tree is the blob its name says, and returns their names:
/// a killed writer leaves no temporary file (it had no name).
#[track_caller]
fn intact_blobs(blobs: &std::path::Path) -> Vec<String> {
    let names = files(blobs);
    for name in &names {
        let digest = hash_file(&blobs.join(name)).unwrap().sha256;
        assert_eq!(*name, digest.to_string(), "`{name}` is not a complete blob");
    }
    names
}

/// `zkelf pull` with a lock file, spawned with its output captured.
fn spawn_pull(w: &World, reference: &str, out: &std::path::Path) -> std::process::Child {
    w.zkelf()
        .args(["pull", reference, "-o", out.to_str().unwrap()])
        .args(["--policy", w.policy.to_str().unwrap()])
        .args(["--lock", w.path("zkelf.lock").to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Kills `child` with SIGKILL and reaps it.
fn sigkill(mut child: std::process::Child) {
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "{status}"
    );
}

/// After a killed pull: no output, and nothing else beside it (the temporary file had no
/// name), no cache entry, no state, no pin.
#[track_caller]
fn nothing_kept(w: &World, out: &std::path::Path) {
    assert!(!out.exists(), "`{}` was written", out.display());
    assert_eq!(files(&w.path("out")), Vec::<String>::new());
    assert_eq!(
        intact_blobs(&w.path("cache/blobs/sha256")),
        Vec::<String>::new()
    );
    assert!(
        !w.path("state/rollback.json").exists(),
        "rollback state written"
    );
    assert!(!w.path("zkelf.lock").exists(), "`zkelf.lock` written");
}

/// After the retry: the verified ELF, its one cache entry, the version seen and the pin.
#[track_caller]
fn all_kept(w: &World, output: &std::process::Output, out: &std::path::Path) {
    succeeds(w, output, out);
    let elf = hash_file(out).unwrap().sha256.to_string();
    assert_eq!(
        intact_blobs(&w.path("cache/blobs/sha256")),
        std::slice::from_ref(&elf)
    );
    let seen = std::fs::read_to_string(w.path("state/rollback.json")).unwrap();
    assert!(seen.contains("\"1.0.0\""), "{seen}");
    let lock = std::fs::read_to_string(w.path("zkelf.lock")).unwrap();
    assert!(lock.contains(&format!("elf = \"sha256:{elf}\"")), "{lock}");
}

#[test]
fn zkelf_killed_mid_download_then_the_same_pull_succeeds() {
    let (w, server, out) = setup(Fault::Slow);
    let reference = format!("{}/fib:1.0.0-sp1", server.host());
    let child = spawn_pull(&w, &reference, &out);
    let pid = child.id();
    // Killed while it holds the cache lock and the ELF is a quarter in.
    wait_for(
        || partial_size(pid, &w.path("out")).is_some_and(|n| n > 256 << 10),
        "the download to start",
    );
    sigkill(child);
    nothing_kept(&w, &out);

    server.set_fault(Fault::None);
    let output = spawn_pull(&w, &reference, &out).wait_with_output().unwrap();
    all_kept(&w, &output, &out);
}

#[test]
fn zkelf_killed_before_recording_the_version_then_the_same_pull_succeeds() {
    let (w, server, out) = setup(Fault::None);
    let reference = format!("{}/fib:1.0.0-sp1", server.host());
    // Hold the rollback state's lock: the pull stops, verified, just before it records the
    // version, and must not have put the ELF in place yet (else a kill here would leave an
    // installed release the rollback state does not know).
    let state_lock =
        zkelf_registry::fsutil::FileLock::acquire(&w.path("state/rollback.lock")).unwrap();
    let child = spawn_pull(&w, &reference, &out);
    let pid = child.id();
    let size = std::fs::metadata(w.path("dist/fib/1.0.0/fib-sp1.elf"))
        .unwrap()
        .len();
    wait_for(
        || partial_size(pid, &w.path("out")).is_some_and(|n| n >= size),
        "the download to finish",
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !out.exists(),
        "the ELF was put in place before the version was recorded"
    );
    sigkill(child);
    drop(state_lock);
    nothing_kept(&w, &out);

    let output = spawn_pull(&w, &reference, &out).wait_with_output().unwrap();
    all_kept(&w, &output, &out);
}

#[test]
fn zkelf_killed_mid_publish_then_the_same_publish_succeeds() {
    let w = World::new();
    let layout = w.path("layout");
    let to = format!("oci-layout:{}", layout.display());
    let old = w.dist("fib", "0.9.0", "sp1", Class::Elf32, "survived\n");
    assert_exit(&w.publish(&old, &to, &[]), 0);
    let index = std::fs::read(layout.join("index.json")).unwrap();
    let blobs = layout.join("blobs/sha256");
    let before = intact_blobs(&blobs).len();
    let spec = ElfSpec::new(Class::Elf32)
        .message("survived\n")
        .padding(32 << 20);
    let dist = w.dist_spec("fib", "1.0.0", "sp1", spec);
    let spawn = || {
        w.publish_command(&dist, &to, &[])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let index_kept = || {
        let now = std::fs::read(layout.join("index.json")).unwrap();
        assert!(now == index, "`index.json` changed");
        serde_json::from_slice::<serde_json::Value>(&now).expect("`index.json` parses");
    };

    // Killed while it copies the 32 MiB ELF into the layout.
    let child = spawn();
    let pid = child.id();
    wait_for(
        || partial_size(pid, &blobs).is_some_and(|n| n > 0),
        "the ELF copy to start",
    );
    sigkill(child);
    index_kept();
    assert_eq!(intact_blobs(&blobs).len(), before, "a blob was added");

    // Killed after its blobs, waiting to tag (the test holds the index lock).
    let index_lock =
        zkelf_registry::fsutil::FileLock::acquire(&layout.join(".zkelf-index.lock")).unwrap();
    let child = spawn();
    // The ELF, its signature and its manifest (the config and provenance are 0.9.0's).
    wait_for(
        || intact_blobs(&blobs).len() >= before + 3,
        "the blobs to be written",
    );
    sigkill(child);
    drop(index_lock);
    index_kept();

    assert_exit(&w.publish(&dist, &to, &[]), 0);
    intact_blobs(&blobs);
    let out = w.path("out/fib.elf");
    succeeds(&w, &w.pull(&format!("{to}:0.9.0-sp1"), &out, &[]), &out);
    succeeds(&w, &w.pull(&format!("{to}:1.0.0-sp1"), &out, &[]), &out);
    assert_eq!(
        hash_file(&out).unwrap(),
        hash_file(&dist.join("fib-sp1.elf")).unwrap()
    );
}
