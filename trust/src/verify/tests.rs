use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::keys::{SecretKey, SecretKeyFile, generate};
use crate::policy::TrustedKey;
use crate::signature::{sign, sign_with_comment};

const ELF: &[u8] = b"\x7fELF pretend guest bytes";

fn key() -> SecretKey {
    let pair = generate(None).unwrap();
    SecretKeyFile::from_text(pair.secret_text, Path::new("k.key"))
        .unwrap()
        .unlock(None)
        .unwrap()
}

fn statement(kind: Kind) -> Statement {
    let digests = ContentDigests::of(ELF);
    Statement {
        kind,
        guest: "fib".into(),
        version: "1.0.0".parse().unwrap(),
        zkvm: "sp1".into(),
        target: "riscv32im-unknown-none-elf".into(),
        sha256: digests.sha256,
        size: digests.size,
        provenance: None,
        vk: None,
        builder: (kind == Kind::Rebuild).then(|| "sha256:img".to_string()),
        created: 1_700_000_000,
    }
}

fn trusted(sk: &SecretKey, roles: &[Role]) -> TrustedKey {
    TrustedKey {
        name: format!("k{}", sk.id()),
        key: sk.public_key(),
        roles: roles.to_vec(),
        guests: vec!["*".into()],
        not_after: None,
    }
}

fn policy(keys: Vec<TrustedKey>, release: u32, rebuild: u32) -> Policy {
    Policy {
        keys,
        revoked: Default::default(),
        require_release: release,
        require_rebuild: rebuild,
        source: None,
    }
}

fn subject() -> Subject {
    Subject::new("fib.elf", ContentDigests::of(ELF))
}

fn run(policy: &Policy, sigs: &[Signature], expected: &Expected) -> Evaluation {
    evaluate(policy, &subject(), sigs, expected, &Options::default())
}

fn rejection(a: &Evaluation, i: usize) -> &Rejection {
    a.checks[i].rejection.as_ref().expect("rejected")
}

#[test]
fn a_good_release_signature_counts() {
    let sk = key();
    let sig = sign(&sk, &ContentDigests::of(ELF), &statement(Kind::Release)).unwrap();
    let p = Policy::from_public_key(sk.public_key());
    let expected = Expected {
        guest: Some("fib".into()),
        version: Some("1.0.0".parse().unwrap()),
        zkvm: Some("sp1".into()),
        sha256: None,
        vk_sha256: None,
    };
    let verified = run(&p, &[sig], &expected).into_verified().unwrap();
    assert_eq!(verified.statement.unwrap().guest, "fib");
    assert!(!verified.unbound);
}

#[test]
fn every_reason_not_to_count() {
    let sk = key();
    let digests = ContentDigests::of(ELF);
    let good = sign(&sk, &digests, &statement(Kind::Release)).unwrap();
    let p = Policy::from_public_key(sk.public_key());

    let stranger = key();
    let by_stranger = sign(&stranger, &digests, &statement(Kind::Release)).unwrap();
    assert!(matches!(
        rejection(&run(&p, &[by_stranger], &Expected::default()), 0),
        Rejection::UntrustedKey { .. }
    ));

    let mut revoked = p.clone();
    revoked.revoked.insert(sk.id());
    assert!(matches!(
        rejection(
            &run(&revoked, std::slice::from_ref(&good), &Expected::default()),
            0
        ),
        Rejection::Revoked { .. }
    ));

    let mut expired = p.clone();
    expired.keys[0].not_after = Some(Date {
        year: 2020,
        month: 1,
        day: 1,
    });
    assert!(matches!(
        rejection(
            &run(&expired, std::slice::from_ref(&good), &Expected::default()),
            0
        ),
        Rejection::Expired { .. }
    ));
    let before = Options {
        now: UNIX_EPOCH + Duration::from_secs(1_500_000_000),
        ..Options::default()
    };
    assert!(
        evaluate(
            &expired,
            &subject(),
            std::slice::from_ref(&good),
            &Expected::default(),
            &before
        )
        .satisfied()
    );

    let mut rebuild_only = p.clone();
    rebuild_only.keys[0].roles = vec![Role::Rebuild];
    assert!(matches!(
        rejection(
            &run(
                &rebuild_only,
                std::slice::from_ref(&good),
                &Expected::default()
            ),
            0
        ),
        Rejection::WrongRole { .. }
    ));

    let mut other_guests = p.clone();
    other_guests.keys[0].guests = vec!["validator-*".into()];
    assert!(matches!(
        rejection(
            &run(
                &other_guests,
                std::slice::from_ref(&good),
                &Expected::default()
            ),
            0
        ),
        Rejection::GuestNotCovered { .. }
    ));

    for (field, expected) in [
        (
            "guest",
            Expected {
                guest: Some("fob".into()),
                ..Expected::default()
            },
        ),
        (
            "version",
            Expected {
                version: Some("1.0.1".parse().unwrap()),
                ..Expected::default()
            },
        ),
        (
            "zkvm",
            Expected {
                zkvm: Some("risc0".into()),
                ..Expected::default()
            },
        ),
    ] {
        let a = run(&p, std::slice::from_ref(&good), &expected);
        assert!(
            matches!(rejection(&a, 0), Rejection::FieldMismatch { field: f, .. } if *f == field),
            "{field}"
        );
    }

    let mut wrong_sha = statement(Kind::Release);
    wrong_sha.sha256 = Sha256Digest::of(b"other");
    let sig = sign(&sk, &digests, &wrong_sha).unwrap();
    assert!(matches!(
        rejection(&run(&p, &[sig], &Expected::default()), 0),
        Rejection::Sha256Mismatch { .. }
    ));
    let mut wrong_size = statement(Kind::Release);
    wrong_size.size += 1;
    let sig = sign(&sk, &digests, &wrong_size).unwrap();
    assert!(matches!(
        rejection(&run(&p, &[sig], &Expected::default()), 0),
        Rejection::SizeMismatch { .. }
    ));

    let flipped = Subject::new(
        "fib.elf",
        ContentDigests::of(b"\x7fELF pretend guest bytez"),
    );
    let a = evaluate(
        &p,
        &flipped,
        std::slice::from_ref(&good),
        &Expected::default(),
        &Options::default(),
    );
    assert!(matches!(rejection(&a, 0), Rejection::BadSignature(_)));

    let bad_statement = sign_with_comment(&sk, &digests, "zkelf/1 kind=release guest=Fib");
    assert!(matches!(
        rejection(&run(&p, &[bad_statement], &Expected::default()), 0),
        Rejection::Statement { .. }
    ));

    let mut with_prov = subject();
    with_prov.provenance = Some(Sha256Digest::of(b"{}"));
    let a = evaluate(
        &p,
        &with_prov,
        std::slice::from_ref(&good),
        &Expected::default(),
        &Options::default(),
    );
    assert!(matches!(
        rejection(&a, 0),
        Rejection::BlobMismatch {
            field: "provenance",
            ..
        }
    ));
    let mut signed_prov = statement(Kind::Release);
    signed_prov.vk = Some(Sha256Digest::of(b"vk"));
    let sig = sign(&sk, &digests, &signed_prov).unwrap();
    let mut with_vk = subject();
    with_vk.vk = Some(Sha256Digest::of(b"other vk"));
    let a = evaluate(
        &p,
        &with_vk,
        std::slice::from_ref(&sig),
        &Expected::default(),
        &Options::default(),
    );
    assert!(matches!(
        rejection(&a, 0),
        Rejection::BlobMismatch { field: "vk", .. }
    ));
    with_vk.vk = Some(Sha256Digest::of(b"vk"));
    let a = evaluate(
        &p,
        &with_vk,
        std::slice::from_ref(&sig),
        &Expected::default(),
        &Options::default(),
    );
    assert!(a.satisfied() && a.vk_checked);

    // `--vk-sha256`: the statement must bind exactly the pinned VK.
    let pinned = |vk: &[u8]| Expected {
        vk_sha256: Some(Sha256Digest::of(vk)),
        ..Expected::default()
    };
    let a = evaluate(
        &p,
        &with_vk,
        std::slice::from_ref(&sig),
        &pinned(b"vk"),
        &Options::default(),
    );
    assert!(a.satisfied());
    let a = evaluate(
        &p,
        &with_vk,
        std::slice::from_ref(&sig),
        &pinned(b"x"),
        &Options::default(),
    );
    let r = rejection(&a, 0);
    assert!(matches!(r, Rejection::VkPinMismatch { .. }) && r.code() == "pin_mismatch");
    let a = evaluate(&p, &subject(), &[good], &pinned(b"vk"), &Options::default());
    assert!(matches!(
        rejection(&a, 0),
        Rejection::VkPinMismatch { signed: None, .. }
    ));
}

#[test]
fn unbound_signatures_need_a_pin_or_explicit_permission() {
    let sk = key();
    let digests = ContentDigests::of(ELF);
    let sig = sign_with_comment(&sk, &digests, "timestamp:1700000000\tfile:fib.elf");
    let p = Policy::from_public_key(sk.public_key());
    let err = run(&p, std::slice::from_ref(&sig), &Expected::default())
        .into_verified()
        .unwrap_err();
    assert!(matches!(err.source, Some(Rejection::Unbound { .. })));
    assert!(err.hint().unwrap().contains("--sha256"));

    let pinned = Expected {
        sha256: Some(digests.sha256),
        ..Expected::default()
    };
    let verified = run(&p, std::slice::from_ref(&sig), &pinned)
        .into_verified()
        .unwrap();
    assert!(verified.unbound && verified.statement.is_none());

    let wrong_pin = Expected {
        sha256: Some(Sha256Digest::of(b"x")),
        ..Expected::default()
    };
    assert!(matches!(
        rejection(&run(&p, std::slice::from_ref(&sig), &wrong_pin), 0),
        Rejection::PinMismatch { .. }
    ));

    let allowed = Options {
        allow_unbound: true,
        ..Options::default()
    };
    assert!(evaluate(&p, &subject(), &[sig], &Expected::default(), &allowed).satisfied());
}

#[test]
fn an_unbound_signature_cannot_confirm_a_guest_version_or_zkvm() {
    let sk = key();
    let digests = ContentDigests::of(ELF);
    let sig = sign_with_comment(&sk, &digests, "fib.elf");
    let p = Policy::from_public_key(sk.public_key());
    let allowed = Options {
        allow_unbound: true,
        ..Options::default()
    };
    let pinned = Expected {
        sha256: Some(digests.sha256),
        ..Expected::default()
    };
    for (asked, field, value) in [
        (
            Expected {
                guest: Some("fib".into()),
                ..pinned.clone()
            },
            "guest",
            "fib",
        ),
        (
            Expected {
                version: Some("1.0.0".parse().unwrap()),
                ..pinned.clone()
            },
            "version",
            "1.0.0",
        ),
        (
            Expected {
                zkvm: Some("sp1".into()),
                ..Expected::default()
            },
            "zkvm",
            "sp1",
        ),
    ] {
        // Neither a pin nor `allow_unbound` makes an unchecked name pass.
        let err = evaluate(&p, &subject(), std::slice::from_ref(&sig), &asked, &allowed)
            .into_verified()
            .unwrap_err();
        assert_eq!(
            err.source,
            Some(Rejection::Unverifiable {
                key: sk.id(),
                field,
                asked: value.into(),
            })
        );
        assert!(err.hint().unwrap().contains("leave out `--guest`"));
    }
    // Labels (a manifest's annotations) are not asked for: they only choose the key's guest.
    let mut labelled = subject();
    labelled.labels.guest = Some("fib".into());
    let mut narrow = p.clone();
    narrow.keys[0].guests = vec!["fib".into()];
    assert!(
        evaluate(
            &narrow,
            &labelled,
            std::slice::from_ref(&sig),
            &pinned,
            &allowed
        )
        .satisfied()
    );
    labelled.labels.guest = Some("other".into());
    assert!(matches!(
        rejection(&evaluate(&narrow, &labelled, &[sig], &pinned, &allowed), 0),
        Rejection::GuestNotCovered { .. }
    ));
}

#[test]
fn counts_distinct_keys_per_role() {
    let (a, b, auditor) = (key(), key(), key());
    let digests = ContentDigests::of(ELF);
    let p = policy(
        vec![
            trusted(&a, &[Role::Release]),
            trusted(&b, &[Role::Release]),
            trusted(&auditor, &[Role::Rebuild]),
        ],
        2,
        1,
    );
    let rel = |k: &SecretKey| sign(k, &digests, &statement(Kind::Release)).unwrap();
    let reb = |k: &SecretKey| sign(k, &digests, &statement(Kind::Rebuild)).unwrap();

    // The same key twice counts once.
    let a1 = run(&p, &[rel(&a), rel(&a), reb(&auditor)], &Expected::default());
    assert_eq!(a1.release_keys, vec![a.id()]);
    assert!(matches!(rejection(&a1, 1), Rejection::Duplicate { .. }));
    let err = a1.into_verified().unwrap_err();
    assert_eq!((err.found_release, err.required_release), (1, 2));
    assert!(
        err.to_string()
            .contains("1 valid release signature of 2 required"),
        "{err}"
    );

    // A release key's rebuild attestation does not count as rebuild.
    let a2 = run(&p, &[rel(&a), rel(&b), reb(&a)], &Expected::default());
    assert!(matches!(rejection(&a2, 2), Rejection::WrongRole { .. }));
    assert!(!a2.satisfied());

    let a3 = run(&p, &[reb(&auditor), rel(&b), rel(&a)], &Expected::default());
    assert!(a3.satisfied());
    assert_eq!(a3.statement().unwrap().kind, Kind::Release);

    let none = run(&p, &[], &Expected::default())
        .into_verified()
        .unwrap_err();
    assert!(none.to_string().contains("no signature"), "{none}");
}

#[test]
fn legacy_signatures_only_when_allowed_and_checked_against_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let sk = key();
    // Hand-made legacy signature: Ed25519 over the bytes themselves.
    let sig_prehashed = sign(&sk, &ContentDigests::of(ELF), &statement(Kind::Release)).unwrap();
    let text = sig_prehashed.to_string();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut raw = b64.decode(&lines[1]).unwrap();
    raw[..2].copy_from_slice(b"Ed");
    let data_sig = sk.sign_raw(ELF);
    raw[10..].copy_from_slice(&data_sig);
    lines[1] = b64.encode(&raw);
    let mut global = data_sig.to_vec();
    global.extend_from_slice(
        lines[2]
            .strip_prefix("trusted comment: ")
            .unwrap()
            .as_bytes(),
    );
    lines[3] = b64.encode(sk.sign_raw(&global));
    let legacy = Signature::parse(&(lines.join("\n") + "\n")).unwrap();
    assert!(!legacy.is_prehashed());

    let p = Policy::from_public_key(sk.public_key());
    assert!(matches!(
        rejection(
            &run(&p, std::slice::from_ref(&legacy), &Expected::default()),
            0
        ),
        Rejection::Legacy { .. }
    ));
    let path = dir.path().join("fib.elf");
    std::fs::write(&path, ELF).unwrap();
    let mut s = subject();
    s.file = Some(path.clone());
    let allow = Options {
        allow_legacy: true,
        ..Options::default()
    };
    assert!(
        evaluate(
            &p,
            &s,
            std::slice::from_ref(&legacy),
            &Expected::default(),
            &allow
        )
        .satisfied()
    );
    std::fs::write(&path, b"changed").unwrap();
    let a = evaluate(&p, &s, &[legacy], &Expected::default(), &allow);
    assert!(matches!(rejection(&a, 0), Rejection::BadSignature(_)));
}
