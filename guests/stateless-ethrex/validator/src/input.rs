//! The guest's input: one block, the witness for it, and the chain it belongs to, as rkyv bytes.

use ethrex_common::types::Block;

/// Everything the guest needs to validate one block.
///
/// It mirrors the `ProgramInput` of ethrex's guest program (blocks + execution witness, rkyv),
/// with two differences: the witness is carried as the raw RPC witness (nodes, codes, headers as
/// given), so that every trie is rebuilt and every hash computed inside the guest; and the
/// chain is named by its id only, so the rules it is validated under are the guest's own
/// (see [`crate::chain_config`]).
#[derive(Debug, Clone, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct StatelessInput {
    /// Chain id of the block's network; it selects the guest's built-in chain configuration.
    pub chain_id: u64,
    /// The block to validate, header and body.
    pub block: Block,
    /// The execution witness of `debug_executionWitness`, minus the `keys` ethrex no longer reads.
    pub witness: Witness,
}

/// The execution witness as an RPC node returns it: byte strings, none of them checked yet.
#[derive(Debug, Clone, Default, rkyv::Archive, rkyv::Serialize, rkyv::Deserialize)]
pub struct Witness {
    /// RLP-encoded trie nodes of the pre-state, account and storage tries alike.
    pub state: Vec<Vec<u8>>,
    /// Bytecodes the block may run.
    pub codes: Vec<Vec<u8>>,
    /// RLP-encoded ancestor headers, oldest first, the parent last.
    pub headers: Vec<Vec<u8>>,
}

/// Bytes that are not an archived [`StatelessInput`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(rkyv::rancor::Error);

impl StatelessInput {
    /// Serializes the input: these bytes are the guest's one input frame.
    pub fn encode(&self) -> Vec<u8> {
        // Serializing owned, well-formed values into a growable buffer cannot fail.
        rkyv::to_bytes::<rkyv::rancor::Error>(self)
            .expect("rkyv serialization into memory is infallible")
            .into_vec()
    }

    /// Checks (bytecheck) and deserializes input bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        rkyv::from_bytes::<Self, rkyv::rancor::Error>(bytes).map_err(DecodeError)
    }
}
