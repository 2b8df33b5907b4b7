//! What every example guest's test does: the fixture (a release key and policy, a checkout
//! of the guests, `zkelf` against the tests' shared cache) and `release_run_rebuild`, which
//! releases a guest, checks what its provenance records, pulls it, runs it and rebuilds it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use sha2::{Digest, Sha256};
use zkelf_testsupport::docker::{
    ensure_builder_image, guests_checkout, shared_cache_dir, trust_dir_of,
};
use zkelf_testsupport::minisign_tool::{self, ToolKeyPair};
use zkelf_testsupport::policy::{Key, PolicyFile};
use zkelf_testsupport::run::json_report;
use zkelf_testsupport::toolbox::{self, ExecOutput};

/// The input every example guest takes, and the digest chain it must commit.
pub(crate) const INPUT: &[u8] = br#"{"data":"zkelf: the same bytes for every prover","rounds":7}"#;

pub(crate) fn expected_public_values() -> Vec<u8> {
    let mut digest: [u8; 32] = Sha256::digest(b"zkelf: the same bytes for every prover").into();
    for _ in 0..7 {
        digest = Sha256::digest(digest).into();
    }
    digest.to_vec()
}

pub(crate) struct Fixture {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) key: ToolKeyPair,
    pub(crate) policy: PathBuf,
    pub(crate) repo: PathBuf,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = minisign_tool::generate(dir.path(), "release", None);
        let policy = PolicyFile::new()
            .key(Key::release("release", &key.public_base64()))
            .require(1, 0)
            .write(&dir.path().join("policy.toml"));
        for sub in ["home", "state", "out"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let repo = guests_checkout(&dir.path().join("release-manager/checkout"), &[]);
        Self {
            dir,
            key,
            policy,
            repo,
        }
    }

    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub(crate) fn zkelf(&self) -> Command {
        let bin = Path::new(env!("CARGO_BIN_EXE_zkelf"));
        ensure_builder_image(bin);
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("ZKELF_STATE_DIR", self.path("state"))
            // Shared with the other build tests (crates, sysroots, toolboxes stay warm), with
            // the trust records that let a run use what another run built.
            .env("ZKELF_CACHE_DIR", shared_cache_dir())
            .env("ZKELF_BUILDER_TRUST_DIR", trust_dir_of(&shared_cache_dir()))
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        if let Some(host) = std::env::var_os("DOCKER_HOST") {
            cmd.env("DOCKER_HOST", host);
        }
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let started = Instant::now();
        let output = self.zkelf().args(args).output().unwrap();
        eprintln!(
            "zkelf {} -> {:?} in {:.1}s",
            args.join(" "),
            output.status.code(),
            started.elapsed().as_secs_f64()
        );
        output
    }

    /// `zkelf run` of `program` on `input` in the `zkvm` executor, which must halt successfully.
    pub(crate) fn execute(&self, zkvm: &str, program: &Path, input: &[u8]) -> ExecOutput {
        let started = Instant::now();
        let run = toolbox::run(self.zkelf(), zkvm, program, input);
        eprintln!(
            "{} in the {zkvm} executor: {} cycles, {} bytes, {:.1}s",
            program.display(),
            run.cycles,
            std::fs::metadata(program).unwrap().len(),
            started.elapsed().as_secs_f64()
        );
        run
    }

    pub(crate) fn layout_ref(&self, tag: &str) -> String {
        format!("oci-layout:{}:{tag}", self.path("oci").display())
    }
}

/// What the release of one guest left behind.
pub(crate) struct Released {
    /// `<dist>/<guest>/0.1.0/`.
    pub(crate) dist: PathBuf,
    /// The pulled, verified artifact.
    pub(crate) pulled: PathBuf,
    pub(crate) sha256: String,
    /// The VK `build` derived.
    pub(crate) vk: Vec<u8>,
}

/// Releases `guest` (profile `zkvm`), pulls it back verified, runs it in the zkVM's executor
/// and rebuilds it from its provenance.
pub(crate) fn release_run_rebuild(f: &Fixture, guest: &str, zkvm: &str) -> Released {
    let guest_dir = f.repo.join("guests").join(guest);
    let dist_root = f.path("dist");
    let release = f.run(&[
        "--json",
        "release",
        guest_dir.to_str().unwrap(),
        "--key",
        f.key.secret.to_str().unwrap(),
        "--policy",
        f.policy.to_str().unwrap(),
        "--out",
        dist_root.to_str().unwrap(),
        "--to",
        &format!("oci-layout:{}", f.path("oci").display()),
        "--check-reproducible",
    ]);
    let report = json_report(&release, 0);
    let built = &report["built"][0];
    assert_eq!(built["reproduced"], true, "{built}");
    assert_eq!(built["profile"], zkvm);
    let sha256 = built["sha256"].as_str().unwrap().to_owned();
    let dist = dist_root.join(guest).join("0.1.0");

    // The VK: 32 bytes, derived from the ELF, its sha256 bound by the release statement.
    let vk = std::fs::read(dist.join(format!("{guest}-{zkvm}.vk"))).unwrap();
    assert_eq!(vk.len(), 32, "{guest}'s VK");
    let vk_sha256 = hex(&Sha256::digest(&vk));
    assert_eq!(built["vk_sha256"], vk_sha256.as_str(), "{built}");
    let signature =
        std::fs::read_to_string(dist.join(format!("{guest}-{zkvm}.elf.minisig"))).unwrap();
    assert!(
        signature.contains(&format!(" vk={vk_sha256} ")),
        "the statement binds the VK:\n{signature}"
    );

    // The provenance records the whole profile.
    let provenance: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dist.join(format!("{guest}-{zkvm}.provenance.json"))).unwrap(),
    )
    .unwrap();
    let recorded = &provenance["predicate"]["buildDefinition"]["externalParameters"]["profile"];
    assert_eq!(recorded["name"], zkvm, "{recorded}");
    assert_eq!(recorded["target"], built["target"]);
    if let Some(spec) = recorded.get("targetSpec") {
        let content = spec["content"].as_str().unwrap();
        assert_eq!(spec["sha256"], hex(&Sha256::digest(content.as_bytes())));
    }
    assert_vk_recorded(f, &provenance, guest, zkvm, &vk);

    let pulled = f.path(&format!("out/{guest}-{zkvm}.elf"));
    let pull = f.run(&[
        "--json",
        "pull",
        &f.layout_ref(&format!("0.1.0-{zkvm}")),
        "--policy",
        f.policy.to_str().unwrap(),
        "--guest",
        guest,
        "--zkvm",
        zkvm,
        "-o",
        pulled.to_str().unwrap(),
    ]);
    json_report(&pull, 0);
    assert_eq!(
        hex(&Sha256::digest(std::fs::read(&pulled).unwrap())),
        sha256
    );

    let run = f.execute(zkvm, &pulled, INPUT);
    // ZisK reports all 64 output words; the guest sets the first eight.
    let (committed, rest) = run.public_values.split_at(32.min(run.public_values.len()));
    assert_eq!(
        hex(committed),
        hex(&expected_public_values()),
        "{guest}'s public values in the {zkvm} executor"
    );
    assert!(
        rest.iter().all(|b| *b == 0) && (zkvm == "zisk" || rest.is_empty()),
        "{guest} committed more than its digest: {}",
        hex(rest)
    );

    let rebuild = f.run(&["--json", "rebuild", &f.layout_ref(&format!("0.1.0-{zkvm}"))]);
    let rebuilt = json_report(&rebuild, 0);
    assert_eq!(rebuilt["matches"], true, "{rebuilt}");
    assert_eq!(rebuilt["rebuilt_sha256"], sha256.as_str());
    // The same VK from a clone at another path.
    assert_eq!(rebuilt["rebuilt_vk"], hex(&vk).as_str(), "{rebuilt}");
    Released {
        dist,
        pulled,
        sha256,
        vk,
    }
}

/// The derivation each zkVM's toolbox names in its `vk` report (none: RISC Zero's image id is
/// derived in-process by the post-link step).
fn derivation(zkvm: &str) -> Option<&'static str> {
    match zkvm {
        "sp1" => Some("sp1-6.10.0"),
        "openvm" => Some("openvm-2.0.2"),
        "zisk" => Some("zisk-1.4.0-alpha"),
        _ => None,
    }
}

/// What the provenance records of the VK: the `vk` byproduct (the `.vk` by sha256 and, when a
/// toolbox derived it, its hex, the toolbox's id and what it reported beside the key), and the
/// `toolbox` resolved dependency, which must be the entry `zkelf builder toolbox` verifies and
/// reports (digest, key, program).
fn assert_vk_recorded(
    f: &Fixture,
    provenance: &serde_json::Value,
    guest: &str,
    zkvm: &str,
    vk: &[u8],
) {
    let byproducts = provenance["predicate"]["runDetails"]["byproducts"]
        .as_array()
        .unwrap();
    let record = byproducts
        .iter()
        .find(|b| b["name"] == "vk")
        .unwrap_or_else(|| panic!("no `vk` byproduct: {byproducts:?}"));
    assert_eq!(record["uri"], format!("{guest}-{zkvm}.vk").as_str());
    assert_eq!(
        record["digest"]["sha256"],
        hex(&Sha256::digest(vk)).as_str()
    );
    let annotations = &record["annotations"];
    let toolbox = provenance["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "toolbox");
    let Some(id) = derivation(zkvm) else {
        assert_eq!(annotations["imageId"], hex(vk).as_str(), "{record}");
        assert!(toolbox.is_none(), "{toolbox:?}");
        return;
    };
    assert_eq!(annotations["toolbox"], id, "{record}");
    assert_eq!(annotations["vk"], hex(vk).as_str(), "{record}");
    let derivation = &annotations["derivation"];
    match zkvm {
        "sp1" => {
            assert_eq!(derivation["bytes32"], format!("0x{}", hex(vk)).as_str());
            assert_eq!(derivation["mprotect"], false, "{derivation}");
        }
        "openvm" => {
            let commit = derivation["app_vm_commit"].as_str().unwrap_or_default();
            assert!(
                commit.len() == 64 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
                "app_vm_commit: {derivation}"
            );
            // No `openvm.toml` in the guest: cargo-openvm's default configuration.
            assert_eq!(
                derivation["openvm_config"]["source"],
                "cargo-openvm default_app_config"
            );
        }
        _ => assert_eq!(derivation["hash_mode"], "blake3", "{derivation}"),
    }

    let toolbox = toolbox.unwrap_or_else(|| panic!("no `toolbox` dependency"));
    let report = json_report(&f.run(&["--json", "builder", "toolbox", zkvm]), 0);
    let entry = &report["toolboxes"][0];
    let digest = entry["digest"].as_str().unwrap();
    assert_eq!(
        toolbox["digest"]["sha256"],
        digest.strip_prefix("sha256:").unwrap(),
        "{toolbox}"
    );
    let key = entry["key"].as_str().unwrap();
    assert_eq!(
        toolbox["uri"],
        format!("zkelf-toolbox:{zkvm}@{key}").as_str()
    );
    assert_eq!(toolbox["annotations"]["key"], key);
    assert_eq!(toolbox["annotations"]["keyDocument"], entry["key_document"]);
    assert_eq!(
        toolbox["annotations"]["programSha256"],
        entry["program_sha256"]
    );
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
