//! `zkelf keygen`: a minisign key pair, encrypted with scrypt unless asked otherwise.

use std::path::Path;

use anyhow::Context as _;
use zkelf_trust::keys::{self, Password};

use crate::args::trust::KeygenArgs;
use crate::error::{ExitStatus, UsageError};
use crate::printer::Printer;
use crate::reports::trust::KeygenReport;

use super::shared::files::persist_atomically;
use super::shared::keys::{env_password, prompt_password};

/// Runs `zkelf keygen`.
pub fn keygen(args: KeygenArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    if !is_plain_file_name(&args.name) {
        return Err(UsageError::new(
            format!("key name `{}` is not a plain file name", args.name),
            "use letters, digits, `.`, `_` and `-`",
        )
        .into());
    }
    let public_path = args.out.join(format!("{}.pub", args.name));
    let secret_path = args.out.join(format!("{}.key", args.name));
    refuse_existing(&[&public_path, &secret_path])?;

    let password = if args.unencrypted {
        None
    } else {
        Some(new_password(args.password_file.as_deref())?)
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create directory `{}`", args.out.display()))?;
    if password.is_some() {
        printer.info("deriving a key from the password (scrypt)…");
    }
    let pair = keys::generate(password.as_ref())?;

    // Secret key first: if the public key cannot be written, remove the secret key we created so
    // the directory is as it was.
    persist_atomically(&secret_path, pair.secret_text.as_bytes(), 0o600, false)?;
    if let Err(err) = persist_atomically(&public_path, pair.public_text.as_bytes(), 0o644, false) {
        let _ = std::fs::remove_file(&secret_path);
        return Err(err);
    }
    printer.info(format!(
        "wrote `{}` and `{}`; keep the secret key secret",
        public_path.display(),
        secret_path.display()
    ));
    printer.report(&KeygenReport {
        public_key: public_path,
        secret_key: secret_path,
        key_id: pair.public.id(),
        public: pair.public.to_base64(),
        encrypted: password.is_some(),
    })?;
    Ok(ExitStatus::Success)
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn refuse_existing(paths: &[&Path]) -> anyhow::Result<()> {
    for path in paths {
        if path.symlink_metadata().is_ok() {
            return Err(UsageError::new(
                format!(
                    "`{}` already exists; refusing to overwrite a key",
                    path.display()
                ),
                "choose another `--name` or `--out`, or move the old key away first",
            )
            .into());
        }
    }
    Ok(())
}

/// The password for a new key: `--password-file`, `ZKELF_PASSWORD`, or asked twice on the tty.
fn new_password(password_file: Option<&Path>) -> anyhow::Result<Password> {
    let password = if let Some(file) = password_file {
        Password::from_file(file)?
    } else if let Some(password) = env_password() {
        password
    } else {
        let first = prompt_password("password for the new secret key: ")?;
        let second = prompt_password("the same password again: ")?;
        if first.expose() != second.expose() {
            return Err(UsageError::new(
                "the two passwords differ",
                "type the same password twice",
            )
            .into());
        }
        first
    };
    if password.is_empty() {
        return Err(UsageError::new(
            "the password is empty",
            "give a password, or pass `--unencrypted` for a throwaway key",
        )
        .into());
    }
    Ok(password)
}
