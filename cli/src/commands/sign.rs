//! `zkelf sign`: a prehashed minisign signature whose trusted comment is the statement.

use std::path::Path;

use anyhow::Context as _;
use zkelf_trust::digest::hash_file;
use zkelf_trust::elf;
use zkelf_trust::name::NAME_GRAMMAR;
use zkelf_trust::signature;
use zkelf_trust::statement::{Kind, Statement};

use super::shared::epoch::created_now;
use super::shared::files::{check_vk, hash_blob, persist_atomically, sibling_with_suffix};
use super::shared::keys::load_secret_key;
use super::shared::pins::version_arg;
use crate::args::trust::SignArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::Printer;
use crate::reports::trust::SignReport;

/// Runs `zkelf sign`.
pub fn sign(args: SignArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let version = version_arg(&args.version)?;
    // Refused here, not when publishing: a signed version must name tags a store can hold.
    zkelf_registry::artifact::check_taggable(&version, &args.zkvm)?;
    let target = if args.zkvm == NATIVE {
        native_target(&args.elf, args.target.as_deref())?
    } else {
        guest_target(&args.elf, args.target.as_deref())?
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| sibling_with_suffix(&args.elf, ".minisig"));
    if same_file(&output, &args.elf) {
        return Err(UsageError::new(
            format!("`--output {}` is the ELF itself", output.display()),
            "write the signature next to it, e.g. `<elf>.minisig` (the default)",
        )
        .into());
    }
    let created = created_now()?;
    let secret = load_secret_key(&args.key, args.password_file.as_deref())?;

    printer.info(format!("hashing `{}`…", args.elf.display()));
    let digests = hash_file(&args.elf)?;
    let provenance = args.provenance.as_deref().map(hash_blob).transpose()?;
    let vk = args
        .vk
        .as_deref()
        .map(|vk| check_vk(&args.elf, vk))
        .transpose()?;
    let statement = Statement {
        kind: Kind::Release,
        guest: args.guest,
        version,
        zkvm: args.zkvm,
        target,
        sha256: digests.sha256,
        size: digests.size,
        provenance,
        vk,
        builder: None,
        created,
    };
    let signature = signature::sign(&secret, &digests, &statement).map_err(|err| {
        UsageError::new(
            format!("cannot sign `{}`: {err}", args.elf.display()),
            format!("guest and zkvm names match `{NAME_GRAMMAR}`; the target is a triple such as `riscv32im-unknown-none-elf`"),
        )
    })?;
    // As minisign does: check the new signature before writing it, so a fault cannot publish
    // a signature that does not verify.
    signature
        .verify_prehashed(&secret.public_key(), &digests.blake2b)
        .context("the new signature does not verify; nothing was written")?;
    persist_atomically(&output, signature.to_string().as_bytes(), 0o644, true)?;
    printer.report(&SignReport {
        elf: args.elf,
        signature: output,
        key_id: secret.id(),
        trusted_comment: signature.trusted_comment().to_string(),
        statement,
    })?;
    Ok(ExitStatus::Success)
}

/// The target a guest is signed for, from its header: a RISC-V ELF, or a RISC Zero program
/// binary (the user ELF wrapped with the kernel, which is what RISC Zero's executor and image
/// id take, so it is what gets signed).
/// The zkVM label of a program that runs on a host CPU, not in a zkVM: zkelf's own release
/// binary (`scripts/dist`, docs/spec-notes.md). Its ELF is not RISC-V, so its target is given.
const NATIVE: &str = "native";

/// The target of a `native` program: `--target`, for a file that is an ELF.
fn native_target(path: &Path, target: Option<&str>) -> anyhow::Result<String> {
    let Some(target) = target else {
        return Err(UsageError::new(
            "`--zkvm native` needs `--target`",
            "name the triple the binary was built for, e.g. `--target x86_64-unknown-linux-musl`",
        )
        .into());
    };
    let mut head = Vec::with_capacity(4);
    std::fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 4), &mut head))
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    if head != b"\x7fELF" {
        return Err(UsageError::new(
            format!("`{}` is not an ELF file", path.display()),
            "`--zkvm native` signs a program built for a host, such as zkelf's own release binary",
        )
        .into());
    }
    Ok(target.to_owned())
}

fn guest_target(path: &Path, target: Option<&str>) -> anyhow::Result<String> {
    let mut head = Vec::with_capacity(4);
    std::fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 4), &mut head))
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    if !zkelf_zkvm::risc0::is_program_binary(&head) {
        let class = elf::riscv_class(path)?;
        return Ok(elf::resolve_target(path, class, target)?);
    }
    let program =
        std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let user = zkelf_zkvm::risc0::user_elf(&program).with_context(|| {
        format!(
            "`{}` starts like a RISC Zero program binary",
            path.display()
        )
    })?;
    let class = elf::riscv_class_of(user, path)?;
    match target {
        None if class == elf::ElfClass::Elf32 => Ok(RISC0_TARGET.to_string()),
        Some(RISC0_TARGET) if class == elf::ElfClass::Elf32 => Ok(RISC0_TARGET.to_string()),
        _ => Err(UsageError::new(
            format!(
                "`{}` is a RISC Zero program binary ({class} user ELF), which runs only on `{RISC0_TARGET}`",
                path.display()
            ),
            format!("omit `--target`, or give `--target {RISC0_TARGET}`"),
        )
        .into()),
    }
}

/// The one target RISC Zero program binaries are built for.
const RISC0_TARGET: &str = "riscv32im-risc0-zkvm-elf";

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
