//! Every report the binary prints: plain serde structs (the `--json` schema), each with its
//! human rendering beside it, so the JSON shape and the text read from one place. Commands
//! build these and hand them to the printer; no command reaches into another for output.

pub mod audit;
pub mod build;
pub mod dist;
pub mod run;
#[cfg(test)]
mod schema;
pub mod trust;
pub mod verdict;
