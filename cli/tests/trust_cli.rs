//! `zkelf keygen`, `sign` and `verify` driven through the real binary: the happy paths and every
//! bad input of issue 2, each asserting the exit code, that the error names the object and the
//! cause, and that no file was created or changed.

mod trust_support;

use trust_support::{Fixture, GUEST, VERSION, ZKVM, release_statement};
use zkelf_testsupport::assert_cli_snapshot;
use zkelf_testsupport::elf::{Class, EM_X86_64, ElfSpec};
use zkelf_testsupport::minisign_tool;
use zkelf_testsupport::policy::{Key, PolicyFile};

/// Guest, version and zkVM of the signatures made with `sign_file` below.
const FIB_100: [&str; 3] = ["fib", "1.0.0", "sp1"];

/// The default fixture with `fib.elf` signed by `rel`.
fn signed() -> Fixture {
    let fx = Fixture::new();
    fx.sign("rel", &[]).assert_exit(0);
    fx
}

/// `zkelf keygen` of the encrypted key pair `keys/enc` with `password`.
fn keygen_encrypted(fx: &Fixture, password: &str) {
    fx.zkelf_env(
        &["keygen", "--out", "keys", "--name", "enc"],
        &[("ZKELF_PASSWORD", password)],
    )
    .assert_exit(0);
}

/// `zkelf sign fib.elf --key keys/enc.key` as `FIB_100`, plus `extra`.
fn sign_enc(fx: &Fixture, extra: &[&str], env: &[(&str, &str)]) -> trust_support::Output {
    fx.sign_file("fib.elf", "keys/enc.key", FIB_100, extra, env)
}

#[test]
fn sign_then_verify_prints_the_statement() {
    let fx = Fixture::new();
    let run = fx.sign("rel", &[]);
    run.assert_exit(0)
        .stdout_has(&["fib.elf.minisig", "guest       fib"]);
    let sig = String::from_utf8(fx.read("fib.elf.minisig")).unwrap();
    let comment = sig.lines().nth(2).unwrap();
    assert!(
        comment.starts_with("trusted comment: zkelf/1 kind=release guest=fib version=1.2.3 zkvm=sp1 target=riscv32im-unknown-none-elf sha256="),
        "{comment}"
    );
    assert!(
        comment.ends_with(" provenance=- vk=- created=1700000000"),
        "{comment}"
    );
    // No temporary file left next to it.
    let leftovers: Vec<_> = std::fs::read_dir(fx.root())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".zkelf-"))
        .collect();
    assert!(leftovers.is_empty());

    fx.verify_with_key(
        "rel",
        &["--guest", GUEST, "--version", VERSION, "--zkvm", ZKVM],
    )
    .assert_exit(0)
    .stdout_has(&[
        "verified `fib.elf`",
        "guest       fib",
        "version     1.2.3",
        "zkvm        sp1",
        "target      riscv32im-unknown-none-elf",
        &format!("signed by   {}", fx.key_id("rel")),
    ]);
}

#[test]
fn verify_json_is_one_document() {
    let fx = signed();
    let run = fx.verify_with_key("rel", &["--json"]);
    run.assert_exit(0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let verdict = &doc["verdict"];
    assert_eq!(verdict["verified"], true);
    assert_eq!(verdict["statement"]["guest"], GUEST);
    assert_eq!(verdict["statement"]["version"], VERSION);
    assert_eq!(verdict["unbound"], false);
    assert_eq!(verdict["signatures"][0]["key_id"], fx.key_id("rel"));
    assert_eq!(verdict["signatures"][0]["counts_for"], "release");

    fx.write("fib.elf", b"\x7fELF changed");
    let run = fx.verify_with_key("rel", &["--json"]);
    run.assert_exit(1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["error"]["exit_code"], 1);
    assert_eq!(doc["error"]["kind"], "verification");
    // A failure carries the success's verdict shape, `verified: false`.
    let verdict = &doc["error"]["verdict"];
    assert_eq!(verdict["verified"], false);
    let check = &verdict["signatures"][0];
    assert_eq!(check["origin"], "fib.elf.minisig");
    assert_eq!(check["key_id"], fx.key_id("rel"));
    assert!(check["reason"].is_string(), "{check}");
    assert!(check["counts_for"].is_null());
}

#[test]
fn sign_binds_provenance_and_vk_and_verify_checks_them() {
    let fx = Fixture::new();
    fx.write(
        "provenance.json",
        b"{\"predicateType\":\"https://slsa.dev/provenance/v1\"}",
    );
    fx.write("vk.bin", b"verification key");
    fx.sign(
        "rel",
        &["--provenance", "provenance.json", "--vk", "vk.bin"],
    )
    .assert_exit(0);
    fx.verify_with_key(
        "rel",
        &["--provenance", "provenance.json", "--vk", "vk.bin"],
    )
    .assert_exit(0)
    .stdout_has(&[
        "provenance  matches the file given",
        "vk          matches the file given",
    ]);
    fx.verify_with_key("rel", &[])
        .assert_exit(0)
        .stdout_has(&["not checked (no file given)"]);
    fx.write("other.json", b"{}");
    fx.rejects(
        "sign_binds_provenance_and_vk_and_verify_checks_them",
        1,
        || fx.verify_with_key("rel", &["--provenance", "other.json"]),
    );
}

#[test]
fn encrypted_keys_take_the_password_from_env_or_file() {
    let fx = Fixture::new();
    keygen_encrypted(&fx, "hunter22");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(fx.path("keys/enc.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let key_text = std::fs::read_to_string(fx.path("keys/enc.key")).unwrap();
    assert!(key_text.contains("encrypted secret key"));

    fx.write("pw.txt", "hunter22\n");
    fx.sign("enc", &["--password-file", "pw.txt"])
        .assert_exit(0);
    std::fs::remove_file(fx.path("fib.elf.minisig")).unwrap();
    sign_enc(&fx, &[], &[("ZKELF_PASSWORD", "hunter22")]).assert_exit(0);
    fx.verify_with_key("enc", &[]).assert_exit(0);
}

#[test]
fn wrong_password_writes_nothing() {
    let fx = Fixture::new();
    keygen_encrypted(&fx, "right");
    fx.rejects("wrong_password_writes_nothing", 2, || {
        sign_enc(&fx, &[], &[("ZKELF_PASSWORD", "wrong")])
    });
    // No terminal and no password: a clear usage error, not a hang.
    fx.rejects("wrong_password_writes_nothing_2", 2, || {
        sign_enc(&fx, &[], &[])
    });
}

#[test]
fn secrets_never_reach_the_output() {
    let fx = Fixture::new();
    let run = fx.zkelf_env(
        &["keygen", "--out", "keys", "--name", "enc", "--json"],
        &[("ZKELF_PASSWORD", "s3cret-pass")],
    );
    run.assert_exit(0);
    let secret_line = std::fs::read_to_string(fx.path("keys/enc.key")).unwrap();
    let secret_line = secret_line.lines().nth(1).unwrap();
    for out in [&run.stdout, &run.stderr] {
        assert!(!out.contains("s3cret-pass"));
        assert!(!out.contains(secret_line));
    }
    let run = sign_enc(&fx, &["-v"], &[("ZKELF_PASSWORD", "s3cret-wrong")]);
    run.assert_exit(2);
    assert!(!run.stderr.contains("s3cret-wrong") && !run.stdout.contains("s3cret-wrong"));
}

#[test]
fn keygen_refuses_to_overwrite() {
    let fx = Fixture::new();
    let keygen = ["keygen", "--out", "keys", "--name", "rel", "--unencrypted"];
    fx.rejects("keygen_refuses_to_overwrite", 2, || fx.zkelf(&keygen));
    // Only the secret half present: still neither file is written.
    std::fs::remove_file(fx.path("keys/rel.pub")).unwrap();
    fx.rejects("keygen_refuses_to_overwrite_2", 2, || fx.zkelf(&keygen));
}

#[test]
fn keygen_without_password_source_or_terminal_fails_cleanly() {
    let fx = Fixture::new();
    fx.rejects(
        "keygen_without_password_source_or_terminal_fails_cleanly",
        2,
        || fx.zkelf(&["keygen", "--out", "keys", "--name", "new"]),
    );
}

#[test]
fn flipped_byte_fails() {
    let fx = signed();
    let mut elf = fx.read("fib.elf");
    let last = elf.len() - 1;
    elf[last] ^= 1;
    fx.write("fib.elf", &elf);
    fx.rejects("flipped_byte_fails", 1, || fx.verify_with_key("rel", &[]));
}

#[test]
fn truncated_elf_fails() {
    let fx = signed();
    let elf = fx.read("fib.elf");
    fx.write("fib.elf", &elf[..elf.len() / 2]);
    fx.rejects("truncated_elf_fails", 1, || fx.verify_with_key("rel", &[]));
}

#[test]
fn signature_by_another_key_fails() {
    let fx = signed();
    fx.keygen_unencrypted("other");
    fx.rejects("signature_by_another_key_fails", 1, || {
        fx.verify_with_key("other", &[])
    });
}

fn policy_with(fx: &Fixture, policy: PolicyFile) {
    policy.write(&fx.path("keys/policy.toml"));
}

/// The release key `rel` (`keys/rel.pub`, next to the policy).
fn rel() -> Key {
    Key::file("rel", "rel.pub", &["release"])
}

fn verify_policy(fx: &Fixture, extra: &[&str]) -> trust_support::Output {
    let mut args = vec!["verify", "fib.elf", "--policy", "keys/policy.toml"];
    args.extend_from_slice(extra);
    fx.zkelf(&args)
}

/// Writes `policy` and asserts that verifying under it exits 1 (the snapshot `name`) and writes
/// nothing.
#[track_caller]
fn policy_refuses(fx: &Fixture, name: &str, policy: PolicyFile) {
    policy_with(fx, policy);
    fx.rejects(name, 1, || verify_policy(fx, &[]));
}

#[test]
fn policy_accepts_listed_keys_by_file_and_inline() {
    let fx = signed();
    policy_with(
        &fx,
        PolicyFile::new().key(rel().guests(["fi*"]).not_after("2999-12-31")),
    );
    verify_policy(&fx, &[])
        .assert_exit(0)
        .stdout_has(&["(rel) for release"]);
    policy_with(
        &fx,
        PolicyFile::new().key(Key::public(
            "inline",
            &fx.public_base64("rel"),
            &["release", "rebuild"],
        )),
    );
    verify_policy(&fx, &[]).assert_exit(0);
}

#[test]
fn key_the_policy_does_not_list_fails() {
    let fx = signed();
    fx.keygen_unencrypted("other");
    policy_refuses(
        &fx,
        "key_the_policy_does_not_list_fails",
        PolicyFile::new().key(Key::file("other", "other.pub", &["release"])),
    );
}

#[test]
fn revoked_key_fails() {
    let fx = signed();
    fx.keygen_unencrypted("spare");
    policy_refuses(
        &fx,
        "revoked_key_fails",
        PolicyFile::new()
            .revoke(fx.key_id("rel"))
            .key(rel())
            .key(Key::file("spare", "spare.pub", &["release"])),
    );
}

#[test]
fn role_or_guest_not_covered_fails() {
    let fx = signed();
    fx.keygen_unencrypted("rb");
    policy_refuses(
        &fx,
        "role_or_guest_not_covered_fails",
        PolicyFile::new()
            .key(Key::file("rel", "rel.pub", &["rebuild"]))
            .key(Key::file("rb", "rb.pub", &["release"])),
    );

    policy_refuses(
        &fx,
        "role_or_guest_not_covered_fails_2",
        PolicyFile::new().key(rel().guests(["validator-*"])),
    );
}

#[test]
fn expired_key_fails() {
    // A second, live key keeps the policy satisfiable; one whose only keys expired is refused
    // at load (`trust_local_inputs.rs`).
    let fx = signed();
    fx.keygen_unencrypted("next");
    policy_refuses(
        &fx,
        "expired_key_fails",
        PolicyFile::new()
            .key(rel().not_after("2020-01-31"))
            .key(Key::file("next", "next.pub", &["release"])),
    );
}

#[test]
fn asked_guest_version_zkvm_must_match() {
    let fx = signed();
    let before = fx.tree();
    for (flag, value, field) in [
        ("--guest", "fob", "guest"),
        ("--version", "1.2.4", "version"),
        ("--zkvm", "risc0", "zkvm"),
    ] {
        let signed_value = match field {
            "guest" => GUEST,
            "version" => VERSION,
            _ => ZKVM,
        };
        let out = fx.verify_with_key("rel", &[flag, value]);
        out.assert_exit(1)
            .stderr_has(&[&format!("`{signed_value}`")]);
        assert_cli_snapshot!(format!("asked_{field}_must_match"), out);
    }
    before.assert_unchanged();
}

#[test]
fn statement_sha256_or_size_differing_from_the_bytes_fails() {
    let fx = Fixture::new();
    let tool = minisign_tool::generate(fx.root(), "tool", None);
    let elf = fx.read("fib.elf");
    let actual = zkelf_trust::digest::ContentDigests::of(&elf);
    let wrong_sha = zkelf_trust::digest::Sha256Digest::of(b"another guest");
    for (sha, size, case) in [
        (wrong_sha.to_string(), elf.len() as u64, "sha256"),
        (actual.sha256.to_string(), elf.len() as u64 + 1, "size"),
    ] {
        fx.tool_sign(&tool, &release_statement(sha, size), false);
        let key = tool.public.to_str().unwrap();
        fx.rejects(
            &format!("statement_{case}_differing_from_the_bytes_fails"),
            1,
            || fx.zkelf(&["verify", "fib.elf", "--key", key]),
        );
    }
}

#[test]
fn malformed_statement_is_rejected_not_guessed() {
    let fx = Fixture::new();
    let tool = minisign_tool::generate(fx.root(), "tool", None);
    fx.tool_sign(
        &tool,
        "zkelf/1 kind=release guest=fib  version=1.2.3",
        false,
    );
    let key = tool.public.to_str().unwrap();
    // Not even `--allow-unbound` makes a broken statement count.
    assert_cli_snapshot!(
        "malformed_statement_is_rejected_not_guessed",
        fx.zkelf(&["verify", "fib.elf", "--key", key, "--allow-unbound"])
            .assert_exit(1)
    );
}

#[test]
fn legacy_signature_is_refused_unless_allowed() {
    let fx = Fixture::new();
    let tool = minisign_tool::generate(fx.root(), "tool", None);
    fx.tool_sign(&tool, &fx.statement(), true);
    let key = tool.public.to_str().unwrap();
    fx.rejects("legacy_signature_is_refused_unless_allowed", 1, || {
        fx.zkelf(&["verify", "fib.elf", "--key", key])
    });
    fx.zkelf(&["verify", "fib.elf", "--key", key, "--allow-legacy"])
        .assert_exit(0)
        .stdout_has(&["guest       fib"]);
}

#[test]
fn garbage_or_empty_signature_fails() {
    let fx = signed();
    for (content, case) in [
        (&b""[..], "empty"),
        (&b"this is not a signature\n"[..], "not_four_lines"),
        (&b"\xff\xfe\x00garbage"[..], "not_utf8"),
    ] {
        fx.write("fib.elf.minisig", content);
        fx.rejects(&format!("signature_{case}_fails"), 1, || {
            fx.verify_with_key("rel", &[])
        });
    }
}

#[test]
fn missing_files_are_errors_not_verification_failures() {
    let fx = signed();
    let before = fx.tree();
    assert_cli_snapshot!(
        "missing_files_are_errors_not_verification_failures",
        fx.zkelf(&[
            "verify",
            "nope.elf",
            "--key",
            "keys/rel.pub",
            "--sig",
            "fib.elf.minisig",
        ])
        .assert_exit(2)
    );
    assert_cli_snapshot!(
        "missing_files_are_errors_not_verification_failures_2",
        fx.zkelf(&[
            "verify",
            "fib.elf",
            "--key",
            "keys/rel.pub",
            "--sig",
            "nope.minisig",
        ])
        .assert_exit(2)
    );
    assert_cli_snapshot!(
        "missing_files_are_errors_not_verification_failures_3",
        fx.zkelf(&["verify", "fib.elf", "--policy", "nope.toml"])
            .assert_exit(2)
    );
    let a_b = ["a", "1.0.0", "b"];
    assert_cli_snapshot!(
        "missing_files_are_errors_not_verification_failures_4",
        fx.sign_file("nope.elf", "keys/rel.key", a_b, &[], &[])
            .assert_exit(2)
    );
    assert_cli_snapshot!(
        "missing_files_are_errors_not_verification_failures_5",
        fx.sign_file("fib.elf", "keys/nope.key", a_b, &["-o", "x.minisig"], &[])
            .assert_exit(2)
    );
    before.assert_unchanged();
}

#[test]
fn invalid_policies_fail_at_load() {
    let fx = signed();
    let cases = [
        (
            PolicyFile::new().key(Key::file("rel", "rel.pub", &["deploy"])),
            vec![
                "key `rel` has unknown role `deploy`",
                "roles are `release` and `rebuild`",
            ],
        ),
        (
            PolicyFile::new().key(rel()).require(2, 0),
            vec![
                "can never be satisfied",
                "requires 2 release keys but lists 1",
            ],
        ),
        (
            PolicyFile::new().key(Key::release("rel", "RWQnotakey")),
            vec!["key `rel` is malformed", "not a minisign public key"],
        ),
        (
            PolicyFile::new().key(rel().raw("weight = 2")),
            vec!["is not a valid policy", "weight"],
        ),
    ];
    for (i, (policy, needles)) in cases.into_iter().enumerate() {
        policy_with(&fx, policy);
        // The needles say what each snapshot is about.
        fx.rejects(&format!("invalid_policy_{i}"), 2, || {
            verify_policy(&fx, &[])
        })
        .stderr_has(&needles);
    }
}

#[test]
fn sign_refuses_non_elf_x86_and_wrong_target() {
    let fx = Fixture::new();
    fx.write("notes.txt", b"just text, no ELF here");
    ElfSpec::new(Class::Elf64)
        .machine(EM_X86_64)
        .write_to(&fx.path("x86.elf"))
        .unwrap();
    let before = fx.tree();
    let sign = |elf: &str, extra: &[&str]| fx.sign_file(elf, "keys/rel.key", FIB_100, extra, &[]);
    assert_cli_snapshot!(
        "sign_refuses_non_elf_x86_and_wrong_target",
        sign("notes.txt", &[]).assert_exit(2)
    );
    assert_cli_snapshot!(
        "sign_refuses_non_elf_x86_and_wrong_target_2",
        sign("x86.elf", &[]).assert_exit(2)
    );
    assert_cli_snapshot!(
        "sign_refuses_non_elf_x86_and_wrong_target_3",
        sign("fib.elf", &["--target", "riscv64im-unknown-none-elf"]).assert_exit(2)
    );
    assert_cli_snapshot!(
        "sign_refuses_non_elf_x86_and_wrong_target_4",
        fx.sign_file("fib.elf", "keys/rel.key", ["fib", "1.0", "sp1"], &[], &[])
            .assert_exit(2)
    );
    assert_cli_snapshot!(
        "sign_refuses_non_elf_x86_and_wrong_target_5",
        fx.sign_file(
            "fib.elf",
            "keys/rel.key",
            ["Fib", "1.0.0", "sp1"],
            &["--target", "riscv32im-unknown-none-elf"],
            &[],
        )
        .assert_exit(2)
    );
    before.assert_unchanged();
}

#[test]
fn sign_infers_64_bit_targets_and_accepts_matching_ones() {
    let fx = Fixture::new();
    ElfSpec::new(Class::Elf64)
        .write_to(&fx.path("fib.elf"))
        .unwrap();
    fx.sign("rel", &[])
        .assert_exit(0)
        .stdout_has(&["target      riscv64im-unknown-none-elf"]);
    fx.sign("rel", &["--target", "riscv64imac-unknown-none-elf"])
        .assert_exit(0)
        .stdout_has(&["target      riscv64imac-unknown-none-elf"]);
}

#[test]
fn unbound_signatures_need_a_pinned_sha256_or_allow_unbound() {
    let fx = Fixture::new();
    let tool = minisign_tool::generate(fx.root(), "tool", None);
    // What GitHub releases of guests carry today: the file name as trusted comment.
    fx.tool_sign(&tool, "timestamp:1700000000\tfile:fib.elf", false);
    let key = tool.public.to_str().unwrap();
    let sha = zkelf_trust::digest::ContentDigests::of(&fx.read("fib.elf"))
        .sha256
        .to_string();
    assert_cli_snapshot!(
        "unbound_signatures_need_a_pinned_sha256_or_allow_unbound",
        fx.zkelf(&["verify", "fib.elf", "--key", key])
            .assert_exit(1)
    );
    fx.zkelf(&["verify", "fib.elf", "--key", key, "--sha256", &sha])
        .assert_exit(0)
        .stdout_has(&["UNBOUND", "nothing binds guest, version or zkVM"])
        .stderr_has(&["nothing binds guest, version or zkVM"]);
    let wrong = "0".repeat(64);
    assert_cli_snapshot!(
        "unbound_signatures_need_a_pinned_sha256_or_allow_unbound_2",
        fx.zkelf(&["verify", "fib.elf", "--key", key, "--sha256", &wrong])
            .assert_exit(1)
    );
    let run = fx.zkelf(&[
        "verify",
        "fib.elf",
        "--key",
        key,
        "--allow-unbound",
        "--json",
    ]);
    run.assert_exit(0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["verdict"]["unbound"], true);
    assert!(doc["verdict"]["statement"].is_null());
    assert_eq!(doc["verdict"]["pinned_by"], "allow_unbound");
}

#[test]
fn sign_output_is_atomic_and_replaces_an_old_signature_whole() {
    let fx = Fixture::new();
    fx.sign("rel", &["--output", "out.minisig"]).assert_exit(0);
    let first = fx.read("out.minisig");
    fx.zkelf(&[
        "verify",
        "fib.elf",
        "--key",
        "keys/rel.pub",
        "--sig",
        "out.minisig",
    ])
    .assert_exit(0);
    // A failing re-sign leaves the previous signature intact.
    fx.rejects(
        "sign_output_is_atomic_and_replaces_an_old_signature_whole",
        2,
        || {
            fx.sign(
                "rel",
                &[
                    "--output",
                    "out.minisig",
                    "--target",
                    "riscv64im-unknown-none-elf",
                ],
            )
        },
    );
    fx.sign("rel", &["--output", "out.minisig"]).assert_exit(0);
    fx.rejects(
        "sign_output_is_atomic_and_replaces_an_old_signature_whole_2",
        2,
        || fx.sign("rel", &["--output", "./fib.elf"]),
    );
    assert_ne!(first, fx.read("out.minisig"), "hedged signatures differ");
}

/// Runs `zkelf <args>` on a pseudo-terminal (util-linux `script`), typing `input`.
fn on_tty(fx: &Fixture, args: &str, input: &str) -> (i32, String) {
    use std::io::Write as _;
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_zkelf"));
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(fx.root())
        .env_remove("ZKELF_PASSWORD")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs commands on a pseudo-terminal");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn passwords_are_asked_on_the_terminal() {
    let fx = Fixture::new();
    let before = fx.tree();
    let (code, out) = on_tty(&fx, "keygen --out keys --name tty", "one\ntwo\n");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("the two passwords differ"), "{out}");
    before.assert_unchanged();

    let (code, out) = on_tty(&fx, "keygen --out keys --name tty", "tty-pass\ntty-pass\n");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("password for the new secret key") && out.contains("the same password again")
    );
    let (code, out) = on_tty(
        &fx,
        "sign fib.elf --key keys/tty.key --guest fib --version 1.2.3 --zkvm sp1",
        "tty-pass\n",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("password for `keys/tty.key`"), "{out}");
    fx.verify_with_key("tty", &[]).assert_exit(0);
}

#[test]
fn rebuild_attestations_count_toward_require_rebuild() {
    let fx = signed();
    fx.keygen_unencrypted("aud");
    let d = zkelf_trust::digest::ContentDigests::of(&fx.read("fib.elf"));
    let attestation = format!(
        "zkelf/1 kind=rebuild guest=fib version=1.2.3 zkvm=sp1 target=riscv32im-unknown-none-elf sha256={} size={} provenance=- vk=- builder=sha256:0123abcd created=1700000100",
        d.sha256, d.size
    );
    let auditor = fx.tool_view("aud", None);
    minisign_tool::sign(
        &auditor,
        &fx.path("fib.elf"),
        &fx.path("rebuild.minisig"),
        &attestation,
        false,
    );
    policy_with(
        &fx,
        PolicyFile::new()
            .key(rel())
            .key(Key::file("aud", "aud.pub", &["rebuild"]))
            .require(1, 1),
    );
    let before = fx.tree();
    assert_cli_snapshot!(
        "rebuild_attestations_count_toward_require_rebuild",
        verify_policy(&fx, &[]).assert_exit(1)
    );
    // The auditor's attestation does not make a release signature.
    assert_cli_snapshot!(
        "rebuild_attestation_is_not_a_release_signature",
        verify_policy(&fx, &["--sig", "rebuild.minisig"]).assert_exit(1)
    );
    verify_policy(
        &fx,
        &["--sig", "fib.elf.minisig", "--sig", "rebuild.minisig"],
    )
    .assert_exit(0)
    .stdout_has(&["(rel) for release", "(aud) for rebuild"]);
    verify_policy(
        &fx,
        &[
            "--sig",
            "fib.elf.minisig",
            "--sig",
            "fib.elf.minisig",
            "--sig",
            "rebuild.minisig",
        ],
    )
    .assert_exit(0)
    .stdout_has(&[
        "not counted `fib.elf.minisig`",
        "already counted for `release`",
    ]);
    before.assert_unchanged();
}

#[test]
fn help_names_every_flag_and_the_exit_codes() {
    let fx = Fixture::new();
    fx.zkelf(&["verify", "--help"]).assert_exit(0).stdout_has(&[
        "--sig <FILE>",
        "--policy <FILE>",
        "--key <PUB>",
        "--guest <GUEST>",
        "--version <VERSION>",
        "--zkvm <ZKVM>",
        "--provenance <FILE>",
        "--vk <FILE>",
        "--sha256 <HEX>",
        "--allow-unbound",
        "--allow-legacy",
        "Exit codes: 0 verified, 1 verification failed, 2 other error.",
    ]);
    fx.zkelf(&["sign", "--help"]).assert_exit(0).stdout_has(&[
        "--key <KEY>",
        "--target <TARGET>",
        "--output <FILE>",
        "--password-file <FILE>",
    ]);
    fx.zkelf(&["keygen", "--help"]).assert_exit(0).stdout_has(&[
        "--out <DIR>",
        "--name <NAME>",
        "--unencrypted",
    ]);
    assert_cli_snapshot!(
        "help_names_every_flag_and_the_exit_codes",
        fx.zkelf(&["verify", "fib.elf"]).assert_exit(2)
    );
}

/// A version no OCI tag can carry is refused at `sign` (exit 2, naming the rule), before
/// anything is signed: build metadata (`+`), or `<version>-<zkvm>` past 128 characters.
#[test]
fn sign_refuses_versions_no_tag_can_carry() {
    let fx = Fixture::new();
    let long = format!("1.0.0-{}", "a".repeat(119));
    for (name, version) in [
        ("sign_refuses_build_metadata", "1.0.0+build.1"),
        ("sign_refuses_a_tag_past_128_characters", long.as_str()),
    ] {
        fx.rejects(name, 2, || {
            fx.sign_file("fib.elf", "keys/rel.key", ["fib", version, "sp1"], &[], &[])
        });
    }
    // `1.0.0-<118 a>-sp1` is 128 characters: the longest tag, accepted.
    let longest = format!("1.0.0-{}", "a".repeat(118));
    fx.sign_file(
        "fib.elf",
        "keys/rel.key",
        ["fib", &longest, "sp1"],
        &[],
        &[],
    )
    .assert_exit(0);
}
