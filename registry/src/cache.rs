//! A content-addressed blob cache (`blobs/sha256/<hex>`, an OCI layout's blob tree) shared by
//! concurrent pulls: a per-digest lock file serializes fetching one blob, and blobs are added
//! by atomic rename, so a reader never sees a partial blob. Cached bytes are re-hashed on every
//! use; a corrupt entry is dropped and fetched again.

use std::path::{Path, PathBuf};

use crate::digest::OciDigest;
use crate::fsutil::{self, FileLock};
use crate::store::layout::LayoutStore;

/// The cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// A cache rooted at `dir` (created on first use).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The cache's root.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the blob with `digest` is kept.
    pub fn blob_path(&self, digest: &OciDigest) -> PathBuf {
        self.dir
            .join("blobs")
            .join("sha256")
            .join(digest.sha256().to_string())
    }

    /// Whether a blob of this digest and size is present.
    pub fn contains(&self, digest: &OciDigest, size: u64) -> bool {
        std::fs::metadata(self.blob_path(digest)).is_ok_and(|m| m.len() == size)
    }

    /// The cache read as a store (its blob tree has the OCI layout's shape).
    pub fn as_store(&self) -> LayoutStore {
        LayoutStore::new(self.dir.clone())
    }

    /// Holds the lock for fetching `digest` until the guard is dropped. The cache's own
    /// directories must not be links (or anything but directories): the cache is not followed
    /// elsewhere.
    pub async fn lock(&self, digest: &OciDigest) -> std::io::Result<FileLock> {
        fsutil::check_own_dirs(&self.dir, &["blobs", "blobs/sha256", "locks"])?;
        let hex = digest.sha256();
        fsutil::acquire_lock(self.dir.join("locks").join(format!("{hex}.lock"))).await
    }

    /// Adds a verified file as the blob `digest` (copied, fsynced, then given its name).
    pub fn insert(&self, digest: &OciDigest, from: &std::fs::File) -> std::io::Result<()> {
        fsutil::atomic_copy(from, &self.blob_path(digest))
    }

    /// Drops a blob that failed its check.
    pub fn evict(&self, digest: &OciDigest) {
        let _ = std::fs::remove_file(self.blob_path(digest));
    }
}
