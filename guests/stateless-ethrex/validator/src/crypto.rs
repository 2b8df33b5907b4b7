//! The `Crypto` provider the validator hands ethrex.

use std::sync::atomic::{AtomicBool, Ordering};

use ethrex_crypto::Crypto;
#[cfg(not(feature = "kzg-rs"))]
use ethrex_crypto::CryptoError;

/// ethrex's portable cryptography (the `Crypto` trait's pure-Rust defaults: k256, p256,
/// ark-bn254, malachite), with KZG point evaluation only where a pure-Rust backend exists.
///
/// Without one, ethrex's default answers the point-evaluation precompile with an error that the
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
    #[cfg(not(feature = "kzg-rs"))]
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
