//! `provenance.json` (SPEC §4): what parses serializes to JSON that parses equal, and the
//! accessors `rebuild` uses do not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkelf_builder::provenance::Provenance;

fuzz_target!(|data: &[u8]| {
    let Ok(provenance) = Provenance::from_json(data) else {
        return;
    };
    let json = provenance.to_json();
    let again = Provenance::from_json(&json).expect("serialized provenance parses");
    assert_eq!(again, provenance);
    let _ = (provenance.subject_sha256(), provenance.dockerfile());
    let _ = (provenance.external(), provenance.internal());
});
