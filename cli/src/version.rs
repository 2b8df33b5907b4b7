//! What this zkelf is: its version and the commit it was built from (`cli/build.rs`), as
//! `--version` prints it and the provenance records it.

/// `<semver> (<commit>[, dirty])`, or `<semver> (unknown commit)` when built outside a git
/// checkout.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("ZKELF_BUILD_COMMIT"),
    ")"
);
