//! `zkelf.toml`, the builder manifest (SPEC §8): what parses renders to TOML that parses equal,
//! and selecting artifacts does not panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use zkelf_builder::manifest::Manifest;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("zkelf.toml");
    let Ok(manifest) = Manifest::parse(text, path) else {
        return;
    };
    let rendered = toml::to_string(&manifest).expect("a manifest renders");
    let again = Manifest::parse(&rendered, path).expect("a rendered manifest parses");
    assert_eq!(again, manifest);
    if let Ok(artifacts) = manifest.select(None) {
        for artifact in artifacts {
            let _ = (
                manifest.bin(artifact),
                manifest.build_std(&artifact.profile()),
            );
        }
    }
    let _ = manifest.output_dir(Path::new("dist"));
});
