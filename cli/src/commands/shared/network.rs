//! How commands reach registries: network options and retries from the flags and environment.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use zkelf_registry::auth::Credentials;
use zkelf_registry::fetch::RetryPolicy;
use zkelf_registry::store::NetworkOptions;

use crate::args::dist::NetworkArgs;
use crate::env::EnvVars;
use crate::error::UsageError;

/// Network options from the flags, the environment and `~/.docker/config.json`.
pub(crate) fn network_options(args: &NetworkArgs) -> anyhow::Result<NetworkOptions> {
    let credentials = match &args.username {
        None => None,
        Some(user) => {
            let password = if args.password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("cannot read the registry password from standard input")?;
                zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                match std::env::var(EnvVars::ZKELF_REGISTRY_PASSWORD) {
                    Ok(p) => zeroize::Zeroizing::new(p),
                    Err(_) => {
                        return Err(UsageError::new(
                            format!("`--username {user}` needs a password"),
                            format!(
                                "set `{}` or pass `--password-stdin`",
                                EnvVars::ZKELF_REGISTRY_PASSWORD
                            ),
                        )
                        .into());
                    }
                }
            };
            Some(Credentials::new(user.clone(), password.as_str()))
        }
    };
    let docker_config_dir = std::env::var_os(EnvVars::DOCKER_CONFIG)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os(EnvVars::HOME).map(|h| PathBuf::from(h).join(".docker")));
    Ok(NetworkOptions {
        insecure_registries: args.insecure_registries.clone(),
        credentials,
        docker_config_dir,
        connect_timeout: Duration::from_secs(args.timeout.clamp(1, 30)),
        read_timeout: Duration::from_secs(args.timeout.max(1)),
        ca_certificates: std::env::var_os(EnvVars::SSL_CERT_FILE)
            .filter(|f| !f.is_empty())
            .map(PathBuf::from)
            .into_iter()
            .collect(),
    })
}

/// Retries from the flags.
pub(crate) fn retry_policy(args: &NetworkArgs) -> RetryPolicy {
    RetryPolicy {
        retries: args.retries,
        attestation_budget: Duration::from_secs(args.attestation_timeout),
        ..RetryPolicy::default()
    }
}
