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
