//! `zkelf verify` against `minisign -Vm` on the same 256 MiB RISC-V ELF (issue 2, "Performance").
//!
//! Run: `cargo bench -p zkelf --bench verify` (release build). Prints the median wall times,
//! their ratio and zkelf's peak RSS. `ZKELF_BENCH_MIB` (default 256) and `ZKELF_BENCH_RUNS`
//! (default 9) change the file size and the number of alternating runs.
//!
//! zkelf checks SHA-256 *and* BLAKE2b-512 of the bytes; minisign checks BLAKE2b-512 alone.
//! Target: ratio at most 0.6, peak RSS under 32 MiB.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use zkelf_testsupport::elf::{Class, ElfSpec};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().expect("spawning");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Wall time of one run, which must succeed.
fn time(cmd: &mut Command) -> Duration {
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let start = Instant::now();
    let status = cmd.status().expect("spawning");
    let elapsed = start.elapsed();
    assert!(status.success(), "{cmd:?} failed");
    elapsed
}

/// Peak resident set size (VmHWM) of one run, in KiB, sampled from /proc while it runs: the
/// high-water mark only grows, so the last sample before exit is the peak up to that moment.
fn peak_rss_kib(cmd: &mut Command) -> u64 {
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = cmd.spawn().expect("spawning");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path)
            && let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("waiting") {
            assert!(status.success(), "{cmd:?} failed");
            return peak;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// CPU time (user + system) of all waited-for children so far, from `/proc/self/stat`.
fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`; cutime and cstime are fields 16 and 17 (1-based) overall.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [13, 14]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // Linux reports these in USER_HZ, which is 100 on every architecture zkelf runs on.
    Duration::from_millis(ticks * 10)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let zkelf = env!("CARGO_BIN_EXE_zkelf");
    let mib = env_number("ZKELF_BENCH_MIB", 256);
    let runs = env_number("ZKELF_BENCH_RUNS", 9).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let elf = dir.path().join("big.elf");
    let image = ElfSpec::new(Class::Elf32).file_size();
    ElfSpec::new(Class::Elf32)
        .padding((mib << 20) - image)
        .write_to(&elf)
        .expect("writing the ELF");

    run_ok(Command::new(zkelf).current_dir(dir.path()).args([
        "keygen",
        "--out",
        ".",
        "--name",
        "bench",
        "--unencrypted",
    ]));
    run_ok(
        Command::new(zkelf)
            .current_dir(dir.path())
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(["sign", "big.elf", "--key", "bench.key", "--guest", "bench"])
            .args(["--version", "1.0.0", "--zkvm", "sp1"]),
    );
    let zkelf_verify = || {
        let mut cmd = Command::new(zkelf);
        cmd.current_dir(dir.path()).args([
            "verify",
            "big.elf",
            "--key",
            "bench.pub",
            "--guest",
            "bench",
            "--version",
            "1.0.0",
            "--zkvm",
            "sp1",
        ]);
        cmd
    };
    let minisign_verify = || {
        let mut cmd = Command::new("minisign");
        cmd.current_dir(dir.path())
            .args(["-V", "-q", "-m", "big.elf", "-p", "bench.pub"]);
        cmd
    };
    if Command::new("minisign").arg("-v").output().is_err() {
        eprintln!("the `minisign` tool is not installed (apt-get install -y minisign)");
        std::process::exit(2);
    }

    // Warm the page cache and check both verify before timing anything; measure the peak RSS
    // of zkelf first, on its own.
    run_ok(&mut zkelf_verify());
    run_ok(&mut minisign_verify());
    let rss_kib = (0..3)
        .map(|_| peak_rss_kib(&mut zkelf_verify()))
        .max()
        .unwrap_or(0);

    let load_before = load_average();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let (mut our_cpu, mut their_cpu) = (Duration::ZERO, Duration::ZERO);
    let timed = |cmd: &mut Command, times: &mut Vec<Duration>, cpu: &mut Duration| {
        let before = children_cpu();
        times.push(time(cmd));
        *cpu += children_cpu().saturating_sub(before);
    };
    for i in 0..runs {
        // Alternate which goes first so neither always runs on a warmer machine.
        if i % 2 == 0 {
            timed(&mut zkelf_verify(), &mut ours, &mut our_cpu);
            timed(&mut minisign_verify(), &mut theirs, &mut their_cpu);
        } else {
            timed(&mut minisign_verify(), &mut theirs, &mut their_cpu);
            timed(&mut zkelf_verify(), &mut ours, &mut our_cpu);
        }
    }
    let runs32 = u32::try_from(runs).unwrap_or(u32::MAX);
    let (ours, theirs) = (median(ours), median(theirs));
    let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
    println!(
        "file:                 {} MiB RISC-V ELF ({runs} alternating runs each)",
        mib
    );
    println!(
        "zkelf verify:         {:.3} s median, {:.3} s CPU per run (SHA-256 + BLAKE2b-512 + Ed25519 + policy)",
        ours.as_secs_f64(),
        (our_cpu / runs32).as_secs_f64()
    );
    println!(
        "minisign -Vm:         {:.3} s median, {:.3} s CPU per run (BLAKE2b-512 + Ed25519)",
        theirs.as_secs_f64(),
        (their_cpu / runs32).as_secs_f64()
    );
    println!("ratio:                {ratio:.2} (target <= 0.60)");
    println!(
        "zkelf peak RSS:       {:.1} MiB (target < 32 MiB)",
        rss_kib as f64 / 1024.0
    );
    println!(
        "load average:         {load_before} before, {} after (the machine's other work competes for its cores)",
        load_average()
    );
}
