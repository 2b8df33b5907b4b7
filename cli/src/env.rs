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

    /// Every flag of every command that a variable sets, as `(command, flag, variable)`.
    fn flags_set_by_variables() -> Vec<(String, String, String)> {
        fn walk(cmd: &clap::Command, path: &str, found: &mut Vec<(String, String, String)>) {
            let path = format!("{path} {}", cmd.get_name()).trim().to_owned();
            for arg in cmd.get_arguments() {
                if let Some(var) = arg.get_env() {
                    assert!(
                        !arg.is_hide_env_set(),
                        "`{path} --{}` hides its `[env: …]`",
                        arg.get_id()
                    );
                    found.push((
                        path.clone(),
                        arg.get_id().to_string(),
                        var.to_string_lossy().into_owned(),
                    ));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &path, found);
            }
        }
        let mut found = Vec::new();
        walk(
            &<crate::args::Cli as clap::CommandFactory>::command(),
            "",
            &mut found,
        );
        found
    }

    /// A variable that sets a flag shows as `[env: NAME=]` in that flag's `--help` (clap does so
    /// unless told to hide it), and the environment page says so; the variables that only
    /// stand in for a prompt or a default (`ZKELF_PASSWORD`, the directories) set no flag.
    #[test]
    fn every_flag_a_variable_sets_shows_it_in_help() {
        let found = flags_set_by_variables();
        let variables: BTreeSet<&str> = found.iter().map(|(_, _, v)| v.as_str()).collect();
        assert_eq!(
            variables,
            BTreeSet::from(["ZKELF_GIT_MIRRORS", "ZKELF_POLICY"]),
            "{found:?}"
        );
        let page = include_str!("../../docs/environment.md");
        for var in variables {
            assert!(
                page.contains(&format!("[env: {var}=]")),
                "docs/environment.md does not say `--help` shows `[env: {var}=]`"
            );
        }
        let help = |args: &[&str]| {
            let err = <crate::args::Cli as clap::Parser>::try_parse_from(args).unwrap_err();
            // Wrapped to the terminal's width: one space wherever a line broke.
            let text = err.render().to_string();
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        for (path, _, var) in &found {
            let mut args: Vec<&str> = path.split(' ').collect();
            args.push("--help");
            assert!(
                help(&args).contains(&format!("[env: {var}=")),
                "`{path} --help` does not show `[env: {var}=]`"
            );
        }
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
