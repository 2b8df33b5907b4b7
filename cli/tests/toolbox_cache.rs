//! The toolbox cache follows the cache rules (docs/builder.md "Sources and caches"): a toolbox
//! entry is used only when it verifies against the digest this machine recorded when it built
//! it. One rewritten by whoever can write the cache (a CI cache restored from an untrusted
//! build), program and manifest together, is named, removed and rebuilt: never run.
//!
//! Heavy (two toolbox builds, minutes each, cold): `scripts/zkvm-figures` runs it.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use zkelf_testsupport::cli::Zkelf;
use zkelf_testsupport::docker::{ensure_builder_image, guests_checkout, shared_cache_dir};

/// An entry's manifest, in the builder's canonical form (its field order): what an attacker
/// regenerates.
#[derive(Serialize, serde::Deserialize)]
struct Manifest {
    format: u32,
    key: String,
    files: Vec<File>,
}

#[derive(Serialize, serde::Deserialize)]
struct File {
    path: String,
    size: u64,
    sha256: String,
}

fn zkelf(root: &Path, cache: &Path) -> Zkelf {
    let bin = Path::new(env!("CARGO_BIN_EXE_zkelf"));
    ensure_builder_image(bin);
    Zkelf::new(bin).isolated(root).cache_dir(cache)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
#[ignore = "heavy (two toolbox builds): scripts/zkvm-figures runs it"]
fn a_rewritten_toolbox_entry_is_rebuilt_never_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // The guest, built with the shared cache (its toolbox there derives the VK).
    let repo = guests_checkout(&root.join("repo"), &[]);
    zkelf(root, &shared_cache_dir())
        .args(["build", "--out"])
        .arg(root.join("dist"))
        .arg(repo.join("guests/sp1-hash"))
        .run()
        .assert_exit(0);
    let elf = root.join("dist/sp1-hash/0.1.0/sp1-hash-sp1.elf");
    let input = root.join("input.json");
    std::fs::write(&input, br#"{"data":"zkelf","rounds":3}"#).unwrap();

    // A private cache: its sp1 toolbox built cold.
    let cache = root.join("cache");
    let built = zkelf(root, &cache)
        .args(["--json", "builder", "toolbox", "sp1"])
        .run()
        .json(0);
    let key = built["toolboxes"][0]["key"].as_str().unwrap().to_string();
    let entry: PathBuf = cache.join("builder/toolbox").join(&key);
    let program = entry.join("bin/zkelf-toolbox-sp1");

    // Whoever can write the cache swaps the program and regenerates the manifest: the entry
    // verifies against itself, not against this machine's record.
    let mut bytes = std::fs::read(&program).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&program, &bytes).unwrap();
    let manifest_path = entry.join("zkelf-sysroot.json");
    let mut manifest: Manifest =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let file = manifest
        .files
        .iter_mut()
        .find(|f| f.path == "bin/zkelf-toolbox-sp1")
        .unwrap();
    file.sha256 = hex(&Sha256::digest(&bytes));
    let mut text = serde_json::to_vec_pretty(&manifest).unwrap();
    text.push(b'\n');
    std::fs::write(&manifest_path, text).unwrap();

    // `run` names it, rebuilds it, and runs the rebuilt one (in human mode: its notes go to
    // stderr; `--json` keeps stderr for errors).
    let run = zkelf(root, &cache)
        .args(["run", "--zkvm", "sp1", "--input"])
        .arg(&input)
        .arg(&elf)
        .run();
    run.assert_exit(0).stderr_has(&[
        "cannot be used",
        "is not the one this machine recorded",
        "rebuilding it",
    ]);
    assert!(
        run.stdout.contains(
            "public values 702ad13354d1356ac5e49f114b17646adcf1254e018dde171b8811e6f4fbeb10"
        ),
        "{}",
        run.stdout
    );
    let rebuilt = std::fs::read(&program).unwrap();
    assert_ne!(rebuilt, bytes, "the rewritten program is gone");
    assert_eq!(
        hex(&Sha256::digest(&rebuilt)),
        built["toolboxes"][0]["program_sha256"].as_str().unwrap(),
        "the toolbox build is reproducible: the same program again"
    );
}
