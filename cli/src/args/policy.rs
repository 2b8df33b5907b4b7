//! What to trust: `--policy` (or `ZKELF_POLICY`) and `--key`, the same flags on every command that
//! judges trust (`verify`, `pull`, `run`, `inspect`, `publish`, `import`; `release` has no public
//! `--key`). `commands/shared/policy.rs` resolves them.

use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};

use crate::env::EnvVars;

/// `--policy <FILE>` with `[env: ZKELF_POLICY=]`, remembering which of the two gave it: the
/// flag outranks `--key`, the variable does not.
#[derive(Debug, Clone, Default)]
pub struct PolicyArg {
    /// The policy file named, by the flag or the variable.
    pub file: Option<PathBuf>,
    /// Whether it came from `ZKELF_POLICY` rather than `--policy`.
    pub from_env: bool,
}

const ID: &str = "policy";

impl PolicyArg {
    /// The file `--policy` names on the command line (not the variable).
    pub fn flag(&self) -> Option<&PathBuf> {
        self.file.as_ref().filter(|_| !self.from_env)
    }
}

impl Args for PolicyArg {
    fn augment_args(cmd: Command) -> Command {
        cmd.arg(
            Arg::new(ID)
                .long(ID)
                .value_name("FILE")
                .env(EnvVars::ZKELF_POLICY)
                .value_parser(clap::value_parser!(PathBuf))
                .help(
                    "Trust policy (`policy.toml`); without it: `--key` where taken, then \
                     `ZKELF_POLICY`, then `$XDG_CONFIG_HOME/zkelf/policy.toml`",
                ),
        )
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for PolicyArg {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self {
            file: matches.get_one::<PathBuf>(ID).cloned(),
            from_env: matches.value_source(ID) == Some(ValueSource::EnvVariable),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// Which keys count: a policy, or exactly one release key.
#[derive(Debug, Clone, Args)]
pub struct TrustArgs {
    #[command(flatten)]
    pub policy: PolicyArg,
    /// Trust exactly this minisign public key for releases, instead of a policy: a `.pub` file
    /// or its base64 line (`RW…`).
    #[arg(long, value_name = "PUB")]
    pub key: Option<String>,
}
