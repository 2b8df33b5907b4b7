//! Why a git package cannot be vendored from its verified tree.

use std::path::PathBuf;

/// Why a git package cannot be vendored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitPackageProblem {
    /// No manifest of the tree is the package.
    #[error("no `Cargo.toml` in the repository is package `{name}` {version}")]
    NotFound {
        /// The package.
        name: String,
        /// Its version.
        version: String,
    },
    /// A manifest cannot be read or does not parse (the reader's or parser's words).
    #[error("`{}`: {words}", manifest.display())]
    Manifest {
        /// The manifest, relative to the repository.
        manifest: PathBuf,
        /// What the reader or the TOML parser said, verbatim.
        words: String,
    },
    /// A manifest inherits what its workspace does not have.
    #[error("`{}`: {what} `{key}` is inherited, but its workspace does not declare it", manifest.display())]
    Inherited {
        /// The manifest, relative to the repository.
        manifest: PathBuf,
        /// `package field` or `dependency`.
        what: &'static str,
        /// The field or dependency.
        key: String,
    },
    /// A symbolic link out of the repository, or to a directory.
    #[error("`{}` is a symbolic link zkelf does not follow (out of the repository, or to a directory)", path.display())]
    Link {
        /// The link, relative to the repository.
        path: PathBuf,
    },
}
