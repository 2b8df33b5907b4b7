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
    /// A manifest does not parse, or inherits what its workspace does not have.
    #[error("`{}`: {reason}", manifest.display())]
    Manifest {
        /// The manifest, relative to the repository.
        manifest: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A symbolic link out of the repository, or to a directory.
    #[error("`{}` is a symbolic link zkelf does not follow (out of the repository, or to a directory)", path.display())]
    Link {
        /// The link, relative to the repository.
        path: PathBuf,
    },
}
