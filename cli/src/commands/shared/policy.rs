//! The one rule for what a command trusts (SPEC §9): `--policy`, else `--key`, else
//! `ZKELF_POLICY`, else the user's `$XDG_CONFIG_HOME/zkelf/policy.toml`. No project default:
//! a `keys/policy.toml` found by walking up from the current directory would let whatever
//! repository one stands in (a fresh clone of someone else's, say) choose the keys trusted
//! (docs/spec-notes.md).

use std::fmt;
use std::path::{Path, PathBuf};

use zkelf_trust::policy::Policy;

use super::dirs::config_dir;
use super::keys::public_key;
use crate::args::policy::{PolicyArg, TrustArgs};
use crate::env::EnvVars;
use crate::error::UsageError;

/// Where the policy in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PolicySource {
    /// `--policy <FILE>`.
    Flag(PathBuf),
    /// `--key <PUB>`: exactly this key, for releases of any guest.
    Key(String),
    /// `ZKELF_POLICY`.
    Env(PathBuf),
    /// `$XDG_CONFIG_HOME/zkelf/policy.toml`, which exists.
    UserDefault(PathBuf),
}

impl fmt::Display for PolicySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicySource::Flag(path) => write!(f, "`{}` (`--policy`)", path.display()),
            PolicySource::Key(key) => write!(f, "`--key {key}`"),
            PolicySource::Env(path) => {
                write!(f, "`{}` (`{}`)", path.display(), EnvVars::ZKELF_POLICY)
            }
            PolicySource::UserDefault(path) => write!(f, "`{}` (the user default)", path.display()),
        }
    }
}

/// No policy anywhere the rule looks, and what it looked at.
#[derive(Debug)]
pub(crate) struct NoPolicy {
    /// Whether the command takes `--key` (all but `release`).
    takes_key: bool,
    /// The user default looked at (`None`: neither `XDG_CONFIG_HOME` nor `HOME` is set).
    user_default: Option<PathBuf>,
}

impl From<NoPolicy> for UsageError {
    fn from(none: NoPolicy) -> Self {
        let (flags, key) = if none.takes_key {
            ("neither `--policy` nor `--key` given", " or `--key <PUB>`")
        } else {
            ("no `--policy` given", "")
        };
        let (looked, write) = match &none.user_default {
            Some(path) => (
                format!("`{}` does not exist", path.display()),
                format!(", or write your default policy at `{}`", path.display()),
            ),
            None => (
                format!(
                    "no user default (neither `{}` nor `{}` is set)",
                    EnvVars::XDG_CONFIG_HOME,
                    EnvVars::HOME
                ),
                String::new(),
            ),
        };
        let var = EnvVars::ZKELF_POLICY;
        UsageError::new(
            format!("no trust policy: {flags}, `{var}` not set, and {looked}"),
            format!("pass `--policy <FILE>`{key}, set `{var}`{write}"),
        )
    }
}

/// The user's default policy file, whether it exists or not.
fn user_default() -> Option<PathBuf> {
    config_dir().map(|d| d.join("policy.toml"))
}

/// Where the policy comes from, by the rule; `key` is `--key` where the command takes a public
/// key (`takes_key` false for `release`, whose `--key` is the secret key); `Ok(Err(_))`: nowhere.
pub(crate) fn resolve(
    policy: &PolicyArg,
    key: Option<&str>,
    takes_key: bool,
) -> Result<Result<PolicySource, NoPolicy>, UsageError> {
    if policy.flag().is_some() && key.is_some() {
        return Err(UsageError::new(
            "`--policy` and `--key` both say what to trust",
            "pass one of them: a policy file, or the one release key to trust",
        ));
    }
    if let Some(file) = policy.flag() {
        return Ok(Ok(PolicySource::Flag(file.clone())));
    }
    if let Some(key) = key {
        return Ok(Ok(PolicySource::Key(key.to_owned())));
    }
    if let Some(file) = &policy.file {
        return Ok(Ok(PolicySource::Env(file.clone())));
    }
    let user_default = user_default();
    if let Some(path) = user_default.as_ref().filter(|p| p.exists()) {
        return Ok(Ok(PolicySource::UserDefault(path.clone())));
    }
    Ok(Err(NoPolicy {
        takes_key,
        user_default,
    }))
}

/// Reads the policy `source` names.
pub(crate) fn load(source: &PolicySource) -> anyhow::Result<Policy> {
    let path: &Path = match source {
        PolicySource::Key(key) => return Ok(Policy::from_public_key(public_key(key)?)),
        PolicySource::Flag(path) | PolicySource::Env(path) | PolicySource::UserDefault(path) => {
            path
        }
    };
    if !path.exists() {
        let hint = match source {
            PolicySource::Env(_) => format!(
                "point `{}` at a policy file, or unset it",
                EnvVars::ZKELF_POLICY
            ),
            _ => "check the path, or pass `--key <PUB>` to trust one release key".to_owned(),
        };
        return Err(UsageError::new(format!("trust policy {source} does not exist"), hint).into());
    }
    Ok(Policy::load(path)?)
}

/// The policy of a command's `--policy`/`--key` pair, by the rule; none is an error.
pub(crate) fn load_policy(args: &TrustArgs) -> anyhow::Result<Policy> {
    let source = resolve(&args.policy, args.key.as_deref(), true)?.map_err(UsageError::from)?;
    load(&source)
}

/// The policy of `release` (`--policy` or the environment; its `--key` signs).
pub(crate) fn load_release_policy(policy: &PolicyArg) -> anyhow::Result<Policy> {
    let source = resolve(policy, None, false)?.map_err(UsageError::from)?;
    load(&source)
}

/// The policy when one is given or found; `Ok(None)` when the rule finds none (`inspect` then
/// shows the artifact unjudged).
pub(crate) fn optional_policy(args: &TrustArgs) -> anyhow::Result<Option<Policy>> {
    match resolve(&args.policy, args.key.as_deref(), true)? {
        Ok(source) => load(&source).map(Some),
        Err(_) => Ok(None),
    }
}
