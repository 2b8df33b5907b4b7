//! minisign keys: public key files and base64 lines round-trip; secret key files decode, and
//! unencrypted ones unlock or fail, without panicking (encrypted ones would run scrypt).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;
use zkelf_trust::keys::{PublicKey, SecretKeyFile};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = PublicKey::parse_file_text(text, Path::new("fuzz.pub")) {
        let again = PublicKey::parse_file_text(&key.to_file_text(), Path::new("again.pub"))
            .expect("a rendered public key file parses");
        assert_eq!(again, key);
    }
    if let Ok(key) = PublicKey::from_base64(text) {
        let again = PublicKey::from_base64(&key.to_base64()).expect("a rendered key parses");
        assert_eq!(again, key);
        assert_eq!(again.id(), key.id());
    }
    if let Ok(file) = SecretKeyFile::from_text(Zeroizing::new(text.to_owned()), Path::new("f.key"))
        && !file.is_encrypted()
        && let Ok(secret) = file.unlock(None)
    {
        assert_eq!(secret.public_key().id(), secret.id());
    }
});
