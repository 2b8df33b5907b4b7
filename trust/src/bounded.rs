//! Reading a local input file whole, within a bound: a file larger than its bound is an error,
//! never a prefix, and `/dev/zero` or a huge file cannot exhaust memory.

use std::io::Read as _;
use std::path::Path;

/// Largest trust policy (`policy.toml`) read.
pub const MAX_POLICY_LEN: u64 = 1 << 20;
/// Largest builder manifest (`zkelf.toml`) read.
pub const MAX_MANIFEST_LEN: u64 = 1 << 20;
/// Largest lock file (`zkelf.lock`) read.
pub const MAX_LOCK_FILE_LEN: u64 = 4 << 20;
/// Largest rollback state (`rollback.json`) read.
pub const MAX_STATE_LEN: u64 = 4 << 20;

/// Why a bounded read failed.
#[derive(Debug, thiserror::Error)]
pub enum BoundedReadError {
    /// The file could not be opened or read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The file holds more than `limit` bytes.
    #[error("it is larger than {}", human(*limit))]
    TooLarge {
        /// The bound.
        limit: u64,
    },
}

impl BoundedReadError {
    /// Whether the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, BoundedReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Reads `path` whole if it holds at most `limit` bytes.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, BoundedReadError> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(BoundedReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Like [`read`] for text: bytes that are not UTF-8 are an `InvalidData` I/O error.
pub fn read_to_string(path: &Path, limit: u64) -> Result<String, BoundedReadError> {
    String::from_utf8(read(path, limit)?).map_err(|_| {
        BoundedReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "it is not UTF-8 text",
        ))
    })
}

/// `1 MiB (1048576 bytes)`, or plain bytes for bounds that are not whole MiB.
pub fn human(limit: u64) -> String {
    if limit >= 1 << 20 && limit.is_multiple_of(1 << 20) {
        format!("{} MiB ({limit} bytes)", limit >> 20)
    } else {
        format!("{limit} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_bound_and_refuses_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [b'a'; 10]).unwrap();
        assert_eq!(read(&path, 10).unwrap().len(), 10);
        let err = read(&path, 9).unwrap_err();
        assert!(matches!(err, BoundedReadError::TooLarge { limit: 9 }));
        assert_eq!(err.to_string(), "it is larger than 9 bytes");
        assert!(
            read(&dir.path().join("missing"), 9)
                .unwrap_err()
                .is_not_found()
        );
        let zero = read(Path::new("/dev/zero"), MAX_POLICY_LEN).unwrap_err();
        assert_eq!(zero.to_string(), "it is larger than 1 MiB (1048576 bytes)");
    }
}
