//! The sysroot cache: `zkelf build` compiles the standard library once per key into
//! `<cache>/builder/sysroot/<key>/` and builds guests against it. The ELF and its provenance
//! must be byte-identical with no cache at all, with a cold cache and with a warm one; a
//! corrupt or partial entry, one rewritten with its manifest regenerated, and one this machine
//! did not record are detected, rebuilt and never used. (Docker: the real builder.)

use std::path::{Path, PathBuf};

use zkelf_testsupport::cli::{Output, Zkelf};
use zkelf_testsupport::docker::{ensure_builder_image, guests_checkout};

const GUEST: &str = "fibonacci";

/// One build of fibonacci into `out`: the ELF's sha256 and the provenance's bytes.
struct Built {
    sha256: String,
    provenance: Vec<u8>,
    stderr: String,
}

fn build(root: &Path, guest: &Path, out: &Path, cache: Option<&Path>) -> Built {
    let bin = Path::new(env!("CARGO_BIN_EXE_zkelf"));
    ensure_builder_image(bin);
    let mut zkelf = Zkelf::new(bin).isolated(root);
    zkelf = match cache {
        Some(dir) => zkelf.cache_dir(dir),
        // No cache at all: neither the vendored crates nor the sysroot are kept.
        None => zkelf
            .env_remove("ZKELF_CACHE_DIR")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("HOME"),
    };
    // Not `--json`: the steps on stderr say whether the sysroot was built or found.
    let output: Output = zkelf.args(["build", "--out"]).arg(out).arg(guest).run();
    output.assert_exit(0);
    let dir = out.join(GUEST).join("0.1.0");
    let elf = std::fs::read(dir.join(format!("{GUEST}-rv32im.elf"))).unwrap();
    let provenance = std::fs::read(dir.join(format!("{GUEST}-rv32im.provenance.json"))).unwrap();
    Built {
        sha256: zkelf_trust::digest::Sha256Digest::of(&elf).to_string(),
        provenance,
        stderr: output.stderr.clone(),
    }
}

/// The provenance of two builds is the same; if not, the lines that differ.
fn assert_same_provenance(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let (got, want) = (String::from_utf8_lossy(got), String::from_utf8_lossy(want));
        let differ: Vec<String> = got
            .lines()
            .zip(want.lines())
            .filter(|(g, w)| g != w)
            .map(|(g, w)| format!("{what}: {g}\nreference: {w}"))
            .collect();
        panic!("the provenance differs ({what}):\n{}", differ.join("\n"));
    }
}

/// The one entry under `<cache>/builder/sysroot/` (temporary `.partial-*` directories aside).
fn entry(cache: &Path) -> PathBuf {
    let root = cache.join("builder/sysroot");
    let entries: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".partial-")
        })
        .collect();
    assert_eq!(
        entries.len(),
        1,
        "one sysroot entry in {root:?}: {entries:?}"
    );
    entries[0].clone()
}

/// The rlibs of an entry, sorted.
fn rlibs(entry: &Path) -> Vec<PathBuf> {
    let lib = entry.join("lib/rustlib/riscv32im-unknown-none-elf/lib");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("{lib:?}: {e}"))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

/// The sysroot recorded in a provenance: (key, digest).
fn recorded_sysroot(provenance: &[u8]) -> (String, String) {
    let doc: serde_json::Value = serde_json::from_slice(provenance).unwrap();
    assert_eq!(
        doc["predicate"]["buildDefinition"]["buildType"],
        "https://zkelf.dev/builder/docker/v3"
    );
    let deps = doc["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    let sysroot = deps
        .iter()
        .find(|d| d["name"] == "sysroot")
        .expect("a sysroot dependency");
    let command = sysroot["annotations"]["command"].to_string();
    assert!(command.contains("-Zbuild-std=core,alloc"), "{command}");
    let guest_command =
        doc["predicate"]["buildDefinition"]["internalParameters"]["command"].to_string();
    assert!(!guest_command.contains("-Zbuild-std"), "{guest_command}");
    (
        sysroot["annotations"]["key"].as_str().unwrap().to_string(),
        sysroot["digest"]["sha256"].as_str().unwrap().to_string(),
    )
}

#[test]
fn the_elf_is_the_same_with_no_cold_warm_corrupt_or_partial_sysroot_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let checkout = guests_checkout(&tmp.path().join("checkout"), &[]);
    let guest = checkout.join("guests").join(GUEST);
    let cache = tmp.path().join("cache");
    let out = |n: &str| tmp.path().join(format!("dist-{n}"));
    let home = |n: &str| {
        let dir = tmp.path().join(format!("home-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    };

    // No cache at all: the reference bytes.
    let reference = build(&home("none"), &guest, &out("none"), None);
    let (key, digest) = recorded_sysroot(&reference.provenance);
    assert!(
        reference.stderr.contains("building the sysroot"),
        "{}",
        reference.stderr
    );

    // A cold cache, with a stale partial entry of an interrupted build lying there (two hours
    // old, no process holding it): swept by the build.
    let stale = cache.join("builder/sysroot/.partial-interrupted/lib");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("libcore-0.rlib"), b"half written").unwrap();
    std::fs::File::open(stale.parent().unwrap())
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 60 * 60))
        .unwrap();
    let cold = build(&home("cold"), &guest, &out("cold"), Some(&cache));
    assert!(
        !stale.parent().unwrap().exists(),
        "the stale partial was swept"
    );
    assert_eq!(cold.sha256, reference.sha256, "cold cache vs no cache");
    assert_same_provenance(&cold.provenance, &reference.provenance, "cold");
    let dir = entry(&cache);
    assert_eq!(dir.file_name().unwrap().to_string_lossy(), key);
    let manifest = std::fs::read(dir.join("zkelf-sysroot.json")).unwrap();
    assert_eq!(
        zkelf_trust::digest::Sha256Digest::of(&manifest).to_string(),
        digest
    );
    let libs = rlibs(&dir);
    for name in ["libcore-", "liballoc-", "libcompiler_builtins-"] {
        assert!(
            libs.iter()
                .any(|p| p.file_name().unwrap().to_string_lossy().starts_with(name)),
            "{name}*.rlib in {libs:?}"
        );
    }
    assert!(
        !libs.iter().any(|p| p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .contains("zkelf_sysroot")),
        "the dummy crate is not part of the sysroot: {libs:?}"
    );

    // Warm: the entry is used, nothing is compiled but the guest.
    let warm = build(&home("warm"), &guest, &out("warm"), Some(&cache));
    assert!(
        warm.stderr.contains("using the cached sysroot"),
        "{}",
        warm.stderr
    );
    assert!(
        !warm.stderr.contains("building the sysroot"),
        "{}",
        warm.stderr
    );
    assert_eq!(warm.sha256, reference.sha256, "warm cache vs no cache");
    assert_same_provenance(&warm.provenance, &reference.provenance, "warm");

    // A flipped byte in an rlib: detected, the entry rebuilt, the same ELF.
    let core = libs
        .iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("libcore-")
        })
        .unwrap()
        .clone();
    let good = std::fs::read(&core).unwrap();
    let mut bad = good.clone();
    let middle = bad.len() / 2;
    bad[middle] ^= 0x01;
    std::fs::write(&core, &bad).unwrap();
    let corrupt = build(&home("corrupt"), &guest, &out("corrupt"), Some(&cache));
    assert!(
        corrupt.stderr.contains("cannot be used")
            && corrupt.stderr.contains("libcore-")
            && corrupt.stderr.contains("building the sysroot"),
        "{}",
        corrupt.stderr
    );
    assert_eq!(corrupt.sha256, reference.sha256, "after a corrupt entry");
    assert_same_provenance(&corrupt.provenance, &reference.provenance, "corrupt");
    assert_eq!(std::fs::read(&core).unwrap(), good, "the entry was rebuilt");

    // No manifest (a partial entry): rebuilt, never used.
    std::fs::remove_file(entry(&cache).join("zkelf-sysroot.json")).unwrap();
    let partial = build(&home("partial"), &guest, &out("partial"), Some(&cache));
    assert!(
        partial.stderr.contains("a partial entry")
            && partial.stderr.contains("building the sysroot"),
        "{}",
        partial.stderr
    );
    assert_eq!(partial.sha256, reference.sha256, "after a partial entry");
    assert_same_provenance(&partial.provenance, &reference.provenance, "partial");
    assert!(entry(&cache).join("zkelf-sysroot.json").is_file());

    // Poisoned as a CI cache an untrusted build wrote would be: an rlib rewritten and the
    // entry's manifest regenerated to match, byte for byte as zkelf writes it. The entry
    // verifies against itself, not against the digest this machine recorded: rebuilt.
    let dir = entry(&cache);
    let core = rlibs(&dir)
        .into_iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("libcore-")
        })
        .unwrap();
    let honest = std::fs::read(&core).unwrap();
    let mut evil = honest.clone();
    let middle = evil.len() / 2;
    evil[middle] ^= 0x01;
    std::fs::write(&core, &evil).unwrap();
    let sha = |b: &[u8]| zkelf_trust::digest::Sha256Digest::of(b).to_string();
    let manifest = std::fs::read_to_string(dir.join("zkelf-sysroot.json")).unwrap();
    assert!(manifest.contains(&sha(&honest)));
    std::fs::write(
        dir.join("zkelf-sysroot.json"),
        manifest.replace(&sha(&honest), &sha(&evil)),
    )
    .unwrap();
    let poisoned = build(&home("poisoned"), &guest, &out("poisoned"), Some(&cache));
    assert!(
        poisoned
            .stderr
            .contains("is not the one this machine recorded")
            && poisoned.stderr.contains("building the sysroot"),
        "{}",
        poisoned.stderr
    );
    assert_eq!(poisoned.sha256, reference.sha256, "after a poisoned entry");
    assert_same_provenance(&poisoned.provenance, &reference.provenance, "poisoned");

    // An entry this machine has no record of (a cache restored from elsewhere): rebuilt too.
    std::fs::remove_dir_all(zkelf_testsupport::docker::trust_dir_of(&cache)).unwrap();
    let foreign = build(&home("foreign"), &guest, &out("foreign"), Some(&cache));
    assert!(
        foreign.stderr.contains("this machine did not build it")
            && foreign.stderr.contains("building the sysroot"),
        "{}",
        foreign.stderr
    );
    assert_eq!(foreign.sha256, reference.sha256);
}
