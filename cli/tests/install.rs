//! The install path of the README: `cargo install --locked --path cli --root <dir>` gives a
//! `zkelf` that runs, names the same commit as the binary under test, and completes commands.
//!
//! Cost: a debug build of the workspace in its own target directory (`target/install-test`,
//! kept between runs, so only the first run pays: about as long as `cargo build -p zkelf`). It
//! does not share the test's target directory, whose lock the running `cargo test` may hold.

use std::path::Path;
use std::process::Command;

#[test]
fn cargo_install_gives_a_working_zkelf() {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR"));
    let under_test = Path::new(env!("CARGO_BIN_EXE_zkelf"));
    // `<target>/debug/zkelf` → `<target>`.
    let target = under_test.parent().and_then(Path::parent).unwrap();
    let root = tempfile::tempdir().unwrap();
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let out = Command::new(cargo)
        .args(["install", "--locked", "--debug", "--path"])
        .arg(cli)
        .arg("--root")
        .arg(root.path())
        .env("CARGO_TARGET_DIR", target.join("install-test"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo install failed\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = root.path().join("bin/zkelf");
    let version = |bin: &Path| {
        let out = Command::new(bin).arg("--version").output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(version(&installed), version(under_test));
    let completions = Command::new(&installed)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(completions.status.success());
    assert!(String::from_utf8_lossy(&completions.stdout).contains("_zkelf"));
}
