//! The trust policy (`keys/policy.toml`): loads or fails with an error, never a panic. It has no
//! rendering, so no round trip. `file =` keys resolve against a directory that does not exist.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use zkelf_trust::policy::{Policy, Role};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let base = Path::new("/nonexistent/zkelf-fuzz");
    if let Ok(policy) = Policy::parse(text, &base.join("policy.toml"), base) {
        let _ = (
            policy.required(Role::Release),
            policy.required(Role::Rebuild),
        );
    }
});
