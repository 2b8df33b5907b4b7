//! The state directory (rollback state) and the cache directory (blobs, builder caches).

use std::path::PathBuf;

use crate::env::EnvVars;

fn xdg_dir(var: &str, xdg: &str, fallback: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(var) {
        return Some(PathBuf::from(dir));
    }
    let xdg = std::env::var_os(xdg).map(PathBuf::from);
    let home = std::env::var_os(EnvVars::HOME).map(PathBuf::from);
    zkelf_registry::dirs::default_dir(xdg.as_deref(), home.as_deref(), fallback)
}

/// `$ZKELF_STATE_DIR`, else `$XDG_STATE_HOME/zkelf`, else `~/.local/state/zkelf`.
pub(crate) fn state_dir() -> Option<PathBuf> {
    xdg_dir(
        EnvVars::ZKELF_STATE_DIR,
        EnvVars::XDG_STATE_HOME,
        ".local/state",
    )
}

/// `$ZKELF_CACHE_DIR`, else `$XDG_CACHE_HOME/zkelf`, else `~/.cache/zkelf`.
pub(crate) fn cache_dir() -> Option<PathBuf> {
    xdg_dir(EnvVars::ZKELF_CACHE_DIR, EnvVars::XDG_CACHE_HOME, ".cache")
}

/// Where the builder keeps its caches: `<cache dir>/builder`.
pub(crate) fn builder_cache_dir() -> Option<PathBuf> {
    cache_dir().map(|d| d.join("builder"))
}

/// Where the builder records the digests of the cache entries this machine built:
/// `$ZKELF_BUILDER_TRUST_DIR`, else `<state dir>/builder-trust` (never in the cache, which a
/// CI may restore from an untrusted build).
pub(crate) fn builder_trust_dir() -> Option<PathBuf> {
    std::env::var_os(EnvVars::ZKELF_BUILDER_TRUST_DIR)
        .map(PathBuf::from)
        .or_else(|| state_dir().map(|d| d.join("builder-trust")))
}

/// `$XDG_CONFIG_HOME/zkelf`, else `~/.config/zkelf`: where the user's default trust policy lives.
pub(crate) fn config_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os(EnvVars::XDG_CONFIG_HOME)
        .map(PathBuf::from)
        // The XDG base directory specification: a relative or empty value is to be ignored.
        .filter(|p| p.is_absolute());
    let home = std::env::var_os(EnvVars::HOME).map(PathBuf::from);
    zkelf_registry::dirs::default_dir(xdg.as_deref(), home.as_deref(), ".config")
}
