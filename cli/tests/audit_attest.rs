//! `zkelf attest` against a loopback `docker-registry` (distribution 2.8: no referrers API, so
//! every attestation goes through the `sha256-<hex>` fallback index), and which attestations
//! `pull` and `inspect` count. No Docker build: the artifact is a tiny generated RISC-V ELF;
//! `audit_rebuild.rs` covers real rebuilds.

mod dist_common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use dist_common::*;
use zkelf_testsupport::assert_cli_snapshot;
use zkelf_testsupport::cli;
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::minisign_tool::{self, ToolKeyPair};
use zkelf_testsupport::policy::{Key, PolicyFile};
use zkelf_testsupport::registry::DockerRegistry;
use zkelf_trust::digest::hash_file;
use zkelf_trust::statement::Statement;

const TAG: &str = "1.0.0-sp1";

/// The statement an honest auditor of `dist/fib/1.0.0/fib-sp1.elf` signs.
fn rebuild_statement(w: &World) -> Statement {
    dist_common::rebuild_statement(
        &w.path("dist/fib/1.0.0/fib-sp1.elf"),
        "sha256:0123456789abcdef",
    )
}

/// `dist/fib/1.0.0` printing `message`, published to a fresh loopback registry; returns the
/// registry (it runs while it lives), the dist directory and `<repo>:1.0.0-sp1`.
fn published(w: &World, message: &str) -> (DockerRegistry, PathBuf, String) {
    let registry = DockerRegistry::start();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, message);
    let repo = format!("{}/fib", registry.host());
    assert_exit(&w.publish(&dist, &repo, &[]), 0);
    let reference = format!("{repo}:{TAG}");
    (registry, dist, reference)
}

/// Signs `statement` over `file` with `key` (the minisign tool), into `<dir>/<name>.minisig`.
fn sign(w: &World, key: &ToolKeyPair, file: &Path, statement: &Statement, name: &str) -> PathBuf {
    let sig = w.path(&format!("{name}.minisig"));
    minisign_tool::sign(key, file, &sig, &statement.render(), false);
    sig
}

/// `base` (its `[require]` and `revoked`) with `keys` (name, key, role) added, written to `name`.
fn policy(w: &World, name: &str, keys: &[(&str, &ToolKeyPair, &str)], base: PolicyFile) -> PathBuf {
    let mut policy = base;
    for (key_name, key, role) in keys {
        policy = policy.key(Key::public(key_name, &key.public_base64(), &[role]));
    }
    policy.write(&w.path(name))
}

fn attest(w: &World, reference: &str, args: &[&str]) -> Output {
    let mut all = vec!["attest", reference];
    all.extend_from_slice(args);
    w.run(&all)
}

/// `text` with its `  attestation …` lines sorted (they follow one another).
fn sorted_attestation_lines(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("  attestation "))
        .unwrap_or(lines.len());
    let end = start
        + lines[start..]
            .iter()
            .take_while(|l| l.starts_with("  attestation "))
            .count();
    lines[start..end].sort_by_key(|l| without_hex_runs(l));
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// `line` without its runs of 16 or more hex digits (digests and key ids, which differ each
/// run), to sort by what stays.
fn without_hex_runs(line: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in line.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_hexdigit() {
            run.push(c);
            continue;
        }
        if run.len() < 16 {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out
}

/// `zkelf pull <reference> -o <out> --policy <policy> --no-cache <extra>`.
fn pull(w: &World, reference: &str, out: &Path, policy: &Path, extra: &[&str]) -> Output {
    w.pull_under(reference, out, policy, &[&["--no-cache"], extra].concat())
}

/// `inspect --json` under `policy`; it exits 1 when the policy is not satisfied.
fn inspect_json(w: &World, reference: &str, policy: &Path, code: i32) -> serde_json::Value {
    let output = w.run(&[
        "--json",
        "inspect",
        reference,
        "--policy",
        policy.to_str().unwrap(),
    ]);
    json_report(&output, code)
}

/// (key name or id, counts_for, reason) of every signature `inspect` lists.
fn verdicts(report: &serde_json::Value) -> Vec<(String, Option<String>, Option<String>)> {
    report["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["key_name"]
                    .as_str()
                    .or(s["key_id"].as_str())
                    .unwrap_or("?")
                    .to_owned(),
                s["counts_for"].as_str().map(str::to_owned),
                s["reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn a_second_release_key_attests_and_a_policy_requiring_two_release_keys_pulls() {
    let w = World::new();
    let (_registry, dist, reference) = published(&w, "two keys\n");
    let second = minisign_tool::generate(w.dir.path(), "second", None);
    let two = policy(
        &w,
        "two.toml",
        &[("first", &w.key, "release"), ("second", &second, "release")],
        PolicyFile::new().require(2, 0),
    );
    let out = w.path("out/fib.elf");

    w.rejects("one_release_signature_of_two_required", 1, || {
        pull(&w, &reference, &out, &two, &[])
    });

    // Without `--push` the signature is only written, next to nothing else.
    let output = attest(
        &w,
        &reference,
        &[
            "--key",
            second.secret.to_str().unwrap(),
            "-o",
            "second.minisig",
        ],
    );
    assert_exit(&output, 0);
    let written = w.path("second.minisig");
    let comment = minisign_tool::verified_trusted_comment(
        &second.public,
        &dist.join("fib-sp1.elf"),
        &written,
    )
    .expect("the minisign tool verifies the co-signature");
    assert!(
        comment.starts_with("zkelf/1 kind=release guest=fib version=1.0.0 zkvm=sp1 ")
            && !comment.contains(" builder="),
        "{comment}"
    );

    let output = attest(
        &w,
        &reference,
        &["--key", second.secret.to_str().unwrap(), "--push", "--json"],
    );
    let report = json_report(&output, 0);
    assert!(report["attached"].as_str().unwrap().starts_with("sha256:"));

    let output = pull(&w, &reference, &out, &two, &[]);
    cli::Output::from(&output)
        .assert_exit(0)
        .stdout_has(&["(second) counts for release"]);
}

#[test]
fn attest_refuses_a_signature_over_other_bytes() {
    let w = World::new();
    let (_registry, _, reference) = published(&w, "published\n");
    let other = w.path("other.elf");
    ElfSpec::new(Class::Elf32)
        .message("other\n")
        .write_to(&other)
        .unwrap();
    let auditor = minisign_tool::generate(w.dir.path(), "auditor", None);
    let mut statement = rebuild_statement(&w);
    let d = hash_file(&other).unwrap();
    (statement.sha256, statement.size) = (d.sha256, d.size);
    let sig = sign(&w, &auditor, &other, &statement, "other");

    w.rejects("attest_of_a_signature_over_other_bytes", 1, || {
        attest(
            &w,
            &reference,
            &["--signature", sig.to_str().unwrap(), "--push"],
        )
    });
    let one = policy(
        &w,
        "one.toml",
        &[
            ("release", &w.key, "release"),
            ("auditor", &auditor, "rebuild"),
        ],
        PolicyFile::new().require(1, 1),
    );
    let report = inspect_json(&w, &reference, &one, 1);
    assert_eq!(
        report["signatures"].as_array().unwrap().len(),
        1,
        "nothing was attached: {report}"
    );
}

#[test]
fn auditors_pushing_concurrently_to_a_registry_without_referrers_api_are_all_found() {
    let w = World::new();
    let (_registry, dist, reference) = published(&w, "concurrent\n");
    let elf = dist.join("fib-sp1.elf");
    const AUDITORS: usize = 6;
    let auditors: Vec<ToolKeyPair> = (0..AUDITORS)
        .map(|i| minisign_tool::generate(w.dir.path(), &format!("auditor-{i}"), None))
        .collect();
    let sigs: Vec<PathBuf> = auditors
        .iter()
        .enumerate()
        .map(|(i, key)| {
            sign(
                &w,
                key,
                &elf,
                &rebuild_statement(&w),
                &format!("auditor-{i}"),
            )
        })
        .collect();

    let children: Vec<_> = sigs
        .iter()
        .map(|sig| {
            w.zkelf()
                .args(["attest", &reference, "--push", "--signature"])
                .arg(sig)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        assert_exit(&child.wait_with_output().unwrap(), 0);
    }

    let mut keys: Vec<(String, &ToolKeyPair, &str)> = vec![("release".into(), &w.key, "release")];
    keys.extend(
        auditors
            .iter()
            .enumerate()
            .map(|(i, k)| (format!("auditor-{i}"), k, "rebuild")),
    );
    let keys: Vec<(&str, &ToolKeyPair, &str)> =
        keys.iter().map(|(n, k, r)| (n.as_str(), *k, *r)).collect();
    let all = policy(
        &w,
        "all.toml",
        &keys,
        PolicyFile::new().require(1, AUDITORS as u32),
    );
    let out = w.path("out/fib.elf");
    let output = pull(&w, &reference, &out, &all, &["--json"]);
    let report = json_report(&output, 0);
    let rebuilds = report["verdict"]["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["counts_for"] == "rebuild")
        .count();
    assert_eq!(rebuilds, AUDITORS, "{report}");
}

#[test]
fn attestations_that_must_not_count_do_not() {
    let w = World::new();
    let (_registry, dist, reference) = published(&w, "audited\n");
    let elf = dist.join("fib-sp1.elf");
    let key = |name: &str| minisign_tool::generate(w.dir.path(), name, None);
    let (a, b, revoked, stranger) = (key("a"), key("b"), key("revoked"), key("stranger"));
    let strict = policy(
        &w,
        "strict.toml",
        &[
            ("release", &w.key, "release"),
            ("a", &a, "rebuild"),
            ("b", &b, "rebuild"),
            ("revoked", &revoked, "rebuild"),
        ],
        PolicyFile::new().revoke(revoked.key_id()).require(1, 2),
    );
    let good = rebuild_statement(&w);
    let other_elf = w.path("other.elf");
    ElfSpec::new(Class::Elf32)
        .message("other\n")
        .write_to(&other_elf)
        .unwrap();
    let other_digests = hash_file(&other_elf).unwrap();

    // Through `zkelf attest --signature`: the ELF's hash, so it attaches them; the policy
    // decides at pull time.
    let push = |sig: PathBuf| {
        assert_exit(
            &attest(
                &w,
                &reference,
                &["--push", "--signature", sig.to_str().unwrap()],
            ),
            0,
        );
    };
    push(sign(&w, &a, &elf, &good, "a"));
    push(sign(
        &w,
        &a,
        &elf,
        &Statement {
            created: good.created + 1,
            ..good.clone()
        },
        "a-again",
    ));
    push(sign(&w, &stranger, &elf, &good, "stranger"));
    push(sign(&w, &revoked, &elf, &good, "revoked"));
    // The release key may sign releases, not rebuilds.
    push(sign(&w, &w.key, &elf, &good, "release-as-rebuild"));
    push(sign(
        &w,
        &b,
        &elf,
        &Statement {
            guest: "other".into(),
            ..good.clone()
        },
        "b-other-guest",
    ));
    push(sign(
        &w,
        &b,
        &elf,
        &Statement {
            version: "9.9.9".parse().unwrap(),
            ..good.clone()
        },
        "b-other-version",
    ));
    // Over another ELF: `attest` refuses these, so they are attached directly.
    let other_hash = Statement {
        sha256: other_digests.sha256,
        size: other_digests.size,
        ..good.clone()
    };
    let sig = sign(&w, &b, &other_elf, &other_hash, "b-other-elf");
    attach_raw(
        &reference,
        &std::fs::read(sig).unwrap(),
        "b-other-elf.minisig",
    );
    let sig = sign(&w, &b, &elf, &other_hash, "b-other-hash");
    attach_raw(
        &reference,
        &std::fs::read(sig).unwrap(),
        "b-other-hash.minisig",
    );

    let report = inspect_json(&w, &reference, &strict, 1);
    assert_eq!(report["verified"], false, "{report}");
    let verdicts = verdicts(&report);
    let counting: Vec<_> = verdicts
        .iter()
        .filter(|(_, counts, _)| counts.is_some())
        .map(|(name, counts, _)| (name.as_str(), counts.as_deref().unwrap()))
        .collect();
    assert_eq!(
        counting,
        [("release", "release"), ("a", "rebuild")],
        "{report}"
    );
    let reasons: Vec<String> = verdicts
        .iter()
        .filter_map(|(name, _, reason)| reason.as_ref().map(|r| format!("{name}: {r}")))
        .collect();
    let expect = |needle: &str| {
        assert!(
            reasons.iter().any(|r| r.contains(needle)),
            "no reason mentions `{needle}`: {reasons:#?}"
        );
    };
    expect("already counted for `rebuild`");
    expect("which the policy does not trust");
    expect("is revoked");
    expect("may not sign `rebuild` statements");
    expect("has guest `other` but `fib` was asked for");
    expect("has version `9.9.9` but `1.0.0` was asked for");
    expect(&format!("has sha256 `{}`", other_digests.sha256));
    assert_eq!(reasons.len(), 8, "{reasons:#?}");

    // In text, each line names the kind, the key and whether it counts.
    // Attestations are listed in the order of their digests, which differ each run (the keys
    // are fresh): the snapshot has them sorted.
    let before = w.untouched();
    let mut output =
        cli::Output::from(w.run(&["inspect", &reference, "--policy", strict.to_str().unwrap()]));
    output.assert_exit(1);
    let text = output.stdout.clone();
    output.stdout = sorted_attestation_lines(&text);
    assert_cli_snapshot!("inspect_of_attestations_that_do_not_count", output);
    before.assert_unchanged();
    assert!(
        text.contains(&format!(
            "rebuild by key {} (a) counts for rebuild",
            a.key_id()
        )) && text.contains(&format!(
            "rebuild by key {} (release) does not count: key `release`",
            w.key.key_id()
        )),
        "{text}"
    );

    // `pull` refuses and says how many valid attestations it found; `inspect` says the same.
    let out = w.path("out/fib.elf");
    // The error names the first rejected attestation, in that same random order: the snapshot
    // ends at the counts (inspect's above has every reason).
    let before = w.untouched();
    let mut output = cli::Output::from(pull(&w, &reference, &out, &strict, &[]));
    output.assert_exit(1);
    let counts = output
        .stderr
        .find("1 valid rebuild attestation of 2 required\n")
        .map(|at| at + "1 valid rebuild attestation of 2 required\n".len())
        .unwrap_or_else(|| panic!("no counts in:\n{}", output.text()));
    output.stderr.truncate(counts);
    assert_cli_snapshot!("pull_with_one_valid_attestation_of_two", output);
    before.assert_unchanged();
    assert!(
        report["verdict"]
            .as_str()
            .unwrap()
            .contains("1 valid rebuild attestation of 2 required"),
        "{report}"
    );
}

#[test]
fn verify_counts_attestation_files_only_for_the_release_they_are_about() {
    let w = World::new();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "local\n");
    let elf = dist.join("fib-sp1.elf");
    let auditor = minisign_tool::generate(w.dir.path(), "auditor", None);
    let one = policy(
        &w,
        "one.toml",
        &[
            ("release", &w.key, "release"),
            ("auditor", &auditor, "rebuild"),
        ],
        PolicyFile::new().require(1, 1),
    );
    let good = rebuild_statement(&w);
    let other_version = sign(
        &w,
        &auditor,
        &elf,
        &Statement {
            version: "9.9.9".parse().unwrap(),
            ..good.clone()
        },
        "other-version",
    );
    let release_sig = dist.join("fib-sp1.elf.minisig");
    let verify = |attestation: &Path| {
        w.run(&[
            "verify",
            elf.to_str().unwrap(),
            "--policy",
            one.to_str().unwrap(),
            "--sig",
            release_sig.to_str().unwrap(),
            "--sig",
            attestation.to_str().unwrap(),
        ])
    };
    // Same bytes, but about version 9.9.9: it does not count, though no `--version` was asked.
    w.rejects(
        "verify_with_an_attestation_about_another_version",
        1,
        || verify(&other_version),
    );
    let output = verify(&sign(&w, &auditor, &elf, &good, "good"));
    assert_exit(&output, 0);
}
