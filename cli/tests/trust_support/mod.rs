//! Helpers shared by the `trust_*` integration tests: run the real binary, make guests and keys,
//! and prove that a refused run wrote nothing and printed its snapshot.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
pub use zkelf_testsupport::cli::{Output, Tree, Zkelf};
use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::minisign_tool::{self, ToolKeyPair};

/// Runs `zkelf` isolated in `cwd` (its own home, state and cache; no password or epoch
/// inherited from the environment) with `env` set.
pub fn zkelf_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Zkelf::new(env!("CARGO_BIN_EXE_zkelf"))
        .isolated(cwd)
        .args(args)
        .envs(env)
        .run()
}

/// A temporary directory with a guest ELF and an unencrypted zkelf key pair `rel`.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

pub const GUEST: &str = "fib";
pub const VERSION: &str = "1.2.3";
pub const ZKVM: &str = "sp1";

/// The release statement of the default guest, version and zkVM for the given bytes.
pub fn release_statement(sha256: impl std::fmt::Display, size: u64) -> String {
    format!(
        "zkelf/1 kind=release guest={GUEST} version={VERSION} zkvm={ZKVM} target=riscv32im-unknown-none-elf sha256={sha256} size={size} provenance=- vk=- created=1700000000"
    )
}

impl Fixture {
    pub fn new() -> Self {
        let fx = Fixture {
            dir: tempfile::tempdir().unwrap(),
        };
        ElfSpec::new(Class::Elf32)
            .message("fib\n")
            .write_to(&fx.path("fib.elf"))
            .unwrap();
        fx.keygen_unencrypted("rel");
        fx
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn zkelf(&self, args: &[&str]) -> Output {
        zkelf_in(self.root(), args, &[])
    }

    pub fn zkelf_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        zkelf_in(self.root(), args, env)
    }

    pub fn keygen_unencrypted(&self, name: &str) {
        self.zkelf(&["keygen", "--out", "keys", "--name", name, "--unencrypted"])
            .assert_exit(0);
    }

    /// `zkelf sign <elf> --key <key> --guest --version --zkvm` plus `extra`, with `env`.
    pub fn sign_file(
        &self,
        elf: &str,
        key: &str,
        [guest, version, zkvm]: [&str; 3],
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Output {
        let mut args = vec![
            "sign",
            elf,
            "--key",
            key,
            "--guest",
            guest,
            "--version",
            version,
            "--zkvm",
            zkvm,
        ];
        args.extend_from_slice(extra);
        self.zkelf_env(&args, env)
    }

    /// `zkelf sign fib.elf` with key `keys/<key>.key` and the default guest/version/zkvm.
    pub fn sign(&self, key: &str, extra: &[&str]) -> Output {
        self.sign_file(
            "fib.elf",
            &format!("keys/{key}.key"),
            [GUEST, VERSION, ZKVM],
            extra,
            &[("SOURCE_DATE_EPOCH", "1700000000")],
        )
    }

    /// The release statement of the default guest, version and zkVM for `fib.elf` as it is now.
    pub fn statement(&self) -> String {
        let d = zkelf_trust::digest::ContentDigests::of(&self.read("fib.elf"));
        release_statement(d.sha256, d.size)
    }

    /// Signs `fib.elf` with the minisign tool, writing `fib.elf.minisig`.
    pub fn tool_sign(&self, key: &ToolKeyPair, statement: &str, legacy: bool) {
        minisign_tool::sign(
            key,
            &self.path("fib.elf"),
            &self.path("fib.elf.minisig"),
            statement,
            legacy,
        );
    }

    /// The zkelf key pair `keys/<name>` as the minisign tool sees it.
    pub fn tool_view(&self, name: &str, password: Option<&str>) -> ToolKeyPair {
        ToolKeyPair {
            public: self.path(&format!("keys/{name}.pub")),
            secret: self.path(&format!("keys/{name}.key")),
            password: password.map(Into::into),
        }
    }

    /// `zkelf verify fib.elf --key keys/<key>.pub` plus `extra`.
    pub fn verify_with_key(&self, key: &str, extra: &[&str]) -> Output {
        let key = format!("keys/{key}.pub");
        let mut args = vec!["verify", "fib.elf", "--key", &key];
        args.extend_from_slice(extra);
        self.zkelf(&args)
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) {
        std::fs::write(self.path(name), bytes).unwrap();
    }

    /// The key id as zkelf shows it (16 digits; the C tool's comment drops leading zeros).
    pub fn key_id(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.path(&format!("keys/{name}.pub"))).unwrap();
        let id = text.lines().next().unwrap().rsplit(' ').next().unwrap();
        format!("{id:0>16}")
    }

    pub fn public_base64(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.path(&format!("keys/{name}.pub"))).unwrap();
        text.lines().nth(1).unwrap().to_string()
    }

    /// Everything under the fixture (keys, ELF, signatures, home, state, cache).
    pub fn tree(&self) -> Tree {
        Tree::of(&[self.root()])
    }

    /// Runs `run`, asserting that it exits with `code`, that it created, removed or changed no
    /// file, and that its output matches the snapshot `name`.
    #[track_caller]
    pub fn rejects(&self, name: &str, code: i32, run: impl FnOnce() -> Output) -> Output {
        zkelf_testsupport::rejects!(self.tree(), name, code, run)
    }
}
