//! The library API `zkelf release` and `zkelf rebuild` call: build a guest, then rebuild it
//! from nothing but its provenance document (a fresh clone at the recorded commit).

use std::path::Path;

use zkelf_builder::provenance::Provenance;
use zkelf_builder::rebuild::{prepare, rebuild};
use zkelf_builder::{BuildOptions, BuilderError, Engine, NoReporter, build_guest};

/// A committed git checkout at `dest` holding a copy of the repository's `guests/`.
fn guests_checkout(dest: &Path) -> std::path::PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guests");
    copy_tree(&from, &dest.join("guests"));
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@zkelf.invalid",
            "commit",
            "-qm",
            "guests",
        ],
    ] {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(dest)
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }
    dest.to_path_buf()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" {
            continue;
        }
        let dst = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dst);
        } else {
            std::fs::copy(entry.path(), &dst).unwrap();
        }
    }
}

#[tokio::test]
async fn a_guest_rebuilt_from_its_provenance_has_the_same_sha256() {
    let engine = Engine::connect(None)
        .await
        .expect("this test needs a running Docker engine: run `scripts/setup` or set DOCKER_HOST");
    zkelf_builder::image::ensure_builder_image(&engine, "bookworm", &NoReporter)
        .await
        .expect("no builder image: run `zkelf builder base` and `zkelf builder image`");
    let tmp = tempfile::tempdir().unwrap();
    let repo = guests_checkout(&tmp.path().join("origin"));
    let options = BuildOptions {
        out_dir: tmp.path().join("dist"),
        cache_dir: Some(Path::new(env!("CARGO_TARGET_TMPDIR")).join("zkelf-cache")),
        ..BuildOptions::default()
    };
    let built = build_guest(
        &engine,
        &repo.join("guests/sha256-c"),
        &options,
        &NoReporter,
    )
    .await
    .unwrap();
    assert_eq!(built.len(), 1);
    let first = &built[0];
    assert_eq!(
        first.elf,
        tmp.path().join("dist/sha256-c/0.1.0/sha256-c-rv32im.elf")
    );

    let provenance = Provenance::from_json(&std::fs::read(&first.provenance).unwrap()).unwrap();
    assert_eq!(provenance.subject_sha256(), Some(first.sha256));
    let source = &provenance.external().source;
    assert!(source.uri.starts_with("file://"), "{}", source.uri);
    let clone = tmp.path().join("auditor/clone");
    std::fs::create_dir_all(clone.parent().unwrap()).unwrap();
    zkelf_builder::source::checkout(&source.uri, &source.commit, &clone).unwrap();

    let again_options = BuildOptions {
        out_dir: tmp.path().join("rebuilt"),
        ..options.clone()
    };
    let prepared = prepare(&provenance, &clone).unwrap();
    let again = rebuild(&engine, &prepared, &again_options, &NoReporter)
        .await
        .unwrap();
    assert!(again.differences.is_empty(), "{:?}", again.differences);
    let again = again.built;
    assert_eq!(again.sha256, first.sha256);
    assert_eq!(
        again.provenance_sha256, first.provenance_sha256,
        "provenance is deterministic"
    );

    // A provenance naming another commit is refused, not silently rebuilt.
    let mut wrong = provenance.clone();
    wrong
        .predicate
        .build_definition
        .external_parameters
        .source
        .commit = "0".repeat(40);
    let err = prepare(&wrong, &clone).unwrap_err();
    assert!(matches!(err, BuilderError::Provenance { .. }), "{err}");
}

#[test]
fn provenance_that_is_not_slsa_is_rejected() {
    let err =
        Provenance::from_json(br#"{"_type":"x","subject":[],"predicateType":"y","predicate":{}}"#)
            .unwrap_err();
    assert!(
        err.to_string().starts_with("provenance: does not parse"),
        "{err}"
    );
}
