//! A newcomer's first hour (issue 21): every common mistake gets a message naming the fix, the
//! policy is found by one rule wherever one stands, and `inspect` shows an artifact without
//! trust. Each message is a snapshot, and nothing is written by a refused run.

mod dist_common;

use std::path::Path;

use dist_common::World;
use zkelf_testsupport::cli::{Output, Tree, Zkelf};
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::policy::{Key, PolicyFile};
use zkelf_testsupport::{assert_cli_snapshot, rejects};

/// `zkelf <args>` in `world`'s directory (or `cwd` under it), isolated, with `env`.
fn zkelf(world: &World, cwd: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
        .isolated(world.dir.path())
        .current_dir(world.path(cwd))
        .args(args)
        .envs(env)
        .run()
}

/// A world with `fib 1.0.0` for `sp1` published into the layout `oci/`.
fn published() -> World {
    let world = World::new();
    let dist = world.dist("fib", "1.0.0", "sp1", Class::Elf32, "fib\n");
    world.publish_layout(&dist, "oci");
    world
}

fn out_tree(world: &World) -> Tree {
    Tree::of(&[world.path("out"), world.path("state")])
}

#[test]
fn keys_given_the_wrong_way_round() {
    let world = World::new();
    ElfSpec::new(Class::Elf32)
        .message("fib\n")
        .write_to(&world.path("fib.elf"))
        .unwrap();
    zkelf(
        &world,
        "",
        &["keygen", "--out", "keys", "--name", "rel", "--unencrypted"],
        &[],
    )
    .assert_exit(0);
    let sign = [
        "sign",
        "fib.elf",
        "--key",
        "keys/rel.pub",
        "--guest",
        "fib",
        "--version",
        "1.0.0",
        "--zkvm",
        "sp1",
    ];
    rejects!(
        Tree::of(&[world.path("fib.elf.minisig")]),
        "sign_with_the_public_key",
        2,
        || zkelf(&world, "", &sign, &[])
    );
    rejects!(out_tree(&world), "verify_with_the_secret_key", 2, || zkelf(
        &world,
        "",
        &["verify", "fib.elf", "--key", "keys/rel.key"],
        &[]
    ));
}

#[test]
fn references_that_name_nothing() {
    let world = published();
    let policy = world.policy.to_str().unwrap().to_owned();
    let pull = |reference: &str, output: &str| {
        zkelf(
            &world,
            "",
            &["pull", reference, "-o", output, "--policy", &policy],
            &[],
        )
    };
    rejects!(
        out_tree(&world),
        "a_layout_directory_that_does_not_exist",
        2,
        || { pull("oci-layout:ocii:1.0.0", "out/fib.elf") }
    );
    rejects!(out_tree(&world), "a_reference_without_a_tag", 2, || {
        pull("oci-layout:oci", "out/fib.elf")
    });
    rejects!(out_tree(&world), "a_path_instead_of_oci_layout", 2, || {
        pull("./oci:1.0.0", "out/fib.elf")
    });
    rejects!(
        out_tree(&world),
        "an_output_in_a_directory_that_does_not_exist",
        2,
        || { pull("oci-layout:oci:1.0.0", "nodir/fib.elf") }
    );
    assert!(!world.path("nodir").exists());
    pull("oci-layout:oci:1.0.0-sp1", "out/fib.elf").assert_exit(0);
}

/// Progress bars are drawn on a terminal only (`script` gives the run one) and follow `--color`
/// as the messages do: colored under `always` (even with `NO_COLOR`) and `auto` on a terminal,
/// plain under `never` and `auto` with `NO_COLOR`.
#[test]
fn progress_bars_follow_color() {
    let world = World::new();
    let spec = ElfSpec::new(Class::Elf32).padding(2 << 20);
    let dist = world.dist_spec("big", "1.0.0", "sp1", spec);
    let oci = world.publish_layout(&dist, "oci");
    let cyan = "\x1b[36m";
    let mut run = 0;
    let mut pull = |color: &str, no_color: Option<&str>| {
        run += 1;
        // A fresh cache each time: a cached blob is not downloaded, so it gets no bar.
        let cache = world.path(&format!("cache-{run}"));
        let command = format!(
            "{} --color {color} pull oci-layout:{}:1.0.0-sp1 -o {} --policy {}",
            env!("CARGO_BIN_EXE_zkelf"),
            oci.display(),
            world.path(&format!("out/big-{run}.elf")).display(),
            world.policy.display(),
        );
        let mut script = std::process::Command::new("script");
        script
            .args(["-qec", &command, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TERM", "xterm")
            .env("HOME", world.path("home"))
            .env("ZKELF_STATE_DIR", world.path("state"))
            .env("ZKELF_CACHE_DIR", cache)
            .current_dir(world.dir.path());
        if let Some(value) = no_color {
            script.env("NO_COLOR", value);
        }
        let out = script
            .output()
            .expect("`script` (Debian package `bsdutils`) gives the run a terminal");
        let transcript = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{transcript}");
        assert!(
            transcript.contains("MiB"),
            "no progress bar was drawn: {transcript:?}"
        );
        transcript.contains(cyan)
    };
    assert!(pull("always", Some("1")));
    assert!(pull("auto", None));
    assert!(!pull("auto", Some("1")));
    assert!(!pull("never", None));
}

/// Tags `tag` in the layout `oci/` as another name for `latest`.
fn tag_latest(world: &World, tag: &str) {
    let path = world.path("oci/index.json");
    let mut index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let manifests = index["manifests"].as_array_mut().unwrap();
    let mut latest = manifests
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap()
        .clone();
    latest["annotations"]["org.opencontainers.image.ref.name"] = "latest".into();
    manifests.push(latest);
    std::fs::write(&path, serde_json::to_vec(&index).unwrap()).unwrap();
}

/// A reference without a tag that finds `latest` says so (human mode, not `-q`), and pulls it.
#[test]
fn a_reference_without_a_tag_says_it_uses_latest() {
    let world = published();
    tag_latest(&world, "1.0.0");
    let policy = world.policy.to_str().unwrap().to_owned();
    let pull = |extra: &[&str], output: &str| {
        let mut args = extra.to_vec();
        args.extend(["pull", "oci-layout:oci", "-o", output, "--policy", &policy]);
        zkelf(&world, "", &args, &[])
    };
    let out = pull(&[], "out/fib.elf");
    assert_cli_snapshot!("a_reference_without_a_tag_uses_latest", out.assert_exit(0));
    out.stderr_has(&["note: no tag given: using `latest`\n"]);
    for quiet in [&["-q"][..], &["--json"]] {
        let out = pull(quiet, "out/fib-quiet.elf");
        out.assert_exit(0);
        assert!(!out.stderr.contains("latest"), "{}", out.text());
    }
    // A tagged reference gets no note.
    let tagged = zkelf(
        &world,
        "",
        &["inspect", "oci-layout:oci:1.0.0", "--policy", &policy],
        &[],
    );
    assert!(!tagged.assert_exit(0).stderr.contains("latest"));
    let untagged = zkelf(
        &world,
        "",
        &["inspect", "oci-layout:oci", "--policy", &policy],
        &[],
    );
    untagged
        .assert_exit(0)
        .stderr_has(&["note: no tag given: using `latest`"]);
}

/// `-vv` shows debug traces on stderr (the blob cache's look-up of a pull from a layout);
/// without it, or with one `-v`, there are none.
#[test]
fn debug_traces_with_vv_only() {
    let world = published();
    let policy = world.policy.to_str().unwrap().to_owned();
    let pull = |verbose: &[&str], output: &str| {
        let mut args = verbose.to_vec();
        let reference = "oci-layout:oci:1.0.0-sp1";
        args.extend(["pull", reference, "-o", output, "--policy", &policy]);
        zkelf(&world, "", &args, &[])
    };
    let traced = pull(&["-vv"], "out/a.elf");
    traced.assert_exit(0);
    let lines: Vec<&str> = traced
        .stderr
        .lines()
        .filter(|l| l.contains("DEBUG"))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("zkelf_registry") && l.contains("blob cache")),
        "{}",
        traced.text()
    );
    // No time stamps, and no colors with `NO_COLOR` (the harness sets it).
    assert!(!traced.stderr.contains('\x1b'), "{}", traced.text());
    for quiet in [&[][..], &["-v"]] {
        let out = pull(quiet, "out/b.elf");
        out.assert_exit(0);
        assert!(!out.stderr.contains("DEBUG"), "{quiet:?}: {}", out.text());
    }
}

#[test]
fn usage_errors() {
    let world = World::new();
    assert_cli_snapshot!("no_command", zkelf(&world, "", &[], &[]).assert_exit(2));
    let json = zkelf(&world, "", &["--json", "pull"], &[]);
    assert_cli_snapshot!("json_missing_arguments", json.assert_exit(2));
    let doc = json.json(2);
    assert_eq!(doc["error"]["kind"], "usage");
    assert!(!json.stdout.contains("Usage:"), "{}", json.stdout);
    let bad = zkelf(
        &world,
        "",
        &["--json", "pull", "x", "-o", "y", "--max-size", "1Q"],
        &[],
    );
    assert_cli_snapshot!("json_invalid_value", bad.assert_exit(2));
}

/// An argument that is not UTF-8 is a usage error naming its bytes (exit 2, the JSON error
/// document with `--json`), never a panic (exit 101).
#[test]
fn an_argument_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt as _;
    let world = World::new();
    let bad = std::ffi::OsStr::from_bytes(b"oci-layout:\xffoci:1.0.0");
    let run = |json: bool| {
        let mut zkelf = Zkelf::new(env!("CARGO_BIN_EXE_zkelf")).isolated(world.dir.path());
        if json {
            zkelf = zkelf.arg("--json");
        }
        zkelf.arg("pull").arg(bad).args(["-o", "out/fib.elf"]).run()
    };
    rejects!(out_tree(&world), "an_argument_not_utf8", 2, || run(false));
    let json = rejects!(out_tree(&world), "json_argument_not_utf8", 2, || run(true));
    let doc = json.json(2);
    assert_eq!(doc["error"]["kind"], "usage");
    assert_eq!(
        doc["error"]["message"],
        "argument `oci-layout:\\xffoci:1.0.0` is not valid UTF-8"
    );
    // As a command's name too.
    let command = Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
        .isolated(world.dir.path())
        .arg(std::ffi::OsStr::from_bytes(b"pu\xffl"))
        .run();
    command.assert_exit(2);
}

/// `--color` decides for clap's own errors as for zkelf's: `always` colors even into a pipe
/// and with `NO_COLOR` set (the harness sets `NO_COLOR=1`), `never` and the default (stderr is
/// not a terminal here) do not.
#[test]
fn color_choice_reaches_every_error() {
    let world = World::new();
    let escapes = |args: &[&str], env: &[(&str, &str)]| {
        let out = zkelf(&world, "", args, env);
        out.assert_exit(2);
        out.stderr.contains('\x1b')
    };
    let usage = ["pull"];
    let command = ["verify", "missing.elf", "--key", "missing.pub"];
    for args in [&usage[..], &command[..]] {
        let with = |color: &[&'static str]| [color, args].concat();
        assert!(escapes(&with(&["--color", "always"]), &[]), "{args:?}");
        assert!(escapes(&with(&["--color=always"]), &[]), "{args:?}");
        assert!(!escapes(&with(&["--color", "never"]), &[]), "{args:?}");
        assert!(!escapes(args, &[]), "{args:?}");
        assert!(!escapes(args, &[("NO_COLOR", "")]), "{args:?}");
        // After `--` it is an operand, not the flag.
        assert!(!escapes(&[args, &["--", "--color=always"]].concat(), &[]));
    }
    // The flag's value where the flag is wrong: clap's own error, uncolored by default.
    assert!(!escapes(&["--color", "sometimes", "pull"], &[]));
}

/// A policy trusting the world's release key, written at `path`.
fn trusting(world: &World, path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    PolicyFile::new()
        .key(Key::release("test-release", &world.key.public_base64()))
        .require(1, 0)
        .write(path);
}

#[test]
fn one_policy_rule_from_anywhere() {
    let world = published();
    std::fs::create_dir_all(world.path("deep/sub/dir")).unwrap();
    let layout = format!("oci-layout:{}:1.0.0-sp1", world.path("oci").display());
    let pull = |cwd: &str, extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["pull", &layout, "-o", "fib.elf"];
        args.extend_from_slice(extra);
        zkelf(&world, cwd, &args, env)
    };
    // Nowhere: the error says where it looked.
    rejects!(out_tree(&world), "pull_without_any_policy", 2, || {
        pull("deep/sub/dir", &[], &[])
    });
    // The user default, from a subdirectory.
    let config = world.path("config");
    trusting(&world, &config.join("zkelf/policy.toml"));
    let xdg = [("XDG_CONFIG_HOME", config.to_str().unwrap())];
    pull("deep/sub/dir", &[], &xdg).assert_exit(0);
    // `ZKELF_POLICY` outranks the user default; a missing file is an error, not a fall-through.
    let missing = world.path("missing.toml");
    let env = [xdg[0], ("ZKELF_POLICY", missing.to_str().unwrap())];
    rejects!(
        out_tree(&world),
        "zkelf_policy_that_does_not_exist",
        2,
        || { pull("deep", &[], &env) }
    );
    let good = [xdg[0], ("ZKELF_POLICY", world.policy.to_str().unwrap())];
    std::fs::remove_dir_all(&config).unwrap();
    pull("deep/sub", &[], &good).assert_exit(0);
    // `--key` outranks `ZKELF_POLICY`; `--policy` and `--key` together are a usage error.
    let key = world.key.public_base64();
    pull("deep", &["--key", &key], &env).assert_exit(0);
    let policy = world.policy.to_str().unwrap();
    rejects!(out_tree(&world), "policy_and_key_together", 2, || {
        pull("deep", &["--policy", policy, "--key", &key], &[])
    });
}

/// `verify` and `inspect` find the policy by the same rule as `pull`, from a subdirectory:
/// nothing (an error saying where it looked; `inspect` shows the artifact "not judged"), the
/// user default, `ZKELF_POLICY` (a missing file an error), `--key` before it.
#[test]
fn one_policy_rule_for_verify_and_inspect() {
    let world = published();
    let cwd = "deep/sub/dir";
    std::fs::create_dir_all(world.path(cwd)).unwrap();
    let layout = format!("oci-layout:{}:1.0.0-sp1", world.path("oci").display());
    let elf = world.path("dist/fib/1.0.0/fib-sp1.elf");
    let elf = elf.to_str().unwrap();
    let verify = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["verify", elf, "--guest", "fib"];
        args.extend_from_slice(extra);
        zkelf(&world, cwd, &args, env)
    };
    let inspect = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["inspect", &layout];
        args.extend_from_slice(extra);
        zkelf(&world, cwd, &args, env)
    };
    // `inspect --json`'s `judged`, which must exit 0.
    let judged = |extra: &[&str], env: &[(&str, &str)]| {
        inspect(&[&["--json"], extra].concat(), env).json(0)["judged"] == true
    };
    rejects!(out_tree(&world), "verify_without_any_policy", 2, || {
        verify(&[], &[])
    });
    assert!(!judged(&[], &[]));

    let config = world.path("config");
    trusting(&world, &config.join("zkelf/policy.toml"));
    let xdg = [("XDG_CONFIG_HOME", config.to_str().unwrap())];
    verify(&[], &xdg).assert_exit(0);
    assert!(judged(&[], &xdg));

    let missing = world.path("missing.toml");
    let env = [xdg[0], ("ZKELF_POLICY", missing.to_str().unwrap())];
    rejects!(
        out_tree(&world),
        "verify_zkelf_policy_that_does_not_exist",
        2,
        || verify(&[], &env)
    );
    rejects!(
        out_tree(&world),
        "inspect_zkelf_policy_that_does_not_exist",
        2,
        || inspect(&[], &env)
    );
    let key = world.key.public_base64();
    verify(&["--key", &key], &env).assert_exit(0);
    assert!(judged(&["--key", &key], &env));
}

#[test]
fn inspect_without_trust_is_not_judged() {
    let world = published();
    let out = zkelf(&world, "", &["inspect", "oci-layout:oci:1.0.0-sp1"], &[]);
    assert_cli_snapshot!("inspect_not_judged", out.assert_exit(0));
    let json = zkelf(
        &world,
        "",
        &["--json", "inspect", "oci-layout:oci:1.0.0-sp1"],
        &[],
    );
    let doc = json.json(0);
    assert_eq!(doc["judged"], false);
    assert_eq!(doc["verified"], false);
    assert!(doc["signatures"][0]["counts_for"].is_null());
    let policy = world.policy.to_str().unwrap();
    let judged = zkelf(
        &world,
        "",
        &[
            "--json",
            "inspect",
            "oci-layout:oci:1.0.0-sp1",
            "--policy",
            policy,
        ],
        &[],
    );
    assert_eq!(judged.json(0)["judged"], true);
}

/// `attest` without `-o` or `--push` writes `<guest>-<zkvm>.<keyid>.<kind>.minisig` in the
/// current directory (what its `--help` says), a signature plain minisign accepts.
#[test]
fn attest_writes_its_default_file() {
    let world = published();
    zkelf(
        &world,
        "",
        &[
            "keygen",
            "--out",
            "keys",
            "--name",
            "second",
            "--unencrypted",
        ],
        &[],
    )
    .assert_exit(0);
    let out = zkelf(
        &world,
        "",
        &[
            "--json",
            "attest",
            "oci-layout:oci:1.0.0-sp1",
            "--key",
            "keys/second.key",
        ],
        &[],
    );
    let report = out.json(0);
    let key_id = report["key_id"].as_str().unwrap();
    let name = format!("fib-sp1.{key_id}.release.minisig");
    assert_eq!(report["output"], name.as_str(), "{report}");
    let comment = zkelf_testsupport::minisign_tool::verified_trusted_comment(
        &world.path("keys/second.pub"),
        &world.path("dist/fib/1.0.0/fib-sp1.elf"),
        &world.path(&name),
    )
    .expect("minisign verifies the attestation");
    assert!(
        comment.starts_with("zkelf/1 kind=release guest=fib version=1.0.0 zkvm=sp1 "),
        "{comment}"
    );
}

#[test]
fn a_native_binary_is_signed_with_its_target() {
    let world = World::new();
    ElfSpec::new(Class::Elf64)
        .machine(zkelf_testsupport::elf::EM_X86_64)
        .write_to(&world.path("zkelf-x86"))
        .unwrap();
    zkelf(
        &world,
        "",
        &["keygen", "--out", "keys", "--name", "dist", "--unencrypted"],
        &[],
    )
    .assert_exit(0);
    let sign = [
        "sign",
        "zkelf-x86",
        "--key",
        "keys/dist.key",
        "--guest",
        "zkelf",
        "--version",
        "0.1.0",
        "--zkvm",
        "native",
    ];
    rejects!(
        Tree::of(&[world.path("zkelf-x86.minisig")]),
        "native_without_a_target",
        2,
        || zkelf(&world, "", &sign, &[])
    );
    let mut with_target = sign.to_vec();
    with_target.extend(["--target", "x86_64-unknown-linux-musl"]);
    zkelf(&world, "", &with_target, &[]).assert_exit(0);
    let verify = [
        "verify",
        "zkelf-x86",
        "--key",
        "keys/dist.pub",
        "--guest",
        "zkelf",
        "--zkvm",
        "native",
    ];
    zkelf(&world, "", &verify, &[]).assert_exit(0);
}
