//! Signed statements, minisign keys and the trust policy: what a zkelf signature binds and who
//! may make it.
//!
//! One home per concept:
//! - [`digest`]: `Sha256Digest`, `ContentDigests`, `ContentHasher`, `hash_file`, `hash_reader`.
//! - [`statement`]: `Statement`, `Kind`, `StatementError` (SPEC §2).
//! - [`keys`]: `PublicKey`, `SecretKey`, `KeyId`, `Password`.
//! - [`signature`]: `Signature`, `sign`.
//! - [`policy`]: `Policy`, `Role`, `TrustedKey`, `PolicyError` (SPEC §3).
//! - [`verify`]: `evaluate`, `Assessment`, `Verified`, `VerifyError`.
//! - [`elf`]: the ELF header check `sign` needs.

pub mod digest;
pub mod keys;
pub mod signature;
pub mod statement;
