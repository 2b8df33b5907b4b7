//! zkVM profiles (SPEC §8.1): everything a zkVM fixes about how its guests are compiled and
//! linked, as data — the target (built into rustc, or a JSON spec named after its triple), the
//! `-Zbuild-std` set, rustflags, a linker script, environment for build scripts, and a
//! post-link step.
//!
//! [`builtin`] holds the profiles this zkelf knows, each versioned with the zkVM layout it
//! encodes; their data files live in `builder/profiles/`. A build records the whole profile
//! (file contents and their sha256, every flag) in the provenance, and `rebuild` replays the
//! recorded profile, after [`Profile::validate`], rather than this zkelf's built-in one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zkelf_trust::digest::Sha256Digest;

/// The names of the built-in profiles, in the order `--help` and errors list them.
pub const NAMES: &[&str] = &[
    "rv32im", "rv64im", "sp1", "risc0", "openvm", "zisk", "zisk-std",
];

/// One profile: the recipe for a zkVM's guests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    /// Name (`sp1`); also the default zkVM label of an artifact.
    pub name: String,
    /// The zkVM, its version and guest crate, as the profile encodes them.
    pub zkvm: String,
    /// Target triple (what build scripts see as `TARGET`).
    pub target: String,
    /// The JSON target spec, `<target>.json`, when rustc does not know the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_spec: Option<ProfileFile>,
    /// `-Zbuild-std` crates.
    pub build_std: Vec<String>,
    /// `-Zbuild-std-features`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_std_features: Vec<String>,
    /// rustc flags the zkVM needs, one argument each, before zkelf's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rustflags: Vec<String>,
    /// The linker script, passed as `-Clink-arg=-T<path>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linker_script: Option<ProfileFile>,
    /// Environment for build scripts: the C compiler for the target, zkVM feature switches.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// What is done to the linked ELF to make the artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_link: Option<PostLink>,
}

/// A data file of a profile (target spec, linker script), recorded with its contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// File name in the build container's profile directory.
    pub name: String,
    /// sha256 of `content`.
    pub sha256: String,
    /// The file, as text.
    pub content: String,
}

/// A step after the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", deny_unknown_fields)]
pub enum PostLink {
    /// RISC Zero: the artifact is the user ELF wrapped with a kernel ELF into a program binary
    /// (`risc0_binfmt::ProgramBinary::new(user, kernel).encode()`); its VK is the image id.
    #[serde(rename = "risc0-program-binary", rename_all = "camelCase")]
    Risc0ProgramBinary {
        /// The crate, from the guest's `Cargo.lock` and vendored with it, holding the kernel.
        kernel_crate: String,
        /// The kernel ELF's path inside that crate.
        kernel_file: String,
    },
}

/// A recorded profile that zkelf refuses to replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("profile `{name}`: {problem}")]
pub struct InvalidProfile {
    /// The profile's name.
    pub name: String,
    /// What is wrong with it.
    pub problem: ProfileProblem,
}

/// What is wrong with a recorded profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileProblem {
    /// The target is not a plain triple.
    #[error("target `{0}` is not a triple")]
    Target(String),
    /// A data file's name is not a plain file name.
    #[error("`{0}` is not a plain file name")]
    FileName(String),
    /// A data file's content does not hash to its recorded sha256.
    #[error("`{name}` has sha256 `{actual}`, but the profile records `{recorded}`")]
    FileDigest {
        /// The file.
        name: String,
        /// What its content hashes to.
        actual: String,
        /// What the profile records.
        recorded: String,
    },
    /// The target spec is not named after the triple.
    #[error(
        "the target spec `{spec}` must be named `{target}.json`: build scripts read the triple from `TARGET`"
    )]
    SpecName {
        /// The spec's file name.
        spec: String,
        /// The triple.
        target: String,
    },
    /// A build-std crate or feature that is not a plain name.
    #[error("`{0}` is not a crate or feature name")]
    Crate(String),
    /// An environment variable a profile may not set.
    #[error("environment variable `{0}` is not one a profile may set")]
    Env(String),
    /// A post-link kernel that is not a crate and a relative path in it.
    #[error("kernel `{0}` is not a crate and a relative path in it")]
    Kernel(String),
}

impl ProfileFile {
    fn new(name: &str, content: &str) -> Self {
        Self {
            name: name.to_string(),
            sha256: Sha256Digest::of(content.as_bytes()).to_string(),
            content: content.to_string(),
        }
    }
}

impl Profile {
    /// Whether make (C) guests may use this profile: only the bare RISC-V ones.
    pub fn allows_make(&self) -> bool {
        self.target_spec.is_none()
            && self.linker_script.is_none()
            && self.post_link.is_none()
            && self.rustflags.is_empty()
            && self.target.ends_with("-unknown-none-elf")
    }

    /// Checks what a replayed (recorded, so untrusted) profile could get wrong: file names that
    /// are not plain, contents that do not match their sha256, a target spec not named after
    /// its triple, environment names zkelf sets itself.
    pub fn validate(&self) -> Result<(), InvalidProfile> {
        let invalid = |problem| InvalidProfile {
            name: self.name.clone(),
            problem,
        };
        if !is_word(&self.target) {
            return Err(invalid(ProfileProblem::Target(self.target.clone())));
        }
        for file in self.target_spec.iter().chain(&self.linker_script) {
            if !is_word(&file.name) || file.name.contains('/') {
                return Err(invalid(ProfileProblem::FileName(file.name.clone())));
            }
            let actual = Sha256Digest::of(file.content.as_bytes()).to_string();
            if actual != file.sha256 {
                return Err(invalid(ProfileProblem::FileDigest {
                    name: file.name.clone(),
                    actual,
                    recorded: file.sha256.clone(),
                }));
            }
        }
        if let Some(spec) = &self.target_spec
            && spec.name != format!("{}.json", self.target)
        {
            return Err(invalid(ProfileProblem::SpecName {
                spec: spec.name.clone(),
                target: self.target.clone(),
            }));
        }
        for word in self.build_std.iter().chain(&self.build_std_features) {
            if !is_word(word) {
                return Err(invalid(ProfileProblem::Crate(word.clone())));
            }
        }
        for key in self.env.keys() {
            let plain = !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !plain || RESERVED_ENV.iter().any(|prefix| key.starts_with(prefix)) {
                return Err(invalid(ProfileProblem::Env(key.clone())));
            }
        }
        if let Some(PostLink::Risc0ProgramBinary {
            kernel_crate,
            kernel_file,
        }) = &self.post_link
            && (!is_word(kernel_crate)
                || kernel_file.starts_with('/')
                || kernel_file.split('/').any(|part| !is_word(part)))
        {
            return Err(invalid(ProfileProblem::Kernel(format!(
                "{kernel_crate}/{kernel_file}"
            ))));
        }
        Ok(())
    }
}

/// Environment a profile may not set: what steers cargo, rustc or the loader, and what zkelf
/// fixes for every build.
const RESERVED_ENV: &[&str] = &[
    "CARGO",
    "RUST",
    "LD_",
    "PATH",
    "HOME",
    "SOURCE_DATE_EPOCH",
    "TZ",
    "LC_",
    "LANG",
    "HOSTNAME",
];

/// A name safe in a path and on a command line.
fn is_word(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s != "."
        && s != ".."
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// SP1's target, as the JSON spec stock rustc needs (SP1's own toolchain has it built in).
const SP1_TARGET_SPEC: &str = include_str!("../profiles/sp1/riscv64im-succinct-zkvm-elf.json");
/// ZisK's target: stock `riscv64im-unknown-none-elf` with atomic compare-and-swap.
const ZISK_TARGET_SPEC: &str = include_str!("../profiles/zisk/riscv64ima-unknown-none-elf.json");
/// ZisK for std guests: the `zisk` spec on the `zkvm` platform layer (os `zkvm`, vendor
/// `zisk`, single-threaded), whose `sys_*` functions ziskos 1.4 provides.
const ZISK_STD_TARGET_SPEC: &str = include_str!("../profiles/zisk/riscv64ima-zisk-zkvm-elf.json");
/// ZisK 1.4.0-alpha's memory layout (ROM at 0x90000000).
const ZISK_LINKER_SCRIPT: &str = include_str!("../profiles/zisk/zisk-1.4.0-alpha.ld");

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Flags every RISC Zero-layout guest needs (`risc0-build` 3.0 and `openvm-build` 2.0 agree):
/// atomics lowered (single-threaded), text at 0x00200800, a missing entry point an error.
const RISC0_LAYOUT_FLAGS: &[&str] = &[
    "-C",
    "passes=lower-atomic",
    "-C",
    "link-arg=-Ttext=0x00200800",
    "-C",
    "link-arg=--fatal-warnings",
    "-C",
    "panic=abort",
    "--cfg",
    "getrandom_backend=\"custom\"",
];
const STD_BUILD: &[&str] = &["alloc", "core", "proc_macro", "panic_abort", "std"];

/// C compiler settings for crates that build C for the guest (cc-rs reads `CC_<target>`):
/// the builder image's RISC-V gcc with the guest's ISA and ABI.
fn c_env(target: &str, march: &str, mabi: &str) -> BTreeMap<String, String> {
    let key = target.replace('-', "_");
    BTreeMap::from([
        (format!("CC_{key}"), "riscv64-unknown-elf-gcc".to_string()),
        (format!("AR_{key}"), "riscv64-unknown-elf-ar".to_string()),
        (
            format!("CFLAGS_{key}"),
            format!("-march={march} -mabi={mabi} -mcmodel=medany -nostdlib"),
        ),
    ])
}

/// The built-in profile called `name`.
pub fn builtin(name: &str) -> Option<Profile> {
    let bare = |name: &str, target: &str| Profile {
        name: name.into(),
        zkvm: "bare RISC-V (Linux syscalls; runs under qemu-user)".into(),
        target: target.into(),
        target_spec: None,
        build_std: strings(&["core", "alloc"]),
        build_std_features: strings(&["compiler-builtins-mem"]),
        rustflags: Vec::new(),
        linker_script: None,
        env: BTreeMap::new(),
        post_link: None,
    };
    let risc0_layout = |name: &str, zkvm: &str| Profile {
        name: name.into(),
        zkvm: zkvm.into(),
        target: "riscv32im-risc0-zkvm-elf".into(),
        target_spec: None,
        build_std: strings(STD_BUILD),
        build_std_features: strings(&["compiler-builtins-mem"]),
        rustflags: strings(RISC0_LAYOUT_FLAGS),
        linker_script: None,
        env: c_env("riscv32im-risc0-zkvm-elf", "rv32im", "ilp32"),
        post_link: None,
    };
    Some(match name {
        "rv32im" => bare(name, "riscv32im-unknown-none-elf"),
        "rv64im" => bare(name, "riscv64im-unknown-none-elf"),
        "sp1" => Profile {
            name: name.into(),
            zkvm: "SP1 v6, RV64IM (sp1-zkvm 6.10; flags of sp1-build 6.10)".into(),
            target: "riscv64im-succinct-zkvm-elf".into(),
            target_spec: Some(ProfileFile::new(
                "riscv64im-succinct-zkvm-elf.json",
                SP1_TARGET_SPEC,
            )),
            build_std: strings(&["core", "alloc", "std", "panic_abort"]),
            build_std_features: strings(&["compiler-builtins-mem"]),
            rustflags: strings(&[
                "-C",
                "passes=lower-atomic",
                "-C",
                "link-arg=--image-base=0x78000000",
                "-C",
                "panic=abort",
                "--cfg",
                "getrandom_backend=\"custom\"",
                "-C",
                "llvm-args=-misched-prera-direction=bottomup",
                "-C",
                "llvm-args=-misched-postra-direction=bottomup",
            ]),
            linker_script: None,
            env: c_env("riscv64im-succinct-zkvm-elf", "rv64im", "lp64"),
            post_link: None,
        },
        "risc0" => {
            let mut profile = risc0_layout(
                name,
                "RISC Zero 3.0, RV32IM (risc0-zkvm 3.0; flags of risc0-build 3.0)",
            );
            // risc0-build tells cryptography patches that the bigint2 accelerator exists.
            profile
                .env
                .insert("RISC0_FEATURE_bigint2".into(), String::new());
            profile.post_link = Some(PostLink::Risc0ProgramBinary {
                kernel_crate: "risc0-zkos-v1compat".into(),
                kernel_file: "elfs/v1compat.elf".into(),
            });
            profile
        }
        "openvm" => risc0_layout(
            name,
            "OpenVM 2.0, RV32IM (openvm 2.0; flags of openvm-build 2.0)",
        ),
        "zisk-std" => {
            let mut profile = builtin("zisk")?;
            profile.name = name.into();
            profile.zkvm = "ZisK 1.4.0-alpha, RV64IMA, std (ziskos 1.4.0-alpha; the guest provides `sys_panic`)".into();
            profile.target = "riscv64ima-zisk-zkvm-elf".into();
            profile.target_spec = Some(ProfileFile::new(
                "riscv64ima-zisk-zkvm-elf.json",
                ZISK_STD_TARGET_SPEC,
            ));
            // ziskos provides the memory functions: no `compiler-builtins-mem`.
            profile.build_std = strings(&["core", "alloc", "std", "panic_abort"]);
            profile.env = c_env("riscv64ima-zisk-zkvm-elf", "rv64ima", "lp64");
            profile
        }
        "zisk" => Profile {
            name: name.into(),
            zkvm: "ZisK 1.4.0-alpha, RV64IMA (ziskos 1.4.0-alpha, no_std)".into(),
            target: "riscv64ima-unknown-none-elf".into(),
            target_spec: Some(ProfileFile::new(
                "riscv64ima-unknown-none-elf.json",
                ZISK_TARGET_SPEC,
            )),
            build_std: strings(&["core", "alloc"]),
            build_std_features: Vec::new(),
            rustflags: strings(&[
                "-C",
                "passes=lower-atomic",
                "-C",
                "panic=abort",
                "--cfg",
                "getrandom_backend=\"custom\"",
            ]),
            linker_script: Some(ProfileFile::new("zisk-1.4.0-alpha.ld", ZISK_LINKER_SCRIPT)),
            env: c_env("riscv64ima-unknown-none-elf", "rv64ima", "lp64"),
            post_link: None,
        },
        _ => return None,
    })
}

/// The zkVM guest crate a built-in profile encodes the layout of, and the versions of it the
/// profile describes (the layout, flags and linker script follow the zkVM's version). A guest
/// locking another version would be compiled for a zkVM it does not run in. For SP1, OpenVM
/// and ZisK the version is exactly the one zkelf's toolbox (`toolbox/<zkvm>`) derives VKs
/// with: a key is never guessed for another. RISC Zero's image id comes from the guest's own
/// locked kernel (the post-link step), for any 3.0 release.
pub fn guest_crate(profile: &str) -> Option<(&'static str, &'static str)> {
    Some(match profile {
        "sp1" => ("sp1-zkvm", "=6.10.0"),
        "risc0" => ("risc0-zkvm", ">=3.0.0, <3.1.0"),
        "openvm" => ("openvm", "=2.0.2"),
        "zisk" | "zisk-std" => ("ziskos", "=1.4.0-alpha"),
        _ => return None,
    })
}

/// ZisK's hash modes (`zisk-common` 1.4.0-alpha `HashMode`): the proving key's family, which
/// a ZisK VK (the ROM Merkle root) depends on. The first is ZisK 1.4's default.
pub const ZISK_HASH_MODES: &[&str] = &["blake3", "poseidon2", "poseidon1"];

/// Whether `profile` builds ZisK guests (whose VK takes a hash mode).
pub fn is_zisk(profile: &str) -> bool {
    matches!(profile, "zisk" | "zisk-std")
}

/// The built-in profiles, comma-separated with backticks, for messages.
pub fn known() -> String {
    NAMES
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_profile_is_valid_and_named() {
        for name in NAMES {
            let profile = builtin(name).unwrap();
            assert_eq!(profile.name, *name);
            profile.validate().unwrap();
            let json = serde_json::to_string(&profile).unwrap();
            assert_eq!(serde_json::from_str::<Profile>(&json).unwrap(), profile);
        }
        assert!(builtin("jolt").is_none());
        assert!(builtin("rv32im").unwrap().allows_make());
        assert!(!builtin("sp1").unwrap().allows_make());
        assert!(!builtin("risc0").unwrap().allows_make());
    }

    #[test]
    fn target_specs_are_named_after_their_triple_and_parse() {
        for name in ["sp1", "zisk"] {
            let profile = builtin(name).unwrap();
            let spec = profile.target_spec.as_ref().unwrap();
            assert_eq!(spec.name, format!("{}.json", profile.target));
            let json: serde_json::Value = serde_json::from_str(&spec.content).unwrap();
            assert_eq!(json["atomic-cas"], true, "{name}");
            assert_eq!(json["arch"], "riscv64", "{name}");
        }
        let sp1: serde_json::Value =
            serde_json::from_str(&builtin("sp1").unwrap().target_spec.unwrap().content).unwrap();
        assert_eq!(
            (&sp1["os"], &sp1["vendor"]),
            (&"zkvm".into(), &"succinct".into())
        );
    }

    #[test]
    fn the_zisk_script_encodes_the_1_4_layout() {
        let script = builtin("zisk").unwrap().linker_script.unwrap().content;
        for needle in [
            "ORIGIN = 0x90000000, LENGTH = 0x07E00000",
            "ORIGIN = 0xa0000000, LENGTH = 0x20000000",
            "_stack_size = 0x400000;",
            "_float_ram_data_size = 0x40000;",
        ] {
            assert!(script.contains(needle), "{needle} missing");
        }
    }

    #[test]
    fn replayed_profiles_are_checked() {
        let good = builtin("zisk").unwrap();
        let refuse = |edit: &dyn Fn(&mut Profile), needle: &str| {
            let mut p = good.clone();
            edit(&mut p);
            let err = p.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        };
        refuse(
            &|p| p.linker_script.as_mut().unwrap().content.push(' '),
            "but the profile records",
        );
        refuse(
            &|p| p.linker_script.as_mut().unwrap().name = "../x.ld".into(),
            "is not a plain file name",
        );
        refuse(
            &|p| {
                let spec = p.target_spec.as_mut().unwrap();
                spec.name = "other.json".into();
            },
            "must be named `riscv64ima-unknown-none-elf.json`",
        );
        refuse(
            &|p| {
                p.env.insert("RUSTC_WRAPPER".into(), "/tmp/evil".into());
            },
            "environment variable `RUSTC_WRAPPER`",
        );
        refuse(&|p| p.target = "--print=x".into(), "is not a triple");
        refuse(
            &|p| {
                p.post_link = Some(PostLink::Risc0ProgramBinary {
                    kernel_crate: "k".into(),
                    kernel_file: "../../etc/passwd".into(),
                })
            },
            "is not a crate and a relative path",
        );
    }
}
