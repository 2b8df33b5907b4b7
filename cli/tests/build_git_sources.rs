//! Git sources in the builder, offline, against `https://github.com/…` URLs served by local
//! repositories through `--git-mirror` (no git host is reachable here): a git dependency whose
//! name and version crates.io also has (both in one lock), a `[patch.crates-io]` fork, a
//! branch whose head moved after the lock was written (the locked commit is what is built), a
//! path dependency outside the guest's workspace (inheriting from its own workspace), the
//! provenance (URL as written, commit, vendored digest, never the mirror), a byte-identical
//! build from another path, `release` then `rebuild` from the provenance, and the refusals: a
//! mirror without the commit, a locked commit no repository has, an unreadable mirror, a lock
//! missing a git dependency's entry, and poisoned caches (a crate, a git tree) that are named,
//! dropped and fetched again without changing a byte.

use std::path::{Path, PathBuf};
use std::process::Command;

use zkelf_testsupport::assert_cli_snapshot;
use zkelf_testsupport::cli::{Output, Tree, Zkelf};
use zkelf_testsupport::docker::{
    ensure_builder_image, git, guests_checkout, run_qemu, shared_cache_dir,
};
use zkelf_testsupport::minisign_tool;
use zkelf_testsupport::policy::{Key, PolicyFile};

const ITOA_FORK: &str = "https://github.com/zkelf-test/itoa-fork";
const RYU_FORK: &str = "https://github.com/zkelf-test/ryu-fork";
const RYU_TAG: &str = "v1.0.20-fork";

/// The test repository: a copy of `guests/` (for `guests/rt`) and `git-guest/`, its own cargo
/// workspace, whose lock pins the forks; and the mirrors serving the forks.
struct Fixture {
    dir: tempfile::TempDir,
    repo: PathBuf,
    mirrors: PathBuf,
    /// The commit of `itoa-fork` the lock pins (its `main` moved on since).
    locked: String,
    /// The commit of `ryu-fork` its tag names.
    tagged: String,
}

impl Fixture {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn guest(&self) -> PathBuf {
        self.repo.join("git-guest")
    }

    fn mirror_arg(&self) -> String {
        format!(
            "--git-mirror=https://github.com/={}/",
            self.mirrors.display()
        )
    }

    /// `zkelf` isolated in the fixture, sharing the Docker tests' cache unless `cache` says
    /// otherwise.
    fn zkelf(&self, cache: Option<&Path>) -> Zkelf {
        let shared = shared_cache_dir();
        Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
            .isolated(self.dir.path())
            .cache_dir(cache.unwrap_or(&shared))
            .redact(&self.mirrors, "[MIRRORS]")
    }

    /// `zkelf build --json`.
    fn build(&self, guest: &Path, out: &Path, extra: &[&str], cache: Option<&Path>) -> Output {
        self.build_with(guest, out, &[&["--json"], extra].concat(), cache)
    }

    /// `zkelf build` (notes and errors on stderr).
    fn build_with(&self, guest: &Path, out: &Path, extra: &[&str], cache: Option<&Path>) -> Output {
        self.zkelf(cache)
            .args(["build", "--out"])
            .arg(out)
            .arg(guest)
            .args(extra)
            .run()
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A repository at `dir` with `files`, committed.
fn repo_with(dir: &Path, files: &[(&str, &str)]) -> String {
    for (rel, text) in files {
        write(dir, rel, text);
    }
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "fork"]);
    git(dir, &["rev-parse", "HEAD"])
}

fn fixture() -> Fixture {
    ensure_builder_image(Path::new(env!("CARGO_BIN_EXE_zkelf")));
    let dir = tempfile::tempdir().unwrap();
    let mirrors = dir.path().join("mirrors");
    // A fork of itoa at crates.io's version: a workspace whose member inherits its version and
    // edition and depends on another member by path.
    let itoa = mirrors.join("zkelf-test/itoa-fork");
    let locked = repo_with(
        &itoa,
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"itoa\", \"marker\"]\nresolver = \"2\"\n[workspace.package]\nversion = \"1.0.15\"\nedition = \"2021\"\n[workspace.dependencies]\nfork-marker = { path = \"marker\" }\n",
            ),
            (
                "itoa/Cargo.toml",
                "[package]\nname = \"itoa\"\nversion.workspace = true\nedition.workspace = true\n[dependencies]\nfork-marker.workspace = true\n",
            ),
            (
                "itoa/src/lib.rs",
                "#![no_std]\npub use fork_marker::MARK;\n",
            ),
            (
                "marker/Cargo.toml",
                "[package]\nname = \"fork-marker\"\nversion = \"0.3.0\"\nedition.workspace = true\n",
            ),
            (
                "marker/src/lib.rs",
                "#![no_std]\npub const MARK: u32 = 1;\n",
            ),
        ],
    );
    let ryu = mirrors.join("zkelf-test/ryu-fork");
    let tagged = repo_with(
        &ryu,
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"ryu\"\nversion = \"1.0.20\"\nedition = \"2021\"\n",
            ),
            (
                "src/lib.rs",
                "#![no_std]\npub const FORK: &str = \"ryu-fork\";\n",
            ),
        ],
    );
    // The patch names a tag (as the zkVMs' precompile forks do), so the build's cargo config
    // must say `tag` for that source.
    git(&ryu, &["tag", RYU_TAG]);
    let repo = guests_checkout(
        &dir.path().join("repo"),
        &[
            (
                "git-guest/Cargo.toml",
                &format!(
                    "[package]\nname = \"git-guest\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[dependencies]\nzkelf-guest-rt = {{ path = \"../guests/rt\" }}\nitoa = {{ version = \"=1.0.15\", default-features = false }}\nitoa-fork = {{ package = \"itoa\", git = \"{ITOA_FORK}\", branch = \"main\" }}\nryu = {{ version = \"=1.0.20\", default-features = false }}\n\n[patch.crates-io]\nryu = {{ git = \"{RYU_FORK}\", tag = \"{RYU_TAG}\" }}\n\n[profile.release]\npanic = \"abort\"\nopt-level = \"s\"\nlto = true\ncodegen-units = 1\n"
                ),
            ),
            (
                "git-guest/src/main.rs",
                "#![no_std]\n#![no_main]\nuse zkelf_guest_rt as rt;\nrt::entry!(main);\nfn main() {\n    let mut buf = itoa::Buffer::new();\n    rt::write_stdout(buf.format(42u32).as_bytes());\n    rt::write_stdout(b\" \");\n    rt::write_u128(u128::from(itoa_fork::MARK));\n    rt::write_stdout(b\" \");\n    rt::write_stdout(ryu::FORK.as_bytes());\n    rt::write_stdout(b\"\\n\");\n}\n",
            ),
            (
                "git-guest/zkelf.toml",
                "name = \"git-guest\"\nversion = \"0.1.0\"\nbuild = \"cargo\"\n\n[[artifact]]\nprofile = \"rv32im\"\n",
            ),
        ],
    );
    // The lock, written by the host's cargo through the same mirrors (its own git handles
    // `insteadOf`), then committed.
    let gitconfig = dir.path().join("gitconfig");
    std::fs::write(
        &gitconfig,
        format!(
            "[url \"{}/\"]\n\tinsteadOf = https://github.com/\n[safe]\n\tdirectory = *\n",
            mirrors.display()
        ),
    )
    .unwrap();
    let lock = Command::new("cargo")
        .args(["generate-lockfile", "--manifest-path"])
        .arg(repo.join("git-guest/Cargo.toml"))
        .env("CARGO_HOME", dir.path().join("host-cargo-home"))
        .env("CARGO_NET_GIT_FETCH_WITH_CLI", "true")
        .env("GIT_CONFIG_GLOBAL", &gitconfig)
        .output()
        .unwrap();
    assert!(lock.status.success(), "cargo generate-lockfile: {lock:?}");
    let text = std::fs::read_to_string(repo.join("git-guest/Cargo.lock")).unwrap();
    assert!(
        text.contains(&format!("{ITOA_FORK}?branch=main#{locked}")),
        "{text}"
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "lock"]);
    // The branch moves on after the lock was written.
    write(
        &itoa,
        "marker/src/lib.rs",
        "#![no_std]\npub const MARK: u32 = 2;\n",
    );
    git(&itoa, &["commit", "-qam", "moved"]);
    Fixture {
        dir,
        repo,
        mirrors,
        locked,
        tagged,
    }
}

/// The one artifact a successful `build --json` reports: (ELF path, sha256).
fn built(output: &Output) -> (PathBuf, String) {
    let doc = output.json(0);
    let artifact = &doc["artifacts"][0];
    (
        PathBuf::from(artifact["elf"].as_str().unwrap()),
        artifact["sha256"].as_str().unwrap().to_string(),
    )
}

#[test]
#[allow(clippy::print_stderr)] // the cold fetch's line: a figure `scripts/real-guests` shows
fn git_dependencies_patches_and_duplicates_build_from_mirrors() {
    let f = fixture();
    let out = f.path("dist");
    // A cache of its own: the fetch is cold, and its line is a figure `scripts/real-guests`
    // prints (vendoring with git sources).
    let first = f.build_with(&f.guest(), &out, &[&f.mirror_arg()], Some(&f.path("cache")));
    first.assert_exit(0);
    for line in first
        .stderr
        .lines()
        .filter(|l| l.contains("fetching") || l.contains("fetched"))
    {
        eprintln!("figures: {}", line.trim());
    }
    let elf = out.join("git-guest/0.1.0/git-guest-rv32im.elf");
    let sha256 = zkelf_trust::digest::Sha256Digest::of(&std::fs::read(&elf).unwrap()).to_string();
    // crates.io's itoa and the fork's (one name and version, two sources), the fork's marker
    // at the locked commit (not the moved branch), the patched ryu.
    assert_eq!(run_qemu(&elf, "riscv32im", b""), "42 1 ryu-fork\n");

    let provenance: serde_json::Value =
        serde_json::from_slice(&std::fs::read(elf.with_extension("provenance.json")).unwrap())
            .unwrap();
    let text = provenance.to_string();
    assert!(
        !text.contains(f.mirrors.to_str().unwrap()),
        "the mirror leaked"
    );
    let deps = provenance["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    let named = |name: &str| {
        deps.iter()
            .filter(|d| d["name"] == name)
            .cloned()
            .collect::<Vec<_>>()
    };
    let itoa = &named("git:itoa")[0];
    assert_eq!(
        itoa["uri"],
        format!("git+{ITOA_FORK}?branch=main#{}", f.locked)
    );
    assert_eq!(itoa["annotations"]["commit"], f.locked.as_str());
    assert_eq!(itoa["annotations"]["url"], ITOA_FORK);
    assert_eq!(itoa["digest"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(named("git:fork-marker").len(), 1);
    assert_eq!(
        named("git:ryu")[0]["uri"],
        format!("git+{RYU_FORK}?tag={RYU_TAG}#{}", f.tagged)
    );
    assert_eq!(
        named("crate:itoa").len(),
        1,
        "crates.io's itoa is there too"
    );
    assert!(
        named("crate:ryu").is_empty(),
        "the patch replaced crates.io's ryu"
    );
    assert_eq!(
        named("path:guests/rt").len(),
        1,
        "a path dependency outside the workspace is recorded"
    );
    let source = &provenance["predicate"]["buildDefinition"]["externalParameters"]["source"];
    assert_eq!(
        source["root"], "",
        "mounted: the checkout, which holds both"
    );
    assert_eq!(source["workspace"], "git-guest");

    // Another clone at another path: the same bytes.
    let copy = f.path("elsewhere/repo");
    let status = Command::new("git")
        .args(["clone", "-q"])
        .arg(&f.repo)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let again = f.build(
        &copy.join("git-guest"),
        &f.path("dist2"),
        &[&f.mirror_arg()],
        None,
    );
    assert_eq!(built(&again).1, sha256);

    // Release, then an auditor's rebuild from the provenance alone (through the mirror).
    let key = minisign_tool::generate(&f.path("keys"), "release", None);
    let policy = PolicyFile::new()
        .key(Key::release("release", &key.public_base64()))
        .require(1, 0)
        .write(&f.path("policy.toml"));
    let layout = f.path("layout");
    let release = f
        .zkelf(None)
        .args(["release"])
        .arg(f.guest())
        .args(["--key", key.secret.to_str().unwrap(), "--out"])
        .arg(f.path("released"))
        .arg(format!("--to=oci-layout:{}", layout.display()))
        .args(["--policy", policy.to_str().unwrap(), &f.mirror_arg()])
        .run();
    release.assert_exit(0);
    let rebuild = f
        .zkelf(None)
        .args([
            "rebuild",
            &format!("oci-layout:{}:0.1.0-rv32im", layout.display()),
        ])
        .arg(f.mirror_arg())
        .run();
    rebuild.assert_exit(0);
    assert!(
        rebuild.stdout.starts_with("reproduced"),
        "{}",
        rebuild.stdout
    );
}

#[test]
fn fetch_refusals_name_the_package_url_commit_and_mirror_and_write_nothing() {
    let f = fixture();
    let out = f.path("dist");
    let refused = |name: &str, mirror: &str, cache: &str| {
        let before = Tree::of(&[out.clone(), f.repo.clone()]);
        let output = f.build_with(&f.guest(), &out, &[mirror], Some(&f.path(cache)));
        output.assert_exit(2);
        assert_cli_snapshot!(name, output);
        before.assert_unchanged();
    };

    // A mirror that lacks the locked commit: a repository of the same name, another history.
    let stale = f.path("stale");
    repo_with(
        &stale.join("zkelf-test/itoa-fork"),
        &[("README", "another history\n")],
    );
    copy_dir(
        &f.mirrors.join("zkelf-test/ryu-fork"),
        &stale.join("zkelf-test/ryu-fork"),
    );
    let stale_mirror = format!("--git-mirror=https://github.com/={}/", stale.display());
    refused(
        "mirror_without_the_locked_commit",
        &stale_mirror,
        "cache-stale",
    );

    // The mirrors from the environment: entries separated by spaces, the one whose prefix
    // matches is used (here the stale one, so the refusal shows it was).
    let before = Tree::of(&[out.clone(), f.repo.clone()]);
    let output = f
        .zkelf(Some(&f.path("cache-env")))
        .env(
            "ZKELF_GIT_MIRRORS",
            format!(
                "https://gitlab.com/={}/ https://github.com/={}/",
                f.mirrors.display(),
                stale.display()
            ),
        )
        .args(["build", "--out"])
        .arg(&out)
        .arg(f.guest())
        .run();
    output.assert_exit(2);
    assert_cli_snapshot!("mirrors_from_the_environment", output);
    before.assert_unchanged();

    // An unreadable mirror: a path that does not exist, and a file that is not a directory.
    refused(
        "unreadable_mirror",
        "--git-mirror=https://github.com/=/nonexistent/mirrors/",
        "cache-none",
    );
    let file = f.path("mirror-file");
    std::fs::write(&file, "not a directory\n").unwrap();
    refused(
        "a_mirror_that_is_a_file",
        &format!("--git-mirror=https://github.com/={}", file.display()),
        "cache-file",
    );

    // A locked commit (a rev) no repository has: the lock edited to name it, and committed.
    let lock_path = f.guest().join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    let ghost = "0123456789abcdef0123456789abcdef01234567";
    std::fs::write(&lock_path, lock.replace(&f.locked, ghost)).unwrap();
    git(&f.repo, &["commit", "-qam", "a ghost commit"]);
    refused(
        "a_locked_commit_no_repository_has",
        &f.mirror_arg(),
        "cache-ghost",
    );

    // A lock without the git dependency's entries: refused before anything is fetched.
    let kept: Vec<&str> = lock
        .split("\n[[package]]\n")
        .filter(|block| !block.contains(&format!("git+{ITOA_FORK}")))
        .collect();
    std::fs::write(&lock_path, kept.join("\n[[package]]\n")).unwrap();
    git(&f.repo, &["commit", "-qam", "no fork entry"]);
    refused(
        "a_git_dependency_the_lock_does_not_pin",
        &f.mirror_arg(),
        "cache-unlocked",
    );
}

#[test]
fn poisoned_crate_and_git_caches_are_named_dropped_and_fetched_again() {
    let f = fixture();
    let cache = f.path("cache");
    let first = f.build(&f.guest(), &f.path("d1"), &[&f.mirror_arg()], Some(&cache));
    let (_, sha256) = built(&first);

    // A CI cache an untrusted build could write: a crate archive swapped, a file of a git tree
    // edited (and the archive's checksum file regenerated would not help: nothing in the entry
    // is trusted).
    let crates = cache.join("builder/crates");
    let itoa = crates.join("itoa-1.0.15.crate");
    assert!(itoa.is_file(), "{}", itoa.display());
    std::fs::write(&itoa, b"a different archive").unwrap();
    let tree = cache.join("builder/git").join(&f.locked).join("tree");
    write(
        &tree,
        "marker/src/lib.rs",
        "#![no_std]\npub const MARK: u32 = 666;\n",
    );

    let second = f.build_with(&f.guest(), &f.path("d2"), &[&f.mirror_arg()], Some(&cache));
    second.assert_exit(0);
    let elf = f.path("d2/git-guest/0.1.0/git-guest-rv32im.elf");
    assert_eq!(
        zkelf_trust::digest::Sha256Digest::of(&std::fs::read(&elf).unwrap()).to_string(),
        sha256,
        "a poisoned cache changed the build"
    );
    assert_eq!(run_qemu(&elf, "riscv32im", b""), "42 1 ryu-fork\n");
    second.stderr_has(&[
        "note: the cached `",
        "itoa-1.0.15.crate` has sha256 `",
        "fetching it again",
        &format!(
            "note: the cached tree of `{ITOA_FORK}` at `{}` cannot be used: its files are not the tree",
            f.locked
        ),
    ]);
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}
