//! Hostile stores: tampered and short blobs, references that hide their host, layout files that
//! are endless or not files, and attestation floods. Each is refused with the exit code SPEC §9
//! gives it (or, for floods, completes quickly), and nothing is written to the output, the cache,
//! the state or the layout.

mod dist_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use dist_common::*;
use zkelf_registry::Reference;
use zkelf_registry::artifact::{self, Descriptor, INDEX_MEDIA_TYPE};
use zkelf_registry::store::{self, NetworkOptions};
use zkelf_testsupport::assert_cli_snapshot;
use zkelf_testsupport::cli::{self, Tree};
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::minisign_tool;
use zkelf_testsupport::policy::{Key, PolicyFile};
use zkelf_testsupport::registry::{DockerRegistry, Fault, FaultyRegistry};

/// What a refused command must leave as it was: `out/`, the state, the cache (but for its per-digest
/// lock files, empty by design; no blob may land) and any store directories.
struct Untouched(Tree);

impl Untouched {
    fn new(w: &World, stores: &[&Path]) -> Self {
        let mut paths = vec![w.path("out"), w.path("state"), w.path("cache")];
        paths.extend(stores.iter().map(|p| p.to_path_buf()));
        Self(Tree::of(&paths).allowing_lock_files_under(w.path("cache").join("locks")))
    }

    #[track_caller]
    fn check(&self) {
        self.0.assert_unchanged();
    }
}

/// Every path under `dir` with its length, without reading anything (a FIFO or a sparse
/// 1 GiB file may be among them).
fn listing(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        if meta.is_dir() {
            out.extend(listing(&entry.path()));
        } else {
            out.push((entry.path(), meta.len()));
        }
    }
    out.sort();
    out
}

/// Asserts exit `code`, the snapshot `name`, and that nothing `untouched` covers changed.
#[track_caller]
fn refused(untouched: &Untouched, name: &str, output: &Output, code: i32) -> cli::Output {
    let output = cli::Output::from(output);
    output.assert_exit(code);
    assert_cli_snapshot!(name, output);
    untouched.check();
    output
}

fn layout_ref(layout: &Path, tag: &str) -> String {
    format!("oci-layout:{}:{tag}", layout.display())
}

fn layer_digest(layout: &Path, tag: &str, layer: usize) -> String {
    layout_manifest(layout, tag).1["layers"][layer]["digest"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout.join("blobs/sha256").join(&digest[7..])
}

/// Flips one bit in the middle of a file.
fn flip(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// Runs `cmd`, failing the test (and killing it) if it takes longer than `limit`.
fn run_within(mut cmd: Command, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    (output, start.elapsed())
}

fn pull_command(w: &World, reference: &str, extra: &[&str]) -> Command {
    let mut cmd = w.zkelf();
    cmd.args(["pull", reference, "-o"])
        .arg(w.path("out/fib.elf"))
        .arg("--policy")
        .arg(&w.policy)
        .args(extra);
    cmd
}

#[test]
fn a_tampered_small_blob_is_a_digest_failure_in_a_registry_and_a_layout() {
    let w = World::new();
    let registry = DockerRegistry::start();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "small\n");
    let repo = format!("{}/fib", registry.host());
    assert_exit(&w.publish(&dist, &repo, &[]), 0);
    let layout = w.publish_layout(&dist, "layout");
    // Layer 1 is the release signature (a few hundred bytes), layer 2 the provenance.
    for (layer, what) in [(1, "the release signature"), (2, "the provenance")] {
        let digest = layer_digest(&layout, "1.0.0-sp1", layer);
        flip(&registry.blob_path(&digest));
        flip(&blob(&layout, &digest));
        // docker-registry answers `Range: bytes=0-` with 206 (zkelf checks the digest); the
        // in-process one answers 200, where oci-client's verifying stream finds the mismatch.
        let faulty = FaultyRegistry::serve(&layout, Fault::None);
        let faulty_repo = format!("{}/fib", faulty.host());
        let untouched = Untouched::new(&w, &[&layout]);
        for (store_name, reference) in [
            ("registry", format!("{repo}:1.0.0-sp1")),
            ("in_process_registry", format!("{faulty_repo}:1.0.0-sp1")),
            ("layout", layout_ref(&layout, "1.0.0-sp1")),
        ] {
            let out = w.pull(&reference, &w.path("out/fib.elf"), &[]);
            let name = format!("tampered_{}_from_{store_name}", what.replace(' ', "_"));
            // The snapshot filters digests: that the flipped blob is the one named is checked here.
            refused(&untouched, &name, &out, 1).stderr_has(&[&format!("expected `{digest}`")]);
            assert!(
                !stderr(&out).contains("reachable") && !stderr(&out).contains("retrying"),
                "{}",
                stderr(&out)
            );
        }
        // Put it back for the next layer.
        flip(&registry.blob_path(&digest));
        flip(&blob(&layout, &digest));
    }
    assert_exit(
        &w.pull(&format!("{repo}:1.0.0-sp1"), &w.path("out/fib.elf"), &[]),
        0,
    );
}

#[test]
fn a_blob_shorter_than_its_descriptor_is_a_verification_failure() {
    let w = World::new();
    let spec = ElfSpec::new(Class::Elf32)
        .message("short\n")
        .padding(64 << 10);
    let dist = w.dist_spec("fib", "1.0.0", "sp1", spec);
    let layout = w.publish_layout(&dist, "layout");
    let elf = layer_digest(&layout, "1.0.0-sp1", 0);
    let path = blob(&layout, &elf);
    let size = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(size - 100)
        .unwrap();
    // The server says how long the (short) blob is and sends all of it: no broken connection.
    let server = FaultyRegistry::serve(&layout, Fault::None);
    let untouched = Untouched::new(&w, &[&layout]);
    for (store_name, reference) in [
        ("registry", format!("{}/fib:1.0.0-sp1", server.host())),
        ("layout", layout_ref(&layout, "1.0.0-sp1")),
    ] {
        let (out, _) = run_within(pull_command(&w, &reference, &[]), Duration::from_secs(60));
        refused(
            &untouched,
            &format!("short_blob_from_{store_name}"),
            &out,
            1,
        );
        assert!(!stderr(&out).contains("reachable"), "{}", stderr(&out));
    }
}

#[test]
fn references_with_userinfo_are_refused_before_any_request() {
    let w = World::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let untouched = Untouched::new(&w, &[]);
    for (n, reference) in [
        format!("[::1]@127.0.0.1:{port}/fib:1.0.0-sp1"),
        format!("http://[::1]@127.0.0.1:{port}/fib-sp1.elf"),
        format!("https://user:secret@127.0.0.1:{port}/fib-sp1.elf"),
    ]
    .into_iter()
    .enumerate()
    {
        for command in ["pull", "inspect"] {
            let out = match command {
                "pull" => w.pull(&reference, &w.path("out/fib.elf"), &[]),
                _ => w.run(&[
                    "inspect",
                    &reference,
                    "--policy",
                    w.policy.to_str().unwrap(),
                ]),
            };
            refused(&untouched, &format!("userinfo_{n}_{command}"), &out, 2);
        }
    }
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a request reached the host: {other:?}"),
    }
}

#[test]
fn a_huge_or_endless_index_json_is_refused_quickly() {
    let w = World::new();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "index\n");
    let layout = w.publish_layout(&dist, "layout");
    let index = layout.join("index.json");
    std::fs::remove_file(&index).unwrap();
    // 1 GiB that takes no disk: refused from its size, before any of it is read.
    std::fs::File::create(&index)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let untouched = Untouched::new(&w, &[&layout.join("blobs")]);
    let files = listing(&layout);
    let reference = layout_ref(&layout, "1.0.0-sp1");
    let (out, took) = run_within(pull_command(&w, &reference, &[]), Duration::from_secs(30));
    refused(&untouched, "index_json_past_the_bound", &out, 2);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(listing(&layout), files);

    std::fs::remove_file(&index).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &index).unwrap();
    let files = listing(&layout);
    let (out, _) = run_within(pull_command(&w, &reference, &[]), Duration::from_secs(30));
    refused(&untouched, "index_json_a_device", &out, 2);
    assert_eq!(listing(&layout), files);
}

#[test]
fn a_fifo_in_place_of_a_blob_or_index_is_refused_without_hanging() {
    let w = World::new();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "fifo\n");
    let layout = w.publish_layout(&dist, "layout");
    let elf = blob(&layout, &layer_digest(&layout, "1.0.0-sp1", 0));
    let reference = layout_ref(&layout, "1.0.0-sp1");
    let index = layout.join("index.json");
    let index_bytes = std::fs::read(&index).unwrap();
    for (what, fifo) in [("elf_blob", &elf), ("index_json", &index)] {
        std::fs::rename(fifo, w.path("saved")).unwrap();
        let made = Command::new("mkfifo").arg(fifo).status().unwrap();
        assert!(made.success());
        let untouched = Untouched::new(&w, &[]);
        let files = listing(&layout);
        let (out, took) = run_within(pull_command(&w, &reference, &[]), Duration::from_secs(30));
        assert_eq!(listing(&layout), files);
        refused(&untouched, &format!("fifo_in_place_of_the_{what}"), &out, 2);
        assert!(took < Duration::from_secs(10), "took {took:?}");
        std::fs::remove_file(fifo).unwrap();
        std::fs::rename(w.path("saved"), fifo).unwrap();
    }
    assert_eq!(std::fs::read(&index).unwrap(), index_bytes);
    assert_exit(&w.pull(&reference, &w.path("out/fib.elf"), &[]), 0);
}

#[test]
fn a_layout_manifest_that_is_not_the_one_index_json_names_is_refused() {
    let w = World::new();
    let layout = w.path("layout");
    for (version, message) in [("1.0.0", "one\n"), ("1.0.1", "two\n")] {
        let dist = w.dist("fib", version, "sp1", Class::Elf32, message);
        assert_exit(
            &w.publish(&dist, &format!("oci-layout:{}", layout.display()), &[]),
            0,
        );
    }
    let (one, _) = layout_manifest(&layout, "1.0.0-sp1");
    let (two, _) = layout_manifest(&layout, "1.0.1-sp1");
    // The file `index.json` names for `1.0.0-sp1` holds the (signed, valid) 1.0.1 manifest.
    std::fs::copy(blob(&layout, &two), blob(&layout, &one)).unwrap();
    let untouched = Untouched::new(&w, &[&layout]);
    let out = w.pull(
        &layout_ref(&layout, "1.0.0-sp1"),
        &w.path("out/fib.elf"),
        &[],
    );
    refused(&untouched, "layout_manifest_not_the_one_named", &out, 1);
}

/// A rebuild attestation of the `fib` 1.0.0 `sp1` ELF in `dist`, by a fresh auditor key attached
/// to `reference`; returns a policy that requires it.
fn attested(w: &World, dist: &Path, reference: &str) -> PathBuf {
    let elf = dist.join("fib-sp1.elf");
    let key = minisign_tool::generate(w.dir.path(), "auditor", None);
    let sig = w.path("auditor.minisig");
    let statement = rebuild_statement(&elf, "sha256-builder-image");
    minisign_tool::sign(&key, &elf, &sig, &statement.render(), false);
    attach_raw(
        reference,
        &std::fs::read(&sig).unwrap(),
        "fib-sp1.elf.auditor.minisig",
    );
    PolicyFile::new()
        .key(Key::release("release", &w.key.public_base64()))
        .key(Key::rebuild("auditor", &key.public_base64()))
        .require(1, 1)
        .write(&w.path("attested.toml"))
}

/// Rewrites the `sha256-<hex>` fallback index of `tag`'s manifest in `layout` to list `entries`.
fn rewrite_referrers(layout: &Path, tag: &str, entries: Vec<serde_json::Value>) {
    let (subject, _) = layout_manifest(layout, tag);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": entries,
    });
    let bytes = serde_json::to_vec(&index).unwrap();
    assert!(
        bytes.len() as u64 <= artifact::MAX_MANIFEST_SIZE,
        "{}",
        bytes.len()
    );
    let reference: Reference = format!("oci-layout:{}", layout.display()).parse().unwrap();
    let store = store::open(&reference, &NetworkOptions::default()).unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(store.put_manifest(
            &bytes,
            INDEX_MEDIA_TYPE,
            Some(&artifact::referrers_tag(subject.parse().unwrap())),
        ))
        .unwrap();
}

/// The one attestation the fallback index of `tag` lists, as a bare descriptor.
fn the_attestation(layout: &Path, tag: &str) -> serde_json::Value {
    let (subject, _) = layout_manifest(layout, tag);
    let (_, index) = layout_manifest(layout, &artifact::referrers_tag(subject.parse().unwrap()));
    let d = &index["manifests"][0];
    // Without its annotations, 20,000 copies fit in a manifest's 4 MiB.
    serde_json::json!({
        "mediaType": d["mediaType"],
        "digest": d["digest"],
        "size": d["size"],
        "artifactType": d["artifactType"],
    })
}

#[test]
fn one_attestation_listed_20000_times_is_read_once() {
    let w = World::new();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "flood\n");
    let layout = w.publish_layout(&dist, "layout");
    let policy = attested(&w, &dist, &layout_ref(&layout, "1.0.0-sp1"));
    let attestation = the_attestation(&layout, "1.0.0-sp1");
    let digest = attestation["digest"].as_str().unwrap().to_owned();
    rewrite_referrers(&layout, "1.0.0-sp1", vec![attestation; 20_000]);
    // Served as distribution 2.8 serves it (no referrers API: the fallback tag is read).
    let server = FaultyRegistry::serve(&layout, Fault::None);
    for reference in [
        format!("{}/fib:1.0.0-sp1", server.host()),
        layout_ref(&layout, "1.0.0-sp1"),
    ] {
        let mut cmd = w.zkelf();
        cmd.args(["--json", "pull", &reference, "-o"])
            .arg(w.path("out/fib.elf"))
            .arg("--policy")
            .arg(&policy)
            .arg("--no-cache");
        let (out, took) = run_within(cmd, Duration::from_secs(60));
        let report = json_report(&out, 0);
        let roles: Vec<&str> = report["verdict"]["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["counts_for"].as_str())
            .collect();
        assert_eq!(roles, ["release", "rebuild"], "{report}");
        assert_eq!(report["verdict"]["attestations_not_read"], 0, "{report}");
        assert!(took < Duration::from_secs(10), "took {took:?}");
        std::fs::remove_file(w.path("out/fib.elf")).unwrap();

        let out = w.run(&[
            "--json",
            "inspect",
            &reference,
            "--policy",
            policy.to_str().unwrap(),
        ]);
        let report = json_report(&out, 0);
        assert_eq!(report["attestations_not_read"], 0, "{report}");
        assert_eq!(
            report["broken_attestations"],
            serde_json::json!([]),
            "{report}"
        );
    }
    // Two runs against the server (pull and inspect), each fetching the attestation once.
    let fetched = server
        .requests()
        .iter()
        .filter(|r| *r == &format!("GET /v2/fib/manifests/{digest}"))
        .count();
    assert_eq!(fetched, 2, "{:#?}", server.requests());
}

/// The descriptor of an attestation manifest the store does not hold, the `n`th.
fn missing_attestation(n: usize) -> serde_json::Value {
    let d = Descriptor::of(
        artifact::MANIFEST_MEDIA_TYPE,
        format!("fake {n}").as_bytes(),
    );
    serde_json::json!({
        "mediaType": d.media_type,
        "digest": d.digest,
        "size": d.size,
        "artifactType": artifact::ATTESTATION_ARTIFACT_TYPE,
    })
}

#[test]
fn attestations_past_the_bound_are_reported_as_not_read() {
    let w = World::new();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "many\n");
    let layout = w.publish_layout(&dist, "layout");
    let reference = layout_ref(&layout, "1.0.0-sp1");
    let policy = attested(&w, &dist, &reference);
    // 300 attestations that are not there, then the real one: past the first 256, unread.
    let mut entries: Vec<serde_json::Value> = (0..300).map(missing_attestation).collect();
    entries.push(the_attestation(&layout, "1.0.0-sp1"));
    rewrite_referrers(&layout, "1.0.0-sp1", entries);
    let not_read = 301 - artifact::MAX_REFERRERS;

    let out = w.run(&[
        "--json",
        "inspect",
        &reference,
        "--policy",
        policy.to_str().unwrap(),
    ]);
    let report = json_report(&out, 1);
    assert_eq!(report["attestations_not_read"], not_read, "{report}");
    assert_eq!(
        report["broken_attestations"].as_array().unwrap().len(),
        artifact::MAX_REFERRERS
    );
    let out = w.run(&["inspect", &reference, "--policy", policy.to_str().unwrap()]);
    cli::Output::from(&out).assert_exit(1).stdout_has(&[&format!(
        "{not_read} more attestations listed were not read (at most 256 are read); they do not count"
    )]);

    let untouched = Untouched::new(&w, &[&layout]);
    let out = w.pull_under(&reference, &w.path("out/fib.elf"), &policy, &["--no-cache"]);
    refused(&untouched, "attestations_past_the_bound", &out, 1);
}

#[test]
fn stalled_attestations_cost_the_attestation_timeout_at_most() {
    let w = World::new();
    let dist = w.dist("fib", "1.0.0", "sp1", Class::Elf32, "stalled\n");
    let layout = w.publish_layout(&dist, "layout");
    let policy = attested(&w, &dist, &layout_ref(&layout, "1.0.0-sp1"));
    // Eleven attestations the registry does not hold and the real one, every one stalled: one
    // after another with full retries, they took 12 x 4 x `--timeout` (24 minutes).
    let mut entries: Vec<serde_json::Value> = (0..11).map(missing_attestation).collect();
    entries.push(the_attestation(&layout, "1.0.0-sp1"));
    let attestations: Vec<String> = entries
        .iter()
        .map(|e| format!("GET /v2/fib/manifests/{}", e["digest"].as_str().unwrap()))
        .collect();
    rewrite_referrers(&layout, "1.0.0-sp1", entries);
    let server = FaultyRegistry::serve(&layout, Fault::StallAttestations);
    let reference = format!("{}/fib:1.0.0-sp1", server.host());
    let pull = |policy: &Path, json: bool| {
        let mut cmd = w.zkelf();
        if json {
            cmd.arg("--json");
        }
        cmd.args(["pull", &reference, "-o"])
            .arg(w.path("out/fib.elf"))
            .arg("--policy")
            .arg(policy)
            .args(["--no-cache", "--attestation-timeout", "2"]);
        let (out, took) = run_within(cmd, Duration::from_secs(60));
        assert!(took < Duration::from_secs(15), "took {took:?}");
        out
    };

    // A policy that requires no rebuild: the release verifies, the twelve reported not read.
    let report = json_report(&pull(&w.policy, true), 0);
    assert_eq!(report["verdict"]["attestations_not_read"], 12, "{report}");
    assert_eq!(
        report["verdict"]["attestations_out_of_time"], 12,
        "{report}"
    );
    std::fs::remove_file(w.path("out/fib.elf")).unwrap();

    // One that requires the auditor's: not read in time, it does not count (exit 1).
    let untouched = Untouched::new(&w, &[&layout]);
    let out = pull(&policy, false);
    refused(&untouched, "stalled_attestations", &out, 1);
    // Four at a time, and none asked for once the time ran out: four per pull.
    let asked = server
        .requests()
        .iter()
        .filter(|r| attestations.contains(r))
        .count();
    assert_eq!(asked, 8, "{:#?}", server.requests());
}
