//! The `Crypto` provider the validator hands ethrex.

use std::sync::atomic::{AtomicBool, Ordering};

use ethrex_crypto::{Crypto, CryptoError};

/// ethrex's portable cryptography: the `Crypto` trait's pure-Rust defaults (k256, p256,
/// ark-bn254, ripemd, sha2, malachite), the same on every zkVM and on the host.
///
/// KZG point evaluation (precompile 0x0a) has no backend here: ethrex's are C (`c-kzg`) or
/// `kzg-rs`, whose curve crate issues SP1 v4's syscalls whenever `target_os = "zkvm"`. Without
/// one, ethrex's default answers the point-evaluation precompile with an error that the
/// EVM treats as a failed call, i.e. it would execute the block *differently* from a client
/// that can evaluate it, and could accept a block a real client rejects. So the call is
/// recorded here and the validator reports such a block invalid. (BLS12-381, EIP-2537, needs no
/// such care: without `blst` ethrex's defaults return `Unsupported`, which LEVM turns into an
/// internal error that aborts execution.)
#[derive(Debug, Default)]
pub struct GuestCrypto {
    unsupported: AtomicBool,
}

impl GuestCrypto {
    /// Whether the block called a precompile this build cannot evaluate.
    pub fn used_unsupported(&self) -> bool {
        self.unsupported.load(Ordering::Relaxed)
    }
}

impl Crypto for GuestCrypto {
    fn verify_kzg_proof(
        &self,
        _z: &[u8; 32],
        _y: &[u8; 32],
        _commitment: &[u8; 48],
        _proof: &[u8; 48],
    ) -> Result<(), CryptoError> {
        self.unsupported.store(true, Ordering::Relaxed);
        Err(CryptoError::Unsupported("KZG point evaluation"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_evaluation_is_recorded_as_unsupported() {
        let crypto = GuestCrypto::default();
        assert!(!crypto.used_unsupported());
        let result = crypto.verify_kzg_proof(&[0; 32], &[0; 32], &[0; 48], &[0; 48]);
        assert!(matches!(result, Err(CryptoError::Unsupported(_))));
        assert!(crypto.used_unsupported());
    }
}
