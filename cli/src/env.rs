//! Every environment variable zkelf reads, in one place. `docs/environment.md` lists the same
//! names (a test compares the two).

/// Names of the environment variables zkelf reads.
pub struct EnvVars;

impl EnvVars {
    /// Password of an encrypted minisign secret key (`keygen`, `sign`, `release`, `attest`).
    pub const ZKELF_PASSWORD: &'static str = "ZKELF_PASSWORD";
    /// The trust policy of `verify`, `pull`, `inspect`, `publish`, `release` and `import` when
    /// neither `--policy` nor `--key` is given; default `$XDG_CONFIG_HOME/zkelf/policy.toml`.
    pub const ZKELF_POLICY: &'static str = "ZKELF_POLICY";
    /// Password for `--username` registry authentication.
    pub const ZKELF_REGISTRY_PASSWORD: &'static str = "ZKELF_REGISTRY_PASSWORD";
    /// Directory of the rollback state (highest version seen); default `$XDG_STATE_HOME/zkelf`.
    pub const ZKELF_STATE_DIR: &'static str = "ZKELF_STATE_DIR";
    /// Directory of the content-addressed blob cache; default `$XDG_CACHE_HOME/zkelf`.
    pub const ZKELF_CACHE_DIR: &'static str = "ZKELF_CACHE_DIR";
    /// Reproducible-builds timestamp: `created` of statements, provenance and annotations.
    pub const SOURCE_DATE_EPOCH: &'static str = "SOURCE_DATE_EPOCH";
    /// Disables colored output when set to a non-empty value (<https://no-color.org>), unless
    /// `--color always`.
    pub const NO_COLOR: &'static str = "NO_COLOR";
    /// Where the builder records the digests of the cache entries (sysroots, toolboxes) this
    /// machine built; default `<state dir>/builder-trust`. Keep it out of any cache an untrusted
    /// job can write: an entry whose digest is not recorded here is built again.
    pub const ZKELF_BUILDER_TRUST_DIR: &'static str = "ZKELF_BUILDER_TRUST_DIR";
    /// Git mirrors for builds (`--git-mirror`), space-separated `<prefix>=<url-or-path>`.
    pub const ZKELF_GIT_MIRRORS: &'static str = "ZKELF_GIT_MIRRORS";
    /// Docker engine to talk to (read by bollard's defaults as well).
    pub const DOCKER_HOST: &'static str = "DOCKER_HOST";
    /// Base of the default state directory.
    pub const XDG_STATE_HOME: &'static str = "XDG_STATE_HOME";
    /// Base of the default cache directory.
    pub const XDG_CACHE_HOME: &'static str = "XDG_CACHE_HOME";
    /// Base of the user's default trust policy (`$XDG_CONFIG_HOME/zkelf/policy.toml`); default
    /// `~/.config`.
    pub const XDG_CONFIG_HOME: &'static str = "XDG_CONFIG_HOME";
    /// Directory of docker's `config.json` (registry credentials); default `~/.docker`.
    pub const DOCKER_CONFIG: &'static str = "DOCKER_CONFIG";
    /// A PEM bundle of certificate authorities trusted for https downloads besides the
    /// system's store (a company proxy's CA, a test CA).
    pub const SSL_CERT_FILE: &'static str = "SSL_CERT_FILE";
    /// Home directory, for `~/.docker/config.json` and the XDG fallbacks.
    pub const HOME: &'static str = "HOME";
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The names this file declares (`pub const NAME: &'static str = "NAME"`).
    fn declared(code: &str) -> BTreeSet<String> {
        code.lines()
            .filter_map(|l| l.trim().strip_prefix("pub const "))
            .filter_map(|l| l.split_once(':'))
            .filter(|(_, rest)| rest.contains("&'static str"))
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// The names `docs/environment.md` lists: the first column of its table of variables.
    fn documented(page: &str) -> BTreeSet<String> {
        page.lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once('`'))
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    #[test]
    fn the_environment_page_lists_every_variable_the_code_reads() {
        let code = declared(include_str!("env.rs"));
        let page = documented(include_str!("../../docs/environment.md"));
        assert!(code.len() >= 16, "{code:?}");
        assert_eq!(
            code, page,
            "docs/environment.md and cli/src/env.rs disagree"
        );
    }
}
