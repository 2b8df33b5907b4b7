//! Interop with the minisign C tool (Debian's `minisign` 0.11), both directions: its keys sign
//! through zkelf, it verifies zkelf's signatures and shows the statement, and zkelf verifies its
//! signatures of zkelf statements.

mod trust_support;

use trust_support::{Fixture, GUEST, VERSION, ZKVM};
use zkelf_testsupport::assert_cli_snapshot;
use zkelf_testsupport::minisign_tool::{self, ToolKeyPair};

/// `zkelf sign fib.elf` with the minisign tool's secret key and the default statement fields.
fn sign_with(fx: &Fixture, tool: &ToolKeyPair, env: &[(&str, &str)]) -> trust_support::Output {
    let key = tool.secret.to_str().unwrap();
    fx.sign_file("fib.elf", key, [GUEST, VERSION, ZKVM], &[], env)
}

#[test]
fn the_tool_verifies_zkelf_signatures_and_shows_the_statement() {
    let fx = Fixture::new();
    fx.sign("rel", &[]).assert_exit(0);
    let sig = fx.path("fib.elf.minisig");
    let out = minisign_tool::verify(&fx.path("keys/rel.pub"), &fx.path("fib.elf"), &sig);
    assert!(out.status.success(), "{out:?}");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("Signature and comment signature verified"),
        "{text}"
    );
    assert!(
        text.contains(&format!("Trusted comment: {}", fx.statement())),
        "{text}"
    );

    // `-H` requires prehashed signatures: zkelf's are.
    let prehashed_only = minisign_tool::run(
        &[
            "-V",
            "-H",
            "-m",
            fx.path("fib.elf").to_str().unwrap(),
            "-P",
            &fx.public_base64("rel"),
        ],
        "",
    );
    assert!(prehashed_only.status.success(), "{prehashed_only:?}");

    // And it refuses them once the bytes change.
    let mut elf = fx.read("fib.elf");
    elf[0x60] ^= 0x40;
    fx.write("fib.elf", &elf);
    assert!(
        !minisign_tool::verify(&fx.path("keys/rel.pub"), &fx.path("fib.elf"), &sig)
            .status
            .success()
    );
}

#[test]
fn zkelf_verifies_the_tools_signature_of_a_statement() {
    let fx = Fixture::new();
    let tool = minisign_tool::generate(fx.root(), "tool", Some("tool-pass"));
    fx.tool_sign(&tool, &fx.statement(), false);
    fx.zkelf(&[
        "verify",
        "fib.elf",
        "--key",
        &tool.public_base64(),
        "--guest",
        GUEST,
        "--version",
        VERSION,
        "--zkvm",
        ZKVM,
    ])
    .assert_exit(0)
    .stdout_has(&[
        "verified `fib.elf`",
        "guest       fib",
        &format!("signed by   {}", tool.key_id()),
    ]);
}

fn sign_with_tool_key(fx: &Fixture, tool: &ToolKeyPair) {
    let env: Vec<(&str, &str)> = tool
        .password
        .as_deref()
        .map(|pw| vec![("ZKELF_PASSWORD", pw)])
        .unwrap_or_default();
    sign_with(fx, tool, &env).assert_exit(0);
    // Both verifiers accept the result.
    let out = minisign_tool::verify(
        &tool.public,
        &fx.path("fib.elf"),
        &fx.path("fib.elf.minisig"),
    );
    assert!(out.status.success(), "{out:?}");
    let public = tool.public.to_str().unwrap();
    fx.zkelf(&["verify", "fib.elf", "--key", public])
        .assert_exit(0);
}

#[test]
fn encrypted_tool_keys_sign_through_zkelf() {
    let fx = Fixture::new();
    let tool = minisign_tool::generate(fx.root(), "enc", Some("p4ss word"));
    sign_with_tool_key(&fx, &tool);
    // The wrong password is refused without writing anything.
    std::fs::remove_file(fx.path("fib.elf.minisig")).unwrap();
    assert_cli_snapshot!(
        "encrypted_tool_keys_sign_through_zkelf",
        sign_with(&fx, &tool, &[("ZKELF_PASSWORD", "nope")]).assert_exit(2)
    );
    assert!(!fx.path("fib.elf.minisig").exists());
}

#[test]
fn unencrypted_tool_keys_with_zeroed_checksum_sign_through_zkelf() {
    let fx = Fixture::new();
    let tool = minisign_tool::generate(fx.root(), "w", None);
    sign_with_tool_key(&fx, &tool);
}

#[test]
fn the_tool_signs_with_zkelf_keys() {
    let fx = Fixture::new();
    fx.zkelf_env(
        &["keygen", "--out", "keys", "--name", "enc"],
        &[("ZKELF_PASSWORD", "zk-pass")],
    )
    .assert_exit(0);
    let tool_view = fx.tool_view("enc", Some("zk-pass"));
    fx.tool_sign(&tool_view, &fx.statement(), false);
    fx.verify_with_key("enc", &[]).assert_exit(0);
    assert_eq!(tool_view.key_id(), fx.key_id("enc"));

    fx.tool_sign(&fx.tool_view("rel", None), &fx.statement(), false);
    fx.verify_with_key("rel", &[]).assert_exit(0);
}
