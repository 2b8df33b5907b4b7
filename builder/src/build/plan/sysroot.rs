//! The sysroot step's part of the [`Plan`]: its dummy crate, key document, command and
//! container (`-Zbuild-std` once per key, reused by every guest build).

use std::path::Path;

use crate::docker::ContainerSpec;
use crate::error::problem::ManifestProblem;

use super::super::sysroot::key::KeyDocument;
use super::{Mounts, OUT_PATH, Plan, SYSROOT_CRATE_PATH, SYSROOT_PACKAGE, TARGET_PATH, Variation};

impl Plan {
    /// The sysroot step's invocation: the dummy crate built with `-Zbuild-std`.
    pub fn sysroot_command(&self) -> Vec<String> {
        let mut argv = self.cargo_build(&format!("{SYSROOT_CRATE_PATH}/Cargo.toml"));
        argv.push(format!("-Zbuild-std={}", self.build_std.join(",")));
        if !self.profile.build_std_features.is_empty() {
            argv.push(format!(
                "-Zbuild-std-features={}",
                self.profile.build_std_features.join(",")
            ));
        }
        argv
    }

    /// The sysroot container: the dummy crate at `crate_dir` built with `-Zbuild-std`, the
    /// standard library's rlibs copied to `<out>/lib/rustlib/<target>/lib/`. Offline, like the
    /// build; the vendored crates hold the sysroot library's dependencies.
    pub fn sysroot_container(
        &self,
        variation: &Variation,
        crate_dir: &Path,
        mounts: &Mounts<'_>,
        out: &Path,
    ) -> ContainerSpec {
        let deps = format!("{TARGET_PATH}/{}/release/deps", self.target);
        let lib = format!("{OUT_PATH}/lib/rustlib/{}/lib", self.target);
        let own = SYSROOT_PACKAGE.replace('-', "_");
        let script = format!(
            "umask {}; cd /build; \"$@\"; mkdir -p {lib}; \
             for f in {deps}/*.rlib; do case \"${{f##*/}}\" in lib{own}-*) ;; *) cp \"$f\" {lib}/ ;; esac; done",
            variation.umask
        );
        let binds = vec![format!("{}:{SYSROOT_CRATE_PATH}:ro", crate_dir.display())];
        let argv = self.sysroot_command();
        self.spec(
            variation,
            script,
            argv,
            &self.sysroot_flags(),
            binds,
            mounts,
            out,
        )
    }

    /// The sysroot's key document: what decides its bytes ([`KeyDocument`]).
    /// `workspace_manifest` is the guest workspace's `Cargo.toml`, whose `[profile.release]`
    /// std is compiled with.
    pub fn sysroot_key(&self, workspace_manifest: &str) -> Result<KeyDocument, ManifestProblem> {
        KeyDocument::new(
            &self.image_id,
            &self.target,
            self.profile
                .target_spec
                .as_ref()
                .map(|spec| spec.content.as_str()),
            &self.build_std,
            &self.profile.build_std_features,
            &self.sysroot_flags(),
            &self.profile.env,
            workspace_manifest,
        )
    }

    /// The sysroot step's dummy crate: a `#![no_std]` library with the workspace's
    /// `[profile.release]` and a lock file of itself, so `--locked` holds.
    pub fn sysroot_crate(
        workspace_manifest: &str,
    ) -> Result<Vec<(&'static str, String)>, ManifestProblem> {
        let table: toml::Table = workspace_manifest
            .parse()
            .map_err(|e: toml::de::Error| ManifestProblem::Workspace(e.message().to_string()))?;
        let mut manifest = toml::Table::new();
        manifest.insert(
            "package".into(),
            toml::Value::Table(toml::Table::from_iter([
                ("name".to_string(), SYSROOT_PACKAGE.into()),
                ("version".to_string(), "0.0.0".into()),
                ("edition".to_string(), "2021".into()),
                ("publish".to_string(), false.into()),
            ])),
        );
        manifest.insert(
            "lib".into(),
            toml::Value::Table(toml::Table::from_iter([(
                "path".to_string(),
                "lib.rs".into(),
            )])),
        );
        manifest.insert("workspace".into(), toml::Value::Table(toml::Table::new()));
        if let Some(release) = table.get("profile").and_then(|p| p.get("release")) {
            manifest.insert(
                "profile".into(),
                toml::Value::Table(toml::Table::from_iter([(
                    "release".to_string(),
                    release.clone(),
                )])),
            );
        }
        let manifest =
            toml::to_string(&manifest).map_err(|e| ManifestProblem::Workspace(e.to_string()))?;
        let lock = format!(
            "# The sysroot step's own lock file: no dependencies.\nversion = 4\n\n[[package]]\nname = \"{SYSROOT_PACKAGE}\"\nversion = \"0.0.0\"\n"
        );
        Ok(vec![
            ("Cargo.toml", manifest),
            ("Cargo.lock", lock),
            ("lib.rs", "#![no_std]\n".into()),
        ])
    }
}
