//! What a pull does to the files it writes: outputs that name one file are refused before
//! anything is fetched; a VK that cannot be written puts back the file the ELF replaced; and
//! temporaries a killed zkelf left (older versions named theirs) are swept once stale.

mod dist_common;

use std::time::{Duration, SystemTime};

use dist_common::github::GithubRelease;
use dist_common::*;
use zkelf_testsupport::cli;

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
