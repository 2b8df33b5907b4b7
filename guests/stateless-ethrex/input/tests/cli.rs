//! The `stateless-input` binary: writes the frame, and exits 2 with `error: …` otherwise.

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stateless-input"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn malformed_json_exits_2_and_writes_nothing() {
    let dir = scratch("malformed");
    let cache = dir.join("cache.json");
    std::fs::write(&cache, "{\"blocks\": [").unwrap();
    let out = dir.join("out.bin");
    let output = bin().arg(&cache).arg(&out).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: `") && stderr.contains("not an ethrex-replay cache"),
        "{stderr}"
    );
    assert!(stderr.contains("Caused by: "), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "only the cache is there"
    );
}

#[test]
fn usage_errors_exit_2() {
    let output = bin().arg("only-one").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: expected two arguments\nusage: "),
        "{stderr}"
    );

    let dir = scratch("missing");
    let output = bin()
        .arg(dir.join("nope.json"))
        .arg(dir.join("out.bin"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("error: cannot read `"), "{stderr}");
}
