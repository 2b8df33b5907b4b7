//! `zkelf sign`: a prehashed minisign signature whose trusted comment is the statement.

use std::io::{IsTerminal as _, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;
use zkelf_trust::digest::{Sha256Digest, hash_file};
use zkelf_trust::elf;
use zkelf_trust::keys::{KeyId, Password, SecretKey, SecretKeyFile};
use zkelf_trust::signature;
use zkelf_trust::statement::{Kind, Statement};

use crate::args::trust::SignArgs;
use crate::env::EnvVars;
use crate::error::{ExitStatus, UsageError};
use crate::printer::{Printer, Report};

/// What `sign` wrote.
#[derive(Debug, Serialize)]
struct SignReport {
    elf: PathBuf,
    signature: PathBuf,
    key_id: KeyId,
    statement: Statement,
    trusted_comment: String,
}

impl Report for SignReport {
    fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "signed `{}` with key {} into `{}`",
            self.elf.display(),
            self.key_id,
            self.signature.display()
        )?;
        super::verify::write_statement(out, &self.statement)
    }
}

/// Runs `zkelf sign`.
pub fn sign(args: SignArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let version = parse_version(&args.version)?;
    let target = guest_target(&args.elf, args.target.as_deref())?;
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
    let created = created_timestamp()?;
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
            "guest and zkvm names match `[a-z0-9][a-z0-9._-]{0,63}`; the target is a triple such as `riscv32im-unknown-none-elf`",
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

/// The VK's sha256, after checking it belongs to the guest where zkelf can derive it (a RISC
/// Zero image id): a wrong VK is refused before anything is signed.
pub(crate) fn check_vk(elf: &Path, vk: &Path) -> anyhow::Result<Sha256Digest> {
    let read = |path: &Path| {
        std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))
    };
    let key = read(vk)?;
    let file =
        std::fs::File::open(elf).with_context(|| format!("cannot read `{}`", elf.display()))?;
    zkelf_zkvm::check_vk_reader(file, &key).with_context(|| {
        format!(
            "`{}` is not the verification key of `{}`",
            vk.display(),
            elf.display()
        )
    })?;
    Ok(Sha256Digest::of(&key))
}

fn parse_version(version: &str) -> anyhow::Result<semver::Version> {
    semver::Version::parse(version).map_err(|err| {
        UsageError::new(
            format!("`{version}` is not a semantic version: {err}"),
            "versions look like `1.2.3` or `1.2.3-rc.1`",
        )
        .into()
    })
}

/// `SOURCE_DATE_EPOCH` when set (reproducible builds), else the clock.
fn created_timestamp() -> anyhow::Result<u64> {
    match std::env::var(EnvVars::SOURCE_DATE_EPOCH) {
        Ok(value) => value.trim().parse().map_err(|_| {
            UsageError::new(
                format!(
                    "`{}` is `{value}`, not a number of seconds",
                    EnvVars::SOURCE_DATE_EPOCH
                ),
                "set it to unix seconds (e.g. `git log -1 --format=%ct`) or unset it",
            )
            .into()
        }),
        Err(_) => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("the clock is before 1970")?
            .as_secs()),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// SHA-256 of a provenance or VK file.
pub(crate) fn hash_blob(path: &Path) -> anyhow::Result<Sha256Digest> {
    Ok(hash_file(path)?.sha256)
}

/// `path` with `suffix` appended to its file name (`fib.elf` → `fib.elf.minisig`).
pub(crate) fn sibling_with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Reads a secret key, asking for a password only if it is encrypted: `--password-file`, then
/// `ZKELF_PASSWORD`, then a prompt on the terminal.
pub(crate) fn load_secret_key(
    path: &Path,
    password_file: Option<&Path>,
) -> anyhow::Result<SecretKey> {
    let file = SecretKeyFile::read(path)?;
    let password = if !file.is_encrypted() {
        None
    } else if let Some(password_file) = password_file {
        Some(Password::from_file(password_file)?)
    } else if let Some(password) = super::keygen::env_password() {
        Some(password)
    } else {
        Some(prompt_password(&format!(
            "password for `{}`: ",
            path.display()
        ))?)
    };
    Ok(file.unlock(password.as_ref())?)
}

/// Asks for a password on the terminal without echo.
pub(crate) fn prompt_password(prompt: &str) -> anyhow::Result<Password> {
    if !std::io::stdin().is_terminal() {
        return Err(UsageError::new(
            "a password is needed and there is no terminal to ask for it",
            format!(
                "give it with `--password-file` or the `{}` environment variable",
                EnvVars::ZKELF_PASSWORD
            ),
        )
        .into());
    }
    let text = rpassword::prompt_password(prompt).context("cannot read the password")?;
    Ok(Password::new(text))
}

/// Writes `bytes` to `path` atomically (`zkelf_registry::fsutil::write_file`); with `!replace`, an
/// existing `path` is a usage error.
pub(crate) fn persist_atomically(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    replace: bool,
) -> anyhow::Result<()> {
    zkelf_registry::fsutil::write_file(path, bytes, mode, replace).map_err(|err| {
        if err.kind() == std::io::ErrorKind::AlreadyExists {
            UsageError::new(
                format!(
                    "`{}` already exists; refusing to overwrite it",
                    path.display()
                ),
                "remove it first or choose another path",
            )
            .into()
        } else {
            anyhow::Error::new(err).context(format!("cannot write `{}`", path.display()))
        }
    })
}
