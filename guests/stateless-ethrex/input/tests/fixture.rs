//! The Hoodi 1265656 fixture, converted with the input crate and validated natively: valid as
//! given, and invalid (with the other public values still filled in) after each tampering.

use std::path::PathBuf;
use std::time::Instant;

use ethrex_common::types::AccountState;
use ethrex_common::H256;
use ethrex_rlp::decode::RLPDecode;
use ethrex_trie::Node;
use serde_json::Value;
use stateless_validator::{validate, validate_input, Outcome, PublicValues, ValidationError};

/// Overrides where the fixture is read from.
const FIXTURE_ENV: &str = "ZKELF_STATELESS_FIXTURE";
/// The fixture relative to this crate: `<checkout>/../shared/fixtures/stateless/`.
const FIXTURE_REL: &str = "../../../../shared/fixtures/stateless/hoodi-1265656.json";

const CHAIN_ID: u64 = 560_048;
const NUMBER: u64 = 1_265_656;
const BLOCK_HASH: &str = "ac77c202b2b33da757f785a4c240333c7d148bc2558f19c483e42fe3ca1ce6db";
const PARENT_HASH: &str = "5ec43aa09c9145c93f7bc57a0d4e19e6eacdfe1b4b053e48825f9c88e120c62b";
const PARENT_STATE_ROOT: &str = "4bec425c34f89aeb56c78586d586c76044bcc428e7c34ab7c72d389c39ff3eaf";
const POST_STATE_ROOT: &str = "f7c1acf1facc79a7c560efa36f1158a0b643ed14519aaa06f56949ad60d6b03f";
const GAS_USED: u64 = 4_402_947;

fn h256(hex: &str) -> H256 {
    H256::from_slice(&decode_hex(hex))
}

fn decode_hex(hex: &str) -> Vec<u8> {
    let hex = hex.strip_prefix("0x").unwrap_or(hex);
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn fixture() -> Value {
    let path = std::env::var_os(FIXTURE_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(FIXTURE_REL));
    let bytes = std::fs::read(&path).unwrap_or_else(|err| {
        panic!(
            "the stateless fixture `{}` is missing ({err}); it lives in the steering repo's \
             shared/fixtures/stateless/, or set {FIXTURE_ENV} to its path",
            path.display()
        )
    });
    serde_json::from_slice(&bytes).expect("the fixture is JSON")
}

/// Converts a (possibly tampered) cache and validates it, through the input bytes as a guest
/// would see them.
fn run(cache: &Value) -> Outcome {
    let json = serde_json::to_vec(cache).expect("serialize");
    let input = stateless_input::convert(&json).expect("the cache converts");
    let bytes = input.encode();
    let decoded = stateless_validator::StatelessInput::decode(&bytes).expect("round trip");
    let outcome = validate_input(decoded);
    // `validate` is what the guests call; it must agree with the outcome.
    assert_eq!(validate(&bytes), outcome.public_values.to_bytes());
    outcome
}

/// The fields every tampered copy still reports: chain id, number and the parent's state root.
fn assert_identity(values: &PublicValues) {
    assert_eq!(values.chain_id, CHAIN_ID);
    assert_eq!(values.block_number, NUMBER);
    assert_eq!(values.parent_state_root, h256(PARENT_STATE_ROOT));
}

fn header(cache: &mut Value) -> &mut Value {
    &mut cache["blocks"][0]["header"]
}

fn set_hex(slot: &mut Value, value: String) {
    assert!(
        slot.is_string(),
        "tampering a field that is not there: {slot}"
    );
    *slot = Value::String(value);
}

#[test]
fn the_fixture_block_is_valid() {
    let cache = fixture();
    let input = stateless_input::convert(&serde_json::to_vec(&cache).unwrap()).unwrap();
    assert_eq!(input.block.header.gas_used, GAS_USED);
    assert_eq!(input.block.header.parent_hash, h256(PARENT_HASH));
    let bytes = input.encode();

    let start = Instant::now();
    let outcome = validate_input(stateless_validator::StatelessInput::decode(&bytes).unwrap());
    let elapsed = start.elapsed();
    eprintln!(
        "native validation of block {NUMBER}: {:.3} s (input {} bytes)",
        elapsed.as_secs_f64(),
        bytes.len()
    );

    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let values = outcome.public_values;
    assert_eq!(
        values,
        PublicValues {
            valid: true,
            chain_id: CHAIN_ID,
            block_number: NUMBER,
            block_hash: h256(BLOCK_HASH),
            parent_state_root: h256(PARENT_STATE_ROOT),
            post_state_root: h256(POST_STATE_ROOT),
        }
    );
    let encoded = validate(&bytes);
    assert_eq!(encoded.len(), 113);
    assert_eq!(encoded[0], 1);
    assert_eq!(PublicValues::from_bytes(&encoded), Some(values));
}

#[test]
fn a_wrong_gas_used_is_invalid_after_execution() {
    let mut cache = fixture();
    set_hex(
        &mut header(&mut cache)["gasUsed"],
        format!("{:#x}", GAS_USED + 1),
    );
    let outcome = run(&cache);
    let values = outcome.public_values;
    assert!(!values.valid);
    assert_identity(&values);
    // The hash of the header as given, i.e. of the tampered one.
    assert_ne!(values.block_hash, h256(BLOCK_HASH));
    // The block executed: the computed root is the real post-state.
    assert_eq!(values.post_state_root, h256(POST_STATE_ROOT));
    assert!(
        matches!(outcome.error, Some(ValidationError::Block(_))),
        "{:?}",
        outcome.error
    );
}

#[test]
fn a_wrong_state_root_is_invalid_with_the_computed_root() {
    let mut cache = fixture();
    let wrong = format!("0x{}", "11".repeat(32));
    set_hex(&mut header(&mut cache)["stateRoot"], wrong.clone());
    let outcome = run(&cache);
    let values = outcome.public_values;
    assert!(!values.valid);
    assert_identity(&values);
    assert_ne!(values.block_hash, h256(BLOCK_HASH));
    assert_eq!(values.post_state_root, h256(POST_STATE_ROOT));
    match outcome.error {
        Some(ValidationError::PostStateRoot { computed, expected }) => {
            assert_eq!(computed, h256(POST_STATE_ROOT));
            assert_eq!(expected, h256(&wrong));
        }
        other => panic!("expected a post-state root mismatch, got {other:?}"),
    }
}

/// A body that no longer matches the header is rejected before execution: no post-state root.
fn assert_rejected_body(outcome: Outcome) {
    let values = outcome.public_values;
    assert!(!values.valid);
    assert_identity(&values);
    // The header is untouched, so its hash is the real block's.
    assert_eq!(values.block_hash, h256(BLOCK_HASH));
    assert_eq!(values.post_state_root, H256::zero());
    assert!(
        matches!(outcome.error, Some(ValidationError::Body(_))),
        "{:?}",
        outcome.error
    );
}

#[test]
fn a_changed_transaction_value_is_invalid() {
    let mut cache = fixture();
    let tx = &mut cache["blocks"][0]["body"]["transactions"][0];
    assert_eq!(tx["value"], "0x0");
    set_hex(&mut tx["value"], "0x1".to_string());
    assert_rejected_body(run(&cache));
}

#[test]
fn a_changed_signature_byte_is_invalid() {
    let mut cache = fixture();
    let tx = &mut cache["blocks"][0]["body"]["transactions"][1];
    let mut s = decode_hex(tx["s"].as_str().unwrap());
    let last = s.len() - 1;
    s[last] ^= 0x01;
    let s: String = s.iter().map(|b| format!("{b:02x}")).collect();
    set_hex(&mut tx["s"], format!("0x{s}"));
    assert_rejected_body(run(&cache));
}

#[test]
fn a_changed_withdrawal_amount_is_invalid() {
    let mut cache = fixture();
    let withdrawal = &mut cache["blocks"][0]["body"]["withdrawals"][0];
    set_hex(&mut withdrawal["amount"], "0x1".to_string());
    assert_rejected_body(run(&cache));
}

fn keccak(bytes: &[u8]) -> H256 {
    H256(ethrex_crypto::keccak::keccak_hash(bytes))
}

/// Removes the witness node whose keccak is `hash`; panics when there is none.
fn remove_node(cache: &mut Value, hash: H256) {
    let state = cache["witness"]["state"].as_array_mut().unwrap();
    let before = state.len();
    state.retain(|node| keccak(&decode_hex(node.as_str().unwrap())) != hash);
    assert_eq!(
        state.len(),
        before - 1,
        "no witness node hashes to {hash:#x}"
    );
}

#[test]
fn a_witness_without_the_state_root_node_is_invalid() {
    let mut cache = fixture();
    remove_node(&mut cache, h256(PARENT_STATE_ROOT));
    // It still converts: the converter does no trie work.
    let outcome = run(&cache);
    let values = outcome.public_values;
    assert!(!values.valid);
    assert_identity(&values);
    assert_eq!(values.block_hash, h256(BLOCK_HASH));
    assert_eq!(values.post_state_root, H256::zero());
    assert!(
        matches!(outcome.error, Some(ValidationError::Witness(_))),
        "{:?}",
        outcome.error
    );
}

/// Storage root, at the parent state, of the EIP-4788 beacon roots contract
/// (0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02), whose storage every block's system call
/// writes after reading it.
const BEACON_ROOTS_STORAGE_ROOT: &str =
    "f35c7b3668ce661140698aa822da30a56e2bb229a4bc563d1dd57d98f4100f8c";

#[test]
fn a_witness_without_a_storage_root_node_is_invalid() {
    let mut cache = fixture();
    // The node is there, and it is an account's storage root.
    let root = h256(BEACON_ROOTS_STORAGE_ROOT);
    let storage_roots: Vec<H256> = cache["witness"]["state"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(
            |node| match Node::decode(&decode_hex(node.as_str().unwrap())) {
                Ok(Node::Leaf(leaf)) => AccountState::decode(&leaf.value).ok(),
                _ => None,
            },
        )
        .map(|account| account.storage_root)
        .collect();
    assert!(storage_roots.contains(&root));
    remove_node(&mut cache, root);

    let outcome = run(&cache);
    let values = outcome.public_values;
    assert!(!values.valid);
    assert_identity(&values);
    assert_eq!(values.block_hash, h256(BLOCK_HASH));
    // Execution stops at the first read of that storage: nothing was computed.
    assert_eq!(values.post_state_root, H256::zero());
    assert!(
        matches!(outcome.error, Some(ValidationError::Execution(_))),
        "{:?}",
        outcome.error
    );
}

#[test]
fn a_chain_the_guest_does_not_know_is_invalid() {
    let mut cache = fixture();
    cache["network"] = serde_json::json!({"PublicNetwork": "Sepolia"});
    let outcome = run(&cache);
    let values = outcome.public_values;
    assert!(!values.valid);
    assert_eq!(values.chain_id, 11_155_111);
    assert_eq!(values.block_number, NUMBER);
    assert_eq!(values.block_hash, h256(BLOCK_HASH));
    assert_eq!(values.parent_state_root, h256(PARENT_STATE_ROOT));
    assert_eq!(values.post_state_root, H256::zero());
    assert!(
        matches!(
            outcome.error,
            Some(ValidationError::UnknownChain(11_155_111))
        ),
        "{:?}",
        outcome.error
    );
}

#[test]
fn bytes_that_are_no_input_do_not_decode() {
    assert!(stateless_validator::StatelessInput::decode(b"not an input").is_err());
    assert!(stateless_validator::StatelessInput::decode(&[]).is_err());
}

#[test]
fn malformed_caches_do_not_convert() {
    assert!(matches!(
        stateless_input::convert(b"{\"blocks\": "),
        Err(stateless_input::ConvertError::Json(_))
    ));
    let mut cache = fixture();
    let block = cache["blocks"][0].clone();
    cache["blocks"].as_array_mut().unwrap().push(block);
    assert!(matches!(
        stateless_input::convert(&serde_json::to_vec(&cache).unwrap()),
        Err(stateless_input::ConvertError::BlockCount(2))
    ));
    let mut cache = fixture();
    cache["network"] = serde_json::json!("LocalDevnet");
    assert!(matches!(
        stateless_input::convert(&serde_json::to_vec(&cache).unwrap()),
        Err(stateless_input::ConvertError::UnknownNetwork(_))
    ));
}
