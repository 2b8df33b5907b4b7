//! `zkelf.lock`: what parses renders (as `Lock::write` does) to text that parses equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkelf_registry::lockfile::LockFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(lock) = LockFile::parse(text) else {
        return;
    };
    let rendered = toml::to_string_pretty(&lock).expect("a lock file renders");
    let again = LockFile::parse(&rendered).expect("a rendered lock file parses");
    assert_eq!(again, lock);
});
