//! Stateless validation of one Ethereum block, on ethrex's published crates (31.x) and nothing
//! zkVM-specific: every zkVM guest of `stateless-ethrex` reads its one input frame, calls
//! [`validate`] and commits the 113 bytes it returns.
//!
//! The steps are those of ethrex's own guest program: the witness is rebuilt into tries as
//! `crates/guest-program/stateless-validator/src/convert.rs` (`to_ethrex_legacy_witness`) does,
//! and the block is checked and executed as `crates/guest-program/src/common/execution.rs`
//! (`execute_blocks`) does. See [`validate_input`] for the list.

mod chain;
mod crypto;
mod input;
mod public_values;
mod validate;

pub use chain::{chain_config, HOODI_CHAIN_ID};
pub use crypto::GuestCrypto;
pub use input::{DecodeError, StatelessInput, Witness};
pub use public_values::{PublicValues, PUBLIC_VALUES_LEN};
pub use validate::{validate_input, Outcome, ValidationError};

/// Validates the block in `input` (the bytes of a [`StatelessInput`]) and returns the public
/// values to commit.
///
/// An invalid block is a result (`valid = 0`), not a panic; only bytes that do not decode as a
/// [`StatelessInput`] panic, since there is then no block to report on.
pub fn validate(input: &[u8]) -> [u8; PUBLIC_VALUES_LEN] {
    let input = StatelessInput::decode(input)
        .unwrap_or_else(|err| panic!("input is not a stateless-ethrex input: {err}"));
    validate_input(input).public_values.to_bytes()
}
