//! OCI image manifests and indexes as zkelf reads them from a store: what parses serializes
//! back to JSON that parses to the same kind and value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkelf_registry::artifact::{Fetched, parse};
use zkelf_registry::digest::OciDigest;

const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

fuzz_target!(|data: &[u8]| {
    let digest = || DIGEST.parse::<OciDigest>().expect("a valid digest");
    let Ok(fetched) = parse(data, digest()) else {
        return;
    };
    match fetched {
        Fetched::Manifest(manifest) => {
            let bytes = serde_json::to_vec(&manifest).expect("a manifest serializes");
            match parse(&bytes, digest()) {
                Ok(Fetched::Manifest(again)) => assert_eq!(again, manifest),
                other => panic!("a serialized manifest parses as {other:?}"),
            }
        }
        Fetched::Index(index) => {
            let bytes = serde_json::to_vec(&index).expect("an index serializes");
            match parse(&bytes, digest()) {
                Ok(Fetched::Index(again)) => assert_eq!(again, index),
                other => panic!("a serialized index parses as {other:?}"),
            }
        }
    }
});
