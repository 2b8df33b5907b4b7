//! `SOURCE_DATE_EPOCH`: the one parser, used by every command that stamps a time.

use anyhow::Context as _;

use crate::env::EnvVars;
use crate::error::UsageError;

/// `SOURCE_DATE_EPOCH` when set (reproducible builds): unix seconds. A value that is not a
/// number of seconds (or not UTF-8) is a usage error naming the variable and the value.
pub(crate) fn source_date_epoch() -> anyhow::Result<Option<u64>> {
    let Some(value) = std::env::var_os(EnvVars::SOURCE_DATE_EPOCH) else {
        return Ok(None);
    };
    let parsed = value.to_str().and_then(|v| v.trim().parse::<u64>().ok());
    match parsed {
        Some(seconds) => Ok(Some(seconds)),
        None => Err(UsageError::new(
            format!(
                "`{}` is `{}`, not a number of seconds",
                EnvVars::SOURCE_DATE_EPOCH,
                value.to_string_lossy()
            ),
            "set it to unix seconds (e.g. `git log -1 --format=%ct`) or unset it",
        )
        .into()),
    }
}

/// The `created` of something made now: `SOURCE_DATE_EPOCH` when set, else the clock.
pub(crate) fn created_now() -> anyhow::Result<u64> {
    if let Some(epoch) = source_date_epoch()? {
        return Ok(epoch);
    }
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_secs())
}
