//! Hermetic Docker builds of zkVM guest ELFs, their provenance, reproducibility checks and ELF diffs.
