//! `zkelf builder base`, `zkelf builder image` and `zkelf builder toolbox`.

use zkelf_builder::BuildOptions;
use zkelf_builder::base::{BaseOptions, bootstrap_base, find_base};
use zkelf_builder::image::{build_builder_image, ensure_builder_image};
use zkelf_builder::toolbox::{self, Spec};

use super::shared::dirs::{builder_cache_dir, builder_trust_dir};
use super::shared::engine;
use super::shared::epoch::source_date_epoch;
use super::shared::reporters::BuildReporter;
use crate::args::build::BuilderCommand;
use crate::error::ExitStatus;
use crate::printer::Printer;
use crate::reports::build::{BaseReport, ImageReport, ToolboxEntry, ToolboxReport};

/// Runs `zkelf builder …`.
pub async fn builder(command: BuilderCommand, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let engine = engine().await?;
    let reporter = BuildReporter::new(printer);
    match command {
        BuilderCommand::Base(args) => {
            let existing = match args.force {
                true => None,
                false => find_base(&engine, &args.suite).await?,
            };
            if let Some(base) = existing {
                printer.info(format!(
                    "{} exists; `--force` bootstraps it again",
                    base.tag
                ));
                printer.report(&BaseReport {
                    base,
                    created: false,
                })?;
                return Ok(ExitStatus::Success);
            }
            let options = BaseOptions {
                mirror: args.mirror,
                suite: args.suite,
                source_date_epoch: source_date_epoch()?,
            };
            let base = bootstrap_base(&engine, &options, &reporter).await?;
            printer.report(&BaseReport {
                base,
                created: true,
            })?;
        }
        BuilderCommand::Image(args) => {
            let base = find_base(&engine, &args.suite).await?.ok_or(
                zkelf_builder::BuilderError::BaseImageMissing {
                    tag: zkelf_builder::base::base_tag(&args.suite),
                },
            )?;
            let image = build_builder_image(&engine, &base, &reporter).await?;
            printer.report(&ImageReport { image })?;
        }
        BuilderCommand::Toolbox(args) => {
            let image = ensure_builder_image(&engine, &args.suite, &reporter).await?;
            let options = BuildOptions {
                cache_dir: builder_cache_dir(),
                trust_dir: builder_trust_dir(),
                suite: args.suite,
                ..BuildOptions::default()
            };
            let specs: Vec<&'static Spec> = match args.zkvms.is_empty() {
                true => toolbox::SPECS.iter().collect(),
                false => args
                    .zkvms
                    .iter()
                    .map(|z| Spec::for_zkvm(z))
                    .collect::<Result<_, _>>()?,
            };
            let mut toolboxes = Vec::new();
            for spec in specs {
                let built = toolbox::ensure(&engine, &image, spec, &options, &reporter).await?;
                toolboxes.push(ToolboxEntry::of(&built));
            }
            printer.report(&ToolboxReport { toolboxes })?;
        }
    }
    Ok(ExitStatus::Success)
}
