//! Helpers shared by the `dist_*` integration tests: a signing key and policy, signed dist
//! directories of tiny RISC-V ELFs, and running the real `zkelf` binary in an isolated home.

#![allow(dead_code)]

pub mod github;
pub mod provenance;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use zkelf_registry::Reference;
use zkelf_registry::artifact::{Descriptor, MANIFEST_MEDIA_TYPE};
use zkelf_registry::store::{self, NetworkOptions};
use zkelf_testsupport::cli;
use zkelf_testsupport::docker;
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::minisign_tool::{self, ToolKeyPair};
use zkelf_testsupport::policy::{Key, PolicyFile};
use zkelf_testsupport::registry::{Fault, FaultyRegistry};
// Each test binary uses only some of these.
#[allow(unused_imports)]
pub use zkelf_testsupport::run::{
    assert_exit, assert_nothing_written, json_report, stderr, stdout,
};
use zkelf_trust::digest::{Sha256Digest, hash_file};
use zkelf_trust::statement::{Kind, Statement};

/// A test world: temp dir, a release key made by the minisign tool, a policy trusting it, and
/// isolated state, cache and home directories.
pub struct World {
    pub dir: tempfile::TempDir,
    pub key: ToolKeyPair,
    pub policy: PathBuf,
}

impl World {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = minisign_tool::generate(dir.path(), "release", None);
        let policy = PolicyFile::new()
            .key(Key::release("test-release", &key.public_base64()))
            .require(1, 0)
            .write(&dir.path().join("policy.toml"));
        for sub in ["home", "state", "cache", "out"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        Self { dir, key, policy }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `zkelf` with this world's home, state and cache, and `--policy` where it applies.
    pub fn zkelf(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_zkelf"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("ZKELF_STATE_DIR", self.path("state"))
            .env("ZKELF_CACHE_DIR", self.path("cache"))
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        cmd
    }

    /// Runs `zkelf <args>`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.zkelf().args(args).output().unwrap()
    }

    /// `zkelf pull <reference> -o <out> --policy <policy> <extra>`.
    pub fn pull(&self, reference: &str, out: &Path, extra: &[&str]) -> Output {
        self.pull_under(reference, out, &self.policy, extra)
    }

    /// `zkelf pull <reference> -o <out> --policy <policy> <extra>` under another policy.
    pub fn pull_under(&self, reference: &str, out: &Path, policy: &Path, extra: &[&str]) -> Output {
        let mut args = vec![
            "pull",
            reference,
            "-o",
            out.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// `zkelf publish <dist> --to <to> --policy <policy> <extra>`.
    pub fn publish(&self, dist: &Path, to: &str, extra: &[&str]) -> Output {
        self.publish_command(dist, to, extra).output().unwrap()
    }

    /// [`World::publish`] before it runs, for a caller that sets the environment or stdin.
    pub fn publish_command(&self, dist: &Path, to: &str, extra: &[&str]) -> Command {
        let mut cmd = self.zkelf();
        cmd.args(["publish", dist.to_str().unwrap(), "--to", to])
            .args(["--policy", self.policy.to_str().unwrap()])
            .args(extra);
        cmd
    }

    /// Publishes `dist` into the OCI layout `<dir>/<name>`, which must succeed; returns its path.
    pub fn publish_layout(&self, dist: &Path, name: &str) -> PathBuf {
        let layout = self.path(name);
        let to = format!("oci-layout:{}", layout.display());
        assert_exit(&self.publish(dist, &to, &[]), 0);
        layout
    }

    /// Publishes `dist` into `<dir>/layout` and serves it from a registry misbehaving with `fault`.
    pub fn serve_faulty(&self, dist: &Path, fault: Fault) -> FaultyRegistry {
        FaultyRegistry::serve(&self.publish_layout(dist, "layout"), fault)
    }

    /// Runs `run`, which must exit with `code`, print the snapshot `name`
    /// (`cli/tests/snapshots/<test>__<name>.snap`) and leave `out/`, the cache and the state as
    /// they were (the cache's per-digest lock files may appear). Returns the output, for checks
    /// of values the snapshot filters (a digest, a key id).
    #[track_caller]
    pub fn rejects(&self, name: &str, code: i32, run: impl FnOnce() -> Output) -> cli::Output {
        zkelf_testsupport::rejects!(self.untouched(), name, code, run)
    }

    /// `out/`, the cache and the state as they are now, for [`cli::Tree::assert_unchanged`].
    pub fn untouched(&self) -> cli::Tree {
        cli::Tree::of(&[self.path("out"), self.path("cache"), self.path("state")])
            .allowing_lock_files_under(self.path("cache/locks"))
    }

    /// Writes `dist/<guest>/<version>/<guest>-<zkvm>.elf`, its provenance and its signature.
    pub fn dist(
        &self,
        guest: &str,
        version: &str,
        zkvm: &str,
        class: Class,
        message: &str,
    ) -> PathBuf {
        self.dist_spec(guest, version, zkvm, ElfSpec::new(class).message(message))
    }

    pub fn dist_spec(&self, guest: &str, version: &str, zkvm: &str, spec: ElfSpec) -> PathBuf {
        let dir = self.path(&format!("dist/{guest}/{version}"));
        std::fs::create_dir_all(&dir).unwrap();
        let elf = dir.join(format!("{guest}-{zkvm}.elf"));
        spec.write_to(&elf).unwrap();
        let provenance = format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"{guest}-{zkvm}.elf"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{{"buildDefinition":{{"externalParameters":{{"source":{{"uri":"https://example.com/{guest}.git","commit":"0123456789abcdef0123456789abcdef01234567"}}}}}}}}}}"#
        );
        let prov_path = dir.join(format!("{guest}-{zkvm}.provenance.json"));
        std::fs::write(&prov_path, &provenance).unwrap();
        self.sign(
            &elf,
            guest,
            version,
            zkvm,
            spec.class,
            Some(Sha256Digest::of(provenance.as_bytes())),
        );
        dir
    }

    /// Signs `elf` with the release key (minisign tool), writing `<elf>.minisig`.
    pub fn sign(
        &self,
        elf: &Path,
        guest: &str,
        version: &str,
        zkvm: &str,
        class: Class,
        provenance: Option<Sha256Digest>,
    ) {
        let digests = hash_file(elf).unwrap();
        let statement = Statement {
            kind: Kind::Release,
            guest: guest.into(),
            version: version.parse().unwrap(),
            zkvm: zkvm.into(),
            target: class.default_target().into(),
            sha256: digests.sha256,
            size: digests.size,
            provenance,
            vk: None,
            builder: None,
            created: 1_700_000_000,
        };
        let sig = PathBuf::from(format!("{}.minisig", elf.display()));
        minisign_tool::sign(&self.key, elf, &sig, &statement.render(), false);
    }
}

/// Runs the ELF under qemu with nothing on stdin and returns its stdout.
pub fn run_qemu(class: Class, elf: &Path) -> String {
    docker::run_qemu(elf, class.default_target(), b"")
}

/// Reads a manifest of an OCI layout by tag.
pub fn layout_manifest(layout: &Path, tag: &str) -> (String, serde_json::Value) {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("tag `{tag}` not in the layout"))["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let bytes = std::fs::read(layout.join("blobs/sha256").join(&digest[7..])).unwrap();
    (digest, serde_json::from_slice(&bytes).unwrap())
}

/// The statement an honest auditor of `elf`, a `fib` 1.0.0 `sp1` dist ELF with its provenance
/// beside it, signs as rebuilt by `builder`.
pub fn rebuild_statement(elf: &Path, builder: &str) -> Statement {
    let d = hash_file(elf).unwrap();
    let provenance = hash_file(&elf.with_file_name("fib-sp1.provenance.json")).unwrap();
    Statement {
        kind: Kind::Rebuild,
        guest: "fib".into(),
        version: "1.0.0".parse().unwrap(),
        zkvm: "sp1".into(),
        target: Class::Elf32.default_target().into(),
        sha256: d.sha256,
        size: d.size,
        provenance: Some(provenance.sha256),
        vk: None,
        builder: Some(builder.into()),
        created: 1_700_000_100,
    }
}

/// Attaches `signature` to the manifest `reference` names with the library (what an attacker or
/// a buggy tool could do), bypassing `zkelf attest`'s own check that it is about the ELF.
pub fn attach_raw(reference: &str, signature: &[u8], title: &str) {
    let reference: Reference = reference.parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = store::open(&reference, &NetworkOptions::default()).unwrap();
        let bytes = store
            .get_manifest(reference.target().unwrap())
            .await
            .unwrap()
            .unwrap();
        let subject = Descriptor::of(MANIFEST_MEDIA_TYPE, &bytes);
        zkelf_registry::attest::attach(store.as_ref(), &subject, signature, title, 1_700_000_200)
            .await
            .unwrap();
    });
}
