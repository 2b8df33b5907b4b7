//! The chain configurations the guest knows.
//!
//! The public values name the chain by its id alone, so the rules a block is validated under
//! must follow from that id and from the guest's own (signed, reproducible) bytes: a fork
//! schedule taken from the input would let whoever builds the input choose the rules.

use ethrex_common::types::{BlobSchedule, ChainConfig, ForkBlobSchedule};
use ethrex_common::H160;

/// Hoodi's chain id.
pub const HOODI_CHAIN_ID: u64 = 560_048;

/// The built-in configuration of chain `chain_id`, or `None` for a chain the guest does not know.
pub fn chain_config(chain_id: u64) -> Option<ChainConfig> {
    match chain_id {
        HOODI_CHAIN_ID => Some(hoodi()),
        _ => None,
    }
}

/// Hoodi, from its genesis file (`config` of eth-clients/hoodi `genesis.json`, as ethrex ships it
/// in `cmd/ethrex/networks/hoodi/genesis.json`): every fork through Cancun at genesis, then
/// Prague, Osaka and the two blob-parameter-only forks by timestamp.
fn hoodi() -> ChainConfig {
    let blob = |target, max, base_fee_update_fraction| ForkBlobSchedule {
        target,
        max,
        base_fee_update_fraction,
    };
    ChainConfig {
        chain_id: HOODI_CHAIN_ID,
        homestead_block: Some(0),
        dao_fork_block: None,
        dao_fork_support: false,
        eip150_block: Some(0),
        eip155_block: Some(0),
        eip158_block: Some(0),
        byzantium_block: Some(0),
        constantinople_block: Some(0),
        petersburg_block: Some(0),
        istanbul_block: Some(0),
        muir_glacier_block: None,
        berlin_block: Some(0),
        london_block: Some(0),
        arrow_glacier_block: None,
        gray_glacier_block: None,
        merge_netsplit_block: Some(0),
        shanghai_time: Some(0),
        cancun_time: Some(0),
        prague_time: Some(1_742_999_832),
        verkle_time: None,
        osaka_time: Some(1_761_677_592),
        bpo1_time: Some(1_762_365_720),
        bpo2_time: Some(1_762_955_544),
        bpo3_time: None,
        bpo4_time: None,
        bpo5_time: None,
        // Not scheduled on Hoodi by any client release yet.
        amsterdam_time: None,
        hegota_time: None,
        lstar_time: None,
        terminal_total_difficulty: Some(0),
        terminal_total_difficulty_passed: true,
        blob_schedule: BlobSchedule {
            cancun: blob(3, 6, 3_338_477),
            prague: blob(6, 9, 5_007_716),
            osaka: blob(6, 9, 5_007_716),
            bpo1: blob(10, 15, 8_346_193),
            bpo2: blob(14, 21, 11_684_671),
            bpo3: None,
            bpo4: None,
            bpo5: None,
            amsterdam: None,
        },
        // 0x00000000219ab540356cBB839Cbe05303d7705Fa, the beacon deposit contract.
        deposit_contract_address: H160([
            0x00, 0x00, 0x00, 0x00, 0x21, 0x9a, 0xb5, 0x40, 0x35, 0x6c, 0xbb, 0x83, 0x9c, 0xbe,
            0x05, 0x30, 0x3d, 0x77, 0x05, 0xfa,
        ]),
        enable_verkle_at_genesis: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hoodi_is_known_and_prague_before_osaka() {
        let hoodi = chain_config(HOODI_CHAIN_ID).expect("hoodi");
        assert_eq!(hoodi.chain_id, HOODI_CHAIN_ID);
        // Block 1265656 (timestamp 1758544428) is a Prague block.
        assert!(hoodi.is_prague_activated(1_758_544_428));
        assert!(!hoodi.is_osaka_activated(1_758_544_428));
        assert!(chain_config(1).is_none());
    }
}
