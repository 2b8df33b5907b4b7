//! Where zkelf keeps its state and cache by default: a leaf the binary and the library share.

use std::path::{Path, PathBuf};

/// The default state and cache roots under `$XDG_*_HOME` or `~/.local/state`, `~/.cache`.
pub fn default_dir(xdg: Option<&Path>, home: Option<&Path>, fallback: &str) -> Option<PathBuf> {
    xdg.map(|x| x.join("zkelf"))
        .or_else(|| home.map(|h| h.join(fallback).join("zkelf")))
}
