//! `zkelf rebuild` of a release whose provenance names a source or commit git could run as a
//! command: refused before anything is cloned or built, so no Docker is needed here (the
//! rebuilds themselves are in `audit_rebuild.rs`).

mod dist_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zkelf_testsupport::cli;

use dist_common::{World, assert_nothing_written};
use zkelf_builder::manifest::BuildKind;
use zkelf_builder::provenance::{
    BUILD_TYPE, BUILDER_ID, BuildDefinition, BuilderId, ExternalParameters, InternalParameters,
    PREDICATE_TYPE, Predicate, Provenance, RunDetails, STATEMENT_TYPE, SourceParameters, Subject,
};
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::hostile_git::{FilteringRepo, HostileRepo};
use zkelf_trust::digest::{Sha256Digest, hash_file};

/// A provenance for `elf` (guest `fib` 1.0.0 on `rv32im`) naming `uri` at `commit`.
fn provenance(elf: &Path, uri: &str, commit: &str) -> Provenance {
    let sha256 = hash_file(elf).unwrap().sha256.to_string();
    Provenance {
        statement_type: STATEMENT_TYPE.into(),
        subject: vec![Subject {
            name: "fib-rv32im.elf".into(),
            digest: BTreeMap::from([("sha256".into(), sha256)]),
        }],
        predicate_type: PREDICATE_TYPE.into(),
        predicate: Predicate {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE.into(),
                external_parameters: ExternalParameters {
                    source: SourceParameters {
                        uri: uri.into(),
                        commit: commit.into(),
                        dirty: false,
                        path: "guests/fib".into(),
                        root: "guests/fib".into(),
                        workspace: None,
                    },
                    guest: "fib".into(),
                    version: "1.0.0".into(),
                    zkvm: "rv32im".into(),
                    target: Class::Elf32.default_target().into(),
                    build: BuildKind::Cargo,
                    package: Some("fib".into()),
                    bin: "fib".into(),
                    profile: zkelf_builder::profile::builtin("rv32im").unwrap(),
                    cargo_profile: "release".into(),
                    features: vec![],
                    build_std: vec!["core".into()],
                },
                internal_parameters: InternalParameters {
                    source_date_epoch: 1_700_000_000,
                    build_path: "/build/src".into(),
                    user: "1000:1000".into(),
                    hostname: "zkelf-builder".into(),
                    umask: "022".into(),
                    network: "none".into(),
                    env: BTreeMap::new(),
                    command: vec!["cargo".into(), "build".into()],
                    flags: vec![],
                },
                resolved_dependencies: vec![],
            },
            run_details: RunDetails {
                builder: BuilderId {
                    id: BUILDER_ID.into(),
                    version: BTreeMap::new(),
                },
                byproducts: vec![],
            },
        },
    }
}

/// Publishes a signed `fib` 1.0.0 for `rv32im` whose provenance names `uri` at `commit` into
/// the layout `<name>`; returns the reference.
fn publish(w: &World, name: &str, uri: &str, commit: &str) -> String {
    let dir = w.path(&format!("dist-{name}/fib/1.0.0"));
    std::fs::create_dir_all(&dir).unwrap();
    let elf = dir.join("fib-rv32im.elf");
    ElfSpec::new(Class::Elf32).write_to(&elf).unwrap();
    let json = provenance(&elf, uri, commit).to_json();
    std::fs::write(dir.join("fib-rv32im.provenance.json"), &json).unwrap();
    w.sign(
        &elf,
        "fib",
        "1.0.0",
        "rv32im",
        Class::Elf32,
        Some(Sha256Digest::of(&json)),
    );
    let layout = w.publish_layout(&dir, name);
    format!("oci-layout:{}:1.0.0-rv32im", layout.display())
}

/// `zkelf rebuild <reference> <extra>` with a Docker daemon that cannot be reached, so any
/// attempt to build would fail with a Docker error instead of the refusal asserted.
fn rebuild(w: &World, reference: &str, extra: &[&str]) -> cli::Output {
    let output = w
        .zkelf()
        .args(["rebuild", reference])
        .args(extra)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    cli::Output::from(&output)
}

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// Where a command git ran on the auditor's behalf would leave its mark.
fn marker(w: &World) -> PathBuf {
    w.path("pwned")
}

#[test]
fn a_provenance_source_git_would_run_is_refused_before_any_clone_or_build() {
    let w = World::new();
    let mark = marker(&w);
    let hostile = [
        (
            format!("--upload-pack=touch {}", mark.display()),
            "it starts with `-`, so git would take it as an option",
        ),
        (
            format!("ext::sh -c touch% {}", mark.display()),
            "it contains whitespace or control characters",
        ),
        (
            "ext::sh%20-c%20id".to_string(),
            "it is neither `https://`, `ssh://`, `file://`, `git@host:path` nor a local path",
        ),
        (
            "ssh://-oProxyCommand=id/repo".to_string(),
            "its host is empty or starts with `-`",
        ),
    ];
    for (i, (uri, reason)) in hostile.iter().enumerate() {
        let reference = publish(&w, &format!("layout-{i}"), uri, COMMIT);
        let before = zkelf_testsupport::cli::Tree::of(&[w.dir.path()]);
        let shown = uri.escape_debug().to_string();
        rebuild(&w, &reference, &[]).assert_exit(2).stderr_has(&[
            "error: the provenance of `",
            "names a source zkelf will not check out",
            &format!("Caused by: refusing to clone `{shown}`: {reason}"),
            "hint: zkelf clones only `https://`, `ssh://`, `file://`, `git@host:path` and local paths",
        ]);
        assert!(!mark.exists(), "{uri} ran a command");
        before.assert_unchanged();
        assert_nothing_written(&w.path("out"));
    }
}

#[test]
fn a_commit_git_would_read_as_an_option_is_refused() {
    let w = World::new();
    let reference = publish(
        &w,
        "layout",
        "https://example.invalid/fib.git",
        "--orphan=x",
    );
    let before = zkelf_testsupport::cli::Tree::of(&[w.dir.path()]);
    rebuild(&w, &reference, &[]).assert_exit(2).stderr_has(&[
        "names a source zkelf will not check out",
        "Caused by: refusing to check out commit `--orphan=x`: it is not a full hex commit id (40 or 64 hex digits)",
    ]);
    before.assert_unchanged();
}

#[test]
fn a_source_given_with_dash_dash_source_is_checked_too() {
    let w = World::new();
    let reference = publish(&w, "layout", "https://example.invalid/fib.git", COMMIT);
    let before = zkelf_testsupport::cli::Tree::of(&[w.dir.path()]);
    rebuild(&w, &reference, &["--source=-uhostile"])
        .assert_exit(2)
        .stderr_has(&[
            "error: `--source` names a source zkelf will not check out",
            "Caused by: refusing to clone `-uhostile`: it starts with `-`, so git would take it as an option",
        ]);
    before.assert_unchanged();
}

#[test]
fn a_git_directory_inside_the_clone_runs_nothing_on_the_auditors_machine() {
    let w = World::new();
    let hostile = HostileRepo::create(w.dir.path());
    hostile.assert_armed(&w.path("control"));
    let uri = format!("file://{}", hostile.repo.display());
    let reference = publish(&w, "layout", &uri, &hostile.commit);
    let before = zkelf_testsupport::cli::Tree::of(&[w.path("out"), w.path("home")]);
    // Past every check of the clone, the rebuild asks Docker, which does not answer here.
    rebuild(&w, &reference, &[]).assert_exit(2).stderr_has(&[
        "error: cannot reach the Docker engine at `unix:///nonexistent/docker.sock`",
    ]);
    hostile.assert_nothing_ran();
    before.assert_unchanged();
}

#[test]
fn filter_drivers_of_the_auditors_own_git_config_do_not_run_on_the_clone() {
    let w = World::new();
    // The auditor's `~/.gitconfig` (the test's home) defines `lfs` and `corp`; the release's
    // tree selects them through `.gitattributes`.
    let filtering = FilteringRepo::create(w.dir.path(), &w.path("home"));
    filtering.assert_armed(&w.path("control"));
    let uri = format!("file://{}", filtering.repo.display());
    let reference = publish(&w, "layout", &uri, &filtering.commit);
    let before = zkelf_testsupport::cli::Tree::of(&[w.path("out"), w.path("home")]);
    // Past the clone, its checkout and `git status`, the rebuild asks Docker, which does not
    // answer here.
    rebuild(&w, &reference, &[]).assert_exit(2).stderr_has(&[
        "error: cannot reach the Docker engine at `unix:///nonexistent/docker.sock`",
    ]);
    filtering.assert_nothing_ran();
    before.assert_unchanged();
}

#[test]
fn a_recorded_guest_path_that_leaves_the_clone_is_refused_before_docker() {
    let w = World::new();
    let hostile = HostileRepo::create(w.dir.path());
    let uri = format!("file://{}", hostile.repo.display());
    for (i, (path, reason)) in [
        ("../..", "it leaves the checkout through `..`"),
        ("/etc", "it is absolute"),
        (
            "guests/fib/src/main.rs",
            "`guests/fib/src/main.rs` is not a directory",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = w.path(&format!("dist-path-{i}/fib/1.0.0"));
        std::fs::create_dir_all(&dir).unwrap();
        let elf = dir.join("fib-rv32im.elf");
        ElfSpec::new(Class::Elf32).write_to(&elf).unwrap();
        let mut recorded = provenance(&elf, &uri, &hostile.commit);
        recorded
            .predicate
            .build_definition
            .external_parameters
            .source
            .path = path.into();
        let json = recorded.to_json();
        std::fs::write(dir.join("fib-rv32im.provenance.json"), &json).unwrap();
        w.sign(
            &elf,
            "fib",
            "1.0.0",
            "rv32im",
            Class::Elf32,
            Some(Sha256Digest::of(&json)),
        );
        let layout = w.publish_layout(&dir, &format!("layout-path-{i}"));
        let reference = format!("oci-layout:{}:1.0.0-rv32im", layout.display());
        rebuild(&w, &reference, &[]).assert_exit(2).stderr_has(&[
            &format!("Caused by: refusing source.path `{path}`: {reason}"),
            "hint: a release's provenance names its guest by a plain relative path inside its repository",
        ]);
    }
    hostile.assert_nothing_ran();
}

#[test]
fn a_clones_inputs_are_read_within_bounds_and_never_through_a_link() {
    use zkelf_testsupport::docker::{checkout_with, git};
    let w = World::new();
    let manifest = "name = \"fib\"\nversion = \"1.0.0\"\nbuild = \"cargo\"\n\n[[artifact]]\nprofile = \"rv32im\"\n";
    let cargo_toml = "[package]\nname = \"fib\"\nversion = \"1.0.0\"\n\n[workspace]\n";
    let lock = "version = 4\n";
    let big_lock = format!("{lock}#{}\n", "x".repeat(16 << 20));
    for (i, (file, link, content, cause)) in [
        (
            "zkelf.toml",
            true,
            "",
            "it is a symbolic link, not a regular file",
        ),
        (
            "Cargo.toml",
            true,
            "",
            "it is a symbolic link, not a regular file",
        ),
        (
            "Cargo.lock",
            true,
            "",
            "it is a symbolic link, not a regular file",
        ),
        (
            "Cargo.lock",
            false,
            big_lock.as_str(),
            "it is larger than 16 MiB (16777216 bytes)",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let files: Vec<(String, String)> = [
            ("zkelf.toml", manifest),
            ("Cargo.toml", cargo_toml),
            ("Cargo.lock", lock),
            ("src/main.rs", "fn main() {}\n"),
        ]
        .into_iter()
        .filter(|(name, _)| *name != file)
        .map(|(name, text)| (format!("guests/fib/{name}"), text.to_string()))
        .chain((!link).then(|| (format!("guests/fib/{file}"), content.to_string())))
        .collect();
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let repo = checkout_with(&w.path(&format!("repo-{i}")), &borrowed);
        if link {
            std::os::unix::fs::symlink("/dev/zero", repo.join("guests/fib").join(file)).unwrap();
            git(&repo, &["add", "-A"]);
            git(&repo, &["commit", "-q", "-m", "link"]);
        }
        let commit = git(&repo, &["rev-parse", "HEAD"]);
        let uri = format!("file://{}", repo.display());
        let dir = w.path(&format!("dist-input-{i}/fib/1.0.0"));
        std::fs::create_dir_all(&dir).unwrap();
        let elf = dir.join("fib-rv32im.elf");
        ElfSpec::new(Class::Elf32).write_to(&elf).unwrap();
        let json = provenance(&elf, &uri, &commit).to_json();
        std::fs::write(dir.join("fib-rv32im.provenance.json"), &json).unwrap();
        w.sign(
            &elf,
            "fib",
            "1.0.0",
            "rv32im",
            Class::Elf32,
            Some(Sha256Digest::of(&json)),
        );
        let layout = w.publish_layout(&dir, &format!("layout-input-{i}"));
        let reference = format!("oci-layout:{}:1.0.0-rv32im", layout.display());
        let started = std::time::Instant::now();
        rebuild(&w, &reference, &[]).assert_exit(2).stderr_has(&[
            "Caused by: cannot read `",
            &format!("/guests/fib/{file}`"),
            &format!("Caused by: {cause}"),
        ]);
        assert!(started.elapsed().as_secs() < 10, "{file}: took too long");
    }
}
