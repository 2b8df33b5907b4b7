//! A pull with every check of `zkelf pull` (policy, expectations, pins, rollback state, cache,
//! lock): what `pull` writes to a file and `run` runs.

use zkelf_registry::Reference;
use zkelf_registry::cache::Cache;
use zkelf_registry::lockfile::Lock;
use zkelf_registry::pull::{self, Output, PullOptions};
use zkelf_registry::state::RollbackState;
use zkelf_registry::store;
use zkelf_registry::verify::Expected;
use zkelf_registry::vk::{VkDerivation, VkOutput};

use super::dirs::{cache_dir, state_dir};
use super::network::{network_options, retry_policy};
use super::pins::{optional_version, pins};
use super::policy::load_policy;
use super::reporters::ProgressReporter;
use super::toolbox::Derivation;
use crate::args::dist::PullArgs;
use crate::printer::Printer;

/// Pulls `reference` with `args`' expectations, policy, pins, rollback state, cache and lock,
/// writing the ELF to `output` only when every check passes (`zkelf run` pulls to memory) and,
/// with `--derive-vk`, the VK derived from it is the release's.
/// A failed pull is said in the words `failed` gives for its error.
pub(crate) async fn pull_verified(
    args: &PullArgs,
    reference: &Reference,
    output: Output,
    printer: &Printer,
    failed: impl FnOnce(&zkelf_registry::Error) -> String,
) -> anyhow::Result<pull::Pulled> {
    let policy = load_policy(&args.trust)?;
    let (sha256, vk_sha256) = pins(&args.pins)?;
    let expected = Expected {
        guest: args.guest.clone(),
        version: optional_version(args.version.as_deref())?,
        zkvm: args.zkvm.clone(),
        sha256,
        vk_sha256,
    };
    let network = network_options(&args.network)?;
    let store = store::open(reference, &network)?;
    let state = state_dir().map(RollbackState::new);
    let cache = if args.no_cache {
        None
    } else {
        cache_dir().map(Cache::new)
    };
    let lock = args.lock.as_ref().map(Lock::new);
    let reporter = ProgressReporter::new(printer);
    let derivation = args.derive_vk.then(|| Derivation::new(printer));
    let options = PullOptions {
        zkvm: args.zkvm.as_deref(),
        expected: &expected,
        allow_legacy: args.allow_legacy,
        allow_unbound: args.allow_unbound,
        policy: &policy,
        max_size: args.max_size,
        allow_downgrade: args.allow_downgrade,
        state: state.as_ref(),
        cache: cache.as_ref(),
        lock: lock.as_ref(),
        retry: retry_policy(&args.network),
        reporter: &reporter,
        vk: match (&args.vk_out, args.derive_vk) {
            (Some(path), _) => VkOutput::File(path),
            // A VK re-derived must be there, and verified, to be compared.
            (None, true) => VkOutput::Memory,
            (None, false) => VkOutput::Ignore,
        },
        derive_vk: derivation.as_ref().map(|d| d as &dyn VkDerivation),
    };
    pull::pull(store.as_ref(), reference, output, options)
        .await
        .map_err(|e| {
            let context = failed(&e);
            anyhow::Error::new(e).context(context)
        })
}
