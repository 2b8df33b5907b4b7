//! An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/`), as skopeo's
//! `oci:` transport reads and writes it: tags are `org.opencontainers.image.ref.name`
//! annotations on `index.json` entries.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use super::{BlobSource, BlobStream, ProtocolViolation, Store, StoreError, StoreId, StoreKind};
use crate::artifact::{self, Descriptor};
use crate::digest::OciDigest;
use crate::fsutil::{self, FileLock};
use crate::reference::Target;

const LAYOUT_FILE: &str = "oci-layout";
const LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
const CHUNK: usize = 256 << 10;

/// Largest `index.json` read: the bound of a manifest or index from a registry.
pub const MAX_INDEX_SIZE: u64 = artifact::MAX_MANIFEST_SIZE;

/// An OCI layout's `index.json`, kept as JSON so that entries and fields written by other tools
/// survive a rewrite; public only for the fuzz target (`fuzz/`), which reads it as the store does.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutIndex(serde_json::Value);

impl Default for LayoutIndex {
    /// The index of a new layout: no entries yet.
    fn default() -> Self {
        Self(serde_json::json!({"schemaVersion": 2}))
    }
}

impl LayoutIndex {
    /// Parses `index.json`: any JSON. Where zkelf needs a shape (an object, a `manifests` list,
    /// a digest), it is checked where it is used.
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes).map(Self)
    }

    /// The JSON to write.
    pub fn to_vec(&self) -> Vec<u8> {
        serde_json::to_vec(&self.0).unwrap_or_default()
    }

    /// The tags the entries answer to (`org.opencontainers.image.ref.name`), in order.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.0["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["annotations"][artifact::REF_NAME].as_str())
    }

    /// The digest, as written, of the last entry that answers to `tag`; `None` when no entry
    /// does or that entry names none.
    pub fn tagged(&self, tag: &str) -> Option<&str> {
        self.0["manifests"]
            .as_array()?
            .iter()
            .rev()
            .find(|e| e["annotations"][artifact::REF_NAME].as_str() == Some(tag))
            .and_then(|e| e["digest"].as_str())
    }

    /// Makes `tag` answer to `descriptor` alone: the entries that answered to it are dropped,
    /// every other entry and field stays as it was.
    pub fn tag(&mut self, descriptor: &Descriptor, tag: &str) -> Result<(), ProtocolViolation> {
        let obj = self
            .0
            .as_object_mut()
            .ok_or(ProtocolViolation::IndexNotAnObject)?;
        obj.entry("mediaType")
            .or_insert_with(|| artifact::INDEX_MEDIA_TYPE.into());
        let list = obj
            .entry("manifests")
            .or_insert_with(|| serde_json::json!([]))
            .as_array_mut()
            .ok_or(ProtocolViolation::IndexWithoutManifests)?;
        list.retain(|entry| entry["annotations"][artifact::REF_NAME].as_str() != Some(tag));
        let mut entry = descriptor.clone();
        entry
            .annotations
            .insert(artifact::REF_NAME.to_owned(), tag.to_owned());
        list.push(serde_json::to_value(&entry).unwrap_or_default());
        Ok(())
    }
}

/// An OCI image layout directory.
#[derive(Debug, Clone)]
pub struct LayoutStore {
    dir: PathBuf,
    id: StoreId,
}

impl LayoutStore {
    /// The layout at `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Self {
        Self {
            id: StoreId::from(StoreKind::Layout(dir.clone())),
            dir,
        }
    }

    /// `blobs/sha256/<hex>`: a typed digest cannot name a path outside it.
    fn blob_path(&self, digest: &OciDigest) -> PathBuf {
        self.dir
            .join("blobs")
            .join("sha256")
            .join(digest.sha256().to_string())
    }

    fn io(&self, path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Opens a file of the layout for reading, with its size: `None` when it is missing, an
    /// error when it is not a regular file. `O_NONBLOCK` keeps the open of a FIFO from waiting
    /// for a writer; it changes nothing for a regular file.
    fn open_regular(&self, path: &Path) -> Result<Option<(std::fs::File, u64)>, StoreError> {
        use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io(path, e)),
        };
        let meta = file.metadata().map_err(|e| self.io(path, e))?;
        let kind = meta.file_type();
        if !kind.is_file() {
            return Err(StoreError::NotAFile {
                path: path.to_path_buf(),
                kind: if kind.is_dir() {
                    "a directory"
                } else if kind.is_fifo() {
                    "a FIFO"
                } else if kind.is_char_device() || kind.is_block_device() {
                    "a device"
                } else if kind.is_socket() {
                    "a socket"
                } else {
                    "something else"
                },
            });
        }
        Ok(Some((file, meta.len())))
    }

    fn read_index(&self) -> Result<Option<LayoutIndex>, StoreError> {
        use std::io::Read as _;
        let path = self.dir.join("index.json");
        let Some((file, len)) = self.open_regular(&path)? else {
            return Ok(None);
        };
        let too_large = || StoreError::FileTooLarge {
            path: path.clone(),
            what: "an OCI layout's `index.json`",
            limit: MAX_INDEX_SIZE,
        };
        if len > MAX_INDEX_SIZE {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        file.take(MAX_INDEX_SIZE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.io(&path, e))?;
        if bytes.len() as u64 > MAX_INDEX_SIZE {
            return Err(too_large());
        }
        LayoutIndex::parse(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Protocol {
                store: self.id().clone(),
                violation: ProtocolViolation::IndexJson {
                    path: path.clone(),
                    source,
                },
            })
    }

    fn ensure_layout(&self) -> Result<(), StoreError> {
        let path = self.dir.join(LAYOUT_FILE);
        if !path.exists() {
            fsutil::atomic_write(&path, LAYOUT_CONTENT).map_err(|e| self.io(&path, e))?;
        }
        Ok(())
    }

    /// Tags `descriptor` in `index.json` (dropping what the tag named before), keeping every
    /// other entry and field as it was so layouts written by other tools survive.
    fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<(), StoreError> {
        let lock_path = self.dir.join(".zkelf-index.lock");
        let _lock = FileLock::acquire(&lock_path).map_err(|e| self.io(&lock_path, e))?;
        let mut index = self.read_index()?.unwrap_or_default();
        index
            .tag(descriptor, tag)
            .map_err(|violation| StoreError::Protocol {
                store: self.id().clone(),
                violation,
            })?;
        let path = self.dir.join("index.json");
        fsutil::atomic_write(&path, &index.to_vec()).map_err(|e| self.io(&path, e))
    }

    fn write_blob(&self, descriptor: &Descriptor, source: &BlobSource) -> Result<(), StoreError> {
        let path = self.blob_path(&descriptor.digest);
        match source {
            BlobSource::Bytes(bytes) => {
                fsutil::atomic_write(&path, bytes).map_err(|e| self.io(&path, e))
            }
            BlobSource::File(from) => {
                let file = std::fs::File::open(from).map_err(|e| self.io(from, e))?;
                fsutil::atomic_copy(&file, &path).map_err(|e| self.io(&path, e))
            }
        }
    }
}

impl Store for LayoutStore {
    fn tags(&self, limit: usize) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            let Some(index) = self.read_index()? else {
                return Ok(Vec::new());
            };
            Ok(super::release_tags(index.tags().map(str::to_owned), limit))
        })
    }

    fn id(&self) -> &StoreId {
        &self.id
    }

    fn get_manifest<'a>(
        &'a self,
        target: &'a Target,
    ) -> BoxFuture<'a, Result<Option<Bytes>, StoreError>> {
        Box::pin(async move {
            let digest = match target {
                Target::Digest(d) => *d,
                Target::Tag(tag) => {
                    let Some(index) = self.read_index()? else {
                        return Ok(None);
                    };
                    let Some(found) = index.tagged(tag) else {
                        return Ok(None);
                    };
                    found
                        .parse::<OciDigest>()
                        .map_err(|_| StoreError::Protocol {
                            store: self.id().clone(),
                            violation: ProtocolViolation::TagDigest {
                                tag: tag.clone(),
                                digest: found.to_owned(),
                            },
                        })?
                }
            };
            let what = match target {
                Target::Digest(_) => format!("manifest `{digest}`"),
                Target::Tag(tag) => format!("manifest `{digest}` (tag `{tag}`)"),
            };
            let path = self.blob_path(&digest);
            let Some((file, len)) = self.open_regular(&path)? else {
                return Ok(None);
            };
            let too_large = || StoreError::TooLarge {
                store: self.id().clone(),
                what: what.clone(),
                limit: artifact::MAX_MANIFEST_SIZE,
            };
            if len > artifact::MAX_MANIFEST_SIZE {
                return Err(too_large());
            }
            let mut bytes = Vec::new();
            tokio::fs::File::from_std(file)
                .take(artifact::MAX_MANIFEST_SIZE + 1)
                .read_to_end(&mut bytes)
                .await
                .map_err(|e| self.io(&path, e))?;
            if bytes.len() as u64 > artifact::MAX_MANIFEST_SIZE {
                return Err(too_large());
            }
            // `index.json` names the manifest by digest: a file that is not those bytes is not it.
            let actual = OciDigest::of(&bytes);
            if actual != digest {
                return Err(StoreError::Digest {
                    store: self.id().clone(),
                    what,
                    expected: digest,
                    actual,
                });
            }
            Ok(Some(Bytes::from(bytes)))
        })
    }

    fn put_manifest<'a>(
        &'a self,
        bytes: &'a [u8],
        media_type: &'a str,
        tag: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let this = self.clone();
            let bytes = bytes.to_vec();
            let media_type = media_type.to_owned();
            let tag = tag.map(str::to_owned);
            tokio::task::spawn_blocking(move || {
                this.ensure_layout()?;
                let mut descriptor = Descriptor::of(&media_type, &bytes);
                if let Ok(artifact::Fetched::Manifest(m)) =
                    artifact::parse(&bytes, descriptor.digest)
                {
                    descriptor.artifact_type = m.artifact_type;
                } else if let Ok(artifact::Fetched::Index(i)) =
                    artifact::parse(&bytes, descriptor.digest)
                {
                    descriptor.artifact_type = i.artifact_type;
                }
                this.write_blob(&descriptor, &BlobSource::Bytes(Bytes::from(bytes)))?;
                if let Some(tag) = tag {
                    this.tag(&descriptor, &tag)?;
                }
                Ok(())
            })
            .await
            .map_err(|e| StoreError::Protocol {
                store: self.id().clone(),
                violation: ProtocolViolation::Writer(e),
            })?
        })
    }

    fn has_blob<'a>(
        &'a self,
        descriptor: &'a Descriptor,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            Ok(tokio::fs::metadata(self.blob_path(&descriptor.digest))
                .await
                .is_ok_and(|m| m.len() == descriptor.size))
        })
    }

    fn put_blob<'a>(
        &'a self,
        descriptor: &'a Descriptor,
        source: BlobSource,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let this = self.clone();
            let descriptor = descriptor.clone();
            tokio::task::spawn_blocking(move || {
                this.ensure_layout()?;
                this.write_blob(&descriptor, &source)
            })
            .await
            .map_err(|e| StoreError::Protocol {
                store: self.id().clone(),
                violation: ProtocolViolation::Writer(e),
            })?
        })
    }

    fn open_blob<'a>(
        &'a self,
        descriptor: &'a Descriptor,
        offset: u64,
    ) -> BoxFuture<'a, Result<BlobStream, StoreError>> {
        Box::pin(async move {
            let path = self.blob_path(&descriptor.digest);
            let Some((file, _)) = self.open_regular(&path)? else {
                return Err(StoreError::NotFound {
                    store: self.id().clone(),
                    what: format!("blob `{}`", descriptor.digest),
                });
            };
            let mut file = tokio::fs::File::from_std(file);
            if offset > 0 {
                file.seek(std::io::SeekFrom::Start(offset))
                    .await
                    .map_err(|e| self.io(&path, e))?;
            }
            let (store, what) = (self.id().clone(), format!("blob `{}`", descriptor.digest));
            let stream = futures_util::TryStreamExt::map_err(file_stream(file), move |e| {
                StoreError::Connect {
                    store: store.clone(),
                    what: what.clone(),
                    https_only: false,
                    source: Box::new(e),
                }
            });
            Ok(BlobStream {
                offset,
                stream: stream.boxed(),
            })
        })
    }
}

/// Streams a file in fixed-size chunks.
pub(crate) fn file_stream(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send {
    futures_util::stream::try_unfold(file, |mut file| async move {
        let mut buf = vec![0u8; CHUNK];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), file)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_written_by_other_tools_survive_a_rewrite() {
        // Found by the `layout_index` fuzz target: serde_json's default float parsing is not
        // correctly rounded, so a number read as a float (past `u64`, or with a fraction) was
        // written back one unit in the last place off.
        let text = br#"{"schemaVersion":2,"manifests":[],"x.example/n":55555555555555555555555555555555555555555555555555555555555555555555555555,"x.example/f":1.0715660391465826e-75}"#;
        let mut index = LayoutIndex::parse(text).unwrap();
        assert_eq!(
            index.0["x.example/n"].as_f64(),
            Some(5.555_555_555_555_556e73)
        );
        assert_eq!(
            index.0["x.example/f"].as_f64(),
            Some(1.0715660391465826e-75)
        );
        let descriptor = Descriptor::of(artifact::MANIFEST_MEDIA_TYPE, b"{}");
        index.tag(&descriptor, "v1").unwrap();
        assert_eq!(LayoutIndex::parse(&index.to_vec()).unwrap(), index);
    }

    #[tokio::test]
    async fn tagging_keeps_entries_and_fields_written_by_other_tools() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = r#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":7,"platform":{"os":"linux","architecture":"amd64"},"annotations":{"org.opencontainers.image.ref.name":"other"}}]}"#;
        std::fs::write(dir.path().join("index.json"), foreign).unwrap();
        let store = LayoutStore::new(dir.path().to_path_buf());
        let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
        store
            .put_manifest(manifest, artifact::MANIFEST_MEDIA_TYPE, Some("v1"))
            .await
            .unwrap();
        store
            .put_manifest(manifest, artifact::MANIFEST_MEDIA_TYPE, Some("v1"))
            .await
            .unwrap();
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        let entries = index["manifests"].as_array().unwrap();
        assert_eq!(entries.len(), 2, "{index}");
        assert_eq!(entries[0]["platform"]["os"], "linux");
        assert_eq!(
            store
                .get_manifest(&Target::Tag("v1".into()))
                .await
                .unwrap()
                .unwrap()
                .as_ref(),
            manifest
        );
        assert!(
            store
                .get_manifest(&Target::Tag("v2".into()))
                .await
                .unwrap()
                .is_none()
        );
        assert!(dir.path().join("oci-layout").exists());
    }
}
