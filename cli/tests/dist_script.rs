//! `scripts/dist`, zkelf released by zkelf: its signing half on the binary under test
//! (`--prebuilt`), so the suite checks the provenance, the statement, `SHA256SUMS` and the
//! script's own verification in seconds. The static musl build itself (a release build of the
//! workspace and of the standard library, about 12 minutes on 2 cores) is checked by
//! `scripts/dist-check`, which runs the whole script and is run where a release is made.

use std::path::{Path, PathBuf};
use std::process::Command;

use zkelf_testsupport::cli::Zkelf;
use zkelf_testsupport::policy::{Key, PolicyFile};

const TARGET: &str = "x86_64-unknown-linux-musl";

/// Runs `scripts/dist --prebuilt <zkelf under test> --out <dir>/dist`; returns the directory.
fn dist(dir: &Path) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = dir.join("dist");
    let run = Command::new("bash")
        .arg(repo.join("scripts/dist"))
        .arg("--prebuilt")
        .arg(env!("CARGO_BIN_EXE_zkelf"))
        .arg("--out")
        .arg(&out)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "scripts/dist failed\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

#[test]
fn dist_signs_zkelf_with_its_own_statement() {
    if std::env::consts::ARCH != "x86_64" {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dist(dir.path());
    let version = env!("CARGO_PKG_VERSION");
    let bin = out.join(format!("zkelf-{version}-{TARGET}"));
    let provenance = out.join(format!("zkelf-{version}-{TARGET}.provenance.json"));
    let sha256 = zkelf_trust::digest::hash_file(&bin).unwrap().sha256;

    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    assert_eq!(sums, format!("{sha256}  zkelf-{version}-{TARGET}\n"));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&provenance).unwrap()).unwrap();
    assert_eq!(doc["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(doc["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(doc["subject"][0]["digest"]["sha256"], sha256.to_string());
    let external = &doc["predicate"]["buildDefinition"]["externalParameters"];
    assert_eq!(external["target"], TARGET);
    assert_eq!(external["version"], version);
    // The zkelf that signed, as its `--version` says it (the version and the commit).
    let printed = Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
        .arg("--version")
        .run();
    assert_eq!(
        doc["predicate"]["runDetails"]["builder"]["version"]["zkelf"],
        printed.stdout.trim().strip_prefix("zkelf ").unwrap()
    );

    // As a user would: a policy trusting the dist key for the guest `zkelf` only.
    let public = std::fs::read_to_string(out.join("throwaway.pub")).unwrap();
    let base64 = public.lines().nth(1).unwrap();
    let policy = PolicyFile::new()
        .key(Key::release("dist", base64).guests(["zkelf"]))
        .require(1, 0)
        .write(&dir.path().join("policy.toml"));
    let verify = |elf: &Path| {
        Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
            .isolated(dir.path())
            .arg("--json")
            .arg("verify")
            .arg(elf)
            .arg("--sig")
            .arg(out.join(format!("zkelf-{version}-{TARGET}.minisig")))
            .arg("--policy")
            .arg(&policy)
            .args(["--guest", "zkelf", "--version", version, "--zkvm", "native"])
            .arg("--provenance")
            .arg(&provenance)
            .run()
    };
    let verified = verify(&bin).json(0);
    let statement = &verified["verdict"]["statement"];
    assert_eq!(statement["kind"], "release");
    assert_eq!(statement["zkvm"], "native");
    assert_eq!(statement["target"], TARGET);
    assert_eq!(statement["sha256"], sha256.to_string());
    assert_eq!(verified["provenance"], "matches");

    let mut tampered = std::fs::read(&bin).unwrap();
    tampered.push(0);
    let other = dir.path().join("zkelf-tampered");
    std::fs::write(&other, tampered).unwrap();
    assert_eq!(verify(&other).json(1)["error"]["kind"], "verification");
}

#[test]
fn a_prebuilt_binary_is_never_a_release() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let run = Command::new("bash")
        .arg(repo.join("scripts/dist"))
        .arg("--prebuilt")
        .arg(env!("CARGO_BIN_EXE_zkelf"))
        .arg("--key")
        .arg(dir.path().join("release.key"))
        .arg("--out")
        .arg(dir.path().join("dist"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("--prebuilt is a check, never a release"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(!dir.path().join("dist").exists());
}

/// `scripts/dist` in the `bash` of the test's `PATH`, with `args`, in a clean environment.
fn dist_with(dir: &Path, args: &[&std::ffi::OsStr]) -> std::process::Output {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    Command::new("bash")
        .arg(repo.join("scripts/dist"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .output()
        .unwrap()
}

/// A target of another architecture without its musl C compiler is skipped with the reason,
/// before anything is installed or built; with nothing left to build the script stops (exit 2)
/// and writes nothing.
#[test]
fn a_target_this_machine_cannot_build_is_skipped_with_its_reason() {
    let cross = "aarch64-linux-musl-gcc";
    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(cross).exists()));
    if std::env::consts::ARCH != "x86_64" || on_path {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dist");
    let run = dist_with(
        dir.path(),
        &[
            "--out".as_ref(),
            out.as_os_str(),
            "aarch64-unknown-linux-musl".as_ref(),
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "scripts/dist: skipping aarch64-unknown-linux-musl: no aarch64-linux-musl-gcc on PATH \
         (Debian packages no aarch64 musl C compiler)\nscripts/dist: no target could be built\n"
    );
    assert!(!out.exists());
}

/// A release key without its public half beside it is refused before anything is built: the
/// release could not be verified at the end.
#[test]
fn a_release_key_without_its_public_half_is_refused_first() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("release.key");
    std::fs::write(&key, "untrusted comment: not read\n").unwrap();
    let out = dir.path().join("dist");
    let run = dist_with(
        dir.path(),
        &[
            "--key".as_ref(),
            key.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no public key") && stderr.contains("release.pub"),
        "{stderr}"
    );
    assert!(!out.exists());
}

/// `scripts/release-pubkey`, run by the release workflow before the build: the one key of the
/// policy that can sign zkelf's release, or a stop saying what to do.
#[test]
fn the_release_workflow_picks_one_release_key() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let keygen = |name: &str| {
        Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
            .isolated(dir.path())
            .arg("keygen")
            .arg("--out")
            .arg(&keys)
            .args(["--name", name, "--unencrypted"])
            .run()
            .assert_exit(0);
        std::fs::read_to_string(keys.join(format!("{name}.pub"))).unwrap()
    };
    let (old, rebuild, new) = (
        keygen("release-1"),
        keygen("ci-rebuild"),
        keygen("release-2"),
    );
    let policy = keys.join("policy.toml");
    let out = dir.path().join("release.pub");
    let pick = |name: &str| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let run = Command::new(repo.join("scripts/release-pubkey"))
            .arg(&policy)
            .arg(&out)
            .arg(name)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
        (run.status.code(), stderr)
    };
    let (code, stderr) = pick("");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("does not exist"), "{stderr}");
    let key = |name: &str, roles: &str| {
        format!("[[key]]\nname = \"{name}\"\nfile = \"{name}.pub\"\nroles = [{roles}]\n")
    };
    let mut text = format!(
        "version = 1\n{}{}",
        key("release-1", "\"release\""),
        key("ci-rebuild", "\"rebuild\"")
    );
    std::fs::write(&policy, &text).unwrap();
    assert_eq!(pick("").0, Some(0));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), old);
    let (code, stderr) = pick("ci-rebuild");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("no `release` role"), "{stderr}");
    assert_ne!(old, rebuild);
    // A rollover: two release keys, and the name picks one.
    text.push_str(&key("release-2", "\"release\""));
    std::fs::write(&policy, &text).unwrap();
    let (code, stderr) = pick("");
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("2 release keys") && stderr.contains("ZKELF_RELEASE_KEY_NAME"),
        "{stderr}"
    );
    assert_eq!(pick("release-2").0, Some(0));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), new);
}
