//! Where guest artifacts live (OCI registries, OCI image layouts, https downloads) and the
//! verified pull.

pub mod api;
pub mod artifact;
pub mod attest;
pub mod auth;
pub mod cache;
pub mod digest;
pub mod dirs;
pub mod error;
pub mod fetch;
pub mod fsutil;
pub mod import;
pub mod lockfile;
pub mod progress;
pub mod provenance;
pub mod publish;
pub mod pull;
pub mod reference;
pub mod signature;
pub mod state;
pub mod store;
pub mod verify;

pub use error::{Error, VerificationError};
pub use progress::{NoReporter, Reporter};
pub use pull::vk;
pub use reference::Reference;
/// What every error of the library can say: how it ends (exit 1 or 2) and how to get past it.
pub use zkelf_trust::diagnose::{Diagnose, Outcome};
