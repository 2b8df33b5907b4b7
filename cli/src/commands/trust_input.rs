//! How every command reads what it trusts and pins: `--key` (a `.pub` file or the bare base64
//! line, as zkboost and release pages write keys), `--policy`, and `--sha256`-style pins.

use std::path::Path;

use zkelf_trust::digest::Sha256Digest;
use zkelf_trust::keys::PublicKey;
use zkelf_trust::policy::Policy;

use crate::error::UsageError;

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

/// A policy trusting exactly `--key` for releases of any guest.
pub(crate) fn key_policy(key: &str) -> anyhow::Result<Policy> {
    Ok(Policy::from_public_key(public_key(key)?))
}

/// A `--sha256`-style pin: 64 lowercase hex digits.
pub(crate) fn sha256_arg(flag: &str, hex: &str) -> Result<Sha256Digest, UsageError> {
    hex.parse::<Sha256Digest>().map_err(|err| {
        UsageError::new(
            format!("`{flag} {hex}`: {err}"),
            "give the 64 lowercase hex digits of the sha256 (as `sha256sum` prints it)",
        )
    })
}

/// An optional pin flag.
pub(crate) fn optional_sha256(
    flag: &str,
    hex: Option<&str>,
) -> Result<Option<Sha256Digest>, UsageError> {
    hex.map(|h| sha256_arg(flag, h)).transpose()
}

/// A `--version` flag: semver.
pub(crate) fn version_arg(text: Option<&str>) -> Result<Option<semver::Version>, UsageError> {
    text.map(|v| {
        semver::Version::parse(v).map_err(|err| {
            UsageError::new(
                format!("`--version {v}` is not a semantic version: {err}"),
                "versions look like `1.2.3`",
            )
        })
    })
    .transpose()
}
