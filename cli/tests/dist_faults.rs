//! Faults: each exits 2 with a clear message and writes nothing, and the next attempt succeeds
//! once the fault is gone. Transient faults within the retry budget are survived in one run.

mod dist_common;

use std::path::PathBuf;

use dist_common::*;
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::registry::{DockerRegistry, Fault, FaultyRegistry};

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

#[track_caller]
fn failed(w: &World, output: &std::process::Output, needles: &[&str]) {
    w.assert_rejected(output, 2, needles);
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
    let output = w.pull(&reference, &out, &["--retries", "2"]);
    failed(
        &w,
        &output,
        &[
            "connection to",
            "failed while fetching",
            "nothing was written",
        ],
    );
    server.restart();
    succeeds(&w, &w.pull(&reference, &out, &[]), &out);
}

#[test]
fn stalled_server_times_out() {
    let (w, server, out) = setup(Fault::Stall);
    let reference = format!("{}/fib:1.0.0-sp1", server.host());
    let started = std::time::Instant::now();
    let output = w.pull(&reference, &out, &["--timeout", "1", "--retries", "1"]);
    failed(&w, &output, &["sent nothing for 1 s"]);
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
    let output = w.pull(&reference, &out, &[]);
    failed(&w, &output, &["refused access", "(401)", "hint: log in"]);
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
    let output = w.pull(&format!("{host}/fib:1.0.0-sp1"), &out, &["--timeout", "5"]);
    failed(&w, &output, &[&format!("--insecure-registry {host}")]);
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
    let output = w.pull(
        &format!("{}/fib:1.0.0-sp1", server.host()),
        &out,
        &["--no-cache", "--retries", "1"],
    );
    failed(&w, &output, &["answered HTTP 503"]);
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
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let partial = std::fs::read_dir(w.path("out"))
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| {
                e.file_name().to_string_lossy().ends_with(".part")
                    && e.metadata().is_ok_and(|m| m.len() > (1 << 20))
            });
        if partial {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the download never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    registry.kill();
    let output = child.wait_with_output().unwrap();
    failed(&w, &output, &["connection to", "nothing was written"]);
    registry.restart();
    succeeds(&w, &w.pull(&format!("{repo}:1.0.0-sp1"), &out, &[]), &out);
}
