//! The OCI digest, `sha256:<64 lowercase hex>`: its home is `zkelf_trust::digest`, beside the
//! bare SHA-256 a statement signs, so the builder and the registry share one type.

pub use zkelf_trust::digest::{OciDigest, OciDigestError};
