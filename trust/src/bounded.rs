//! Reading a local input file whole, within a bound: a file larger than its bound is an error,
//! never a prefix, and `/dev/zero` or a huge file cannot exhaust memory.

use std::io::Read as _;
use std::path::Path;

use crate::diagnose::Diagnose;

/// Largest trust policy (`policy.toml`) read.
pub const MAX_POLICY_LEN: u64 = 1 << 20;
/// Largest builder manifest (`zkelf.toml`) read.
pub const MAX_MANIFEST_LEN: u64 = 1 << 20;
/// Largest lock file (`zkelf.lock`) read.
pub const MAX_LOCK_FILE_LEN: u64 = 4 << 20;
/// Largest rollback state (`rollback.json`) read.
pub const MAX_STATE_LEN: u64 = 4 << 20;
/// Largest `Cargo.toml` of a guest's workspace read.
pub const MAX_CARGO_TOML_LEN: u64 = 1 << 20;
/// Largest `Cargo.lock` read (ere-guests' stateless validators lock 300–400 crates in
/// about 100 KiB).
pub const MAX_CARGO_LOCK_LEN: u64 = 16 << 20;

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
    /// The path is not a regular file (a FIFO would block the read for ever, a device never
    /// end).
    #[error("it is {0}, not a regular file")]
    NotRegular(FileKind),
}

impl Diagnose for BoundedReadError {}

/// What a path that is not a regular file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FileKind {
    /// A directory.
    #[error("a directory")]
    Directory,
    /// A named pipe.
    #[error("a FIFO")]
    Fifo,
    /// A character or block device.
    #[error("a device")]
    Device,
    /// A socket.
    #[error("a socket")]
    Socket,
    /// A symbolic link, where one is not followed ([`read_no_follow`]).
    #[error("a symbolic link")]
    Symlink,
    /// Anything else.
    #[error("something else")]
    Other,
}

impl Diagnose for FileKind {}

impl FileKind {
    /// What a file of type `kind` is, or `None` for a regular file.
    pub fn of(kind: std::fs::FileType) -> Option<Self> {
        use std::os::unix::fs::FileTypeExt as _;
        Some(if kind.is_file() {
            return None;
        } else if kind.is_dir() {
            FileKind::Directory
        } else if kind.is_fifo() {
            FileKind::Fifo
        } else if kind.is_char_device() || kind.is_block_device() {
            FileKind::Device
        } else if kind.is_socket() {
            FileKind::Socket
        } else {
            FileKind::Other
        })
    }
}

impl From<BoundedReadError> for std::io::Error {
    /// An I/O error as such; a bound or a file that is not regular as an `InvalidInput` error
    /// that says so.
    fn from(err: BoundedReadError) -> Self {
        match err {
            BoundedReadError::Io(e) => e,
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
        }
    }
}

impl BoundedReadError {
    /// Whether the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, BoundedReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Opens `path` for reading if it is a regular file (symbolic links followed), with its size.
/// The open does not wait: `O_NONBLOCK` keeps a FIFO from blocking until a writer comes, and
/// changes nothing for a regular file.
pub fn open_regular(path: &Path) -> Result<(std::fs::File, u64), BoundedReadError> {
    open(path, rustix::fs::OFlags::NONBLOCK)
}

/// Like [`open_regular`], but `path` itself must not be a symbolic link: for a file of a tree
/// that someone else may have written (a cache entry), hashed as the file it is.
pub fn open_no_follow(path: &Path) -> Result<(std::fs::File, u64), BoundedReadError> {
    open(
        path,
        rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOFOLLOW,
    )
}

fn open(path: &Path, flags: rustix::fs::OFlags) -> Result<(std::fs::File, u64), BoundedReadError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
    {
        Ok(file) => file,
        // `O_NOFOLLOW` on a link: ELOOP.
        Err(e)
            if flags.contains(rustix::fs::OFlags::NOFOLLOW)
                && e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) =>
        {
            return Err(BoundedReadError::NotRegular(FileKind::Symlink));
        }
        Err(e) => return Err(e.into()),
    };
    let meta = file.metadata()?;
    match FileKind::of(meta.file_type()) {
        Some(kind) => Err(BoundedReadError::NotRegular(kind)),
        None => Ok((file, meta.len())),
    }
}

/// Reads `path` whole if it is a regular file of at most `limit` bytes.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, BoundedReadError> {
    let (file, len) = open_regular(path)?;
    read_open(file, len, limit)
}

fn read_open(file: std::fs::File, len: u64, limit: u64) -> Result<Vec<u8>, BoundedReadError> {
    if len > limit {
        return Err(BoundedReadError::TooLarge { limit });
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(BoundedReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Like [`read`], but `path` itself must not be a symbolic link: for files of a tree mounted
/// into a container (`Cargo.toml`, `Cargo.lock`), where a link out of the tree would read
/// one file on the host and find another, or none, in the container.
pub fn read_no_follow(path: &Path, limit: u64) -> Result<Vec<u8>, BoundedReadError> {
    let (file, len) = open_no_follow(path)?;
    read_open(file, len, limit)
}

/// Like [`read`] for text: bytes that are not UTF-8 are an `InvalidData` I/O error.
pub fn read_to_string(path: &Path, limit: u64) -> Result<String, BoundedReadError> {
    read(path, limit).and_then(into_text)
}

/// Bytes read by [`read`] or [`read_no_follow`] as text: not UTF-8 is an `InvalidData` I/O
/// error.
pub fn into_text(bytes: Vec<u8>) -> Result<String, BoundedReadError> {
    String::from_utf8(bytes).map_err(|_| {
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
        assert_eq!(zero.to_string(), "it is a device, not a regular file");
        let dir_err = read(dir.path(), MAX_POLICY_LEN).unwrap_err();
        assert_eq!(dir_err.to_string(), "it is a directory, not a regular file");
        // A FIFO nobody writes to: refused at once, not waited on.
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let err = read(&fifo, 9).unwrap_err();
        assert!(
            matches!(err, BoundedReadError::NotRegular(FileKind::Fifo)),
            "{err}"
        );
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert_eq!(read(&link, 10).unwrap().len(), 10);
        assert_eq!(read_no_follow(&path, 10).unwrap().len(), 10);
        let err = read_no_follow(&link, 10).unwrap_err();
        assert_eq!(err.to_string(), "it is a symbolic link, not a regular file");
    }
}
