//! Pins and versions given on the command line: `--sha256`, `--vk-sha256`, `--version`.

use zkelf_trust::digest::Sha256Digest;

use crate::args::dist::PinArgs;
use crate::error::UsageError;

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

/// The pins `--sha256` and `--vk-sha256`.
pub(crate) fn pins(args: &PinArgs) -> anyhow::Result<(Option<Sha256Digest>, Option<Sha256Digest>)> {
    Ok((
        optional_sha256("--sha256", args.sha256.as_deref())?,
        optional_sha256("--vk-sha256", args.vk_sha256.as_deref())?,
    ))
}

/// A `--version` flag: semver.
pub(crate) fn version_arg(text: &str) -> Result<semver::Version, UsageError> {
    semver::Version::parse(text).map_err(|err| {
        UsageError::new(
            format!("`{text}` is not a semantic version: {err}"),
            "versions look like `1.2.3` or `1.2.3-rc.1`",
        )
    })
}

/// An optional `--version` flag.
pub(crate) fn optional_version(text: Option<&str>) -> Result<Option<semver::Version>, UsageError> {
    text.map(version_arg).transpose()
}
