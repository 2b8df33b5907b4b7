//! `--help` of the binary and of every command and subcommand, snapshot-tested: the help text is
//! part of the CLI contract, so a change to it shows in review.

use zkelf_testsupport::assert_cli_snapshot;
use zkelf_testsupport::cli::Zkelf;

/// Every command path, as typed after `zkelf`.
const COMMANDS: &[&[&str]] = &[
    &[],
    &["keygen"],
    &["sign"],
    &["verify"],
    &["build"],
    &["diff"],
    &["builder"],
    &["builder", "base"],
    &["builder", "image"],
    &["builder", "toolbox"],
    &["publish"],
    &["release"],
    &["pull"],
    &["run"],
    &["import"],
    &["inspect"],
    &["rebuild"],
    &["attest"],
    &["completions"],
    &["man"],
];

#[test]
fn help_of_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for path in COMMANDS {
        let out = Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
            .isolated(dir.path())
            .args(*path)
            .arg("--help")
            .run();
        out.assert_exit(0);
        let name = if path.is_empty() {
            "zkelf".to_owned()
        } else {
            format!("zkelf_{}", path.join("_"))
        };
        assert_cli_snapshot!(name, out);
    }
}
