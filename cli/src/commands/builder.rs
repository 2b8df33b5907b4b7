//! `zkelf builder base` and `zkelf builder image`.

use std::io::Write;

use serde::Serialize;
use zkelf_builder::base::{BaseImage, BaseOptions, bootstrap_base, find_base};
use zkelf_builder::image::{BuilderImage, build_builder_image};

use super::shared::engine;
use super::shared::epoch::source_date_epoch;
use super::shared::reporters::BuildReporter;
use crate::args::build::BuilderCommand;
use crate::error::ExitStatus;
use crate::printer::{Printer, Report};

#[derive(Debug, Serialize)]
struct BaseReport {
    base: BaseImage,
    /// False when the image existed and nothing was done.
    created: bool,
}

impl Report for BaseReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "{} {}", self.base.tag, self.base.id)?;
        writeln!(out, "rootfs sha256:{}", self.base.rootfs_sha256)
    }
}

#[derive(Debug, Serialize)]
struct ImageReport {
    image: BuilderImage,
}

impl Report for ImageReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let image = &self.image;
        writeln!(out, "{} {}", image.tag, image.id)?;
        writeln!(out, "Dockerfile.builder sha256:{}", image.dockerfile_sha256)?;
        writeln!(
            out,
            "base {} rootfs sha256:{}",
            image.base.id, image.base.rootfs_sha256
        )?;
        writeln!(
            out,
            "{}",
            image.toolchain.rustc.lines().next().unwrap_or_default()
        )
    }
}

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
    }
    Ok(ExitStatus::Success)
}
