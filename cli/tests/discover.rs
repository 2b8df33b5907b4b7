//! What a newcomer finds without reading the docs: `--version` names the commit, the completion
//! scripts (bash completes a command from its first letters), and the man pages.

use std::process::Command;

use zkelf_testsupport::assert_cli_snapshot;
use zkelf_testsupport::cli::{Output, Zkelf};

fn zkelf(dir: &std::path::Path, args: &[&str]) -> Output {
    Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
        .isolated(dir)
        .args(args)
        .run()
}

/// The commit `--version` names, whichever it is, shows as `[COMMIT]`.
fn commit_filtered(f: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b[0-9a-f]{40}(, dirty)?\b|unknown commit", "[COMMIT]");
    settings.bind(f);
}

#[test]
fn version_names_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let out = zkelf(dir.path(), &["--version"]);
    out.assert_exit(0);
    let line = out.stdout.trim();
    let commit = line
        .strip_prefix(concat!("zkelf ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("`{line}`"));
    let hex = commit.strip_suffix(", dirty").unwrap_or(commit);
    assert!(
        hex == "unknown commit" || (hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit())),
        "`{line}`"
    );
    commit_filtered(|| assert_cli_snapshot!("version", out));
}

#[test]
fn completion_scripts_for_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = zkelf(dir.path(), &["completions", shell]);
        out.assert_exit(0);
        assert!(out.stdout.contains("pull"), "{shell}");
        assert_cli_snapshot!(format!("completions_{shell}"), out);
    }
}

/// What bash offers after `zkelf <word><TAB>`, with the script `zkelf completions bash` prints.
fn bash_completes(word: &str) -> Vec<String> {
    let script = format!(
        r#"source <("$ZKELF" completions bash)
COMP_WORDS=(zkelf {word}); COMP_CWORD=1; COMP_LINE="zkelf {word}"; COMP_POINT=${{#COMP_LINE}}
_zkelf zkelf {word} zkelf
printf '%s\n' "${{COMPREPLY[@]}}""#
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .env("ZKELF", env!("CARGO_BIN_EXE_zkelf"))
        .output()
        .expect("bash is needed for this test (Debian package `bash`)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_pull() {
    assert_eq!(bash_completes("pul"), ["pull"]);
    assert_eq!(bash_completes("pu"), ["publish", "pull"]);
    assert_eq!(bash_completes("comp"), ["completions"]);
}

#[test]
fn man_pages() {
    let dir = tempfile::tempdir().unwrap();
    let out = zkelf(dir.path(), &["man"]);
    out.assert_exit(0);
    assert!(out.stdout.starts_with(".ie"), "{}", out.text());
    commit_filtered(|| assert_cli_snapshot!("man", out));
    let pages = dir.path().join("man1");
    zkelf(dir.path(), &["man", pages.to_str().unwrap()]).assert_exit(0);
    let mut names: Vec<String> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 20, "{names:?}");
    for name in [
        "zkelf.1",
        "zkelf-pull.1",
        "zkelf-builder-base.1",
        "zkelf-man.1",
    ] {
        assert!(names.contains(&name.to_owned()), "{name} not in {names:?}");
    }
    let pull = std::fs::read_to_string(pages.join("zkelf-pull.1")).unwrap();
    assert!(pull.contains("ZKELF_POLICY"), "{pull}");
}

/// A shell script and roff are not JSON: `--json` with `completions` or `man` is a usage error
/// (exit 2, the JSON error document), and nothing is written.
#[test]
fn completions_and_man_refuse_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = zkelf(dir.path(), &["--json", "completions", "bash"]);
    assert_cli_snapshot!("json_completions", out.assert_exit(2));
    assert_eq!(out.json(2)["error"]["kind"], "usage");
    let pages = dir.path().join("man1");
    let out = zkelf(dir.path(), &["man", pages.to_str().unwrap(), "--json"]);
    assert_cli_snapshot!("json_man", out.assert_exit(2));
    assert!(!pages.exists());
}
