//! The stateless validator's fixture (a real Hoodi block with its execution witness), its
//! converter `stateless-input` (built once on the host, in the host tools' target directory
//! so a machine keeps it) and the 113-byte public values its guests commit.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::docker::repo_root;

/// The variable that names another fixture file.
pub const FIXTURE_VAR: &str = "ZKELF_STATELESS_FIXTURE";

/// Hoodi's chain id.
pub const CHAIN_ID: u64 = 560_048;
/// The fixture block's number.
pub const NUMBER: u64 = 1_265_656;
/// Its hash.
pub const BLOCK_HASH: &str = "ac77c202b2b33da757f785a4c240333c7d148bc2558f19c483e42fe3ca1ce6db";
/// Its parent's state root.
pub const PARENT_STATE_ROOT: &str =
    "4bec425c34f89aeb56c78586d586c76044bcc428e7c34ab7c72d389c39ff3eaf";
/// Its post-state root (the header's `stateRoot`).
pub const POST_STATE_ROOT: &str =
    "f7c1acf1facc79a7c560efa36f1158a0b643ed14519aaa06f56949ad60d6b03f";

/// `shared/fixtures/stateless/hoodi-1265656.json` beside the repository (or
/// `$ZKELF_STATELESS_FIXTURE`); panics naming where it looked when it is not there.
pub fn fixture() -> PathBuf {
    let path = std::env::var_os(FIXTURE_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/fixtures/stateless/hoodi-1265656.json"));
    assert!(
        path.is_file(),
        "the stateless fixture is not at {} (set {FIXTURE_VAR} to its path)",
        path.display()
    );
    path
}

/// The `stateless-input` binary, built (release, locked) once per test process into the
/// host tools' target directory ([`crate::toolbox::host_target_dir`]).
pub fn converter() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let target = crate::toolbox::host_target_dir();
            let mut command = Command::new("cargo");
            command
                .args([
                    "build",
                    "--release",
                    "--locked",
                    "--quiet",
                    "--manifest-path",
                ])
                .arg(repo_root().join("guests/stateless-ethrex/input/Cargo.toml"))
                .env("CARGO_TARGET_DIR", &target);
            // What the outer cargo exports would make build scripts rerun for nothing.
            for (var, _) in std::env::vars() {
                if var.starts_with("CARGO_PKG_")
                    || var.starts_with("CARGO_MANIFEST_")
                    || var.starts_with("CARGO_CRATE_")
                    || matches!(
                        var.as_str(),
                        "CARGO_PRIMARY_PACKAGE" | "CARGO_TARGET_TMPDIR" | "OUT_DIR"
                    )
                {
                    command.env_remove(var);
                }
            }
            let output = command
                .output()
                .unwrap_or_else(|e| panic!("cannot run cargo to build stateless-input: {e}"));
            assert!(
                output.status.success(),
                "building stateless-input failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            target.join("release/stateless-input")
        })
        .clone()
}

/// Converts the cache JSON at `json` into the guest's input frame at `out`.
pub fn convert(json: &Path, out: &Path) {
    let output = Command::new(converter())
        .arg(json)
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stateless-input {}: {}",
        json.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The 113 public bytes, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicValues {
    pub valid: bool,
    pub chain_id: u64,
    pub number: u64,
    /// Lowercase hex, 64 digits each.
    pub block_hash: String,
    pub parent_state_root: String,
    pub post_state_root: String,
}

impl PublicValues {
    /// Decodes `valid ‖ chain id (u64 LE) ‖ number (u64 LE) ‖ block hash ‖ parent state root ‖
    /// post-state root`: the first 113 bytes of `bytes` (ZisK pads its output words).
    pub fn decode(bytes: &[u8]) -> Self {
        assert!(bytes.len() >= 113, "{} public bytes, not 113", bytes.len());
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        assert!(bytes[0] <= 1, "valid is {}", bytes[0]);
        Self {
            valid: bytes[0] == 1,
            chain_id: u64_at(1),
            number: u64_at(9),
            block_hash: hex(&bytes[17..49]),
            parent_state_root: hex(&bytes[49..81]),
            post_state_root: hex(&bytes[81..113]),
        }
    }

    /// The bytes, 113 of them.
    pub fn encode(&self) -> Vec<u8> {
        let unhex = |h: &str| {
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        };
        let mut out = vec![u8::from(self.valid)];
        out.extend(self.chain_id.to_le_bytes());
        out.extend(self.number.to_le_bytes());
        out.extend(unhex(&self.block_hash));
        out.extend(unhex(&self.parent_state_root));
        out.extend(unhex(&self.post_state_root));
        out
    }

    /// What the fixture's block gives: valid, with every value of the fixture's README.
    pub fn hoodi() -> Self {
        Self {
            valid: true,
            chain_id: CHAIN_ID,
            number: NUMBER,
            block_hash: BLOCK_HASH.into(),
            parent_state_root: PARENT_STATE_ROOT.into(),
            post_state_root: POST_STATE_ROOT.into(),
        }
    }

    /// What a copy whose body was tampered with gives: invalid before execution (no post-state
    /// root), every other field still the block's.
    pub fn hoodi_rejected_body() -> Self {
        Self {
            valid: false,
            post_state_root: "0".repeat(64),
            ..Self::hoodi()
        }
    }
}
