//! What runs in the fetch and build containers: mounts, environment, flags, command.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::docker::ContainerSpec;
use crate::image::BuilderImage;
use crate::manifest::{Artifact, BuildKind, Manifest};
use crate::profile::Profile;
use crate::provenance::SourceParameters;
use crate::source::Source;

use super::fetch::lock::GitSource;

mod sysroot;

/// Where the repository is mounted in the build container, whatever its host path.
pub const BUILD_PATH: &str = "/build/src";
pub(crate) const VENDOR_PATH: &str = "/build/vendor";
const TARGET_PATH: &str = "/build/target";
const OUT_PATH: &str = "/build/out";
const CARGO_HOME: &str = "/build/cargo-home";
const HOME: &str = "/build/home";
/// Where a profile's target spec and linker script are mounted.
const PROFILE_PATH: &str = "/build/profile";
/// Where the git sources (the fetch step's) are mounted read-only, one directory per source.
const GIT_PATH: &str = "/build/git";
/// Where the sysroot (the `-Zbuild-std` output, the sysroot step) is mounted read-only for
/// the guest's build.
const SYSROOT_PATH: &str = "/build/sysroot";
/// Where the sysroot step's dummy crate is mounted read-only.
const SYSROOT_CRATE_PATH: &str = "/build/sysroot-crate";
/// The sysroot step's dummy package (its own rlib is not part of the sysroot).
const SYSROOT_PACKAGE: &str = "zkelf-sysroot";
/// The sysroot library `-Zbuild-std` compiles, as cargo and the real path spell it.
const SYSROOT_SRC: &str = "/usr/lib/rustlib/src/rust";
pub(crate) const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The conditions of one build container; the second build of `--check-reproducible` varies
/// every one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variation {
    /// `uid:gid`.
    pub user: String,
    /// Container hostname (Docker also exports it as `HOSTNAME`).
    pub hostname: String,
    /// umask, octal.
    pub umask: String,
    /// `TZ`.
    pub tz: String,
    /// `LC_ALL` and `LANG`.
    pub locale: String,
    /// Extra environment variables.
    pub extra_env: Vec<(String, String)>,
    /// CPUs the container may use (`None`: all).
    pub cpuset: Option<String>,
}

impl Variation {
    /// The conditions every recorded build uses.
    pub fn standard() -> Self {
        Self {
            user: "1000:1000".into(),
            hostname: "zkelf-builder".into(),
            umask: "022".into(),
            tz: "UTC".into(),
            locale: "C.UTF-8".into(),
            extra_env: Vec::new(),
            cpuset: None,
        }
    }

    /// Different uid, hostname, umask, timezone, locale, environment and CPU count.
    pub fn varied() -> Self {
        let noise = noise();
        Self {
            user: "2345:2345".into(),
            hostname: format!("repro-{noise}"),
            umask: "002".into(),
            // POSIX form: UTC+14, valid without tzdata.
            tz: "XYZ-14".into(),
            locale: "C".into(),
            extra_env: vec![
                ("ZKELF_REPRO_NOISE".into(), noise),
                ("LANGUAGE".into(), "fr_FR".into()),
                ("USER".into(), "reprotest".into()),
            ],
            cpuset: Some("0".into()),
        }
    }
}

/// A few hex digits that differ between runs.
fn noise() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let mut digits =
        zkelf_trust::digest::Sha256Digest::of(format!("{nanos}-{}", std::process::id()).as_bytes())
            .to_string();
    digits.truncate(10);
    digits
}

/// One artifact's build, independent of the variation.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub guest: String,
    pub version: String,
    pub zkvm: String,
    pub target: String,
    pub kind: BuildKind,
    pub package: Option<String>,
    pub bin: String,
    pub features: Vec<String>,
    pub build_std: Vec<String>,
    /// The zkVM profile: target spec, flags, linker script, environment, post-link step.
    pub profile: Profile,
    pub sde: u64,
    pub source: SourceParameters,
    pub image_id: String,
    /// rustc's commit hash: sysroot paths are remapped to `/rustc/<hash>` as upstream does.
    pub rustc_commit: String,
    /// rustc's release (`1.96.0`): Debian's sysroot source is `/usr/src/rustc-<release>`.
    pub rustc_release: String,
    /// The git sources of the guest's lock file: source `i` is served from `/build/git/<i>`.
    pub git: Vec<GitSource>,
    /// ZisK's hash mode for the VK step (the artifact's `hash-mode`); none: the toolbox's
    /// default. No build input: the ELF's bytes do not depend on it.
    pub zisk_hash_mode: Option<String>,
}

impl Plan {
    /// The plan for `artifact` built with `profile` (its built-in profile, or for a rebuild
    /// the recorded one).
    pub fn new(
        manifest: &Manifest,
        artifact: &Artifact,
        profile: Profile,
        source: &Source,
        sde: u64,
        image: &BuilderImage,
        git: &[GitSource],
    ) -> Self {
        let rustc_commit = image
            .toolchain
            .rustc
            .lines()
            .find_map(|l| l.strip_prefix("commit-hash: "))
            .unwrap_or("unknown")
            .to_string();
        let rustc_release = image
            .toolchain
            .rustc
            .lines()
            .find_map(|l| l.strip_prefix("release: "))
            .unwrap_or("unknown")
            .to_string();
        Self {
            guest: manifest.name.clone(),
            version: manifest.version.clone(),
            zkvm: artifact.zkvm.clone(),
            target: artifact.target.clone(),
            kind: manifest.build,
            package: (manifest.build == BuildKind::Cargo).then(|| manifest.package().to_string()),
            bin: manifest.bin(artifact).to_string(),
            features: manifest.features.clone(),
            build_std: match manifest.build {
                BuildKind::Cargo => manifest.build_std(&profile),
                BuildKind::Make => Vec::new(),
            },
            profile,
            sde,
            source: super::source_parameters(source),
            image_id: image.id.to_string(),
            rustc_commit,
            rustc_release,
            git: git.to_vec(),
            zisk_hash_mode: artifact.hash_mode.clone(),
        }
    }

    pub(crate) fn container_path(rel: &Path) -> String {
        let path = Path::new(BUILD_PATH).join(rel);
        path.to_string_lossy().trim_end_matches('/').to_string()
    }

    /// The files mounted at [`PROFILE_PATH`]: the target spec and the linker script.
    pub fn profile_files(&self) -> Vec<(&str, &str)> {
        self.profile
            .target_spec
            .iter()
            .chain(&self.profile.linker_script)
            .map(|f| (f.name.as_str(), f.content.as_str()))
            .collect()
    }

    /// rustc flags (cargo) or C and link flags (make) of the guest's build: for cargo, the
    /// common ones and `--sysroot` of the mounted sysroot.
    fn flags(&self) -> Vec<String> {
        let mut flags = self.common_flags();
        if self.kind == BuildKind::Cargo {
            flags.push(format!("--sysroot={SYSROOT_PATH}"));
        }
        // Only a guest with git sources has them mounted: every other guest keeps its flags.
        if !self.git.is_empty() {
            flags.push(format!("--remap-path-prefix={GIT_PATH}=/zkelf/git"));
        }
        flags
    }

    /// rustc flags of the sysroot step: the guest's, less `--sysroot`, and the standard
    /// library's bitcode kept, so a guest built with `lto` can link it as `-Zbuild-std` would.
    pub fn sysroot_flags(&self) -> Vec<String> {
        let mut flags = self.common_flags();
        flags.push("-Cembed-bitcode=yes".into());
        flags
    }

    /// The flags the guest and its sysroot share.
    fn common_flags(&self) -> Vec<String> {
        let remap = |from: &str, to: &str| format!("--remap-path-prefix={from}={to}");
        match self.kind {
            BuildKind::Cargo => {
                let sysroot = format!("/rustc/{}", self.rustc_commit);
                let mut flags = vec![
                    remap(BUILD_PATH, "/zkelf/src"),
                    remap(VENDOR_PATH, "/zkelf/vendor"),
                    remap(TARGET_PATH, "/zkelf/target"),
                    remap(CARGO_HOME, "/zkelf/cargo-home"),
                    remap(SYSROOT_SRC, &sysroot),
                    remap(&format!("/usr/src/rustc-{}", self.rustc_release), &sysroot),
                ];
                flags.extend(self.profile.rustflags.iter().cloned());
                flags.extend([
                    "-Clinker=ld.lld".into(),
                    "-Clink-arg=--build-id=none".into(),
                    "-Ccodegen-units=1".into(),
                ]);
                if let Some(script) = &self.profile.linker_script {
                    flags.push(format!("-Clink-arg=-T{PROFILE_PATH}/{}", script.name));
                }
                flags
            }
            BuildKind::Make => vec![
                format!("-ffile-prefix-map={BUILD_PATH}=/zkelf/src"),
                format!("-ffile-prefix-map={TARGET_PATH}=/zkelf/target"),
                "-Wl,--build-id=none".into(),
            ],
        }
    }

    /// `cargo build` of `manifest` for the plan's target, offline, from the vendored crates.
    fn cargo_build(&self, manifest: &str) -> Vec<String> {
        let mut argv: Vec<String> = [
            "cargo",
            "build",
            "--locked",
            "--offline",
            "--release",
            "--manifest-path",
        ]
        .map(String::from)
        .to_vec();
        argv.push(manifest.into());
        match &self.profile.target_spec {
            // The spec's file stem is the triple, so build scripts see it as `TARGET`.
            Some(spec) => {
                argv.extend(["--target".into(), format!("{PROFILE_PATH}/{}", spec.name)]);
                argv.push("-Zjson-target-spec".into());
            }
            None => argv.extend(["--target".into(), self.target.clone()]),
        }
        for config in [
            "source.crates-io.replace-with=\"vendored-sources\"".to_string(),
            format!("source.vendored-sources.directory=\"{VENDOR_PATH}\""),
            "profile.release.codegen-units=1".into(),
            "profile.release.incremental=false".into(),
            "net.offline=true".into(),
        ] {
            argv.extend(["--config".into(), config]);
        }
        argv
    }

    /// `--config` entries replacing each git source with its vendored directory: cargo
    /// matches a replaced git source by its URL and reference, as the lock names it.
    fn git_configs(&self) -> Vec<String> {
        let mut argv = Vec::new();
        for (i, source) in self.git.iter().enumerate() {
            let name = format!("zkelf-git-{i}");
            let mut entries = vec![format!("source.{name}.git=\"{}\"", source.url)];
            if let Some((kind, value)) = source.reference.config() {
                entries.push(format!("source.{name}.{kind}=\"{value}\""));
            }
            entries.push(format!(
                "source.{name}.replace-with=\"zkelf-vendored-git-{i}\""
            ));
            entries.push(format!(
                "source.zkelf-vendored-git-{i}.directory=\"{GIT_PATH}/{i}\""
            ));
            for entry in entries {
                argv.extend(["--config".into(), entry]);
            }
        }
        argv
    }

    /// The compiler invocation (argv) and the path of the ELF it produces.
    fn command(&self) -> (Vec<String>, String) {
        let guest_dir = Self::container_path(&self.source.path);
        match self.kind {
            BuildKind::Cargo => {
                let mut argv = self.cargo_build(&format!("{guest_dir}/Cargo.toml"));
                argv.extend(self.git_configs());
                argv.extend(["--bin".into(), self.bin.clone()]);
                if !self.features.is_empty() {
                    argv.extend(["--features".into(), self.features.join(",")]);
                }
                let elf = format!("{TARGET_PATH}/{}/release/{}", self.target, self.bin);
                (argv, elf)
            }
            BuildKind::Make => {
                let out = format!("{TARGET_PATH}/{}", self.zkvm);
                let flags = self.flags();
                let (ld, cc): (Vec<_>, Vec<_>) = flags.iter().partition(|f| f.starts_with("-Wl"));
                let argv = vec![
                    "make".to_string(),
                    "-j1".into(),
                    "-C".into(),
                    guest_dir,
                    format!("OUT={out}"),
                    format!("TARGET={}", self.target),
                    "CC=riscv64-unknown-elf-gcc".into(),
                    format!(
                        "ZKELF_CFLAGS={}",
                        cc.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
                    ),
                    format!(
                        "ZKELF_LDFLAGS={}",
                        ld.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
                    ),
                ];
                let elf = format!("{out}/{}.elf", self.bin);
                (argv, elf)
            }
        }
    }

    /// The container's environment, with `flags` as the rustc flags of a cargo build.
    fn env(&self, variation: &Variation, flags: &[String]) -> BTreeMap<String, String> {
        // The profile's first: zkelf's own settings are never the profile's to change
        // (`Profile::validate` refuses the names, this order makes sure).
        let mut env = if self.kind == BuildKind::Cargo {
            self.profile.env.clone()
        } else {
            BTreeMap::new()
        };
        let mut set = |k: &str, v: String| {
            env.insert(k.to_string(), v);
        };
        set("PATH", PATH.into());
        set("HOME", HOME.into());
        set("SOURCE_DATE_EPOCH", self.sde.to_string());
        set("TZ", variation.tz.clone());
        set("LC_ALL", variation.locale.clone());
        set("LANG", variation.locale.clone());
        set("CARGO_HOME", CARGO_HOME.into());
        set("CARGO_TARGET_DIR", TARGET_PATH.into());
        set("CARGO_INCREMENTAL", "0".into());
        set("CARGO_TERM_COLOR", "never".into());
        set("CARGO_TERM_PROGRESS_WHEN", "never".into());
        // Debian's cargo and rustc, never a rustup proxy a guest's rust-toolchain.toml could steer.
        set("RUSTC", "/usr/bin/rustc".into());
        set("RUSTDOC", "/usr/bin/rustdoc".into());
        if self.kind == BuildKind::Cargo {
            set("RUSTC_BOOTSTRAP", "1".into());
            set("CARGO_ENCODED_RUSTFLAGS", flags.join("\u{1f}"));
        }
        for (k, v) in &variation.extra_env {
            set(k, v.clone());
        }
        env
    }

    /// What the provenance records: environment (with Docker's `HOSTNAME`), argv and flags.
    pub fn recorded(
        &self,
        variation: &Variation,
    ) -> (BTreeMap<String, String>, Vec<String>, Vec<String>) {
        let mut env = self.env(variation, &self.flags());
        env.insert("HOSTNAME".into(), variation.hostname.clone());
        (env, self.command().0, self.flags())
    }

    /// The build container: `--network none`, read-only source, crates and sysroot, tmpfs
    /// target.
    pub fn container(
        &self,
        variation: &Variation,
        host_source_root: &Path,
        mounts: &Mounts<'_>,
        out: &Path,
    ) -> ContainerSpec {
        let (argv, elf) = self.command();
        // The source root's cwd-independent config is all cargo reads: running from /build
        // keeps a guest's `.cargo/config.toml` out of the build.
        let script = format!(
            "umask {}; cd /build; \"$@\"; cp {elf} {OUT_PATH}/out.elf",
            variation.umask
        );
        let mut binds = vec![format!(
            "{}:{}:ro",
            host_source_root.display(),
            Self::container_path(&self.source.root)
        )];
        if let Some(sysroot) = mounts.sysroot {
            binds.push(format!("{}:{SYSROOT_PATH}:ro", sysroot.display()));
        }
        if let Some(git) = mounts.git {
            binds.push(format!("{}:{GIT_PATH}:ro", git.display()));
        }
        self.spec(variation, script, argv, &self.flags(), binds, mounts, out)
    }

    /// A container on the builder image running `script` with `argv` as its arguments.
    #[allow(clippy::too_many_arguments)]
    fn spec(
        &self,
        variation: &Variation,
        script: String,
        argv: Vec<String>,
        flags: &[String],
        mut binds: Vec<String>,
        mounts: &Mounts<'_>,
        out: &Path,
    ) -> ContainerSpec {
        let mut cmd = vec![
            "sh".to_string(),
            "-euc".into(),
            script,
            "zkelf-build".into(),
        ];
        cmd.extend(argv);
        binds.push(format!("{}:{OUT_PATH}", out.display()));
        if let Some(vendor) = mounts.vendor {
            binds.push(format!("{}:{VENDOR_PATH}:ro", vendor.display()));
        }
        if let Some(dir) = mounts.profile {
            binds.push(format!("{}:{PROFILE_PATH}:ro", dir.display()));
        }
        let tmpfs: HashMap<String, String> = [TARGET_PATH, CARGO_HOME, HOME]
            .into_iter()
            .map(|p| (p.to_string(), "rw,exec,mode=1777".to_string()))
            .collect();
        ContainerSpec {
            image: self.image_id.clone(),
            cmd,
            env: self
                .env(variation, flags)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            user: Some(variation.user.clone()),
            hostname: Some(variation.hostname.clone()),
            network_mode: Some("none".into()),
            binds,
            tmpfs,
            cpuset_cpus: variation.cpuset.clone(),
            working_dir: Some("/build".into()),
        }
    }
}

/// What a build container mounts besides the source and its output directory.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Mounts<'a> {
    /// The vendored crates.
    pub vendor: Option<&'a Path>,
    /// The profile's target spec and linker script.
    pub profile: Option<&'a Path>,
    /// The sysroot (the guest's build only).
    pub sysroot: Option<&'a Path>,
    /// The git sources (the guest's build only).
    pub git: Option<&'a Path>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(kind: BuildKind) -> Plan {
        Plan {
            guest: "keccak".into(),
            version: "0.1.0".into(),
            zkvm: "rv64im".into(),
            target: "riscv64im-unknown-none-elf".into(),
            kind,
            package: Some("keccak".into()),
            bin: "keccak".into(),
            features: vec!["fast".into()],
            build_std: vec!["core".into(), "alloc".into()],
            profile: crate::profile::builtin("rv64im").unwrap(),
            sde: 1_700_000_000,
            source: SourceParameters {
                uri: "https://example.invalid/repo".into(),
                commit: "a".repeat(40),
                dirty: false,
                path: "guests/keccak".into(),
                root: "guests".into(),
                workspace: None,
            },
            image_id: "sha256:img".into(),
            rustc_commit: "c0ffee".into(),
            rustc_release: "1.96.0".into(),
            git: Vec::new(),
            zisk_hash_mode: None,
        }
    }

    #[test]
    fn the_build_container_is_offline_read_only_and_pinned() {
        let spec = plan(BuildKind::Cargo).container(
            &Variation::standard(),
            Path::new("/home/u/repo/guests"),
            &Mounts {
                vendor: Some(Path::new("/cache/vendor/x")),
                sysroot: Some(Path::new("/cache/sysroot/k")),
                ..Mounts::default()
            },
            Path::new("/tmp/out"),
        );
        assert_eq!(spec.network_mode.as_deref(), Some("none"));
        assert_eq!(spec.user.as_deref(), Some("1000:1000"));
        assert_eq!(spec.working_dir.as_deref(), Some("/build"));
        assert!(
            spec.binds
                .contains(&"/home/u/repo/guests:/build/src/guests:ro".to_string())
        );
        assert!(
            spec.binds
                .contains(&"/cache/vendor/x:/build/vendor:ro".to_string())
        );
        assert!(spec.binds.contains(&"/tmp/out:/build/out".to_string()));
        assert!(
            spec.binds
                .contains(&"/cache/sysroot/k:/build/sysroot:ro".to_string())
        );
        assert!(spec.tmpfs.contains_key("/build/target"));
        for var in [
            "SOURCE_DATE_EPOCH=1700000000",
            "TZ=UTC",
            "LC_ALL=C.UTF-8",
            "CARGO_INCREMENTAL=0",
            "RUSTC=/usr/bin/rustc",
            "CARGO_TARGET_DIR=/build/target",
        ] {
            assert!(
                spec.env.contains(&var.to_string()),
                "{var} missing from {:?}",
                spec.env
            );
        }
        let flags = spec
            .env
            .iter()
            .find_map(|e| e.strip_prefix("CARGO_ENCODED_RUSTFLAGS="))
            .unwrap();
        for flag in [
            "--remap-path-prefix=/build/src=/zkelf/src",
            "--remap-path-prefix=/usr/src/rustc-1.96.0=/rustc/c0ffee",
            "-Clink-arg=--build-id=none",
            "-Ccodegen-units=1",
            "--sysroot=/build/sysroot",
        ] {
            assert!(flags.split('\u{1f}').any(|f| f == flag), "{flag} missing");
        }
        let argv = spec.cmd.join(" ");
        assert!(spec.cmd[2].starts_with("umask 022; cd /build;"));
        for part in [
            "cargo build --locked --offline --release",
            "--manifest-path /build/src/guests/keccak/Cargo.toml",
            "--features fast",
            "profile.release.codegen-units=1",
        ] {
            assert!(argv.contains(part), "{part} missing from {argv}");
        }
        // The standard library comes from the sysroot, built once in its own container.
        assert!(!argv.contains("-Zbuild-std"), "{argv}");
    }

    #[test]
    fn the_sysroot_container_builds_std_offline_with_the_guests_flags() {
        let p = plan(BuildKind::Cargo);
        let spec = p.sysroot_container(
            &Variation::standard(),
            Path::new("/tmp/crate"),
            &Mounts {
                vendor: Some(Path::new("/v")),
                ..Mounts::default()
            },
            Path::new("/tmp/sysroot-out"),
        );
        assert_eq!(spec.network_mode.as_deref(), Some("none"));
        assert_eq!(spec.user.as_deref(), Some("1000:1000"));
        for bind in [
            "/tmp/crate:/build/sysroot-crate:ro",
            "/v:/build/vendor:ro",
            "/tmp/sysroot-out:/build/out",
        ] {
            assert!(spec.binds.contains(&bind.to_string()), "{bind}");
        }
        let argv = spec.cmd.join(" ");
        for part in [
            "--manifest-path /build/sysroot-crate/Cargo.toml",
            "--target riscv64im-unknown-none-elf",
            "-Zbuild-std=core,alloc",
            "mkdir -p /build/out/lib/rustlib/riscv64im-unknown-none-elf/lib",
            "libzkelf_sysroot-*) ;;",
        ] {
            assert!(argv.contains(part), "{part} missing from {argv}");
        }
        let flags = spec
            .env
            .iter()
            .find_map(|e| e.strip_prefix("CARGO_ENCODED_RUSTFLAGS="))
            .unwrap();
        let flags: Vec<&str> = flags.split('\u{1f}').collect();
        assert!(flags.contains(&"-Cembed-bitcode=yes"));
        assert!(!flags.iter().any(|f| f.starts_with("--sysroot")));
        // The guest's flags are the sysroot's, but for bitcode and `--sysroot`.
        let common = |f: &[String]| {
            f.iter()
                .filter(|x| !x.starts_with("--sysroot") && *x != "-Cembed-bitcode=yes")
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(common(&p.flags()), common(&p.sysroot_flags()));
        // The key document changes with the flags the sysroot is built with.
        let ws = "[workspace]\n[profile.release]\nlto = true\n";
        let key = p.sysroot_key(ws).unwrap();
        assert_eq!(key.rustflags, p.sysroot_flags());
        assert_eq!(key.build_std, ["alloc", "core"]);
    }

    #[test]
    fn the_sysroot_crate_carries_the_workspace_release_profile() {
        let files = Plan::sysroot_crate(
            "[workspace]\nmembers = [\"a\"]\n[profile.release]\nopt-level = \"s\"\nlto = true\n[profile.dev]\nopt-level = 1\n",
        )
        .unwrap();
        let manifest: toml::Table = files[0].1.parse().unwrap();
        assert_eq!(manifest["package"]["name"].as_str(), Some("zkelf-sysroot"));
        assert_eq!(
            manifest["profile"]["release"]["opt-level"].as_str(),
            Some("s")
        );
        assert_eq!(manifest["profile"]["release"]["lto"].as_bool(), Some(true));
        assert!(manifest["profile"].get("dev").is_none());
        assert!(files[1].1.contains("name = \"zkelf-sysroot\""));
        assert!(Plan::sysroot_crate("not toml [").is_err());
    }

    #[test]
    fn the_varied_build_changes_every_condition() {
        let (a, b) = (Variation::standard(), Variation::varied());
        assert_ne!(a.user, b.user);
        assert_ne!(a.hostname, b.hostname);
        assert_ne!(a.umask, b.umask);
        assert_ne!(a.tz, b.tz);
        assert_ne!(a.locale, b.locale);
        assert!(a.extra_env.is_empty() && !b.extra_env.is_empty());
        assert_ne!(a.cpuset, b.cpuset);
        let p = plan(BuildKind::Cargo);
        let (env_a, cmd_a, flags_a) = p.recorded(&a);
        let (env_b, cmd_b, flags_b) = p.recorded(&b);
        assert_ne!(env_a, env_b);
        assert_eq!(
            (cmd_a, flags_a),
            (cmd_b, flags_b),
            "only the conditions vary"
        );
    }

    #[test]
    fn zkvm_profiles_bring_their_target_spec_flags_script_and_environment() {
        let mut sp1 = plan(BuildKind::Cargo);
        sp1.profile = crate::profile::builtin("sp1").unwrap();
        sp1.target = sp1.profile.target.clone();
        let mounts = Mounts {
            vendor: Some(Path::new("/v")),
            profile: Some(Path::new("/tmp/profile")),
            sysroot: Some(Path::new("/s")),
            git: None,
        };
        let spec = sp1.container(
            &Variation::standard(),
            Path::new("/r/guests"),
            &mounts,
            Path::new("/o"),
        );
        let sysroot_argv = sp1
            .sysroot_container(
                &Variation::standard(),
                Path::new("/c"),
                &mounts,
                Path::new("/o"),
            )
            .cmd
            .join(" ");
        assert!(sysroot_argv.contains("-Zbuild-std-features=compiler-builtins-mem"));
        let argv = spec.cmd.join(" ");
        for part in [
            "--target /build/profile/riscv64im-succinct-zkvm-elf.json -Zjson-target-spec",
            "cp /build/target/riscv64im-succinct-zkvm-elf/release/keccak /build/out/out.elf",
        ] {
            assert!(argv.contains(part), "{part} missing from {argv}");
        }
        assert!(
            spec.binds
                .contains(&"/tmp/profile:/build/profile:ro".to_string())
        );
        assert!(
            spec.env
                .contains(&"CC_riscv64im_succinct_zkvm_elf=riscv64-unknown-elf-gcc".to_string())
        );
        let flags: Vec<String> = sp1.recorded(&Variation::standard()).2;
        let at = |f: &str| flags.iter().position(|x| x == f).unwrap();
        // The zkVM's flags come after zkelf's path remaps and before its link flags.
        assert!(at("link-arg=--image-base=0x78000000") < at("-Clinker=ld.lld"));
        assert!(at("--remap-path-prefix=/build/src=/zkelf/src") < at("passes=lower-atomic"));

        let mut zisk = plan(BuildKind::Cargo);
        zisk.profile = crate::profile::builtin("zisk").unwrap();
        zisk.target = zisk.profile.target.clone();
        let (_, _, flags) = zisk.recorded(&Variation::standard());
        assert!(flags.contains(&"-Clink-arg=-T/build/profile/zisk-1.4.0-alpha.ld".to_string()));
        assert!(
            !zisk
                .sysroot_command()
                .iter()
                .any(|a| a.starts_with("-Zbuild-std-features"))
        );
        assert_eq!(
            zisk.profile_files()
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>(),
            ["riscv64ima-unknown-none-elf.json", "zisk-1.4.0-alpha.ld"]
        );
        // Bare profiles mount nothing and keep today's command.
        assert!(plan(BuildKind::Cargo).profile_files().is_empty());
    }

    #[test]
    fn make_guests_get_the_flags_as_make_variables() {
        let spec = plan(BuildKind::Make).container(
            &Variation::standard(),
            Path::new("/r/guests/c"),
            &Mounts::default(),
            Path::new("/o"),
        );
        let argv = spec.cmd.join(" ");
        assert!(
            argv.contains("make -j1 -C /build/src/guests/keccak"),
            "{argv}"
        );
        assert!(
            argv.contains("ZKELF_CFLAGS=-ffile-prefix-map=/build/src=/zkelf/src"),
            "{argv}"
        );
        assert!(argv.contains("ZKELF_LDFLAGS=-Wl,--build-id=none"), "{argv}");
        assert!(
            !spec
                .env
                .iter()
                .any(|e| e.starts_with("CARGO_ENCODED_RUSTFLAGS"))
        );
    }
}
