//! The library API for provers: one call from a reference to verified ELF bytes.
//!
//! ```no_run
//! # async fn run() -> Result<(), zkelf_registry::Error> {
//! use zkelf_registry::api::{fetch_elf, Config};
//! use zkelf_registry::verify::Expected;
//! let policy = zkelf_trust::policy::Policy::load("keys/policy.toml".as_ref()).expect("policy");
//! let expected = Expected { guest: Some("fib".into()), zkvm: Some("sp1".into()), ..Expected::default() };
//! let elf = fetch_elf("ghcr.io/acme/fib:1.2.0", &policy, &expected, &Config::default()).await?;
//! println!("{:?} {} bytes", elf.statement, elf.bytes.len());
//! # Ok(()) }
//! ```
//!
//! A release signed without statement (GitHub releases of guests: the trusted comment is the
//! file name) counts only for the bytes pinned by `Expected::sha256` (or a `zkelf.lock` pin, or
//! `Config::allow_unbound` where the store names the ELF by digest); its VK, signed on its own,
//! by `Expected::vk_sha256`:
//!
//! ```no_run
//! # async fn run(policy: zkelf_trust::policy::Policy) -> Result<(), zkelf_registry::Error> {
//! use zkelf_registry::api::{fetch_elf, Config};
//! use zkelf_registry::verify::Expected;
//! let expected = Expected {
//!     sha256: Some("<64 hex digits>".parse().expect("pin")),
//!     vk_sha256: Some("<64 hex digits>".parse().expect("pin")),
//!     ..Expected::default()
//! };
//! let config = Config { require_vk: true, ..Config::default() };
//! let url = "https://github.com/acme/guests/releases/download/v1.0.0/validator-zisk-v1.elf";
//! let release = fetch_elf(url, &policy, &expected, &config).await?;
//! assert!(release.unbound() && release.vk.is_some());
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use zkelf_trust::policy::Policy;
use zkelf_trust::statement::Statement;

use crate::cache::Cache;
use crate::digest::OciDigest;
use crate::error::Error;
use crate::fetch::RetryPolicy;
use crate::lockfile::Lock;
use crate::progress::NoReporter;
use crate::pull::vk::VkOutput;
use crate::pull::{self, Output, PullOptions, Pulled};
use crate::reference::Reference;
use crate::state::RollbackState;
use crate::store::{self, NetworkOptions};
use crate::verify::Expected;

/// How to fetch; the default reaches registries over HTTPS (plain HTTP on loopback), keeps no
/// rollback state or cache, and bounds the ELF at 1 GiB.
#[derive(Debug, Clone)]
pub struct Config {
    /// Network settings (insecure hosts, credentials, timeouts).
    pub network: NetworkOptions,
    /// Bound on the ELF size.
    pub max_size: u64,
    /// Rollback state directory; `None` disables rollback protection.
    pub state_dir: Option<PathBuf>,
    /// Shared blob cache directory, if any.
    pub cache_dir: Option<PathBuf>,
    /// Accept a version older than one seen before.
    pub allow_downgrade: bool,
    /// Retries on transient errors.
    pub retry: RetryPolicy,
    /// Accept signatures that bind no statement without a pinned sha256 (only where the store
    /// names the ELF by digest).
    pub allow_unbound: bool,
    /// `zkelf.lock`: pins are checked when present and written when absent.
    pub lock_file: Option<PathBuf>,
    /// Require the release's verification key, verified, and hand it out with the ELF.
    pub require_vk: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            network: NetworkOptions::default(),
            max_size: pull::DEFAULT_MAX_SIZE,
            state_dir: None,
            cache_dir: None,
            allow_downgrade: false,
            retry: RetryPolicy::default(),
            allow_unbound: false,
            lock_file: None,
            require_vk: false,
        }
    }
}

/// A verified ELF in memory.
#[derive(Debug, Clone)]
pub struct VerifiedElf {
    /// The ELF bytes, exactly those the statement (or the pin) names.
    pub bytes: Vec<u8>,
    /// The verified statement; `None` when only a signature binding no statement counted, for
    /// bytes held by their pin: then nothing binds guest, version or zkVM.
    pub statement: Option<Statement>,
    /// The verification key, verified, with [`Config::require_vk`].
    pub vk: Option<Vec<u8>>,
    /// The artifact manifest digest.
    pub manifest_digest: OciDigest,
}

impl VerifiedElf {
    /// Whether nothing binds guest, version or zkVM (the pin alone names the bytes).
    pub fn unbound(&self) -> bool {
        self.statement.is_none()
    }
}

/// A verified ELF written to a file.
#[derive(Debug, Clone)]
pub struct VerifiedFile {
    /// The file.
    pub path: PathBuf,
    /// The verification key's file, when one was asked for.
    pub vk_path: Option<PathBuf>,
    /// The verified statement; `None` when the pin alone names the bytes (see [`VerifiedElf`]).
    pub statement: Option<Statement>,
    /// The artifact manifest digest.
    pub manifest_digest: OciDigest,
}

async fn run(
    reference: &str,
    policy: &Policy,
    expected: &Expected,
    config: &Config,
    output: Output,
    vk: VkOutput<'_>,
) -> Result<Pulled, Error> {
    let reference: Reference = reference.parse()?;
    let store = store::open(&reference, &config.network)?;
    let state = config.state_dir.as_ref().map(RollbackState::new);
    let cache = config.cache_dir.as_ref().map(Cache::new);
    let lock = config.lock_file.as_ref().map(Lock::new);
    let options = PullOptions {
        zkvm: expected.zkvm.as_deref(),
        expected,
        allow_legacy: false,
        allow_unbound: config.allow_unbound,
        policy,
        max_size: config.max_size,
        allow_downgrade: config.allow_downgrade,
        state: state.as_ref(),
        cache: cache.as_ref(),
        lock: lock.as_ref(),
        retry: config.retry,
        reporter: &NoReporter,
        vk,
        derive_vk: None,
    };
    pull::pull(store.as_ref(), &reference, output, options).await
}

/// Fetches the ELF `reference` names and returns its bytes only if `policy` accepts it and its
/// statement matches `expected` (the zkVM in `expected` also picks it from a release index).
pub async fn fetch_elf(
    reference: &str,
    policy: &Policy,
    expected: &Expected,
    config: &Config,
) -> Result<VerifiedElf, Error> {
    let vk = if config.require_vk {
        VkOutput::Memory
    } else {
        VkOutput::Ignore
    };
    let pulled = run(reference, policy, expected, config, Output::Memory, vk).await?;
    Ok(VerifiedElf {
        bytes: pulled.bytes.unwrap_or_default(),
        statement: pulled.statement,
        vk: pulled.vk.and_then(|v| v.bytes),
        manifest_digest: pulled.resolved.manifest_digest,
    })
}

/// Like [`fetch_elf`], writing the ELF to `path` atomically (nothing appears there on failure),
/// and with `vk_path` the verified VK beside it (neither file unless both verify).
pub async fn fetch_elf_to_file(
    reference: &str,
    policy: &Policy,
    expected: &Expected,
    config: &Config,
    path: &Path,
    vk_path: Option<&Path>,
) -> Result<VerifiedFile, Error> {
    let vk = vk_path.map_or(VkOutput::Ignore, VkOutput::File);
    let pulled = run(
        reference,
        policy,
        expected,
        config,
        Output::File(path.to_path_buf()),
        vk,
    )
    .await?;
    Ok(VerifiedFile {
        path: path.to_path_buf(),
        vk_path: pulled.vk.and_then(|v| v.path),
        statement: pulled.statement,
        manifest_digest: pulled.resolved.manifest_digest,
    })
}

/// The same calls for callers without a tokio runtime (each call runs its own).
pub mod blocking {
    use super::*;

    fn runtime(reference: &str) -> Result<tokio::runtime::Runtime, Error> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(Error::io(reference))
    }

    /// Blocking [`super::fetch_elf`]. Must not be called from inside a tokio runtime.
    pub fn fetch_elf(
        reference: &str,
        policy: &Policy,
        expected: &Expected,
        config: &Config,
    ) -> Result<VerifiedElf, Error> {
        runtime(reference)?.block_on(super::fetch_elf(reference, policy, expected, config))
    }

    /// Blocking [`super::fetch_elf_to_file`]. Must not be called from inside a tokio runtime.
    pub fn fetch_elf_to_file(
        reference: &str,
        policy: &Policy,
        expected: &Expected,
        config: &Config,
        path: &Path,
        vk_path: Option<&Path>,
    ) -> Result<VerifiedFile, Error> {
        runtime(reference)?.block_on(super::fetch_elf_to_file(
            reference, policy, expected, config, path, vk_path,
        ))
    }
}
