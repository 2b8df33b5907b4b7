//! `zkelf run`: a guest in its zkVM's executor (the zkVM's toolbox, in its container, offline)
//! on one input frame; prints the public values and cycles. A local file runs without a policy;
//! a reference runs only after every check of `pull` passed, from memory: nothing of it
//! reaches the disk but the copy the container reads.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use zkelf_builder::Reporter as _;
use zkelf_builder::provenance::Provenance;
use zkelf_builder::toolbox::{RunOptions, Spec};
use zkelf_registry::Reference;
use zkelf_registry::pull::Output;
use zkelf_trust::signature::Signature;

use super::shared::pulled::pull_verified;
use super::shared::reporters::BuildReporter;
use super::shared::toolbox::{self, check_version};
use crate::args::dist::PullArgs;
use crate::args::run::RunArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::Printer;
use crate::reports::run::RunReport;

/// The largest input file read.
const MAX_INPUT: u64 = 1 << 30;
/// The largest `openvm.toml`, sidecar signature or provenance read.
const MAX_SIDECAR: u64 = 16 << 20;

/// A guest to run, and what says which zkVM and version it is for.
struct Guest {
    /// The program the container reads.
    program: PathBuf,
    /// How messages name it.
    name: String,
    /// Its zkVM's toolbox.
    spec: &'static Spec,
    /// What chose that toolbox (`` `--zkvm` ``, `its verified statement`…).
    origin: &'static str,
    /// Its provenance, when one describes it.
    provenance: Option<Provenance>,
    /// Why there is none, for the note that says its version is unknown.
    missing: String,
}

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
    let guest = if Path::new(&args.target).is_file() {
        local(&args.target, args.zkvm.as_deref())?
    } else {
        pulled(&args, work.path(), printer).await?
    };
    // A guest of a zkVM version this toolbox is not runs nowhere: refused before any container.
    let version = check_version(guest.spec, guest.provenance.as_ref(), &guest.missing)
        .with_context(|| format!("`{}` was not run", guest.name))?;
    printer.info(format!(
        "{}: {} ({}); {version}",
        guest.name, guest.spec.zkvm, guest.origin
    ));
    let reporter = BuildReporter::new(printer);
    let (engine, toolbox) = toolbox::ensure(guest.spec, &args.suite, &reporter).await?;
    // A spinner with the elapsed time on a terminal (a long run shows it is alive), the same
    // `running … in ……` line otherwise.
    reporter.step(&format!(
        "running {} in {}",
        guest.name, guest.spec.executor
    ));
    let run = toolbox
        .exec(
            &engine,
            &guest.program,
            &input,
            &RunOptions {
                openvm_config,
                ..RunOptions::default()
            },
            &reporter,
        )
        .await?;
    reporter.finish(&format!("{} cycles", run.cycles));
    printer.report(&RunReport(run))?;
    Ok(ExitStatus::Success)
}

/// Reads a file the user named, within `limit` bytes, naming it in the error.
fn read(path: &Path, limit: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    zkelf_trust::bounded::read_no_follow(path, limit).map_err(|e| {
        anyhow::Error::new(e).context(format!("cannot read the {what} `{}`", path.display()))
    })
}

/// A local file: its toolbox from `--zkvm`, else its `<file>.minisig` statement's zkVM, else
/// its provenance's profile, else the `<zkvm>` of its `<guest>-<zkvm>.elf` name; its version
/// from its `<stem>.provenance.json` when that is about these bytes. None of these is trusted:
/// they only choose the executor a file the user chose runs in.
fn local(target: &str, zkvm: Option<&str>) -> anyhow::Result<Guest> {
    let path = PathBuf::from(target);
    let sidecar =
        |name: String| zkelf_trust::bounded::read_no_follow(Path::new(&name), MAX_SIDECAR).ok();
    let provenance_path = target
        .strip_suffix(".elf")
        .map(|stem| format!("{stem}.provenance.json"));
    let (provenance, missing) = sidecar_provenance(&path, provenance_path.as_deref())?;
    let chosen = if let Some(zkvm) = zkvm {
        Some((Spec::for_zkvm(zkvm)?, "`--zkvm`"))
    } else if let Some(statement) = sidecar(format!("{target}.minisig"))
        .and_then(|bytes| Signature::parse(&String::from_utf8_lossy(&bytes)).ok())
        .and_then(|sig| sig.statement().and_then(Result::ok))
    {
        Some((Spec::for_zkvm(&statement.zkvm)?, "its `.minisig` statement"))
    } else if let Some(spec) = provenance
        .as_ref()
        .and_then(|p| Spec::for_profile(&p.external().profile.name))
    {
        Some((spec, "its `.provenance.json`"))
    } else {
        path.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".elf"))
            .and_then(|stem| stem.rsplit_once('-'))
            .and_then(|(_, zkvm)| Spec::for_zkvm(zkvm).ok())
            .map(|spec| (spec, "its file name"))
    };
    let Some((spec, origin)) = chosen else {
        return Err(UsageError::new(
            format!("cannot tell which zkVM runs `{}`", path.display()),
            "pass `--zkvm <sp1|risc0|openvm|zisk>`, or keep the file's `.minisig` or `.provenance.json` beside it",
        )
        .into());
    };
    Ok(Guest {
        name: path
            .file_name()
            .map_or_else(|| target.to_owned(), |n| n.to_string_lossy().into_owned()),
        program: path,
        spec,
        origin,
        provenance,
        missing,
    })
}

/// The provenance beside a file (`path`, when the file's name ends in `.elf`), when it is one
/// zkelf reads and its subject is the file's bytes; else none, and why.
fn sidecar_provenance(
    file: &Path,
    path: Option<&str>,
) -> anyhow::Result<(Option<Provenance>, String)> {
    let Some(path) = path else {
        return Ok((
            None,
            "its name does not end in `.elf`, so it has no `.provenance.json`".into(),
        ));
    };
    let name = Path::new(path)
        .file_name()
        .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned());
    let bytes = match zkelf_trust::bounded::read_no_follow(Path::new(path), MAX_SIDECAR) {
        Ok(bytes) => bytes,
        Err(e) if e.is_not_found() => return Ok((None, format!("no `{name}` beside it"))),
        Err(e) => return Ok((None, format!("`{name}` cannot be read: {e}"))),
    };
    let provenance = match Provenance::from_json(&bytes) {
        Ok(p) => p,
        Err(e) => {
            return Ok((
                None,
                format!("`{name}` is not a provenance zkelf reads: {e}"),
            ));
        }
    };
    let sha256 = zkelf_trust::digest::hash_file(file)
        .with_context(|| format!("cannot read `{}`", file.display()))?
        .sha256;
    if provenance.subject_sha256() != Some(sha256) {
        return Ok((None, format!("`{name}` describes other bytes")));
    }
    Ok((Some(provenance), String::new()))
}

/// Pulls the reference with every check of `pull` into memory, then writes the verified bytes
/// to `work` for the container. Its toolbox comes from `--zkvm`, else its verified statement,
/// else its provenance's profile; its version from its provenance (which the statement binds).
async fn pulled(args: &RunArgs, work: &Path, printer: &Printer) -> anyhow::Result<Guest> {
    let reference: Reference = args.target.parse()?;
    let pull_args = PullArgs {
        reference: args.target.clone(),
        output: None,
        vk_out: None,
        vk_only: false,
        derive_vk: false,
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
    let (provenance, missing) = match pulled.resolved.provenance.as_deref() {
        None => (None, "the release carries no provenance".to_owned()),
        Some(bytes) => match Provenance::from_json(bytes) {
            Ok(p) => (Some(p), String::new()),
            Err(e) => (None, format!("its provenance is not one zkelf reads: {e}")),
        },
    };
    let from_provenance = provenance
        .as_ref()
        .and_then(|p| Spec::for_profile(&p.external().profile.name));
    let (spec, origin) = match (&args.zkvm, &pulled.statement, from_provenance) {
        (Some(zkvm), _, _) => (Spec::for_zkvm(zkvm)?, "`--zkvm`"),
        (None, Some(statement), _) => (Spec::for_zkvm(&statement.zkvm)?, "its verified statement"),
        (None, None, Some(spec)) => (spec, "its provenance"),
        (None, None, None) => {
            return Err(UsageError::new(
                format!(
                    "cannot tell which zkVM runs `{reference}`: its signature binds no statement"
                ),
                "pass `--zkvm <sp1|risc0|openvm|zisk>`",
            )
            .into());
        }
    };
    let program = work.join("program");
    let bytes = pulled.bytes.unwrap_or_default();
    std::fs::write(&program, bytes).map_err(|e| {
        anyhow::Error::new(e).context(format!("cannot write `{}`", program.display()))
    })?;
    Ok(Guest {
        program,
        name: reference.to_string(),
        spec,
        origin,
        provenance,
        missing,
    })
}
