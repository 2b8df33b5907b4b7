//! The library API for provers: one call from a reference to verified ELF bytes.
//!
//! ```no_run
//! # async fn run() -> Result<(), zkelf_registry::Error> {
//! use zkelf_registry::api::{fetch_elf, Config};
//! use zkelf_registry::verify::Expected;
//! let policy = zkelf_trust::policy::Policy::load("keys/policy.toml".as_ref()).expect("policy");
//! let expected = Expected { guest: Some("fib".into()), zkvm: Some("sp1".into()), ..Expected::default() };
//! let elf = fetch_elf("ghcr.io/acme/fib:1.2.0", &policy, &expected, &Config::default()).await?;
//! println!("{} {} bytes", elf.statement, elf.bytes.len());
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use zkelf_trust::policy::Policy;
use zkelf_trust::statement::Statement;

use crate::cache::Cache;
use crate::error::Error;
use crate::fetch::RetryPolicy;
use crate::progress::NoReporter;
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
        }
    }
}

/// A verified ELF in memory.
#[derive(Debug, Clone)]
pub struct VerifiedElf {
    /// The ELF bytes, exactly those the statement signs.
    pub bytes: Vec<u8>,
    /// The verified statement.
    pub statement: Statement,
    /// The artifact manifest digest.
    pub manifest_digest: String,
}

/// A verified ELF written to a file.
#[derive(Debug, Clone)]
pub struct VerifiedFile {
    /// The file.
    pub path: PathBuf,
    /// The verified statement.
    pub statement: Statement,
    /// The artifact manifest digest.
    pub manifest_digest: String,
}

async fn run(
    reference: &str,
    policy: &Policy,
    expected: &Expected,
    config: &Config,
    output: Output,
) -> Result<Pulled, Error> {
    let reference: Reference = reference.parse()?;
    let store = store::open(&reference, &config.network)?;
    let state = config.state_dir.as_ref().map(RollbackState::new);
    let cache = config.cache_dir.as_ref().map(Cache::new);
    let options = PullOptions {
        zkvm: expected.zkvm.as_deref(),
        expected,
        allow_legacy: false,
        policy,
        max_size: config.max_size,
        allow_downgrade: config.allow_downgrade,
        state: state.as_ref(),
        cache: cache.as_ref(),
        lock: None,
        retry: config.retry,
        reporter: &NoReporter,
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
    let pulled = run(reference, policy, expected, config, Output::Memory).await?;
    Ok(VerifiedElf {
        bytes: pulled.bytes.unwrap_or_default(),
        statement: pulled.statement,
        manifest_digest: pulled.resolved.manifest_digest,
    })
}

/// Like [`fetch_elf`], writing the ELF to `path` atomically (nothing appears there on failure).
pub async fn fetch_elf_to_file(
    reference: &str,
    policy: &Policy,
    expected: &Expected,
    config: &Config,
    path: &Path,
) -> Result<VerifiedFile, Error> {
    let pulled = run(
        reference,
        policy,
        expected,
        config,
        Output::File(path.to_path_buf()),
    )
    .await?;
    Ok(VerifiedFile {
        path: path.to_path_buf(),
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
    ) -> Result<VerifiedFile, Error> {
        runtime(reference)?.block_on(super::fetch_elf_to_file(
            reference, policy, expected, config, path,
        ))
    }
}
