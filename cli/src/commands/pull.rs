//! `zkelf pull`.

use zkelf_registry::Reference;
use zkelf_registry::pull::Output;

use super::shared::files::check_output_dir;
use super::shared::pulled::pull_verified;
use crate::args::dist::PullArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::Printer;
use crate::reports::dist::{PullReport, UNBOUND_WARNING, VkReport};
use crate::reports::verdict::Verdict;

/// Runs `zkelf pull`.
pub async fn pull(args: PullArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let reference: Reference = args.reference.parse()?;
    if let Some(output) = &args.output {
        check_output_dir("-o", output)?;
    }
    if let Some(vk_out) = &args.vk_out {
        check_output_dir("--vk-out", vk_out)?;
    }
    let output = match &args.output {
        Some(path) => Output::File(path.clone()),
        // `--vk-only`: the ELF is verified in memory and dropped.
        None => Output::Memory,
    };
    let failed = |e: &zkelf_registry::Error| {
        // Say what is true: nothing was written, unless the ELF could not be taken back.
        let what = match e.output_left() {
            Some(_) => "the VK was not written".to_owned(),
            None => {
                let written = [&args.output, &args.vk_out]
                    .into_iter()
                    .flatten()
                    .map(|p| format!("`{}`", p.display()))
                    .collect::<Vec<_>>()
                    .join(" or ");
                format!("nothing was written to {written}")
            }
        };
        format!("pull of `{reference}` failed; {what}")
    };
    let pulled = pull_verified(&args, &reference, output, printer, failed).await?;
    if args.vk_only && pulled.vk.as_ref().and_then(|v| v.path.as_ref()).is_none() {
        return Err(UsageError::new(
            format!("`{reference}` carries no verification key"),
            "pull the ELF with `-o`, or ask its publisher for a release with a `.vk`",
        )
        .into());
    }
    let s = pulled.statement.as_ref();
    let pinned_by =
        pulled.unbound().then(
            || match (args.pins.sha256.is_some(), pulled.pinned_sha256) {
                (true, _) => "sha256",
                (false, Some(_)) => "lock",
                (false, None) => "allow_unbound",
            },
        );
    if pulled.unbound() {
        printer.warn(UNBOUND_WARNING);
    }
    printer.report(&PullReport {
        reference: reference.to_string(),
        output: args.output,
        verdict: Verdict {
            verified: true,
            unbound: pulled.unbound(),
            pinned_by,
            statement: pulled.statement.clone(),
            signatures: pulled.signatures,
            attestations_not_read: pulled.resolved.attestations_not_read,
            attestations_out_of_time: pulled.resolved.attestations_out_of_time,
        },
        guest: s.map(|s| s.guest.clone()),
        version: s.map(|s| s.version.to_string()),
        zkvm: s.map(|s| s.zkvm.clone()),
        target: s.map(|s| s.target.clone()),
        sha256: pulled.elf.sha256,
        size: pulled.elf.size,
        manifest: pulled.resolved.manifest_digest,
        index: pulled.resolved.index_digest,
        from_cache: pulled.from_cache,
        pinned: pulled.pinned,
        vk: pulled.vk.as_ref().map(VkReport::of),
    })?;
    Ok(ExitStatus::Success)
}
