//! Fixtures shared by zkelf's tests (dev-only): tiny RISC-V ELF executables, helpers that run
//! the `minisign` C tool, and checks of what a `zkelf` run printed and wrote. Each engineer adds
//! a module for the real parts their tests drive.

pub mod docker;
pub mod elf;
pub mod executors;
pub mod https;
pub mod minisign_tool;
pub mod mount;
pub mod registry;
pub mod run;
