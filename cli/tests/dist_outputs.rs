//! What a pull does to the files it writes: outputs that name one file are refused before
//! anything is fetched; a VK that cannot be written puts back the file the ELF replaced, and
//! the lock and the rollback state as they were; and temporaries a killed zkelf left (older
//! versions named theirs) are swept once stale.

mod dist_common;

use std::time::{Duration, SystemTime};

use dist_common::github::GithubRelease;
use dist_common::*;
use zkelf_testsupport::cli;
use zkelf_testsupport::elf::Class;
use zkelf_testsupport::minisign_tool;
use zkelf_trust::digest::{Sha256Digest, hash_file};
use zkelf_trust::statement::{Kind, Statement};

/// `pull <release> --key … --sha256 … --vk-sha256 …` plus `extra`.
fn pull(w: &World, r: &GithubRelease, extra: &[&str]) -> std::process::Output {
    let key = w.key.public_base64();
    let url = r.elf_url();
    let mut args = vec![
        "pull",
        &url,
        "--key",
        &key,
        "--sha256",
        &r.elf_sha256,
        "--vk-sha256",
        &r.vk_sha256,
    ];
    args.extend_from_slice(extra);
    r.run(w, &args)
}

#[test]
fn outputs_that_name_one_file_are_refused_before_anything_is_fetched() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let out = w.path("out");
    let elf = out.join("v.elf");
    std::fs::write(&elf, "an earlier release").unwrap();
    std::os::unix::fs::symlink(&elf, out.join("link")).unwrap();
    let same_dir = format!("{}/./v.elf", out.display());
    let link = out.join("link").display().to_string();
    let elf = elf.display().to_string();
    for (name, extra) in [
        ("elf_is_the_lock", ["-o", &elf, "--lock", &elf]),
        ("elf_is_the_vk", ["-o", &elf, "--vk-out", &same_dir]),
        ("vk_is_a_link_to_the_elf", ["-o", &elf, "--vk-out", &link]),
    ] {
        w.rejects(name, 2, || pull(&w, &r, &extra));
    }
    assert!(r.github.requests().is_empty(), "{:?}", r.github.requests());
    assert!(
        r.objects.requests().is_empty(),
        "{:?}",
        r.objects.requests()
    );
}

#[test]
fn a_vk_that_cannot_be_written_puts_back_the_file_the_elf_replaced() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let elf = w.path("out/v.elf");
    std::fs::write(&elf, "an earlier release").unwrap();
    // A directory with a file in it: the VK cannot take its name.
    let vk = w.path("out/v.vk");
    std::fs::create_dir(&vk).unwrap();
    std::fs::write(vk.join("keep"), "").unwrap();
    w.rejects("vk_not_writable_elf_restored", 2, || {
        pull(
            &w,
            &r,
            &[
                "-o",
                elf.to_str().unwrap(),
                "--vk-out",
                vk.to_str().unwrap(),
                "--no-cache",
            ],
        )
    });
    assert_eq!(std::fs::read_to_string(&elf).unwrap(), "an earlier release");

    // Without a file there before, the ELF is taken away again.
    std::fs::remove_file(&elf).unwrap();
    let output = w.rejects("vk_not_writable_elf_removed", 2, || {
        pull(
            &w,
            &r,
            &[
                "-o",
                elf.to_str().unwrap(),
                "--vk-out",
                vk.to_str().unwrap(),
                "--no-cache",
            ],
        )
    });
    output.stderr_has(&["nothing was written"]);
    assert!(!elf.exists());
}

/// A signed `dist/fib/<version>` for `rv32im` whose statement binds a VK (`vk=`) as well.
fn bound_release_with_vk(w: &World, version: &str) -> std::path::PathBuf {
    let dir = w.dist(
        "fib",
        version,
        "rv32im",
        Class::Elf32,
        &format!("fib {version}\n"),
    );
    let vk = format!("the verification key of fib {version}");
    std::fs::write(dir.join("fib-rv32im.vk"), &vk).unwrap();
    let elf = dir.join("fib-rv32im.elf");
    let digests = hash_file(&elf).unwrap();
    let provenance = std::fs::read(dir.join("fib-rv32im.provenance.json")).unwrap();
    let statement = Statement {
        kind: Kind::Release,
        guest: "fib".into(),
        version: version.parse().unwrap(),
        zkvm: "rv32im".into(),
        target: Class::Elf32.default_target().into(),
        sha256: digests.sha256,
        size: digests.size,
        provenance: Some(Sha256Digest::of(&provenance)),
        vk: Some(Sha256Digest::of(vk.as_bytes())),
        builder: None,
        created: 1_700_000_000,
    };
    let sig = dir.join("fib-rv32im.elf.minisig");
    minisign_tool::sign(&w.key, &elf, &sig, &statement.render(), false);
    dir
}

#[test]
fn a_vk_that_cannot_be_written_leaves_the_lock_and_the_state_as_they_were() {
    let w = World::new();
    let layout = w.path("layout");
    let to = format!("oci-layout:{}", layout.display());
    for version in ["1.0.0", "1.1.0"] {
        let dir = bound_release_with_vk(&w, version);
        cli::Output::from(&w.publish(&dir, &to, &[])).assert_exit(0);
    }
    let reference = |version: &str| format!("{to}:{version}-rv32im");
    let (elf, vk, lock) = (
        w.path("out/fib.elf"),
        w.path("out/fib.vk"),
        w.path("out/zkelf.lock"),
    );
    let pull = |version: &str, lock: &std::path::Path| {
        w.pull(
            &reference(version),
            &elf,
            &[
                "--vk-out",
                vk.to_str().unwrap(),
                "--lock",
                lock.to_str().unwrap(),
                "--no-cache",
            ],
        )
    };
    // 1.0.0 is deployed: its ELF, its VK, its pin, its version in the rollback state.
    cli::Output::from(&pull("1.0.0", &lock)).assert_exit(0);
    let pinned = std::fs::read_to_string(&lock).unwrap();
    assert!(pinned.contains(":1.0.0-rv32im"), "{pinned}");
    let state = std::fs::read_to_string(w.path("state/rollback.json")).unwrap();
    assert!(state.contains("\"1.0.0\""), "{state}");

    // 1.1.0's VK cannot take its name (a directory with a file in it is there): the ELF, the
    // lock and the state stay 1.0.0's, byte for byte (`rejects` checks out/, cache and state).
    std::fs::remove_file(&vk).unwrap();
    std::fs::create_dir(&vk).unwrap();
    std::fs::write(vk.join("keep"), "").unwrap();
    let output = w.rejects("vk_not_writable_lock_and_state_kept", 2, || {
        pull("1.1.0", &lock)
    });
    output.stderr_has(&["nothing was written"]);
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), pinned);

    // A lock file the pull would have made is not left behind either.
    let fresh = w.path("out/new.lock");
    w.rejects("vk_not_writable_no_lock_made", 2, || pull("1.1.0", &fresh));
    assert!(!fresh.exists());
}

#[test]
fn temporaries_a_killed_zkelf_left_are_swept_once_stale() {
    let w = World::new();
    let r = GithubRelease::publish(&w);
    let hour_ago = SystemTime::now() - Duration::from_secs(2 * 60 * 60);
    let left = |dir: &str, name: &str, modified: SystemTime| {
        let dir = w.path(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let file = std::fs::File::create(&path).unwrap();
        file.set_modified(modified).unwrap();
        path
    };
    let stale_part = left("out", ".zkelf-pull-a1b2c3.part", hour_ago);
    let stale_tmp = left("cache/blobs/sha256", ".zkelf-d4e5f6.tmp", hour_ago);
    // A temporary of a pull that may still run, and a file that only looks like one.
    let fresh = left("out", ".zkelf-pull-g7h8i9.part", SystemTime::now());
    let users = left("out", "zkelf-pull-notes.part", hour_ago);
    let elf = w.path("out/v.elf");
    cli::Output::from(&pull(&w, &r, &["-o", elf.to_str().unwrap()])).assert_exit(0);
    assert!(!stale_part.exists() && !stale_tmp.exists());
    assert!(fresh.exists() && users.exists());
    assert_eq!(std::fs::read(&elf).unwrap(), r.elf);
}
