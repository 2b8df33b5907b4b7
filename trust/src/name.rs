//! The name grammar (SPEC §2): guest and zkVM names in statements, policy globs, the builder's
//! labels. One home, so a name the builder accepts is one a statement can carry.

/// The grammar as messages and hints write it.
pub const NAME_GRAMMAR: &str = "[a-z0-9][a-z0-9._-]{0,63}";

/// Whether `name` matches `[a-z0-9][a-z0-9._-]{0,63}`.
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes.iter().all(|&b| is_name_byte(b))
}

/// Whether `b` may appear in a name: `[a-z0-9._-]`.
pub fn is_name_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_grammar() {
        for good in ["a", "0", "fib", "rv32im", "sp1-v5.1_x", &"a".repeat(64)] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in [
            "",
            "-a",
            ".a",
            "_a",
            "A",
            "fib/x",
            "fib x",
            "é",
            &"a".repeat(65),
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
