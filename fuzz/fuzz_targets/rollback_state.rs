//! The rollback state (`rollback.json`): what parses renders (as `RollbackState::record` does)
//! to JSON that parses equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkelf_registry::state::Seen;

fuzz_target!(|data: &[u8]| {
    let Ok(seen) = serde_json::from_slice::<Seen>(data) else {
        return;
    };
    let rendered = serde_json::to_vec_pretty(&seen).expect("the state renders");
    let again: Seen = serde_json::from_slice(&rendered).expect("a rendered state parses");
    assert_eq!(again, seen);
});
