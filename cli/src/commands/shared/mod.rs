//! What the commands share, each in one place: keys and passwords ([`keys`]), the trust
//! policy and the one rule that finds it ([`policy`]), pins and versions ([`pins`]), files
//! written atomically ([`files`]), `SOURCE_DATE_EPOCH` ([`epoch`]), the state, cache and config
//! directories ([`dirs`]), registry access ([`network`]), progress ([`reporters`]), a published
//! artifact fetched for `rebuild` and `attest` ([`published`]), a verified pull for `pull` and
//! `run` ([`pulled`]), a zkVM's toolbox for a guest zkelf did not build ([`toolbox`]) and the
//! Docker engine ([`engine`]). Commands import from here, never from each other.

pub(crate) mod dirs;
pub(crate) mod epoch;
pub(crate) mod files;
pub(crate) mod keys;
pub(crate) mod network;
pub(crate) mod pins;
pub(crate) mod policy;
pub(crate) mod published;
pub(crate) mod pulled;
pub(crate) mod reporters;
pub(crate) mod toolbox;

use zkelf_builder::{BuilderError, Engine};

use crate::env::EnvVars;

/// Connects to the engine named by `DOCKER_HOST` (or the default socket).
pub(crate) async fn engine() -> Result<Engine, BuilderError> {
    let host = std::env::var(EnvVars::DOCKER_HOST).ok();
    Engine::connect(host.as_deref()).await
}
