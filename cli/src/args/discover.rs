//! Arguments of `completions` and `man`.

use std::path::PathBuf;

use clap::Args;
use clap_complete::Shell;

/// `zkelf completions`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  source <(zkelf completions bash)\n  \
    zkelf completions zsh > \"${fpath[1]}/_zkelf\"\n  \
    zkelf completions fish > ~/.config/fish/completions/zkelf.fish")]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// `zkelf man`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  zkelf man | man -l -\n  zkelf man /usr/local/share/man/man1")]
pub struct ManArgs {
    /// Write `zkelf.1` and one `zkelf-<command>.1` per command into this directory (created if
    /// missing) instead of printing `zkelf.1` on stdout.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}
