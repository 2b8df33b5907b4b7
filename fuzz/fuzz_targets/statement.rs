//! The signed statement (SPEC §2): parsing is strict, so a text that parses is exactly the
//! rendering of what it parses to, and rendering parses back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkelf_trust::statement::Statement;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let claimed = Statement::is_claimed_by(text);
    let Ok(statement) = Statement::parse(text) else {
        return;
    };
    assert!(claimed, "a statement parses but is not claimed: {text:?}");
    let rendered = statement.render();
    assert_eq!(rendered, text, "parsing is not strict");
    assert_eq!(Statement::parse(&rendered), Ok(statement));
});
