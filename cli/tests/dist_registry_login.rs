//! Where a registry pull sends credentials and follows redirects: a token service is asked only
//! for pull rights by a pull, and only over https or plain http to loopback and
//! `--insecure-registry` hosts; a blob redirect to plain http on another host is refused, as
//! https downloads refuse it. In-process registries that log in and redirect as told.

mod dist_common;

use dist_common::*;
use zkelf_testsupport::cli;
use zkelf_testsupport::elf::Class;
use zkelf_testsupport::registry::{Fault, FaultyRegistry};

/// `fib` 1.0.0 for `sp1` served by a registry misbehaving with `fault`.
fn serve(fault: Fault) -> (World, FaultyRegistry) {
    let w = World::new();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "logged in\n");
    let server = w.serve_faulty(&dist, fault);
    (w, server)
}

/// `pull <host>/fib:1.0.0-sp1 -o out/fib.elf --username alice`, the password in the environment.
fn pull_as_alice(w: &World, server: &FaultyRegistry) -> std::process::Output {
    let out = w.path("out/fib.elf");
    w.zkelf()
        .args(["pull", &format!("{}/fib:1.0.0-sp1", server.host()), "-o"])
        .arg(&out)
        .args([
            "--policy",
            w.policy.to_str().unwrap(),
            "--username",
            "alice",
        ])
        .args(["--retries", "0"])
        .env("ZKELF_REGISTRY_PASSWORD", "correct horse")
        .output()
        .unwrap()
}

#[test]
fn a_pull_asks_a_loopback_token_service_for_pull_rights_only() {
    let (w, server) = serve(Fault::BearerToken);
    cli::Output::from(&pull_as_alice(&w, &server))
        .assert_exit(0)
        .stdout_has(&["verified fib 1.0.0 for sp1"]);
    let tokens = server.token_requests();
    assert!(!tokens.is_empty(), "no token was asked for");
    for request in &tokens {
        assert!(
            request.contains("scope=repository%3Afib%3Apull&") && request.ends_with(" Basic"),
            "{tokens:?}"
        );
        assert!(!request.contains("push"), "{tokens:?}");
    }
}

#[test]
fn credentials_go_to_no_plain_http_token_service_on_another_host() {
    let (w, server) = serve(Fault::ForeignTokenRealm);
    w.rejects("plain_http_token_realm_elsewhere", 2, || {
        pull_as_alice(&w, &server)
    });
    // Only the challenge was asked for: nothing was fetched, nothing sent anywhere else.
    assert_eq!(server.requests(), ["GET /v2/"]);
}

#[test]
fn a_blob_redirect_to_plain_http_on_another_host_is_refused() {
    let (w, server) = serve(Fault::RedirectBlobs);
    let output = w.rejects("blob_redirect_to_plain_http_elsewhere", 2, || {
        w.pull(
            &format!("{}/fib:1.0.0-sp1", server.host()),
            &w.path("out/fib.elf"),
            &["--retries", "0"],
        )
    });
    output.stderr_has(&["redirect to plain http `http://blobs.zkelf.invalid/v2/fib/blobs/sha256:"]);
}
