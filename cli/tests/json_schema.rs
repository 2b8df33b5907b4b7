//! Real `--json` outputs validate against the published schemas (`docs/schemas/`, which a unit
//! test keeps equal to the report types): every command that needs no Docker, successes and
//! each kind of failure (usage, verification with its verdict, other). The documents of the
//! Docker commands are checked where their tests already print them (`build_fixtures.rs`:
//! `build`; `audit_rebuild.rs`: `release`, `rebuild`); `run`'s only in the heavy tests, so not.

mod dist_common;
mod schema_support;

use std::path::PathBuf;

use dist_common::github::GithubRelease;
use schema_support::schema_errors;
use zkelf_testsupport::cli::{Output, Zkelf};
use zkelf_testsupport::elf::{Class, ElfSpec};

/// A temp directory to run in.
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `zkelf --json <args>` in the world's directory, isolated.
    fn json(&self, args: &[&str]) -> Output {
        Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
            .isolated(self.dir.path())
            .current_dir(self.dir.path())
            .arg("--json")
            .args(args)
            .run()
    }
}

/// Asserts that `out` exited with `code` and its stdout is valid under `docs/schemas/<name>.json`.
#[track_caller]
fn valid(name: &str, code: i32, out: &Output) -> serde_json::Value {
    let document = out.json(code);
    let errors = schema_errors(name, &document);
    assert!(
        errors.is_empty(),
        "`zkelf {}`'s output does not match `docs/schemas/{name}.json`:\n{}\n{}",
        out.args,
        errors.join("\n"),
        out.text()
    );
    document
}

/// A signed `dist/fib/1.0.0/` (ELF, provenance, signature) and the key that signed it.
fn signed(world: &World) {
    let keygen = world.json(&["keygen", "--out", "keys", "--name", "rel", "--unencrypted"]);
    valid("keygen", 0, &keygen);
    let dir = world.path("dist/fib/1.0.0");
    std::fs::create_dir_all(&dir).unwrap();
    ElfSpec::new(Class::Elf32)
        .message("fib\n")
        .write_to(&dir.join("fib-rv32im.elf"))
        .unwrap();
    std::fs::write(
        dir.join("fib-rv32im.provenance.json"),
        r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"fib-rv32im.elf"}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"externalParameters":{"source":{"uri":"https://example.com/fib.git","commit":"0123456789abcdef0123456789abcdef01234567"}}}}}"#,
    )
    .unwrap();
    // A verification key, so `pull`'s report carries its `vk` (checked by the statement).
    std::fs::write(dir.join("fib-rv32im.vk"), [7u8; 32]).unwrap();
    let sign = world.json(&[
        "sign",
        "dist/fib/1.0.0/fib-rv32im.elf",
        "--key",
        "keys/rel.key",
        "--guest",
        "fib",
        "--version",
        "1.0.0",
        "--zkvm",
        "rv32im",
        "--provenance",
        "dist/fib/1.0.0/fib-rv32im.provenance.json",
        "--vk",
        "dist/fib/1.0.0/fib-rv32im.vk",
    ]);
    valid("sign", 0, &sign);
}

#[test]
fn trust_documents_match_their_schemas() {
    let world = World::new();
    signed(&world);
    let elf = "dist/fib/1.0.0/fib-rv32im.elf";
    let verify = |key: &str| {
        world.json(&[
            "verify",
            elf,
            "--key",
            key,
            "--guest",
            "fib",
            "--provenance",
            "dist/fib/1.0.0/fib-rv32im.provenance.json",
        ])
    };
    let ok = valid("verify", 0, &verify("keys/rel.pub"));
    assert_eq!(ok["verdict"]["verified"], true);
    // The schemas can fail: a report without its digest, or a digest that is not one, is not
    // a `verify` report, and a success is not an error document.
    let mut broken = ok.clone();
    broken.as_object_mut().unwrap().remove("sha256");
    assert!(!schema_errors("verify", &broken).is_empty(), "{broken}");
    broken["sha256"] = "sha256:not-hex".into();
    assert!(!schema_errors("verify", &broken).is_empty(), "{broken}");
    assert!(!schema_errors("error", &ok).is_empty(), "{ok}");
    world.json(&[
        "keygen",
        "--out",
        "keys",
        "--name",
        "other",
        "--unencrypted",
    ]);
    let failed = valid("error", 1, &verify("keys/other.pub"));
    assert_eq!(failed["error"]["kind"], "verification");
    assert_eq!(failed["error"]["verdict"]["verified"], false);
    let usage = valid("error", 2, &world.json(&["verify"]));
    assert_eq!(usage["error"]["kind"], "usage");
    let no_key = valid("error", 2, &verify("keys/nothing.pub"));
    assert_eq!(no_key["error"]["kind"], "usage");
    ElfSpec::new(Class::Elf32)
        .message("fob\n")
        .write_to(&world.path("fob.elf"))
        .unwrap();
    let diff = world.json(&["diff", elf, "fob.elf"]);
    valid("diff", diff.code, &diff);
}

#[test]
fn distribution_documents_match_their_schemas() {
    let world = World::new();
    signed(&world);
    let not_dist = world.json(&[
        "publish",
        "dist",
        "--to",
        "oci-layout:oci",
        "--key",
        "keys/rel.pub",
    ]);
    assert_eq!(valid("error", 2, &not_dist)["error"]["kind"], "other");
    let publish = world.json(&[
        "publish",
        "dist/fib/1.0.0",
        "--to",
        "oci-layout:oci",
        "--key",
        "keys/rel.pub",
    ]);
    valid("publish", 0, &publish);
    let reference = "oci-layout:oci:1.0.0-rv32im";
    let pull = world.json(&["pull", reference, "-o", "fib.elf", "--key", "keys/rel.pub"]);
    assert_eq!(valid("pull", 0, &pull)["verdict"]["verified"], true);
    let vk_only = world.json(&[
        "pull",
        reference,
        "--vk-only",
        "--vk-out",
        "fib.vk",
        "--key",
        "keys/rel.pub",
    ]);
    assert_eq!(valid("pull", 0, &vk_only)["vk"]["by"], "statement");
    let attest = world.json(&["attest", reference, "--key", "keys/rel.key", "--push"]);
    valid("attest", 0, &attest);
    let judged = valid(
        "inspect",
        0,
        &world.json(&["inspect", reference, "--key", "keys/rel.pub"]),
    );
    assert_eq!(judged["judged"], true);
    let unjudged = valid("inspect", 0, &world.json(&["inspect", reference]));
    assert_eq!(unjudged["judged"], false);
    let absent = world.json(&["pull", "oci-layout:oci:2.0.0", "--key", "keys/rel.pub"]);
    valid("error", 2, &absent);
}

/// `import` of a release published as GitHub does (`dist_import.rs`'s fixture: https servers
/// with a test CA, the minisign tool's signatures), into a layout; and a refused one.
#[test]
fn import_documents_match_their_schemas() {
    let w = dist_common::World::new();
    let r = GithubRelease::publish(&w);
    let (key, url) = (w.key.public_base64(), r.elf_url());
    let to = format!("oci-layout:{}:0.3.0-zisk", w.path("oci").display());
    let import = |sha256: &str| {
        Output::from(r.run(
            &w,
            &[
                "--json",
                "import",
                &url,
                "--to",
                &to,
                "--key",
                &key,
                "--sha256",
                sha256,
                "--vk-sha256",
                &r.vk_sha256,
                "--guest",
                "stateless-validator-reth",
                "--version",
                "0.3.0",
                "--zkvm",
                "zisk",
            ],
        ))
    };
    let imported = valid("import", 0, &import(&r.elf_sha256));
    assert_eq!(imported["unbound"], true, "{imported}");
    let wrong = "00".repeat(32);
    let refused = import(&wrong);
    let document = valid("error", refused.code, &refused);
    assert_ne!(refused.code, 0, "{document}");
}

/// `completions` and `man` print a shell script and roff: with `--json` they are a usage error
/// (the JSON error document, exit 2), not a document of their own.
#[test]
fn completions_and_man_refuse_json() {
    let world = World::new();
    for args in [&["completions", "bash"][..], &["man"]] {
        let refused = valid("error", 2, &world.json(args));
        assert_eq!(refused["error"]["kind"], "usage", "{refused}");
    }
}
