//! Concurrent pulls of the same artifact into the same cache: all succeed, none sees a partial
//! blob, the cache ends up with one intact copy.

mod dist_common;

use dist_common::*;
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::registry::DockerRegistry;
use zkelf_trust::digest::hash_file;

#[test]
fn concurrent_pulls_share_the_cache_safely() {
    let w = World::new();
    let registry = DockerRegistry::start();
    let spec = ElfSpec::new(Class::Elf32)
        .message("shared\n")
        .padding(8 << 20);
    let dist = w.dist_spec("fib", "1.0.0", "sp1", spec);
    let repo = format!("{}/fib", registry.host());
    assert_exit(&w.publish(&dist, &repo, &[]), 0);
    let expected = hash_file(&dist.join("fib-sp1.elf")).unwrap();

    let children: Vec<_> = (0..6)
        .map(|i| {
            let out = w.path(&format!("out/fib-{i}.elf"));
            w.zkelf()
                .args([
                    "--json",
                    "pull",
                    &format!("{repo}:1.0.0-sp1"),
                    "-o",
                    out.to_str().unwrap(),
                ])
                .args(["--policy", w.policy.to_str().unwrap()])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut from_cache = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let report = json_report(&output, 0);
        from_cache += usize::from(report["from_cache"] == true);
    }
    // The per-digest lock lets one download while the others wait, then read the cache.
    assert_eq!(from_cache, 5);
    for i in 0..6 {
        let got = hash_file(&w.path(&format!("out/fib-{i}.elf"))).unwrap();
        assert_eq!(got, expected);
    }
    let cached = w.path(&format!("cache/blobs/sha256/{}", expected.sha256));
    assert_eq!(hash_file(&cached).unwrap(), expected);
    let leftovers: Vec<_> = std::fs::read_dir(w.path("cache/blobs/sha256"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left in the cache: {leftovers:?}"
    );
    assert_eq!(run_qemu(Class::Elf32, &w.path("out/fib-0.elf")), "shared\n");
}

#[test]
fn concurrent_pulls_to_one_output_leave_one_complete_verified_elf() {
    let w = World::new();
    // Two releases of the same size, so a mix or a truncation would not show in the length.
    let elf = |version: &str, seed: u64| {
        let spec = ElfSpec::new(Class::Elf32)
            .message("shared\n")
            .padding(4 << 20)
            .seed(seed);
        let dist = w.dist_spec("fib", version, "sp1", spec);
        w.publish_layout(&dist, "layout");
        hash_file(&dist.join("fib-sp1.elf")).unwrap()
    };
    let releases = [elf("1.0.0", 1), elf("1.0.1", 2)];
    assert_eq!(releases[0].size, releases[1].size);
    let layout = w.path("layout");
    let out = w.path("out/fib.elf");

    // A reader checks the output all along: whenever it exists it is one release, whole.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (stop, out) = (stop.clone(), out.clone());
        std::thread::spawn(move || {
            let mut seen = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(got) = hash_file(&out) {
                    assert!(releases.contains(&got), "the output is a mix: {got:?}");
                    seen += 1;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            seen
        })
    };
    let children: Vec<_> = (0..6)
        .map(|i| {
            let reference = format!("oci-layout:{}:1.0.{}-sp1", layout.display(), i % 2);
            w.zkelf()
                .args(["pull", &reference, "-o", out.to_str().unwrap()])
                .args(["--policy", w.policy.to_str().unwrap(), "--allow-downgrade"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        assert_exit(&child.wait_with_output().unwrap(), 0);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(
        watcher.join().unwrap() > 0,
        "the watcher never saw the output"
    );
    assert!(releases.contains(&hash_file(&out).unwrap()));
    assert_eq!(
        std::fs::read_dir(w.path("out")).unwrap().count(),
        1,
        "temporary files left beside the output"
    );
    assert_eq!(run_qemu(Class::Elf32, &out), "shared\n");
}
