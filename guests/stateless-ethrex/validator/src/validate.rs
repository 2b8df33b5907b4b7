//! The validation itself: ethrex's guest program, step by step, on one block.

use std::sync::Arc;

use ethrex_common::types::block_execution_witness::{
    decode_witness_headers, validate_witness_headers_chain, GuestProgramState,
    GuestProgramStateError, RpcExecutionWitness,
};
use ethrex_common::types::{
    validate_block_body, BlockHeader, InvalidBlockBodyError, ELASTICITY_MULTIPLIER,
};
use ethrex_common::{
    validate_block_access_list_hash, validate_block_pre_execution, validate_gas_used,
    validate_receipts_root_and_logs_bloom, validate_requests_hash, Bytes, InvalidBlockError, H256,
};
use ethrex_rlp::decode::RLPDecode;
use ethrex_vm::{Evm, EvmError, GuestProgramStateWrapper};

use crate::{chain_config, GuestCrypto, PublicValues, StatelessInput, Witness};

/// The result of validating one block: the public values, and why it is invalid if it is.
#[derive(Debug)]
pub struct Outcome {
    /// What the guest commits.
    pub public_values: PublicValues,
    /// The first check that failed; `None` exactly when `public_values.valid`.
    pub error: Option<ValidationError>,
}

/// Why a block is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// The input names a chain whose rules the guest does not carry.
    #[error("chain id {0} has no built-in chain configuration")]
    UnknownChain(u64),
    /// The witness cannot be turned into the pre-state: a header or node that does not decode,
    /// ancestors that do not chain, a missing parent header or trie node.
    #[error("witness: {0}")]
    Witness(#[from] GuestProgramStateError),
    /// An ancestor header's hash is not the next ancestor's parent hash.
    #[error("ancestor header {0} is not the parent of the header after it")]
    AncestorHash(u64),
    /// The tries rebuilt from the witness do not hash to the parent's state root.
    #[error("witness pre-state root {computed:#x} is not the parent's state root {expected:#x}")]
    PreStateRoot {
        /// Root of the rebuilt state trie.
        computed: H256,
        /// The parent header's `stateRoot`.
        expected: H256,
    },
    /// Transactions or withdrawals root, or ommers, do not match the header.
    #[error("block body: {0}")]
    Body(#[from] InvalidBlockBodyError),
    /// A header check against the parent, or a post-execution check (gas, receipts root, logs
    /// bloom, requests hash, block access list).
    #[error("block: {0}")]
    Block(#[from] InvalidBlockError),
    /// Execution failed: an invalid transaction, or state the witness does not hold.
    #[error("execution: {0}")]
    Execution(#[from] EvmError),
    /// The block called a precompile this build cannot evaluate (see [`GuestCrypto`]).
    #[error("the block calls a precompile this build cannot evaluate (KZG point evaluation)")]
    UnsupportedPrecompile,
    /// Executing the block gives another state root than the header's.
    #[error("computed post-state root {computed:#x} is not the header's state root {expected:#x}")]
    PostStateRoot {
        /// Root after executing the block on the witness's pre-state.
        computed: H256,
        /// The block header's `stateRoot`.
        expected: H256,
    },
}

/// Validates one block statelessly.
///
/// The checks, in ethrex's order (`execute_blocks` in ethrex's `crates/guest-program`):
/// the ancestor headers decode and chain by hash (`validate_witness_headers_chain`,
/// `get_first_invalid_block_hash`); the witness nodes rebuild the state and storage tries
/// (`into_execution_witness`, `GuestProgramState::from_witness`) whose root is the parent's
/// state root; the body matches the header (transactions and withdrawals roots, no ommers);
/// the header is valid against its parent (gas limit, base fee, timestamp, number, parent hash,
/// blob gas, Prague fields, transaction chain ids); the block executes; then gas used,
/// receipts root and logs bloom, requests hash (and the block access list from Amsterdam on)
/// match the header; and the state root after applying the block is the header's.
///
/// Never panics on a decoded input: every failure is an [`Outcome`] with `valid = false`.
pub fn validate_input(input: StatelessInput) -> Outcome {
    let crypto = Arc::new(GuestCrypto::default());
    let header = &input.block.header;
    let mut public_values = PublicValues {
        valid: false,
        chain_id: input.chain_id,
        block_number: header.number,
        block_hash: header.compute_block_hash(crypto.as_ref()),
        parent_state_root: parent_state_root(&input.witness, header.number),
        post_state_root: H256::zero(),
    };
    let error = run(input, &crypto, &mut public_values.post_state_root).err();
    public_values.valid = error.is_none();
    Outcome {
        public_values,
        error,
    }
}

/// The state root of the parent header in the witness, read without trusting anything else in
/// it (the checks come later); zero when no header of number `number - 1` decodes.
fn parent_state_root(witness: &Witness, number: u64) -> H256 {
    let Some(parent_number) = number.checked_sub(1) else {
        return H256::zero();
    };
    witness
        .headers
        .iter()
        // The last one, as `GuestProgramState::from_witness` keys headers by number.
        .rev()
        .filter_map(|bytes| BlockHeader::decode(bytes).ok())
        .find(|header| header.number == parent_number)
        .map_or_else(H256::zero, |header| header.state_root)
}

fn run(
    input: StatelessInput,
    crypto: &Arc<GuestCrypto>,
    post_state_root: &mut H256,
) -> Result<(), ValidationError> {
    let StatelessInput {
        chain_id,
        block,
        witness,
    } = input;
    let chain_config = chain_config(chain_id).ok_or(ValidationError::UnknownChain(chain_id))?;

    // The RPC witness to ethrex's `ExecutionWitness`, inside the guest: as ethrex's stateless
    // validator does (`to_ethrex_legacy_witness`), headers are decoded and checked to chain
    // before any reordering, then the tries are embedded from the nodes, each keyed by its own
    // keccak, starting at the parent's state root.
    let headers = decode_witness_headers(&witness.headers)?;
    validate_witness_headers_chain(&headers, crypto.as_ref())?;
    let rpc_witness = RpcExecutionWitness {
        state: witness.state.into_iter().map(Bytes::from).collect(),
        keys: Vec::new(),
        codes: witness.codes.into_iter().map(Bytes::from).collect(),
        headers: witness.headers.into_iter().map(Bytes::from).collect(),
    };
    let execution_witness = rpc_witness.into_execution_witness(
        chain_config,
        block.header.number,
        &headers,
        crypto.as_ref(),
    )?;

    // From here on, `execute_blocks` for a batch of one.
    let state = GuestProgramState::from_witness(execution_witness, crypto.as_ref())?;
    let mut db = GuestProgramStateWrapper::new(state, crypto.clone());
    db.initialize_block_header_hashes(std::slice::from_ref(&block))?;
    if let Some(number) = db.get_first_invalid_block_hash()? {
        return Err(ValidationError::AncestorHash(number));
    }
    let parent_header = db.get_block_parent_header(block.header.number)?;
    let pre_state_root = db.state_trie_root()?;
    if pre_state_root != parent_header.state_root {
        return Err(ValidationError::PreStateRoot {
            computed: pre_state_root,
            expected: parent_header.state_root,
        });
    }

    validate_block_body(&block.header, &block.body, crypto.as_ref())?;
    validate_block_pre_execution(&block, &parent_header, &chain_config, ELASTICITY_MULTIPLIER)?;

    let mut vm = Evm::new_for_l1(db.clone(), crypto.clone());
    let (result, block_access_list) = vm.execute_block(&block)?;
    if crypto.used_unsupported() {
        return Err(ValidationError::UnsupportedPrecompile);
    }
    let account_updates = vm.get_state_transitions()?;
    db.apply_account_updates(&account_updates)?;
    // Computed before the remaining checks so that the public values carry it whenever the
    // block executed, whatever else is wrong with it.
    *post_state_root = db.state_trie_root()?;

    validate_gas_used(result.block_gas_used, &block.header)?;
    validate_receipts_root_and_logs_bloom(&block.header, &result.receipts, crypto.as_ref())?;
    validate_requests_hash(&block.header, &chain_config, &result.requests)?;
    if let Some(block_access_list) = &block_access_list {
        validate_block_access_list_hash(
            &block.header,
            &chain_config,
            block_access_list,
            block.body.transactions.len(),
            crypto.as_ref(),
        )?;
    }
    if *post_state_root != block.header.state_root {
        return Err(ValidationError::PostStateRoot {
            computed: *post_state_root,
            expected: block.header.state_root,
        });
    }
    Ok(())
}
