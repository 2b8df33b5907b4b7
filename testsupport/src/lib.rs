//! Fixtures shared by zkelf's tests (dev-only): tiny RISC-V ELF executables, helpers that run
//! the `minisign` C tool, the one runner of the `zkelf` binary with its snapshot and
//! nothing-written checks ([`cli`]), and a trust policy builder ([`policy`]). Each engineer adds
//! a module for the real parts their tests drive.

pub mod cli;
pub mod docker;
pub mod elf;
pub mod hostile_git;
pub mod https;
pub mod minisign_tool;
pub mod mount;
pub mod policy;
pub mod registry;
pub mod run;
pub mod stateless;
pub mod toolbox;

// The snapshot macro expands to `insta`'s in the test crate.
pub use insta;
