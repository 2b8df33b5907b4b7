//! Pull benchmark (a program that prints figures, not a timed test).
//!
//! A 256 MiB RISC-V ELF (override with `ZKELF_BENCH_MIB`) is published to a loopback
//! `docker-registry`; then, alternating, `zkelf pull` (full verification, no cache) against
//! `skopeo copy docker://… oci:…` followed by `minisign -Vm`. Prints the medians, their ratio
//! and zkelf's peak RSS (GNU time's `%M`). Also times `zkelf publish` against `skopeo copy` in
//! the other direction, and a second publish with nothing to upload.
//!
//! `cargo bench -p zkelf --bench pull`

#![allow(clippy::print_stdout)] // a benchmark prints its figures

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::minisign_tool;
use zkelf_testsupport::registry::DockerRegistry;
use zkelf_trust::digest::hash_file;
use zkelf_trust::statement::{Kind, Statement};

const RUNS: usize = 5;

fn run(cmd: &mut Command) -> Duration {
    let started = Instant::now();
    let out = cmd.output().expect("running a benchmark command");
    let elapsed = started.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

/// Runs under GNU time, returning wall time and peak RSS in KiB.
fn run_measured(cmd: &Command, rss_file: &Path) -> (Duration, u64) {
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "%M", "-o"])
        .arg(rss_file)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let elapsed = run(&mut timed);
    let rss = std::fs::read_to_string(rss_file).unwrap_or_default();
    (
        elapsed,
        rss.trim()
            .lines()
            .last()
            .unwrap_or("0")
            .parse()
            .unwrap_or(0),
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mib: u64 = std::env::var("ZKELF_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let zkelf = env!("CARGO_BIN_EXE_zkelf");
    let work = tempfile::tempdir().expect("temp dir");
    let w = work.path();
    let dist = w.join("dist/bench/1.0.0");
    std::fs::create_dir_all(&dist).unwrap();
    let elf = dist.join("bench-sp1.elf");
    ElfSpec::new(Class::Elf32)
        .padding((mib << 20) - 256)
        .write_to(&elf)
        .unwrap();
    let key = minisign_tool::generate(w, "bench", None);
    let digests = hash_file(&elf).unwrap();
    let statement = Statement {
        kind: Kind::Release,
        guest: "bench".into(),
        version: "1.0.0".parse().unwrap(),
        zkvm: "sp1".into(),
        target: Class::Elf32.default_target().into(),
        sha256: digests.sha256,
        size: digests.size,
        provenance: None,
        vk: None,
        builder: None,
        created: 1_700_000_000,
    };
    let sig = dist.join("bench-sp1.elf.minisig");
    minisign_tool::sign(&key, &elf, &sig, &statement.render(), false);
    let policy = w.join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "version = 1\n[[key]]\nname = \"bench\"\npublic = \"{}\"\nroles = [\"release\"]\n[require]\nrelease = 1\n",
            key.public_base64()
        ),
    )
    .unwrap();
    let registry = DockerRegistry::start();
    let repo = format!("{}/bench", registry.host());
    let zk = |args: &[&str]| {
        let mut c = Command::new(zkelf);
        c.args(args)
            .env("HOME", w)
            .env("ZKELF_STATE_DIR", w.join("state"))
            .env("ZKELF_CACHE_DIR", w.join("cache"));
        c
    };
    let policy_s = policy.to_str().unwrap();
    let dist_s = dist.to_str().unwrap();

    println!(
        "ELF: {} MiB ({} bytes); registry: docker-registry at {}",
        mib,
        digests.size,
        registry.host()
    );
    let publish_first = run(&mut zk(&[
        "-q", "publish", dist_s, "--to", &repo, "--policy", policy_s,
    ]));
    let publish_again = run(&mut zk(&[
        "-q", "publish", dist_s, "--to", &repo, "--policy", policy_s,
    ]));
    let layout = w.join("layout");
    run(&mut zk(&[
        "-q",
        "publish",
        dist_s,
        "--to",
        &format!("oci-layout:{}", layout.display()),
        "--policy",
        policy_s,
    ]));
    let skopeo_push = run(Command::new("skopeo").args([
        "--insecure-policy",
        "copy",
        "--dest-tls-verify=false",
        &format!("oci:{}:1.0.0-sp1", layout.display()),
        &format!("docker://{}/skopeo:1.0.0-sp1", registry.host()),
    ]));
    println!(
        "publish: zkelf {} | skopeo copy oci: -> docker:// {} | second zkelf publish (nothing to upload) {}",
        secs(publish_first),
        secs(skopeo_push),
        secs(publish_again)
    );

    let mut zk_times = Vec::new();
    let mut pair_times = Vec::new();
    let mut peak_rss = 0;
    let elf_hex = digests.sha256.to_string();
    for i in 0..RUNS {
        let out_dir = w.join(format!("pull-{i}"));
        std::fs::create_dir_all(&out_dir).unwrap();
        let _ = std::fs::remove_dir_all(w.join("state"));
        let out = out_dir.join("bench.elf");
        let cmd = zk(&[
            "-q",
            "pull",
            &format!("{repo}:1.0.0-sp1"),
            "-o",
            out.to_str().unwrap(),
            "--policy",
            policy_s,
            "--no-cache",
        ]);
        let (t, rss) = run_measured(&cmd, &w.join("rss"));
        zk_times.push(t);
        peak_rss = peak_rss.max(rss);
        std::fs::remove_file(&out).unwrap();

        let oci = w.join(format!("skopeo-{i}"));
        let started = Instant::now();
        run(Command::new("skopeo").args([
            "--insecure-policy",
            "copy",
            "--src-tls-verify=false",
            &format!("docker://{repo}:1.0.0-sp1"),
            &format!("oci:{}:1.0.0-sp1", oci.display()),
        ]));
        let blob: PathBuf = oci.join("blobs/sha256").join(&elf_hex);
        run(Command::new("minisign").args([
            "-Vm",
            blob.to_str().unwrap(),
            "-x",
            sig.to_str().unwrap(),
            "-P",
            &key.public_base64(),
        ]));
        pair_times.push(started.elapsed());
        std::fs::remove_dir_all(&oci).unwrap();
        println!(
            "run {}: zkelf pull {} ({} MiB peak RSS) | skopeo copy + minisign -Vm {}",
            i + 1,
            secs(t),
            rss / 1024,
            secs(*pair_times.last().unwrap())
        );
    }
    // With the blob cache (the default): a cold pull fills it, a warm one reads and re-hashes it.
    let cached = |name: &str| {
        let out = w.join(format!("{name}.elf"));
        let _ = std::fs::remove_dir_all(w.join("state"));
        let t = run(&mut zk(&[
            "-q",
            "pull",
            &format!("{repo}:1.0.0-sp1"),
            "-o",
            out.to_str().unwrap(),
            "--policy",
            policy_s,
        ]));
        std::fs::remove_file(&out).unwrap();
        t
    };
    let (cold, warm) = (cached("cold"), cached("warm"));
    println!(
        "with the cache: cold pull {} | warm pull {}",
        secs(cold),
        secs(warm)
    );
    let (zm, pm) = (median(zk_times), median(pair_times));
    println!(
        "median: zkelf pull {} | skopeo copy + minisign -Vm {} | ratio {:.2}x | zkelf peak RSS {} MiB",
        secs(zm),
        secs(pm),
        zm.as_secs_f64() / pm.as_secs_f64(),
        peak_rss / 1024
    );
}
