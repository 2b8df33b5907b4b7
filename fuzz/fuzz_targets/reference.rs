//! References (SPEC §6): what parses displays as text that parses equal; the loopback and
//! plain-HTTP checks take any text without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkelf_registry::reference::{
    Reference, is_loopback_host, is_loopback_url, is_valid_host, plain_http_allowed,
    plain_http_allowed_url, url_host_port,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = (is_loopback_host(text), plain_http_allowed(text, &[]));
    let _ = is_valid_host(text);
    if let Ok(url) = url::Url::parse(text) {
        let _ = (url_host_port(&url), is_loopback_url(&url));
        let _ = plain_http_allowed_url(&url, &[]);
    }
    let Ok(reference) = text.parse::<Reference>() else {
        return;
    };
    let shown = reference.to_string();
    let again: Reference = shown.parse().expect("a displayed reference parses");
    assert_eq!(again, reference);
    assert_eq!(again.source(), reference.source());
    let _ = reference.with_target(None).to_string();
});
