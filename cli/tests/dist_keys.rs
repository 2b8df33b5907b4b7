//! `--key` as the ecosystem writes keys: a minisign `.pub` file, or the bare base64 line
//! (zkboost's hard-coded form), the same way in `publish`, `pull`, `inspect` and `verify`.

mod dist_common;

use dist_common::*;
use zkelf_testsupport::assert_cli_snapshot;
use zkelf_testsupport::cli::{self, Tree};
use zkelf_testsupport::elf::Class;
use zkelf_testsupport::minisign_tool;

#[test]
fn every_command_takes_the_key_as_a_file_or_its_base64_line() {
    let w = World::new();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "keys\n");
    let elf = dist.join("fib-sp1.elf");
    let layout = w.path("layout");
    let to = format!("oci-layout:{}", layout.display());
    let reference = format!("{to}:1.0.0-sp1");
    let out = w.path("out/fib.elf");
    let public_file = w.key.public.to_str().unwrap().to_owned();
    for key in [w.key.public_base64(), public_file] {
        cli::Output::from(&w.run(&[
            "publish",
            dist.to_str().unwrap(),
            "--to",
            &to,
            "--key",
            &key,
        ]))
        .assert_exit(0)
        .stdout_has(&["published"]);
        cli::Output::from(&w.run(&[
            "pull",
            &reference,
            "--key",
            &key,
            "-o",
            out.to_str().unwrap(),
        ]))
        .assert_exit(0)
        .stdout_has(&["verified fib 1.0.0 for sp1"]);
        std::fs::remove_file(&out).unwrap();
        cli::Output::from(&w.run(&["inspect", &reference, "--key", &key]))
            .assert_exit(0)
            .stdout_has(&["verdict    verified: the policy accepts it"]);
        cli::Output::from(&w.run(&[
            "verify",
            elf.to_str().unwrap(),
            "--key",
            &key,
            "--guest",
            "fib",
        ]))
        .assert_exit(0)
        .stdout_has(&["verified `"]);
    }

    // Another key, in either form, does not count: exit 1 everywhere.
    let stranger = minisign_tool::generate(w.dir.path(), "stranger", None);
    let other = stranger.public_base64();
    // The snapshots filter key ids; which key is named is checked here.
    let untrusted = format!(
        "made by key `{}`, which the policy does not trust",
        w.key.key_id()
    );
    let fresh = format!("oci-layout:{}", w.path("fresh").display());
    for args in [
        vec![
            "publish",
            dist.to_str().unwrap(),
            "--to",
            &fresh,
            "--key",
            &other,
        ],
        vec![
            "pull",
            &reference,
            "--key",
            &other,
            "-o",
            out.to_str().unwrap(),
        ],
        vec!["inspect", &reference, "--key", &other],
        vec!["verify", elf.to_str().unwrap(), "--key", &other],
    ] {
        // `inspect` prints its report (with every signature's reason) on stdout.
        let before = untouched(&w);
        let run = cli::Output::from(w.run(&args));
        run.assert_exit(1);
        assert_cli_snapshot!(format!("stranger_key_{}", args[0]), run);
        assert!(
            run.stderr.contains(&untrusted) || run.stdout.contains(&untrusted),
            "{}",
            run.text()
        );
        before.assert_unchanged();
    }

    // Neither a file nor a key: the same usage error (exit 2) from every command.
    for args in [
        vec![
            "publish",
            dist.to_str().unwrap(),
            "--to",
            &fresh,
            "--key",
            "RWnotakey",
        ],
        vec![
            "pull",
            &reference,
            "--key",
            "RWnotakey",
            "-o",
            out.to_str().unwrap(),
        ],
        vec!["inspect", &reference, "--key", "RWnotakey"],
        vec!["verify", elf.to_str().unwrap(), "--key", "RWnotakey"],
    ] {
        let before = untouched(&w);
        let run = cli::Output::from(w.run(&args));
        run.assert_exit(2);
        assert_cli_snapshot!(format!("not_a_key_{}", args[0]), run);
        before.assert_unchanged();
    }
}

/// What a refused command must leave as it was: the output directory, the layout `fresh` it
/// would publish to, the cache and the state (the cache's per-digest lock files may appear).
fn untouched(w: &World) -> Tree {
    Tree::of(&[
        w.path("out"),
        w.path("fresh"),
        w.path("cache"),
        w.path("state"),
    ])
    .allowing_lock_files_under(w.path("cache/locks"))
}
