//! `zkelf diff` of two arbitrary inputs: the first two bytes (little-endian) give the length of
//! `a`, the rest is `b`. Comparing never panics, a file equals itself, and RISC Zero program
//! binaries decode or fail cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkelf_builder::diff::diff_elf;
use zkelf_zkvm::risc0;

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let split = usize::from(u16::from_le_bytes(*head)).min(rest.len());
    let (a, b) = rest.split_at(split);
    for side in [a, b] {
        if risc0::is_program_binary(side) {
            let _ = risc0::parts(side);
        }
    }
    if let Ok(diff) = diff_elf(a, b, "a.elf", "b.elf") {
        assert_eq!(diff.identical, a == b);
        let _ = diff.render();
        serde_json::to_string(&diff).expect("a diff serializes");
        let same = diff_elf(a, a, "a.elf", "a.elf").expect("`a` parsed once already");
        assert!(same.identical && same.sections.is_empty() && same.symbols.is_empty());
    }
});
