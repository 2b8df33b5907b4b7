//! `zkelf rebuild` end to end: a local git repository of the example guests, one `zkelf
//! release` of `fibonacci` to a loopback `docker-registry`, two auditors rebuilding it and
//! attaching their attestations, policies counting them, and rebuilds that must fail.
//!
//! Docker builds are slow, so everything shares one release and one test function runs the
//! cases in order (each case's failure is collected, so one broken case does not hide the
//! others), and the registry and temporary directories are dropped at the end. Builds: the
//! release, two auditors, a changed source and the released commit under another ELF, a builder
//! allowed to differ: six in all.

// Each command and case prints its duration (shown with `--nocapture`): the budget matters here.
#![allow(clippy::print_stderr)]

mod schema_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use zkelf_testsupport::cli::{self, Tree};
use zkelf_testsupport::docker::{
    ensure_builder_image, git, guests_checkout, shared_cache_dir, trust_dir_of,
};
use zkelf_testsupport::minisign_tool::{self, ToolKeyPair};
use zkelf_testsupport::policy::{Key, PolicyFile};
use zkelf_testsupport::registry::DockerRegistry;
use zkelf_testsupport::run::{assert_exit, json_report, stderr, stdout};

const TAG: &str = "0.1.0-rv32im";

struct Fixture {
    dir: tempfile::TempDir,
    registry: DockerRegistry,
    repo: PathBuf,
    release: ToolKeyPair,
    auditors: Vec<ToolKeyPair>,
    /// `<host>/fib:0.1.0-rv32im`.
    reference: String,
    /// The published release's dist directory (ELF, signature, provenance).
    dist: PathBuf,
    /// The commit released.
    commit: String,
}

impl Fixture {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn zkelf(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_zkelf"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("ZKELF_STATE_DIR", self.path("state"))
            // Shared with the other build tests (crates, sysroots, toolboxes stay warm), with
            // the trust records that let a run use what another run built.
            .env("ZKELF_CACHE_DIR", shared_cache_dir())
            .env("ZKELF_BUILDER_TRUST_DIR", trust_dir_of(&shared_cache_dir()))
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        if let Some(host) = std::env::var_os("DOCKER_HOST") {
            cmd.env("DOCKER_HOST", host);
        }
        cmd
    }

    /// Runs `run`, which must exit with `code`, print the snapshot `name` and leave `out/`, the
    /// state and home as they were (the cache is the one the build tests share, not checked).
    #[track_caller]
    fn rejects(&self, name: &str, code: i32, run: impl FnOnce() -> Output) -> cli::Output {
        let untouched = Tree::of(&[self.path("out"), self.path("state"), self.path("home")]);
        zkelf_testsupport::rejects!(untouched, name, code, run)
    }

    fn run(&self, args: &[&str]) -> Output {
        let started = Instant::now();
        let output = self.zkelf().args(args).output().unwrap();
        eprintln!(
            "zkelf {} -> {:?} in {:.1}s",
            args.join(" "),
            output.status.code(),
            started.elapsed().as_secs_f64()
        );
        output
    }

    /// A policy trusting the release key and the first `listed` auditors, requiring `rebuild`.
    fn policy(&self, name: &str, listed: usize, rebuild: u32) -> PathBuf {
        let mut policy = PolicyFile::new()
            .key(Key::release("release", &self.release.public_base64()).guests(["fibonacci"]));
        for (i, a) in self.auditors.iter().take(listed).enumerate() {
            policy = policy.key(Key::rebuild(&format!("auditor-{i}"), &a.public_base64()));
        }
        policy.require(1, rebuild).write(&self.path(name))
    }

    /// Publishes the released ELF again under `repo` with its provenance edited by `edit`
    /// (and re-signed by the release key, so only the provenance is a lie).
    fn republish_with(&self, repo: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
        self.republish_elf(repo, &self.dist.join("fibonacci-rv32im.elf"), edit)
    }

    /// Publishes `elf` under `repo`, signed by the release key, with the release's provenance
    /// edited by `edit`.
    fn republish_elf(
        &self,
        repo: &str,
        source_elf: &Path,
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> String {
        let dist = self.path(&format!("forged/{repo}/fibonacci/0.1.0"));
        std::fs::create_dir_all(&dist).unwrap();
        let elf = dist.join("fibonacci-rv32im.elf");
        std::fs::copy(source_elf, &elf).unwrap();
        let prov_path = dist.join("fibonacci-rv32im.provenance.json");
        let mut provenance: serde_json::Value = serde_json::from_slice(
            &std::fs::read(self.dist.join("fibonacci-rv32im.provenance.json")).unwrap(),
        )
        .unwrap();
        edit(&mut provenance);
        std::fs::write(&prov_path, serde_json::to_vec_pretty(&provenance).unwrap()).unwrap();
        let sign = self.run(&[
            "sign",
            elf.to_str().unwrap(),
            "--key",
            self.release.secret.to_str().unwrap(),
            "--guest",
            "fibonacci",
            "--version",
            "0.1.0",
            "--zkvm",
            "rv32im",
            "--provenance",
            prov_path.to_str().unwrap(),
        ]);
        assert_exit(&sign, 0);
        let to = format!("{}/{repo}", self.registry.host());
        let policy = self.policy("release-only.toml", 0, 0);
        assert_exit(
            &self.run(&[
                "publish",
                dist.to_str().unwrap(),
                "--to",
                &to,
                "--policy",
                policy.to_str().unwrap(),
            ]),
            0,
        );
        format!("{to}:{TAG}")
    }
}

/// The release: a git repository of `guests/`, release and auditor keys, `zkelf release`.
fn release() -> Fixture {
    let bin = Path::new(env!("CARGO_BIN_EXE_zkelf"));
    ensure_builder_image(bin);
    let dir = tempfile::tempdir().unwrap();
    for sub in ["home", "state", "keys"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let repo = guests_checkout(&dir.path().join("repo"), &[]);
    let commit = git(&repo, &["rev-parse", "HEAD"]);
    let keys = dir.path().join("keys");
    let release = minisign_tool::generate(&keys, "release", None);
    let auditors = (0..3)
        .map(|i| minisign_tool::generate(&keys, &format!("auditor-{i}"), None))
        .collect();
    let registry = DockerRegistry::start();
    let reference = format!("{}/fib:{TAG}", registry.host());
    let mut fixture = Fixture {
        dir,
        registry,
        repo,
        release,
        auditors,
        reference,
        dist: PathBuf::new(),
        commit,
    };
    let policy = fixture.policy("release-only.toml", 0, 0);
    let output = fixture.run(&[
        "--json",
        "release",
        fixture.repo.join("guests/fibonacci").to_str().unwrap(),
        "--key",
        fixture.release.secret.to_str().unwrap(),
        "--out",
        fixture.path("dist").to_str().unwrap(),
        "--to",
        &format!("{}/fib", fixture.registry.host()),
        "--policy",
        policy.to_str().unwrap(),
    ]);
    schema_support::assert_valid("release", "release", &json_report(&output, 0));
    fixture.dist = fixture.path("dist/fibonacci/0.1.0");
    fixture
}

/// Two auditors rebuild (one from `--source`, one from the provenance's URI) and push.
fn two_auditors_rebuild_and_attest(f: &Fixture) {
    for (i, source) in [(0, Some(f.repo.to_str().unwrap())), (1, None)] {
        let output_path = f.path(&format!("auditor-{i}.minisig"));
        let mut args = vec![
            "--json",
            "rebuild",
            &f.reference,
            "--attest",
            "--key",
            f.auditors[i].secret.to_str().unwrap(),
            "--push",
            "-o",
            output_path.to_str().unwrap(),
        ];
        if let Some(source) = source {
            args.extend(["--source", source]);
        }
        let output = f.run(&args);
        let report = json_report(&output, 0);
        schema_support::assert_valid("rebuild", "rebuild --attest --push", &report);
        assert_eq!(report["matches"], true, "{report}");
        assert_eq!(report["commit"], f.commit.as_str(), "{report}");
        assert!(report["attached"].as_str().unwrap().starts_with("sha256:"));
        // Plain minisign verifies the attestation; its statement is a rebuild with the builder.
        let comment = minisign_tool::verified_trusted_comment(
            &f.auditors[i].public,
            &f.dist.join("fibonacci-rv32im.elf"),
            &output_path,
        )
        .expect("minisign verifies the attestation");
        let builder = report["builder_image"].as_str().unwrap();
        assert!(
            comment.starts_with("zkelf/1 kind=rebuild guest=fibonacci version=0.1.0 zkvm=rv32im ")
                && comment.contains(&format!(" builder={builder} created=")),
            "{comment}"
        );
    }
}

/// `rebuild = 2` pulls; `rebuild = 3` is refused and says how many were found, as does
/// `inspect`; `verify` of the ELF alone (no attestations) says none were found.
fn policies_count_the_attestations(f: &Fixture) {
    let out = f.path("out/fib.elf");
    std::fs::create_dir_all(f.path("out")).unwrap();
    let pull = |policy: &Path| {
        f.run(&[
            "pull",
            &f.reference,
            "-o",
            out.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--no-cache",
        ])
    };
    let two = f.policy("rebuild-2.toml", 3, 2);
    let output = pull(&two);
    assert_exit(&output, 0);
    let text = stdout(&output);
    assert!(
        text.contains("(auditor-0) counts for rebuild")
            && text.contains("(auditor-1) counts for rebuild"),
        "{text}"
    );
    std::fs::remove_file(&out).unwrap();

    let three = f.policy("rebuild-3.toml", 3, 3);
    f.rejects("pull_with_two_attestations_of_three", 1, || pull(&three));
    assert!(!out.exists(), "nothing is written when the policy refuses");

    let output = f.run(&["inspect", &f.reference, "--policy", three.to_str().unwrap()]);
    cli::Output::from(&output)
        .assert_exit(1)
        .stdout_has(&["2 valid rebuild attestations of 3 required"]);

    f.rejects("verify_without_the_attestation_files", 1, || {
        f.run(&[
            "verify",
            f.dist.join("fibonacci-rv32im.elf").to_str().unwrap(),
            "--policy",
            two.to_str().unwrap(),
        ])
    });
    // With the two attestation files `rebuild --attest` wrote, `verify` counts them too.
    let elf = f.dist.join("fibonacci-rv32im.elf");
    let release_sig = f.dist.join("fibonacci-rv32im.elf.minisig");
    let (a, b) = (f.path("auditor-0.minisig"), f.path("auditor-1.minisig"));
    let verify_all = |policy: &Path| {
        f.run(&[
            "verify",
            elf.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--sig",
            release_sig.to_str().unwrap(),
            "--sig",
            a.to_str().unwrap(),
            "--sig",
            b.to_str().unwrap(),
        ])
    };
    let output = verify_all(&two);
    assert_exit(&output, 0);
    f.rejects("verify_with_two_attestation_files_of_three", 1, || {
        verify_all(&three)
    });
}

/// The provenance names a later commit whose source differs from what was built: the rebuild
/// exits 1 and prints the section diff.
fn a_changed_source_does_not_reproduce(f: &Fixture) {
    let main = f.repo.join("guests/fibonacci/src/main.rs");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, text.replace("n too large", "n is too large")).unwrap();
    git(&f.repo, &["commit", "-qam", "a changed message"]);
    let changed = git(&f.repo, &["rev-parse", "HEAD"]);
    let reference = f.republish_with("fib-changed", |p| {
        p["predicate"]["buildDefinition"]["externalParameters"]["source"]["commit"] =
            changed.clone().into();
    });
    let kept = f.path("rebuilt-changed");
    let output = f.run(&["rebuild", &reference, "--out", kept.to_str().unwrap()]);
    assert_exit(&output, 1);
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(out.contains("NOT reproduced"), "{out}");
    assert!(
        out.contains("first difference at file offset") && out.contains(".rodata"),
        "{out}"
    );
    assert!(
        out.contains("n is too large"),
        "the diff shows the strings: {out}"
    );
    assert!(
        err.contains("does not reproduce the published ELF"),
        "{err}"
    );

    // The other way round: an ELF built from the changed source, published with a provenance
    // that names the released commit. The rebuild of that commit differs.
    let changed_elf = kept.join("fibonacci/0.1.0/fibonacci-rv32im.elf");
    let changed_sha = zkelf_trust::digest::hash_file(&changed_elf)
        .unwrap()
        .sha256
        .to_string();
    let reference = f.republish_elf("fib-other-commit", &changed_elf, |p| {
        p["subject"][0]["digest"]["sha256"] = changed_sha.clone().into();
    });
    let output = f.run(&["rebuild", &reference, "--json"]);
    let report = json_report(&output, 1);
    schema_support::assert_valid("rebuild", "rebuild", &report);
    assert_eq!(report["matches"], false, "{report}");
    assert_eq!(report["commit"], f.commit.as_str(), "{report}");
    assert_eq!(report["published_sha256"], changed_sha.as_str(), "{report}");
    let diff = report["diff"].as_str().unwrap();
    assert!(
        diff.contains(".rodata") && diff.contains("n too large"),
        "{diff}"
    );

    // A commit the source does not have is an error (2), not a verdict.
    let reference = f.republish_with("fib-unknown-commit", |p| {
        p["predicate"]["buildDefinition"]["externalParameters"]["source"]["commit"] =
            "0123456789abcdef0123456789abcdef01234567".into();
    });
    let output = f.run(&["rebuild", &reference, "--source", f.repo.to_str().unwrap()]);
    cli::Output::from(&output)
        .assert_exit(2)
        .stderr_has(&["0123456789abcdef0123456789abcdef01234567"]);
}

/// The provenance names a toolchain this builder does not have: exit 2 with the difference,
/// before any build; with `--allow-different-builder` a warning, and the rebuild matches.
fn a_different_builder_is_refused_unless_allowed(f: &Fixture) {
    let reference = f.republish_with("fib-toolchain", |p| {
        let deps = p["predicate"]["buildDefinition"]["resolvedDependencies"]
            .as_array_mut()
            .unwrap();
        let toolchain = deps.iter_mut().find(|d| d["name"] == "toolchain").unwrap();
        toolchain["annotations"]["rustc"] = "rustc 1.95.0 (faked 2026-01-01)".into();
        toolchain["annotations"]["debianPackages"]["rustc-web"] = "1.95.0+dfsg1-1".into();
    });
    let started = Instant::now();
    let output = f.run(&["rebuild", &reference]);
    assert_exit(&output, 2);
    let err = stderr(&output);
    assert!(
        err.contains("was built with a different builder")
            && err.contains("rustc -vV: recorded `rustc 1.95.0 (faked 2026-01-01)`")
            && err.contains("Debian package `rustc-web`: recorded `1.95.0+dfsg1-1`"),
        "{err}"
    );
    assert!(err.contains("--allow-different-builder"), "{err}");
    assert!(started.elapsed().as_secs() < 15, "refused before building");

    let output = f.run(&["rebuild", &reference, "--allow-different-builder"]);
    assert_exit(&output, 0);
    let err = stderr(&output);
    assert!(
        err.contains("warning: builder differs: rustc -vV: recorded `rustc 1.95.0"),
        "{err}"
    );
    assert!(
        stdout(&output).starts_with("reproduced"),
        "{}",
        stdout(&output)
    );
}

type Case = (&'static str, fn(&Fixture));

#[test]
fn auditors_rebuild_attest_and_policies_count_them() {
    let f = release();
    let mut failures = Vec::new();
    let cases: [Case; 4] = [
        (
            "two_auditors_rebuild_and_attest",
            two_auditors_rebuild_and_attest,
        ),
        (
            "policies_count_the_attestations",
            policies_count_the_attestations,
        ),
        (
            "a_different_builder_is_refused_unless_allowed",
            a_different_builder_is_refused_unless_allowed,
        ),
        (
            "a_changed_source_does_not_reproduce",
            a_changed_source_does_not_reproduce,
        ),
    ];
    for (name, case) in cases {
        let started = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&f)));
        eprintln!("case {name}: {:.1}s", started.elapsed().as_secs_f64());
        if result.is_err() {
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "failed cases: {failures:?}");
}
