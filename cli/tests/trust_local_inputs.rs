//! Local inputs of `sign` and `verify` made to slip past their checks (issue 10): ELFs that are
//! not executables or whose headers point past the end, a key whose seed is all zeros, a policy
//! padded past its bound, a policy whose only keys have expired. Each asserts the exit code,
//! the message and that no file was created or changed.

mod trust_support;

use base64::Engine as _;
use trust_support::Fixture;
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::policy::{Key, PolicyFile};

const FIB_100: [&str; 3] = ["fib", "1.0.0", "sp1"];

/// The fixture's 32-bit guest with `patch` applied to its bytes, written as `name`.
fn patched(fx: &Fixture, name: &str, patch: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = ElfSpec::new(Class::Elf32).to_bytes();
    patch(&mut bytes);
    fx.write(name, bytes);
}

#[test]
fn sign_refuses_relocatable_objects_core_dumps_and_headers_past_the_end() {
    let fx = Fixture::new();
    patched(&fx, "fib.o", |b| {
        b[16..18].copy_from_slice(&1u16.to_le_bytes())
    });
    patched(&fx, "core", |b| {
        b[16..18].copy_from_slice(&4u16.to_le_bytes())
    });
    // ELF32: e_phoff at 28; the one program header at 52, its p_filesz at 52 + 16.
    patched(&fx, "phoff.elf", |b| {
        b[28..32].copy_from_slice(&0x0100_0000u32.to_le_bytes())
    });
    patched(&fx, "filesz.elf", |b| {
        b[68..72].copy_from_slice(&0x0100_0000u32.to_le_bytes())
    });
    let sign = |elf: &str| fx.sign_file(elf, "keys/rel.key", FIB_100, &[], &[]);
    fx.rejects("sign_refuses_a_relocatable_object", 2, || sign("fib.o"));
    fx.rejects("sign_refuses_a_core_dump", 2, || sign("core"));
    fx.rejects("sign_refuses_a_header_table_past_the_end", 2, || {
        sign("phoff.elf")
    });
    fx.rejects("sign_refuses_a_segment_past_the_end", 2, || {
        sign("filesz.elf")
    });
}

#[test]
fn a_key_whose_seed_is_all_zeros_is_an_error_not_a_panic() {
    let fx = Fixture::new();
    // An unencrypted minisign secret key: `Ed`, no KDF, `B2`, salt and limits, then key id,
    // the 64-byte key (seed and public half) and the checksum, all zero.
    let mut raw = Vec::new();
    raw.extend_from_slice(b"Ed\0\0B2");
    raw.resize(2 + 2 + 2 + 32 + 8 + 8, 0);
    raw.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    raw.resize(raw.len() + 64 + 32, 0);
    let text = format!(
        "untrusted comment: minisign secret key\n{}\n",
        base64::engine::general_purpose::STANDARD.encode(&raw)
    );
    fx.write("keys/zero.key", text);
    fx.rejects(
        "a_key_whose_seed_is_all_zeros_is_an_error_not_a_panic",
        2,
        || fx.sign_file("fib.elf", "keys/zero.key", FIB_100, &[], &[]),
    );
}

/// A policy trusting `rel` for releases and `aud` for rebuilds, requiring one of each, with
/// `padding` between the keys and `[require]`.
fn two_role_policy(padding: &str) -> String {
    PolicyFile::new()
        .key(Key::file("rel", "rel.pub", &["release"]))
        .key(Key::file("aud", "aud.pub", &["rebuild"]))
        .padding(padding)
        .require(1, 1)
        .render()
}

#[test]
fn a_policy_past_its_bound_is_refused_not_read_as_a_prefix() {
    let fx = Fixture::new();
    fx.keygen_unencrypted("aud");
    fx.sign("rel", &[]).assert_exit(0);
    let verify = || fx.zkelf(&["verify", "fib.elf", "--policy", "keys/policy.toml"]);
    // Unpadded, the policy wants a rebuild attestation the release does not have.
    fx.write("keys/policy.toml", two_role_policy(""));
    fx.rejects(
        "a_policy_past_its_bound_is_refused_not_read_as_a_prefix",
        1,
        verify,
    );
    // 1.1 MB of comments push `[require]` past 1 MiB: the prefix would require one release
    // signature only, and pass.
    let padding = "# padding padding padding padding padding padding padding\n".repeat(19_000);
    assert!(padding.len() > 1_100_000);
    fx.write("keys/policy.toml", two_role_policy(&padding));
    fx.rejects(
        "a_policy_past_its_bound_is_refused_not_read_as_a_prefix_2",
        2,
        verify,
    );
}

#[test]
fn a_policy_whose_only_keys_have_expired_is_refused_at_load() {
    let fx = Fixture::new();
    fx.keygen_unencrypted("old");
    fx.sign("rel", &[]).assert_exit(0);
    fx.write(
        "keys/policy.toml",
        PolicyFile::new()
            .key(Key::file("rel", "rel.pub", &["release"]).not_after("2020-01-31"))
            .key(Key::file("old", "old.pub", &["release"]).not_after("2021-06-30"))
            .render(),
    );
    let needles = [
        "policy `keys/policy.toml` can never be satisfied: it requires 1 release keys but only 0 of those it lists have not expired (`rel` after 2020-01-31, `old` after 2021-06-30)",
        "hint: give the keys a later `not_after` or list keys that have not expired",
    ];
    fx.rejects(
        "a_policy_whose_only_keys_have_expired_is_refused_at_load",
        2,
        || fx.zkelf(&["verify", "fib.elf", "--policy", "keys/policy.toml"]),
    );
    // In JSON too: one document on stdout with the same message and exit code.
    let before = fx.tree();
    let out = fx.zkelf(&[
        "verify",
        "fib.elf",
        "--policy",
        "keys/policy.toml",
        "--json",
    ]);
    out.assert_exit(2)
        .stdout_has(&[needles[0], "\"exit_code\": 2"]);
    before.assert_unchanged();
}
