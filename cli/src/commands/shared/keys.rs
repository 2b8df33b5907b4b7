//! Keys and passwords: how every command reads what it signs with, and the public key it
//! trusts. `--key` of the trusting commands is a `.pub` file or the bare base64 line, as zkboost
//! and release pages write keys, in `verify`, `pull`, `inspect`, `import` and `publish` alike.

use std::io::IsTerminal as _;
use std::path::Path;

use anyhow::Context as _;
use zkelf_trust::keys::{Password, PublicKey, SecretKey, SecretKeyFile};

use crate::env::EnvVars;
use crate::error::UsageError;

/// `ZKELF_PASSWORD`, if set.
pub(crate) fn env_password() -> Option<Password> {
    std::env::var_os(EnvVars::ZKELF_PASSWORD)
        .map(|value| Password::new(value.to_string_lossy().into_owned()))
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
    } else if let Some(password) = env_password() {
        Some(password)
    } else {
        Some(prompt_password(&format!(
            "password for `{}`: ",
            path.display()
        ))?)
    };
    Ok(file.unlock(password.as_ref())?)
}

/// `--key`: the public key file if one exists at that path, else the base64 line itself
/// (`RW…`, surrounding whitespace ignored).
pub(crate) fn public_key(key: &str) -> anyhow::Result<PublicKey> {
    let path = Path::new(key);
    if path.exists() {
        return Ok(PublicKey::from_file(path)?);
    }
    PublicKey::from_base64(key.trim()).map_err(|_| {
        UsageError::new(
            format!("`--key {key}` is neither a public key file nor a minisign public key"),
            "give a `.pub` file or its base64 line (`RW…`, the second line of the file)",
        )
        .into()
    })
}
