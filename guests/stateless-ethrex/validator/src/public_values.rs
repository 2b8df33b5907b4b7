//! The 113 bytes every zkVM guest commits.

use ethrex_common::H256;

/// Length of the encoded public values.
pub const PUBLIC_VALUES_LEN: usize = 113;

/// What the guest attests: whether the block is valid, and which block on which pre-state.
///
/// Encoded raw, fixed-width, so that any verifier can read it without a decoder:
/// `valid (u8) ‖ chain id (u64 LE) ‖ block number (u64 LE) ‖ block hash (32) ‖
/// parent state root (32) ‖ post-state root (32)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicValues {
    /// Every check passed.
    pub valid: bool,
    /// Chain id the input names.
    pub chain_id: u64,
    /// The block's number.
    pub block_number: u64,
    /// keccak256 of the block's RLP-encoded header, as given.
    pub block_hash: H256,
    /// State root of the parent header found in the witness; zero when there is none.
    pub parent_state_root: H256,
    /// State root the guest computed after executing the block; zero when it could not.
    pub post_state_root: H256,
}

impl PublicValues {
    /// The fixed 113-byte encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_VALUES_LEN] {
        let mut out = [0u8; PUBLIC_VALUES_LEN];
        out[0] = u8::from(self.valid);
        out[1..9].copy_from_slice(&self.chain_id.to_le_bytes());
        out[9..17].copy_from_slice(&self.block_number.to_le_bytes());
        out[17..49].copy_from_slice(self.block_hash.as_bytes());
        out[49..81].copy_from_slice(self.parent_state_root.as_bytes());
        out[81..113].copy_from_slice(self.post_state_root.as_bytes());
        out
    }

    /// Reads the encoding back; `None` unless it is exactly 113 bytes with `valid` 0 or 1.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != PUBLIC_VALUES_LEN || bytes[0] > 1 {
            return None;
        }
        let u64_at = |at: usize| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(word)
        };
        Some(Self {
            valid: bytes[0] == 1,
            chain_id: u64_at(1),
            block_number: u64_at(9),
            block_hash: H256::from_slice(&bytes[17..49]),
            parent_state_root: H256::from_slice(&bytes[49..81]),
            post_state_root: H256::from_slice(&bytes[81..113]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_near_misses() {
        let values = PublicValues {
            valid: true,
            chain_id: 560_048,
            block_number: 1_265_656,
            block_hash: H256::repeat_byte(0xaa),
            parent_state_root: H256::repeat_byte(0xbb),
            post_state_root: H256::repeat_byte(0xcc),
        };
        let bytes = values.to_bytes();
        assert_eq!(bytes[0], 1);
        assert_eq!(&bytes[1..9], &560_048u64.to_le_bytes());
        assert_eq!(&bytes[9..17], &1_265_656u64.to_le_bytes());
        assert_eq!(PublicValues::from_bytes(&bytes), Some(values));

        assert_eq!(PublicValues::from_bytes(&bytes[..112]), None);
        let mut bad_flag = bytes;
        bad_flag[0] = 2;
        assert_eq!(PublicValues::from_bytes(&bad_flag), None);
    }
}
