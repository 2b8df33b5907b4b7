//! Conversion of an ethrex-replay cache (JSON) into the `stateless-ethrex` guest's input bytes.
//!
//! The cache is ethrex-replay's `Cache` (`src/cache.rs` there): `{"blocks": [...], "witness":
//! {state, keys, codes, headers}, "network": {"PublicNetwork": "Hoodi"}}`, optionally with a
//! chain configuration flattened into the top level (custom and L2 chains). Its blocks and
//! witness are ethrex's own serde of `Block` and `RpcExecutionWitness`, read here with the same
//! ethrex types the guest uses.
//!
//! The conversion checks nothing about the block: it hashes nothing and walks no trie, so a
//! witness that lacks nodes (even the state root's) converts, and the guest finds the gap.

use ethrex_common::types::block_execution_witness::RpcExecutionWitness;
use ethrex_common::types::Block;
use serde::Deserialize;
use stateless_validator::{StatelessInput, Witness};

/// Why a cache does not convert.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// Not JSON, or not the shape of an ethrex-replay cache.
    #[error("not an ethrex-replay cache")]
    Json(#[source] serde_json::Error),
    /// The guest validates exactly one block.
    #[error("the cache holds {0} blocks; the guest validates exactly one")]
    BlockCount(usize),
    /// Neither a public network nor a flattened chain configuration names the chain id.
    #[error("the cache's network `{0}` has no known chain id and the cache carries no `chainId`")]
    UnknownNetwork(String),
}

/// The part of ethrex-replay's `Cache` the guest needs.
#[derive(Deserialize)]
struct Cache {
    blocks: Vec<Block>,
    witness: RpcExecutionWitness,
    network: serde_json::Value,
    /// Present when a whole `ChainConfig` is flattened into the cache (custom and L2 chains).
    #[serde(rename = "chainId")]
    chain_id: Option<u64>,
}

/// Chain ids of ethrex-config's `PublicNetwork`s, as the cache names them.
const PUBLIC_NETWORKS: [(&str, u64); 4] = [
    ("Mainnet", 1),
    ("Holesky", 17_000),
    ("Sepolia", 11_155_111),
    ("Hoodi", 560_048),
];

/// Reads a cache and builds the guest's input.
pub fn convert(cache_json: &[u8]) -> Result<StatelessInput, ConvertError> {
    let cache: Cache = serde_json::from_slice(cache_json).map_err(ConvertError::Json)?;
    let chain_id = match cache.chain_id {
        Some(chain_id) => chain_id,
        None => public_network_chain_id(&cache.network)
            .ok_or_else(|| ConvertError::UnknownNetwork(cache.network.to_string()))?,
    };
    let count = cache.blocks.len();
    let Ok([block]) = <[Block; 1]>::try_from(cache.blocks) else {
        return Err(ConvertError::BlockCount(count));
    };
    let bytes = |items: Vec<ethrex_common::Bytes>| items.into_iter().map(|b| b.to_vec()).collect();
    Ok(StatelessInput {
        chain_id,
        block,
        witness: Witness {
            state: bytes(cache.witness.state),
            codes: bytes(cache.witness.codes),
            headers: bytes(cache.witness.headers),
        },
    })
}

/// `{"PublicNetwork": "<name>"}`, ethrex-config's serde of `Network::PublicNetwork`.
fn public_network_chain_id(network: &serde_json::Value) -> Option<u64> {
    let name = network.get("PublicNetwork")?.as_str()?;
    PUBLIC_NETWORKS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, chain_id)| *chain_id)
}
