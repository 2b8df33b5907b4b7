//! A guest release laid out as GitHub publishes stateless validators today, served over https
//! by in-process servers with a test CA: `stateless-validator-<guest>-<zkvm>-<zkvm-version>.elf`,
//! `.elf.minisig`, `.vk`, `.vk.minisig` and `minisign.pub`, every signature made by the minisign
//! C tool with the file name as its trusted comment. The download URL on the "github" server
//! redirects (302) to another host (the same "objects" server named `localhost`), as GitHub's do.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use zkelf_testsupport::elf::{Class, ElfSpec};
use zkelf_testsupport::https::{FileServer, TestCa};
use zkelf_testsupport::minisign_tool::{self, ToolKeyPair};
use zkelf_trust::digest::Sha256Digest;

use super::World;

/// The file stem of the release's ELF.
pub const NAME: &str = "stateless-validator-reth-zisk-v1.1.0-alpha";
/// Where the assets are on the "github" server.
pub const RELEASE_PATH: &str = "/acme/stateless-validator/releases/download/v0.3.0/";

/// The release, its servers and the digests a reviewed file would pin.
pub struct GithubRelease {
    pub ca: TestCa,
    /// Serves the assets directory at `/`.
    pub objects: FileServer,
    /// Redirects [`RELEASE_PATH`] to `objects` under the name `localhost`.
    pub github: FileServer,
    /// The assets directory.
    pub assets: PathBuf,
    pub elf: Vec<u8>,
    pub vk: Vec<u8>,
    pub elf_sha256: String,
    pub vk_sha256: String,
}

impl GithubRelease {
    /// Publishes a release signed by the world's release key.
    pub fn publish(w: &World) -> Self {
        let assets = w.path("assets");
        std::fs::create_dir_all(&assets).unwrap();
        let elf = ElfSpec::new(Class::Elf64)
            .message("hello from a github release\n")
            .padding(3000)
            .to_bytes();
        let vk: Vec<u8> = (0u8..64).map(|i| i.wrapping_mul(37)).collect();
        std::fs::write(assets.join(format!("{NAME}.elf")), &elf).unwrap();
        std::fs::write(assets.join(format!("{NAME}.vk")), &vk).unwrap();
        sign_asset(&w.key, &assets, &format!("{NAME}.elf"));
        sign_asset(&w.key, &assets, &format!("{NAME}.vk"));
        std::fs::copy(&w.key.public, assets.join("minisign.pub")).unwrap();
        let ca = TestCa::new();
        let objects = FileServer::https(&assets, &ca);
        let github = FileServer::https(&w.path("home"), &ca);
        github.redirect(RELEASE_PATH, &objects.url_as_localhost("/"));
        Self {
            ca,
            objects,
            github,
            assets,
            elf_sha256: Sha256Digest::of(&elf).to_string(),
            vk_sha256: Sha256Digest::of(&vk).to_string(),
            elf,
            vk,
        }
    }

    /// The download URL of an asset (`.elf`, `.vk.minisig`, …) on the "github" server.
    pub fn url(&self, suffix: &str) -> String {
        self.github.url(&format!("{RELEASE_PATH}{NAME}{suffix}"))
    }

    /// The ELF's download URL.
    pub fn elf_url(&self) -> String {
        self.url(".elf")
    }

    /// The release's `minisign.pub` asset, as a prover would download it.
    pub fn public_key_file(&self) -> PathBuf {
        self.assets.join("minisign.pub")
    }

    /// `zkelf <args>` trusting the test CA through `SSL_CERT_FILE`.
    pub fn run(&self, w: &World, args: &[&str]) -> Output {
        self.zkelf(w).args(args).output().unwrap()
    }

    /// [`GithubRelease::run`] before it runs.
    pub fn zkelf(&self, w: &World) -> Command {
        let mut cmd = w.zkelf();
        cmd.env("SSL_CERT_FILE", self.ca.pem_path());
        cmd
    }

    /// Replaces `<asset>.minisig` with a signature by `key`, the file name as trusted comment.
    pub fn resign(&self, key: &ToolKeyPair, asset: &str) {
        sign_asset(key, &self.assets, asset);
    }
}

/// `minisign -S -m <dir>/<name> -t <name>`: the trusted comment is the file name.
pub fn sign_asset(key: &ToolKeyPair, dir: &Path, name: &str) {
    let file = dir.join(name);
    let sig = dir.join(format!("{name}.minisig"));
    minisign_tool::sign(key, &file, &sig, name, false);
}
