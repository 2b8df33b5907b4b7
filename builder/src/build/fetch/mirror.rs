//! Git mirrors: users behind a firewall (and zkelf's tests, where no git host answers) map URL
//! prefixes to a mirror, another URL or a local repository path. Only the fetch uses a mirror:
//! cargo's configuration and the provenance keep the URL as written, and the locked commit is
//! what is built, from wherever it came.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// `<url-prefix>=<url-or-local-path>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitMirror {
    /// The URL prefix it serves (`https://github.com/`).
    pub prefix: String,
    /// Where those URLs are fetched from.
    pub target: MirrorTarget,
}

/// Where a mirror is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorTarget {
    /// Another git URL (`https://`, `ssh://`, `file://`).
    Url(String),
    /// A local directory (absolute), mounted read-only into the fetch container.
    Path(PathBuf),
}

impl fmt::Display for GitMirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            MirrorTarget::Url(url) => write!(f, "{}={url}", self.prefix),
            MirrorTarget::Path(path) => write!(f, "{}={}", self.prefix, path.display()),
        }
    }
}

/// Why a `--git-mirror` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MirrorError {
    /// No `=`, or an empty side.
    #[error("`{0}` is not `<url-prefix>=<url-or-path>`")]
    Form(String),
    /// The prefix is not a URL zkelf clones.
    #[error("the prefix of `{0}` is not a `https://`, `ssh://` or `file://` URL")]
    Prefix(String),
    /// The mirror is neither a URL zkelf clones nor an absolute or relative path.
    #[error("the mirror of `{0}` is neither a `https://`, `ssh://` or `file://` URL nor a path")]
    Target(String),
}

impl FromStr for GitMirror {
    type Err = MirrorError;

    /// A relative path is taken from the current directory.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (prefix, target) = s
            .split_once('=')
            .filter(|(p, t)| !p.is_empty() && !t.is_empty())
            .ok_or_else(|| MirrorError::Form(s.to_string()))?;
        let url_like = |u: &str| {
            ["https://", "ssh://", "file://"]
                .iter()
                .any(|scheme| u.starts_with(scheme))
                && crate::git::remote::refusal(u).is_none()
        };
        if !url_like(prefix) {
            return Err(MirrorError::Prefix(s.to_string()));
        }
        let target = if url_like(target) {
            MirrorTarget::Url(target.to_string())
        } else if target.contains("://") || target.starts_with('-') {
            return Err(MirrorError::Target(s.to_string()));
        } else {
            let path = PathBuf::from(target);
            MirrorTarget::Path(if path.is_absolute() {
                path
            } else {
                std::env::current_dir().unwrap_or_default().join(path)
            })
        };
        Ok(Self {
            prefix: prefix.to_string(),
            target,
        })
    }
}

/// Parses a space-separated list (`ZKELF_GIT_MIRRORS`).
pub fn parse_list(text: &str) -> Result<Vec<GitMirror>, MirrorError> {
    text.split_whitespace().map(str::parse).collect()
}

/// The mirror serving `url` (the longest matching prefix) and what is left of the URL after
/// the prefix.
pub(crate) fn lookup<'m>(mirrors: &'m [GitMirror], url: &'m str) -> Option<(usize, &'m str)> {
    mirrors
        .iter()
        .enumerate()
        .filter_map(|(i, m)| url.strip_prefix(m.prefix.as_str()).map(|rest| (i, rest)))
        .max_by_key(|(i, _)| mirrors[*i].prefix.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_parse_and_the_longest_prefix_serves() {
        let mirrors = parse_list(
            "https://github.com/=/srv/mirrors/github/ https://github.com/acme/=https://git.example.com/acme/",
        )
        .unwrap();
        assert_eq!(
            mirrors[0].target,
            MirrorTarget::Path("/srv/mirrors/github/".into())
        );
        assert_eq!(
            lookup(&mirrors, "https://github.com/acme/fork"),
            Some((1, "fork"))
        );
        assert_eq!(
            lookup(&mirrors, "https://github.com/other/x"),
            Some((0, "other/x"))
        );
        assert_eq!(lookup(&mirrors, "https://gitlab.com/x"), None);
        let relative: GitMirror = "https://github.com/=mirrors".parse().unwrap();
        assert!(matches!(relative.target, MirrorTarget::Path(p) if p.is_absolute()));
        for bad in [
            "https://github.com/",
            "=x",
            "github.com=/srv",
            "https://github.com/=-oProxyCommand",
        ] {
            assert!(bad.parse::<GitMirror>().is_err(), "{bad}");
        }
    }
}
