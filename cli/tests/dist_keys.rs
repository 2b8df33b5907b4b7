//! `--key` as the ecosystem writes keys: a minisign `.pub` file, or the bare base64 line
//! (zkboost's hard-coded form), the same way in `publish`, `pull`, `inspect` and `verify`.

mod dist_common;

use dist_common::*;
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
        Run::from(&w.run(&[
            "publish",
            dist.to_str().unwrap(),
            "--to",
            &to,
            "--key",
            &key,
        ]))
        .expect(0)
        .stdout_has(&["published"]);
        Run::from(&w.run(&[
            "pull",
            &reference,
            "--key",
            &key,
            "-o",
            out.to_str().unwrap(),
        ]))
        .expect(0)
        .stdout_has(&["verified fib 1.0.0 for sp1"]);
        std::fs::remove_file(&out).unwrap();
        Run::from(&w.run(&["inspect", &reference, "--key", &key]))
            .expect(0)
            .stdout_has(&["verdict    verified: the policy accepts it"]);
        Run::from(&w.run(&[
            "verify",
            elf.to_str().unwrap(),
            "--key",
            &key,
            "--guest",
            "fib",
        ]))
        .expect(0)
        .stdout_has(&["verified `"]);
    }

    // Another key, in either form, does not count: exit 1 everywhere.
    let stranger = minisign_tool::generate(w.dir.path(), "stranger", None);
    let other = stranger.public_base64();
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
        let run = Run::from(&w.run(&args));
        run.expect(1);
        assert!(
            run.stderr.contains(&untrusted) || run.stdout.contains(&untrusted),
            "{args:?}: {run:?}"
        );
    }
    assert!(!w.path("fresh").exists());
    assert_nothing_written(&w.path("out"));

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
        Run::from(&w.run(&args)).expect(2).stderr_has(&[
            "error: `--key RWnotakey` is neither a public key file nor a minisign public key",
            "hint: give a `.pub` file or its base64 line (`RW…`, the second line of the file)",
        ]);
    }
    assert!(!w.path("fresh").exists());
    assert_nothing_written(&w.path("out"));
}
