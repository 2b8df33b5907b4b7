//! An OCI layout's `index.json` as the layout store reads and rewrites it
//! (`zkelf_registry::store::layout::LayoutIndex`): what parses writes back JSON that parses equal;
//! tagging a manifest makes the tag name it, leaves every other tag naming what it named, writes
//! JSON that parses equal, and is idempotent; it is refused only when the index is not an object
//! or its `manifests` is not a list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkelf_registry::artifact::{Descriptor, MANIFEST_MEDIA_TYPE};
use zkelf_registry::digest::OciDigest;
use zkelf_registry::store::ProtocolViolation;
use zkelf_registry::store::layout::LayoutIndex;

fuzz_target!(|data: &[u8]| {
    let Ok(index) = LayoutIndex::parse(data) else {
        return;
    };
    let json: serde_json::Value = serde_json::from_slice(data).expect("the index is JSON");
    let again = LayoutIndex::parse(&index.to_vec()).expect("a written index parses");
    assert_eq!(again, index);
    let tags: Vec<&str> = index.tags().collect();
    for tag in &tags {
        if let Some(digest) = index.tagged(tag) {
            let _ = digest.parse::<OciDigest>();
        }
    }

    let descriptor = Descriptor::of(MANIFEST_MEDIA_TYPE, data);
    let mut candidates = vec!["1.0.0-zisk"];
    candidates.extend(tags.first());
    for tag in candidates {
        let mut tagged = index.clone();
        match tagged.tag(&descriptor, tag) {
            Ok(()) => {}
            Err(ProtocolViolation::IndexNotAnObject) => {
                assert!(!json.is_object(), "an object refused as not one");
                continue;
            }
            Err(ProtocolViolation::IndexWithoutManifests) => {
                assert!(
                    json.get("manifests").is_some_and(|m| !m.is_array()),
                    "refused for its `manifests`, which is a list or missing"
                );
                continue;
            }
            Err(other) => panic!("tagging fails with {other:?}"),
        }
        let digest = descriptor.digest.to_string();
        assert_eq!(tagged.tagged(tag), Some(digest.as_str()));
        for other in tags.iter().filter(|t| **t != tag) {
            assert_eq!(
                tagged.tagged(other),
                index.tagged(other),
                "tag `{other}` moved"
            );
        }
        let mut expected: Vec<&str> = tags.iter().copied().filter(|t| *t != tag).collect();
        expected.push(tag);
        assert_eq!(tagged.tags().collect::<Vec<_>>(), expected);
        let written = LayoutIndex::parse(&tagged.to_vec()).expect("a tagged index parses");
        assert_eq!(written, tagged);
        let mut twice = tagged.clone();
        twice
            .tag(&descriptor, tag)
            .expect("a tagged index tags again");
        assert_eq!(twice, tagged, "tagging twice differs from once");
    }
});
