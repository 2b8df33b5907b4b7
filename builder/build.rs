//! Compiles the zkVM toolboxes' sources (`../toolbox/{cli,sp1,risc0,openvm,zisk}`) into the
//! builder: zkelf builds each toolbox from them in its toolbox image, wherever zkelf runs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The toolbox directories compiled in (`sp1-sdk-check` is a check, not a toolbox).
const DIRS: &[&str] = &["cli", "sp1", "risc0", "openvm", "zisk"];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.join("../toolbox");
    let mut files = Vec::new();
    for dir in DIRS {
        collect(&root, Path::new(dir), &mut files);
    }
    files.sort();
    let mut out = String::from(
        "/// Every file of the toolboxes' sources: (path under `toolbox/`, contents).\n\
         pub const FILES: &[(&str, &[u8])] = &[\n",
    );
    for rel in &files {
        let abs = root.join(rel).canonicalize().expect("a toolbox file");
        println!("cargo::rerun-if-changed={}", abs.display());
        let _ = writeln!(
            out,
            "    ({:?}, include_bytes!({:?})),",
            rel.to_string_lossy(),
            abs.display().to_string()
        );
    }
    out.push_str("];\n");
    for dir in DIRS {
        println!("cargo::rerun-if-changed={}", root.join(dir).display());
    }
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(dest.join("toolbox_sources.rs"), out).expect("OUT_DIR is writable");
}

/// The files under `root/rel`, but build outputs.
fn collect(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let child = rel.join(&name);
        match entry.file_type() {
            Ok(t) if t.is_dir() => collect(root, &child, out),
            Ok(t) if t.is_file() => out.push(child),
            _ => {}
        }
    }
}
