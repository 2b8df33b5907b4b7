//! `zkelf run`: a guest in its zkVM's executor (the zkVM's toolbox, in its container, offline)
//! on one input frame; prints the public values and cycles. A local file runs without a policy;
//! a reference runs only after every check of `pull` passed, from memory: nothing of it
//! reaches the disk but the copy the container reads.

use std::path::{Path, PathBuf};

use zkelf_builder::BuildOptions;
use zkelf_builder::image::ensure_builder_image;
use zkelf_builder::provenance::Provenance;
use zkelf_builder::toolbox::{self, RunOptions, Spec};
use zkelf_registry::Reference;
use zkelf_registry::pull::Output;
use zkelf_trust::signature::Signature;

use super::shared::dirs::{builder_cache_dir, builder_trust_dir};
use super::shared::engine;
use super::shared::pulled::pull_verified;
use super::shared::reporters::BuildReporter;
use crate::args::dist::PullArgs;
use crate::args::run::RunArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::Printer;
use crate::reports::run::RunReport;

/// The largest input file read.
const MAX_INPUT: u64 = 1 << 30;
/// The largest `openvm.toml`, sidecar signature or provenance read.
const MAX_SIDECAR: u64 = 16 << 20;

/// Runs `zkelf run`.
pub async fn run(args: RunArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let input = read(&args.input, MAX_INPUT, "input")?;
    let openvm_config = match &args.openvm_config {
        Some(path) => Some(read(path, MAX_SIDECAR, "OpenVM configuration")?),
        None => None,
    };
    let work = tempfile::Builder::new()
        .prefix("zkelf-run-")
        .tempdir()
        .map_err(|e| anyhow::anyhow!(e).context("cannot create a temporary directory"))?;
    let (program, spec) = if Path::new(&args.target).is_file() {
        let path = PathBuf::from(&args.target);
        let spec = file_zkvm(&path, args.zkvm.as_deref())?;
        (path, spec)
    } else {
        pulled(&args, work.path(), printer).await?
    };
    let engine = engine().await?;
    let reporter = BuildReporter::new(printer);
    let image = ensure_builder_image(&engine, &args.suite, &reporter).await?;
    let options = BuildOptions {
        cache_dir: builder_cache_dir(),
        trust_dir: builder_trust_dir(),
        suite: args.suite.clone(),
        ..BuildOptions::default()
    };
    let toolbox = toolbox::ensure(&engine, &image, spec, &options, &reporter).await?;
    let name = program
        .file_name()
        .map_or_else(|| args.target.clone(), |n| n.to_string_lossy().into_owned());
    printer.info(format!("running {name} in {}…", spec.executor));
    let run = toolbox
        .exec(
            &engine,
            &program,
            &input,
            &RunOptions { openvm_config },
            &reporter,
        )
        .await?;
    printer.report(&RunReport(run))?;
    Ok(ExitStatus::Success)
}

/// Reads a file the user named, within `limit` bytes, naming it in the error.
fn read(path: &Path, limit: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    zkelf_trust::bounded::read_no_follow(path, limit).map_err(|e| {
        anyhow::Error::new(e).context(format!("cannot read the {what} `{}`", path.display()))
    })
}

/// The toolbox for a local file: `--zkvm`, else its `<file>.minisig` statement's zkVM, else its
/// provenance's profile, else the `<zkvm>` of its `<guest>-<zkvm>.elf` name. None of these is
/// trusted: they only choose the executor a file the user chose runs in.
fn file_zkvm(path: &Path, zkvm: Option<&str>) -> anyhow::Result<&'static Spec> {
    if let Some(zkvm) = zkvm {
        return Ok(Spec::for_zkvm(zkvm)?);
    }
    let sidecar = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let statement = zkelf_trust::bounded::read_no_follow(&sidecar(".minisig"), MAX_SIDECAR)
        .ok()
        .and_then(|bytes| Signature::parse(&String::from_utf8_lossy(&bytes)).ok())
        .and_then(|sig| sig.statement().and_then(Result::ok));
    if let Some(statement) = statement {
        return Ok(Spec::for_zkvm(&statement.zkvm)?);
    }
    let provenance = path
        .to_str()
        .and_then(|p| p.strip_suffix(".elf"))
        .map(|stem| PathBuf::from(format!("{stem}.provenance.json")))
        .and_then(|p| zkelf_trust::bounded::read_no_follow(&p, MAX_SIDECAR).ok())
        .and_then(|bytes| Provenance::from_json(&bytes).ok());
    if let Some(provenance) = provenance
        && let Some(spec) = Spec::for_profile(&provenance.external().profile.name)
    {
        return Ok(spec);
    }
    let from_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".elf"))
        .and_then(|stem| stem.rsplit_once('-'))
        .and_then(|(_, zkvm)| Spec::for_zkvm(zkvm).ok());
    from_name.ok_or_else(|| {
        UsageError::new(
            format!("cannot tell which zkVM runs `{}`", path.display()),
            "pass `--zkvm <sp1|risc0|openvm|zisk>`, or keep the file's `.minisig` or `.provenance.json` beside it",
        )
        .into()
    })
}

/// Pulls the reference with every check of `pull` into memory, then writes the verified bytes
/// to `work` for the container; returns the program and its toolbox.
async fn pulled(
    args: &RunArgs,
    work: &Path,
    printer: &Printer,
) -> anyhow::Result<(PathBuf, &'static Spec)> {
    let reference: Reference = args.target.parse()?;
    let pull_args = PullArgs {
        reference: args.target.clone(),
        output: None,
        vk_out: None,
        vk_only: false,
        zkvm: args.zkvm.clone(),
        guest: args.guest.clone(),
        version: args.version.clone(),
        trust: args.trust.clone(),
        pins: args.pins.clone(),
        allow_unbound: args.allow_unbound,
        lock: None,
        allow_downgrade: args.allow_downgrade,
        allow_legacy: args.allow_legacy,
        max_size: args.max_size,
        no_cache: false,
        network: args.network.clone(),
    };
    let failed = |_: &zkelf_registry::Error| format!("`{reference}` was not run: its pull failed");
    let pulled = pull_verified(&pull_args, &reference, Output::Memory, printer, failed).await?;
    let spec = match (&args.zkvm, &pulled.statement) {
        (Some(zkvm), _) => Spec::for_zkvm(zkvm)?,
        (None, Some(statement)) => Spec::for_zkvm(&statement.zkvm)?,
        (None, None) => pulled
            .resolved
            .provenance
            .as_deref()
            .and_then(|b| Provenance::from_json(b).ok())
            .and_then(|p| Spec::for_profile(&p.external().profile.name))
            .ok_or_else(|| {
                UsageError::new(
                    format!("cannot tell which zkVM runs `{reference}`: its signature binds no statement"),
                    "pass `--zkvm <sp1|risc0|openvm|zisk>`",
                )
            })?,
    };
    let program = work.join("program");
    let bytes = pulled.bytes.unwrap_or_default();
    std::fs::write(&program, bytes).map_err(|e| {
        anyhow::Error::new(e).context(format!("cannot write `{}`", program.display()))
    })?;
    Ok((program, spec))
}
