//! Fixtures shared by zkelf's tests (dev-only): tiny RISC-V ELF executables and helpers that run
//! the `minisign` C tool. Each engineer adds a module for the real parts their tests drive.

pub mod docker;
pub mod elf;
pub mod minisign_tool;
pub mod registry;
