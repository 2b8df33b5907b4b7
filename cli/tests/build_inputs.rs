//! Bad inputs to `zkelf build` fail early with a clear error, exit 2, and write nothing (every
//! refusal met before a container runs is a snapshot, with a `Tree` over the output, the
//! isolated home, cache and state, and the guest's source); and `zkelf diff` exits 0 on
//! identical ELFs, 1 on different ones, 2 on a file it cannot compare.
//!
//! The refusals need a reachable Docker engine (`build` connects first) but no builder image:
//! they all come before the image is looked up, so they run on a fresh engine too.

use std::path::{Path, PathBuf};

use zkelf_testsupport::assert_cli_snapshot;
use zkelf_testsupport::cli::{Output, Tree, Zkelf};
use zkelf_testsupport::docker::{
    checkout_with, ensure_builder_image, git, guests_checkout, require_docker, shared_cache_dir,
};
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::hostile_git::HostileRepo;

/// `zkelf` isolated in `root` (home, state and cache under it).
fn zkelf(root: &Path) -> Zkelf {
    Zkelf::new(env!("CARGO_BIN_EXE_zkelf")).isolated(root)
}

/// Runs `zkelf build --out <root>/dist <guest> <extra>` isolated in `root`, and asserts it exits
/// 2 with the snapshot `name` and wrote nothing under `dist`, home, cache, state or `guest`.
#[track_caller]
fn build_rejects(name: &str, root: &Path, guest: &Path, extra: &[&str]) -> Output {
    require_docker();
    let out = root.join("dist");
    let zkelf = zkelf(root)
        .args(["build", "--out"])
        .arg(&out)
        .arg(guest)
        .args(extra);
    let before = Tree::of(&[
        out.clone(),
        root.join("home"),
        root.join("cache"),
        root.join("state"),
        guest.to_path_buf(),
    ]);
    let output = zkelf.run();
    output.assert_exit(2);
    assert_cli_snapshot!(name, output);
    before.assert_unchanged();
    output
}

/// A git checkout in `root` holding only `guest/zkelf.toml` with `manifest`.
fn manifest_checkout(root: &Path, manifest: &str) -> PathBuf {
    checkout_with(root, &[("guest/zkelf.toml", manifest)]).join("guest")
}

const FIBONACCI: &str = "name = \"fibonacci\"\nversion = \"0.1.0\"\nbuild = \"cargo\"\n\n[[artifact]]\nprofile = \"rv32im\"\n";

/// Replaces `from` by `to` in the manifest of `guest` in a fresh checkout and commits it.
fn checkout_with_manifest(tmp: &Path, guest: &str, from: &str, to: &str) -> PathBuf {
    let repo = guests_checkout(tmp, &[]);
    let manifest = repo.join("guests").join(guest).join("zkelf.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        text.contains(from),
        "`{from}` not in {}",
        manifest.display()
    );
    std::fs::write(&manifest, text.replace(from, to)).unwrap();
    git(&repo, &["commit", "-qam", "edit the manifest"]);
    repo.join("guests").join(guest)
}

#[test]
fn no_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = checkout_with(tmp.path(), &[("guest/README", "no manifest here")]);
    build_rejects("no_manifest", tmp.path(), &repo.join("guest"), &[]);
}

#[test]
fn guest_directory_that_does_not_exist() {
    let tmp = tempfile::tempdir().unwrap();
    build_rejects(
        "guest_directory_that_does_not_exist",
        tmp.path(),
        &tmp.path().join("no-such-guest"),
        &[],
    );
}

#[test]
fn guest_directory_that_is_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = checkout_with(tmp.path(), &[("guest", FIBONACCI)]);
    build_rejects(
        "guest_directory_that_is_a_file",
        tmp.path(),
        &repo.join("guest"),
        &[],
    );
}

#[test]
fn manifest_past_its_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let padding = "# padding padding padding padding padding padding padding\n".repeat(19_000);
    let guest = manifest_checkout(tmp.path(), &format!("{FIBONACCI}{padding}"));
    build_rejects("manifest_past_its_bound", tmp.path(), &guest, &[]);
}

/// Each near-miss of a valid manifest, refused at load with the manifest's path and what is
/// wrong in it (the snapshot `invalid_manifest_<name>`).
#[test]
fn invalid_manifests() {
    let fib = |from: &str, to: &str| {
        assert!(FIBONACCI.contains(from), "{from}");
        FIBONACCI.replace(from, to)
    };
    let cases = [
        ("not_toml", fib("[[artifact]]", "[[artifact]")),
        (
            "unknown_field",
            fib("build = \"cargo\"", "build = \"cargo\"\nfeature = []"),
        ),
        ("unknown_build_kind", fib("\"cargo\"", "\"bazel\"")),
        ("missing_version", fib("version = \"0.1.0\"\n", "")),
        ("name_not_a_label", fib("\"fibonacci\"", "\"Fibonacci\"")),
        ("version_not_semver", fib("0.1.0", "0.1")),
        (
            "no_artifact",
            fib("\n[[artifact]]\nprofile = \"rv32im\"\n", "artifact = []\n"),
        ),
        (
            "artifact_without_profile",
            fib("profile = \"rv32im\"", "bin = \"fibonacci\""),
        ),
        (
            "zkvm_not_a_label",
            fib(
                "profile = \"rv32im\"",
                "profile = \"rv32im\"\nzkvm = \"RV32\"",
            ),
        ),
        (
            "zkvm_listed_twice",
            fib(
                "profile = \"rv32im\"",
                "profile = \"rv32im\"\n\n[[artifact]]\nprofile = \"rv32im\"",
            ),
        ),
        (
            "bin_with_a_path",
            fib(
                "profile = \"rv32im\"",
                "profile = \"rv32im\"\nbin = \"../x\"",
            ),
        ),
        (
            "package_not_an_identifier",
            fib("build = \"cargo\"", "build = \"cargo\"\npackage = \"a b\""),
        ),
        (
            "feature_not_an_identifier",
            fib(
                "build = \"cargo\"",
                "build = \"cargo\"\nfeatures = [\"--all\"]",
            ),
        ),
        (
            "make_guest_with_a_zkvm_profile",
            fib("\"cargo\"", "\"make\"").replace("rv32im", "sp1"),
        ),
    ];
    for (name, manifest) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let guest = manifest_checkout(tmp.path(), &manifest);
        build_rejects(&format!("invalid_manifest_{name}"), tmp.path(), &guest, &[]);
    }
}

#[test]
fn unknown_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let guest = checkout_with_manifest(
        tmp.path(),
        "fibonacci",
        "profile = \"rv32im\"",
        "profile = \"jolt\"",
    );
    build_rejects("unknown_profile", tmp.path(), &guest, &[]);
}

#[test]
fn a_target_the_profile_does_not_build() {
    let tmp = tempfile::tempdir().unwrap();
    let guest = checkout_with_manifest(
        tmp.path(),
        "fibonacci",
        "profile = \"rv32im\"",
        "profile = \"rv32im\"\ntarget = \"thumbv7em-none-eabi\"",
    );
    build_rejects(
        "a_target_the_profile_does_not_build",
        tmp.path(),
        &guest,
        &[],
    );
}

#[test]
fn a_zkvm_guest_under_the_wrong_profile_fails_with_the_compilers_error() {
    let tmp = tempfile::tempdir().unwrap();
    // An std SP1 guest built as a bare rv64im one: no `std` for that target. A real build: the
    // compiler's output is not ours to freeze, so this one checks the lines that matter.
    let guest = checkout_with_manifest(
        tmp.path(),
        "sp1-hash",
        "profile = \"sp1\"",
        "profile = \"rv64im\"",
    );
    ensure_builder_image(Path::new(env!("CARGO_BIN_EXE_zkelf")));
    let out = guest.parent().unwrap().join("dist-should-not-exist");
    let output = zkelf(tmp.path())
        .cache_dir(shared_cache_dir())
        .args(["build", "--out"])
        .arg(&out)
        .arg(&guest)
        .run();
    // The sysroot of that profile (built or cached) holds core and alloc only; the compiler's
    // first complaint (`can't find crate for `std``) may scroll out of the tail zkelf shows,
    // its cascade not.
    output.assert_exit(2).stderr_has(&[
        " for riscv64im-unknown-none-elf (core, alloc",
        "building guest `sp1-hash` for `rv64im` failed",
        "error[E0",
    ]);
    assert!(!out.exists(), "{} was created", out.display());
}

#[test]
fn unknown_artifact() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = guests_checkout(tmp.path(), &[]);
    build_rejects(
        "unknown_artifact",
        tmp.path(),
        &repo.join("guests/keccak"),
        &["--artifact", "sp1"],
    );
}

#[test]
fn a_zkvm_crate_version_the_profile_does_not_describe() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = checkout_with(
        tmp.path(),
        &[
            (
                "guest/zkelf.toml",
                "name = \"old\"\nversion = \"0.1.0\"\nbuild = \"cargo\"\n\n[[artifact]]\nprofile = \"sp1\"\n",
            ),
            (
                "guest/Cargo.toml",
                "[package]\nname = \"old\"\nversion = \"0.1.0\"\n[workspace]\n[dependencies]\nsp1-zkvm = \"5\"\n",
            ),
            (
                "guest/Cargo.lock",
                &format!(
                    "version = 4\n\n[[package]]\nname = \"old\"\nversion = \"0.1.0\"\ndependencies = [\"sp1-zkvm\"]\n\n[[package]]\nname = \"sp1-zkvm\"\nversion = \"5.2.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{}\"\n",
                    "0".repeat(64)
                ),
            ),
        ],
    );
    build_rejects(
        "a_zkvm_crate_version_the_profile_does_not_describe",
        tmp.path(),
        &repo.join("guest"),
        &[],
    );
}

#[test]
fn no_cargo_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = guests_checkout(tmp.path(), &[]);
    git(&repo, &["rm", "-q", "guests/Cargo.lock"]);
    git(&repo, &["commit", "-qm", "drop the lock file"]);
    build_rejects(
        "no_cargo_lock",
        tmp.path(),
        &repo.join("guests/fibonacci"),
        &[],
    );
}

#[test]
fn dirty_tree_without_allow_dirty() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = guests_checkout(tmp.path(), &[]);
    let main = repo.join("guests/fibonacci/src/main.rs");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, text + "\n// local change\n").unwrap();
    build_rejects(
        "dirty_tree_without_allow_dirty",
        tmp.path(),
        &repo.join("guests/fibonacci"),
        &[],
    );
}

#[test]
fn untracked_file_without_allow_dirty() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = guests_checkout(tmp.path(), &[]);
    std::fs::write(repo.join("guests/fibonacci/notes.txt"), "not committed\n").unwrap();
    build_rejects(
        "untracked_file_without_allow_dirty",
        tmp.path(),
        &repo.join("guests/fibonacci"),
        &[],
    );
}

#[test]
fn not_a_git_checkout() {
    let tmp = tempfile::tempdir().unwrap();
    zkelf_testsupport::docker::copy_tree(
        &zkelf_testsupport::docker::repo_root().join("guests"),
        &tmp.path().join("guests"),
    );
    build_rejects(
        "not_a_git_checkout",
        tmp.path(),
        &tmp.path().join("guests/fibonacci"),
        &[],
    );
}

#[test]
fn a_checkout_without_a_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let guest = tmp.path().join("guest");
    std::fs::create_dir_all(&guest).unwrap();
    std::fs::write(guest.join("zkelf.toml"), FIBONACCI).unwrap();
    git(tmp.path(), &["init", "-q", "-b", "main"]);
    build_rejects("a_checkout_without_a_commit", tmp.path(), &guest, &[]);
}

#[test]
fn a_suite_without_a_base_image() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = guests_checkout(tmp.path(), &[]);
    build_rejects(
        "a_suite_without_a_base_image",
        tmp.path(),
        &repo.join("guests/fibonacci"),
        &["--suite", "no-such-suite"],
    );
}

#[test]
fn a_git_directory_inside_the_checkout_runs_nothing() {
    require_docker();
    let tmp = tempfile::tempdir().unwrap();
    let hostile = HostileRepo::create(tmp.path());
    hostile.assert_armed(&tmp.path().join("control"));
    // The repository holding the guest is the one with `.git`, not the bare-looking guest
    // directory; the build gets past the source to the (missing) base image.
    let output = zkelf(tmp.path())
        .args(["build", "--suite", "no-such-suite", "--out"])
        .arg(tmp.path().join("dist"))
        .arg(hostile.repo.join(hostile.guest))
        .run();
    output
        .assert_exit(2)
        .stderr_has(&["base image `zkelf-base:no-such-suite` does not exist"]);
    hostile.assert_nothing_ran();
}

#[test]
fn docker_not_reachable() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = guests_checkout(tmp.path(), &[]);
    let out = tmp.path().join("dist");
    for json in [false, true] {
        let zkelf = zkelf(tmp.path())
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .args(["build", "--out"])
            .arg(&out)
            .arg(repo.join("guests/fibonacci"))
            .args(json.then_some("--json"));
        let before = Tree::of(&[
            out.clone(),
            tmp.path().join("cache"),
            tmp.path().join("state"),
            repo.join("guests"),
        ]);
        let output = zkelf.run();
        if json {
            let doc = output.json(2);
            assert_eq!(
                doc["error"]["message"],
                "cannot reach the Docker engine at `unix:///nonexistent/docker.sock`"
            );
            assert_cli_snapshot!("docker_not_reachable_json", output);
        } else {
            assert_cli_snapshot!("docker_not_reachable", output.assert_exit(2));
        }
        before.assert_unchanged();
    }
}

#[test]
fn builder_image_without_a_base_image_says_how_to_make_one() {
    require_docker();
    let tmp = tempfile::tempdir().unwrap();
    let zkelf = zkelf(tmp.path()).args(["builder", "image", "--suite", "no-such-suite"]);
    let before = Tree::of(&[tmp.path()]);
    assert_cli_snapshot!(
        "builder_image_without_a_base_image",
        zkelf.run().assert_exit(2)
    );
    before.assert_unchanged();
}

#[test]
fn diff_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.elf");
    let same = tmp.path().join("same.elf");
    let b = tmp.path().join("b.elf");
    ElfSpec::new(Class::Elf32)
        .message("built in /build/src/guest at 12:00:01\n")
        .write_to(&a)
        .unwrap();
    ElfSpec::new(Class::Elf32)
        .message("built in /build/src/guest at 12:00:01\n")
        .write_to(&same)
        .unwrap();
    ElfSpec::new(Class::Elf32)
        .message("built in /home/alice/guest at 17:45:09\n")
        .write_to(&b)
        .unwrap();
    let diff = || zkelf(tmp.path()).arg("diff");

    let output = diff().arg(&a).arg(&same).run();
    assert!(output.assert_exit(0).stdout.starts_with("identical:"));

    // What differs is the report a user reads: a snapshot, as the refusals are.
    assert_cli_snapshot!(
        "diff_different",
        diff().arg(&a).arg(&b).run().assert_exit(1)
    );

    let doc = diff().arg("--json").arg(&a).arg(&b).run().json(1);
    assert_eq!(doc["identical"], false);
    let kinds: Vec<&str> = doc["strings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"path"), "{doc}");

    let not_elf = tmp.path().join("not.elf");
    std::fs::write(&not_elf, b"#!/bin/sh\n").unwrap();
    assert_cli_snapshot!(
        "diff_not_an_elf",
        diff().arg(&a).arg(&not_elf).run().assert_exit(2)
    );
    assert_cli_snapshot!(
        "diff_missing_file",
        diff()
            .arg(&a)
            .arg(tmp.path().join("nope.elf"))
            .run()
            .assert_exit(2)
    );
}

/// What stands in place of a guest's input file.
#[derive(Debug, Clone, Copy)]
enum Special {
    /// A link to `/dev/zero` (read without end, it took 535 MB in a second).
    DevZero,
    /// A FIFO nobody writes to (a read blocks for ever).
    Fifo,
    /// A directory.
    Directory,
}

/// `Cargo.toml`, `Cargo.lock` and `zkelf.toml` that are not regular files are refused at once,
/// naming the file, before any container: exit 2, nothing written.
#[test]
fn special_files_in_place_of_the_guests_inputs() {
    for (name, file, special) in [
        (
            "cargo_toml_linked_to_dev_zero",
            "guests/fibonacci/Cargo.toml",
            Special::DevZero,
        ),
        (
            "workspace_cargo_lock_fifo",
            "guests/Cargo.lock",
            Special::Fifo,
        ),
        (
            "workspace_cargo_lock_directory",
            "guests/Cargo.lock",
            Special::Directory,
        ),
        (
            "zkelf_toml_linked_to_dev_zero",
            "guests/fibonacci/zkelf.toml",
            Special::DevZero,
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let repo = guests_checkout(tmp.path(), &[]);
        let path = repo.join(file);
        std::fs::remove_file(&path).unwrap();
        match special {
            Special::DevZero => std::os::unix::fs::symlink("/dev/zero", &path).unwrap(),
            Special::Fifo => {
                let made = std::process::Command::new("mkfifo").arg(&path).status();
                assert!(made.unwrap().success(), "mkfifo {}", path.display());
            }
            Special::Directory => std::fs::create_dir(&path).unwrap(),
        }
        let started = std::time::Instant::now();
        build_rejects(
            &format!("special_file_{name}"),
            tmp.path(),
            &repo.join("guests/fibonacci"),
            &["--allow-dirty"],
        );
        let took = started.elapsed();
        assert!(took.as_secs() < 10, "{name}: took {took:?}");
    }
}
