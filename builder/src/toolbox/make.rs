//! Building a toolbox: its sources written out, its crates vendored against its own
//! `Cargo.lock` (the fetch step's verified store, network on), then `cargo build --locked
//! --offline` in a `--network none` container of the toolbox image. The toolbox's
//! `.cargo/config.toml` (read from the working directory) sets the environment its crates'
//! build scripts need offline (docs/toolbox.md).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::image::ToolboxImage;
use super::{Spec, sources};
use crate::build::BuildOptions;
use crate::build::fetch::{self, lock};
use crate::docker::{ContainerSpec, Engine};
use crate::error::BuilderError;
use crate::error::problem::ToolboxProblem;
use crate::fsutil::{self, world_writable_tempdir};
use crate::image::BuilderImage;
use crate::reporter::Reporter;

/// Where the sources are mounted (read-only): `/toolbox/cli`, `/toolbox/<zkvm>`.
const SOURCES: &str = "/toolbox";
const VENDOR: &str = "/build/vendor";
const TARGET: &str = "/build/target";
const OUT: &str = "/build/out";
const CARGO_HOME: &str = "/build/cargo-home";
const HOME: &str = "/build/home";

/// A toolbox just built: `bin/` holds the program; `scratch` the temporary directories.
pub(super) struct Built {
    pub bin: PathBuf,
    pub scratch: tempfile::TempDir,
}

/// The build container's command (run in `/toolbox/<zkvm>`).
pub(super) fn command(spec: &Spec) -> Vec<String> {
    let mut argv: Vec<String> = ["cargo", "build", "--release", "--locked", "--offline"]
        .map(String::from)
        .to_vec();
    for config in [
        "source.crates-io.replace-with=\"vendored-sources\"".to_string(),
        format!("source.vendored-sources.directory=\"{VENDOR}\""),
        "net.offline=true".into(),
    ] {
        argv.extend(["--config".into(), config]);
    }
    argv.extend(["--bin".into(), spec.binary()]);
    argv
}

/// Builds the `spec` toolbox in `image`, vendoring its crates with `builder`'s fetch step.
pub(super) async fn build(
    engine: &Engine,
    builder: &BuilderImage,
    image: &ToolboxImage,
    spec: &Spec,
    options: &BuildOptions,
    reporter: &dyn Reporter,
) -> Result<Built, BuilderError> {
    let lock_name = PathBuf::from(format!("toolbox/{}/Cargo.lock", spec.zkvm));
    let lock_text = sources::file(spec.zkvm, "Cargo.lock")
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or_default();
    let packages = lock::parse(lock_text).map_err(|problem| BuilderError::Lock {
        path: lock_name.clone(),
        problem: Box::new(problem),
    })?;
    let what = format!("the {} toolbox", spec.zkvm);
    let vendored = fetch::vendor_packages(
        engine, builder, &what, &lock_name, &packages, options, reporter,
    )
    .await?;
    let scratch = fsutil::tempdir("zkelf-toolbox-")?;
    let src = scratch.path().join("src");
    sources::write(spec.zkvm, &src)?;
    // The target directory is large (GBs): on disk, not a tmpfs.
    let target = world_writable_tempdir("zkelf-toolbox-target-")?;
    let out = world_writable_tempdir("zkelf-toolbox-out-")?;
    let container = container(spec, image, &src, &vendored.dir, target.path(), out.path());
    let exit = engine.run(&container, reporter).await?;
    if exit.code != 0 {
        return Err(spec.error(ToolboxProblem::BuildFailed {
            code: exit.code,
            output: exit.tail,
        }));
    }
    let built = out.path().join("bin");
    if !built.join(spec.binary()).is_file() {
        return Err(spec.error(ToolboxProblem::NoProgram(spec.binary())));
    }
    let bin = scratch.path().join("bin");
    std::fs::rename(&built, &bin)
        .or_else(|_| copy_file(&built.join(spec.binary()), &bin.join(spec.binary())))
        .map_err(|e| BuilderError::io("cannot move", &built, e))?;
    Ok(Built { bin, scratch })
}

fn copy_file(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to.parent().unwrap_or(Path::new(".")))?;
    std::fs::copy(from, to).map(|_| ())
}

/// The build container: `--network none`, sources and crates read-only, the program copied
/// to `out/bin/`.
fn container(
    spec: &Spec,
    image: &ToolboxImage,
    src: &Path,
    vendor: &Path,
    target: &Path,
    out: &Path,
) -> ContainerSpec {
    let program = format!("{TARGET}/release/{}", spec.binary());
    let script = format!("umask 022; \"$@\"; mkdir -p {OUT}/bin; cp {program} {OUT}/bin/");
    let mut cmd = vec![
        "sh".to_string(),
        "-euc".into(),
        script,
        "zkelf-toolbox-build".into(),
    ];
    cmd.extend(command(spec));
    let env = [
        ("PATH", crate::build::plan::PATH),
        ("HOME", HOME),
        ("CARGO_HOME", CARGO_HOME),
        ("CARGO_TARGET_DIR", TARGET),
        ("CARGO_INCREMENTAL", "0"),
        ("CARGO_TERM_COLOR", "never"),
        ("CARGO_TERM_PROGRESS_WHEN", "never"),
        ("RUSTC", "/usr/bin/rustc"),
        ("SOURCE_DATE_EPOCH", "0"),
        ("TZ", "UTC"),
        ("LC_ALL", "C.UTF-8"),
    ];
    let tmpfs: HashMap<String, String> = [CARGO_HOME, HOME, "/tmp"]
        .into_iter()
        .map(|p| (p.to_string(), "rw,exec,mode=1777".to_string()))
        .collect();
    ContainerSpec {
        image: image.id.to_string(),
        cmd,
        env: env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        user: Some("1000:1000".into()),
        hostname: Some("zkelf-toolbox".into()),
        network_mode: Some("none".into()),
        binds: vec![
            format!("{}:{SOURCES}:ro", src.display()),
            format!("{}:{VENDOR}:ro", vendor.display()),
            format!("{}:{TARGET}", target.display()),
            format!("{}:{OUT}", out.display()),
        ],
        tmpfs,
        cpuset_cpus: None,
        working_dir: Some(format!("{SOURCES}/{}", spec.zkvm)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_container_is_offline_locked_and_reads_sources_and_crates_only() {
        let spec = super::super::Spec::for_zkvm("zisk").unwrap();
        let image = ToolboxImage {
            tag: "zkelf-toolbox:x".into(),
            id: "sha256:1111111111111111111111111111111111111111111111111111111111111111"
                .parse()
                .unwrap(),
            dockerfile_sha256: zkelf_trust::digest::Sha256Digest::of(b"d"),
            builder: "sha256:2222222222222222222222222222222222222222222222222222222222222222"
                .parse()
                .unwrap(),
        };
        let c = container(
            spec,
            &image,
            Path::new("/s"),
            Path::new("/v"),
            Path::new("/t"),
            Path::new("/o"),
        );
        assert_eq!(c.network_mode.as_deref(), Some("none"));
        assert_eq!(c.working_dir.as_deref(), Some("/toolbox/zisk"));
        assert!(c.binds.contains(&"/s:/toolbox:ro".to_string()));
        assert!(c.binds.contains(&"/v:/build/vendor:ro".to_string()));
        let argv = c.cmd.join(" ");
        assert!(
            argv.contains("cargo build --release --locked --offline"),
            "{argv}"
        );
        assert!(argv.contains("--bin zkelf-toolbox-zisk"), "{argv}");
        assert_eq!(c.user.as_deref(), Some("1000:1000"));
    }
}
