//! minisign signatures (`.minisig`): what parses renders back to a text that parses equal, and
//! the trusted comment is parsed as a statement without panicking.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use zkelf_trust::signature::Signature;

fuzz_target!(|data: &[u8]| {
    let Ok(signature) = Signature::parse_bytes(data, Path::new("fuzz.minisig")) else {
        return;
    };
    let rendered = signature.to_string();
    let again = Signature::parse(&rendered).expect("a rendered signature parses");
    assert_eq!(again, signature);
    assert_eq!(again.to_string(), rendered);
    let _ = signature.statement();
    let _ = signature.key_id().to_string();
});
