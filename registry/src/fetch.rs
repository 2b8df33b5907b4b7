//! Bounded, hashed, retried downloads.
//!
//! Bytes are counted as they arrive and the transfer stops as soon as it passes the
//! descriptor's size; two worker threads hash (SHA-256 and the file write on one, BLAKE2b on the
//! other) while the next chunk is received, so memory stays flat and the runtime is never
//! blocked by hashing. Connection errors, timeouts and 5xx are retried with
//! backoff, resuming with `Range` where the store allows it.

use std::fs::File;
use std::io::{Seek as _, Write as _};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use zkelf_trust::digest::{ContentDigests, PrehashHasher, Sha256Digest, Sha256Hasher};

use crate::artifact::Descriptor;
use crate::digest::OciDigest;
use crate::error::{Error, VerificationError};
use crate::progress::Reporter;
use crate::store::{Store, StoreError};

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff; doubled on each retry.
    pub backoff: Duration,
    /// How long reading an artifact's attestations may take in all, listing included: those
    /// not read by then do not count and are reported as not read.
    pub attestation_budget: Duration,
}

/// Default of [`RetryPolicy::attestation_budget`] (`--attestation-timeout`): 60 s.
pub const DEFAULT_ATTESTATION_BUDGET: Duration = Duration::from_secs(60);

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 3,
            backoff: Duration::from_millis(250),
            attestation_budget: DEFAULT_ATTESTATION_BUDGET,
        }
    }
}

impl RetryPolicy {
    fn delay(&self, attempt: u32) -> Duration {
        (self.backoff * 2u32.saturating_pow(attempt)).min(Duration::from_secs(8))
    }
}

/// Runs `op` again on transient store errors.
pub(crate) async fn with_retries<T, F, Fut>(
    policy: RetryPolicy,
    reporter: &dyn Reporter,
    what: &str,
    mut op: F,
) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Err(e) if e.is_transient() && attempt < policy.retries => {
                reporter.note(&format!("retrying {what} after: {e}"));
                tokio::time::sleep(policy.delay(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// `what` with the descriptor's digest, unless it names it already (`the ELF `sha256:…``).
fn named(what: &str, descriptor: &Descriptor) -> String {
    let digest = descriptor.digest.to_string();
    if what.contains(&digest) {
        what.to_owned()
    } else {
        format!("{what} (`{digest}`)")
    }
}

/// Fetches a small blob whole: at most `limit` bytes, never more than its descriptor says, and
/// only if it hashes to the descriptor's digest.
pub async fn fetch_small(
    store: &dyn Store,
    descriptor: &Descriptor,
    limit: u64,
    what: &str,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<Vec<u8>, Error> {
    if descriptor.size > limit {
        return Err(VerificationError::TooLarge {
            what: format!(
                "{what} (`{}`, {} bytes)",
                descriptor.digest, descriptor.size
            ),
            limit,
        }
        .into());
    }
    let bound = descriptor.size;
    let bytes = with_retries(retry, reporter, what, || async {
        let blob = store.open_blob(descriptor, 0).await?;
        Ok(crate::store::read_bounded(blob.stream, bound)
            .await?
            .map_err(|_| ()))
    })
    .await
    .map_err(|e| store_failure(e, what))?
    .map_err(|()| VerificationError::Overlong {
        what: format!("{} from `{}`", named(what, descriptor), store.id()),
        size: bound,
    })?;
    if (bytes.len() as u64) < descriptor.size {
        return Err(VerificationError::Truncated {
            what: format!("{} from `{}`", named(what, descriptor), store.id()),
            size: descriptor.size,
            received: bytes.len() as u64,
        }
        .into());
    }
    let actual = OciDigest::of(&bytes);
    if actual != descriptor.digest {
        return Err(VerificationError::DigestMismatch {
            what: format!("{what} from `{}`", store.id()),
            expected: descriptor.digest,
            actual,
        }
        .into());
    }
    Ok(bytes)
}

/// A store failure as a fetch reports it: a digest mismatch is a verification failure that
/// names what the caller fetched, not only the blob's digest.
fn store_failure(e: StoreError, what: &str) -> Error {
    match e {
        StoreError::Digest {
            store,
            expected,
            actual,
            ..
        } => VerificationError::DigestMismatch {
            what: format!("{what} from `{store}`"),
            expected,
            actual,
        }
        .into(),
        other => other.into(),
    }
}

#[derive(Clone)]
enum Chunk {
    Data(Bytes),
    /// The store restarted from byte 0: drop what was written and hashed.
    Restart,
}

/// A blob whose digest and size were checked against its descriptor as it arrived: the only
/// way [`fetch_large`] hands bytes back.
#[derive(Debug)]
pub struct VerifiedBlob {
    /// Digests of the bytes (the SHA-256 is the descriptor's).
    pub digests: ContentDigests,
    /// The sink, holding exactly those bytes.
    pub file: Option<File>,
}

/// What arrived for a descriptor that [`measure`] only hashed.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Digests of what arrived.
    pub digests: ContentDigests,
    /// Whether they are the descriptor's digest and size.
    pub matches: bool,
}

/// Streams a blob into `sink` (or only hashes it when `sink` is `None`), stopping at the
/// descriptor's size, and returns it only if its digest and size are the descriptor's: a
/// mismatch is [`VerificationError::DigestMismatch`] naming `what`.
pub async fn fetch_large(
    store: &dyn Store,
    descriptor: &Descriptor,
    what: &str,
    sink: Option<File>,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<VerifiedBlob, Error> {
    let (digests, file) = stream_hashed(store, descriptor, what, sink, retry, reporter).await?;
    if !descriptor.describes(&digests) {
        return Err(VerificationError::DigestMismatch {
            what: format!("{what} from `{}`", store.id()),
            expected: descriptor.digest,
            actual: OciDigest::from(digests.sha256),
        }
        .into());
    }
    Ok(VerifiedBlob { digests, file })
}

/// Hashes a blob without keeping it, and says whether it is what its descriptor names:
/// `inspect` reports a mismatch instead of refusing, and no bytes leave this function.
pub async fn measure(
    store: &dyn Store,
    descriptor: &Descriptor,
    what: &str,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<Measured, Error> {
    let (digests, _) = stream_hashed(store, descriptor, what, None, retry, reporter).await?;
    Ok(Measured {
        digests,
        matches: descriptor.describes(&digests),
    })
}

async fn stream_hashed(
    store: &dyn Store,
    descriptor: &Descriptor,
    what: &str,
    sink: Option<File>,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<(ContentDigests, Option<File>), Error> {
    let (tx, workers) = spawn_hashers(sink);
    reporter.start(what, Some(descriptor.size));
    let result = receive(store, descriptor, what, &tx, retry, reporter).await;
    drop(tx);
    reporter.finish(what);
    let joined = workers.join().await;
    match (result, joined) {
        // A writer failure (disk full) shows as a closed channel on the receiving side.
        (_, Err(source)) => Err(Error::Io {
            path: what.into(),
            source,
        }),
        (Err(e), _) => Err(e),
        (Ok(()), Ok(done)) => Ok(done),
    }
}

async fn receive(
    store: &dyn Store,
    descriptor: &Descriptor,
    what: &str,
    tx: &Fanout,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<(), Error> {
    let mut received = 0u64;
    let mut attempt = 0u32;
    loop {
        let failure = match store.open_blob(descriptor, received).await {
            Err(e) => e,
            Ok(blob) => {
                if blob.offset != received {
                    received = 0;
                    tx.send(Chunk::Restart)
                        .await
                        .map_err(|()| worker_gone(what))?;
                }
                let mut stream = blob.stream;
                let mut failure = None;
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(bytes) => {
                            received += bytes.len() as u64;
                            if received > descriptor.size {
                                return Err(VerificationError::Overlong {
                                    what: format!(
                                        "{} from `{}`",
                                        named(what, descriptor),
                                        store.id()
                                    ),
                                    size: descriptor.size,
                                }
                                .into());
                            }
                            tx.send(Chunk::Data(bytes))
                                .await
                                .map_err(|()| worker_gone(what))?;
                            reporter.progress(what, received);
                        }
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                }
                // The body ended where the store said it would (a dropped connection is an
                // error from the client, retried below): the store holds a shorter blob.
                let ended = matches!(failure, None | Some(StoreError::Digest { .. }));
                if ended && received < descriptor.size {
                    return Err(VerificationError::Truncated {
                        what: format!("{} from `{}`", named(what, descriptor), store.id()),
                        size: descriptor.size,
                        received,
                    }
                    .into());
                }
                match failure {
                    None => return Ok(()),
                    Some(e) => e,
                }
            }
        };
        if !failure.is_transient() || attempt >= retry.retries {
            return Err(store_failure(failure, what));
        }
        reporter.note(&format!(
            "retrying {what} from byte {received} after: {failure}"
        ));
        tokio::time::sleep(retry.delay(attempt)).await;
        attempt += 1;
    }
}

fn worker_gone(what: &str) -> Error {
    Error::Io {
        path: what.into(),
        source: std::io::Error::other("the writer stopped"),
    }
}

/// Sends each chunk to both hashing threads (`Bytes` clones share the buffer).
struct Fanout {
    sha: tokio::sync::mpsc::Sender<Chunk>,
    blake: tokio::sync::mpsc::Sender<Chunk>,
}

impl Fanout {
    async fn send(&self, chunk: Chunk) -> Result<(), ()> {
        self.blake.send(chunk.clone()).await.map_err(|_| ())?;
        self.sha.send(chunk).await.map_err(|_| ())
    }
}

type ShaResult = std::io::Result<(Sha256Digest, u64, Option<File>)>;

struct Workers {
    sha: tokio::task::JoinHandle<ShaResult>,
    blake: tokio::task::JoinHandle<[u8; 64]>,
}

impl Workers {
    async fn join(self) -> std::io::Result<(ContentDigests, Option<File>)> {
        let (sha256, size, file) = self.sha.await.map_err(std::io::Error::other)??;
        let blake2b = self.blake.await.map_err(std::io::Error::other)?;
        Ok((
            ContentDigests {
                sha256,
                blake2b,
                size,
            },
            file,
        ))
    }
}

/// The digests `zkelf_trust::digest::ContentHasher` computes, its two halves on two threads as
/// `zkelf_trust::digest::hash_reader` does: SHA-256 (with the file write) on one, BLAKE2b-512 on
/// the other. One thread doing both is the bottleneck of a pull (SPEC §7's performance target);
/// the `matches_content_hasher` test keeps the two in agreement.
fn spawn_hashers(sink: Option<File>) -> (Fanout, Workers) {
    let (sha_tx, mut sha_rx) = tokio::sync::mpsc::channel::<Chunk>(16);
    let (blake_tx, mut blake_rx) = tokio::sync::mpsc::channel::<Chunk>(16);
    let sha = tokio::task::spawn_blocking(move || -> ShaResult {
        let mut sink = sink;
        let flusher = sink
            .as_ref()
            .and_then(|f| f.try_clone().ok())
            .map(Flusher::spawn);
        let mut hasher = Sha256Hasher::default();
        let mut unflushed = 0u64;
        while let Some(chunk) = sha_rx.blocking_recv() {
            match chunk {
                Chunk::Data(bytes) => {
                    hasher.update(&bytes);
                    if let Some(f) = sink.as_mut() {
                        f.write_all(&bytes)?;
                        unflushed += bytes.len() as u64;
                        if unflushed >= FLUSH_EVERY {
                            unflushed = 0;
                            if let Some(flusher) = &flusher {
                                flusher.kick();
                            }
                        }
                    }
                }
                Chunk::Restart => {
                    hasher = Sha256Hasher::default();
                    if let Some(f) = sink.as_mut() {
                        f.set_len(0)?;
                        f.rewind()?;
                    }
                }
            }
        }
        if let Some(flusher) = flusher {
            flusher.finish();
        }
        let (sha256, size) = hasher.finalize();
        Ok((sha256, size, sink))
    });
    let blake = tokio::task::spawn_blocking(move || {
        let mut prehash = PrehashHasher::default();
        while let Some(chunk) = blake_rx.blocking_recv() {
            match chunk {
                Chunk::Data(bytes) => prehash.update(&bytes),
                Chunk::Restart => prehash = PrehashHasher::default(),
            }
        }
        prehash.finalize()
    });
    (
        Fanout {
            sha: sha_tx,
            blake: blake_tx,
        },
        Workers { sha, blake },
    )
}

/// Bytes written between two writeback kicks.
const FLUSH_EVERY: u64 = 32 << 20;

/// Pushes written pages to disk while the download goes on, so the fsync before the rename has
/// little left to do (it is otherwise the longest step of a large pull).
struct Flusher {
    kick: std::sync::mpsc::SyncSender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Flusher {
    fn spawn(file: File) -> Self {
        let (kick, kicks) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::spawn(move || {
            while kicks.recv().is_ok() {
                // Best effort: the caller's `sync_all` before the rename is what counts.
                let _ = file.sync_data();
            }
        });
        Self { kick, thread }
    }

    fn kick(&self) {
        // A kick while a flush runs is redundant: that flush or the next covers it.
        let _ = self.kick.try_send(());
    }

    fn finish(self) {
        drop(self.kick);
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::progress::NoReporter;
    use crate::store::layout::LayoutStore;

    fn layout_with_blob(bytes: &[u8]) -> (tempfile::TempDir, LayoutStore, Descriptor) {
        let dir = tempfile::tempdir().unwrap();
        let d = Descriptor::of("application/octet-stream", bytes);
        let path = dir.path().join("blobs/sha256").join(d.hex());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        let store = LayoutStore::new(dir.path().to_path_buf());
        (dir, store, d)
    }

    #[tokio::test]
    async fn small_blobs_are_bounded_and_digest_checked() {
        let (dir, store, d) = layout_with_blob(b"a signature");
        let ok = fetch_small(&store, &d, 64, "sig", RetryPolicy::default(), &NoReporter)
            .await
            .unwrap();
        assert_eq!(ok, b"a signature");

        let err = fetch_small(&store, &d, 4, "sig", RetryPolicy::default(), &NoReporter)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Verification(VerificationError::TooLarge { limit: 4, .. })
            ),
            "{err}"
        );

        // The store holds more bytes than the descriptor says: cut off at the descriptor's size.
        let short = Descriptor::new(&d.media_type, d.digest, 3);
        let err = fetch_small(
            &store,
            &short,
            64,
            "sig",
            RetryPolicy::default(),
            &NoReporter,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Verification(VerificationError::Overlong { size: 3, .. })
            ),
            "{err}"
        );

        let wrong = Descriptor::new(
            &d.media_type,
            format!("sha256:{}", "0".repeat(64)).parse().unwrap(),
            d.size,
        );
        std::fs::copy(
            dir.path().join("blobs/sha256").join(d.hex()),
            dir.path().join("blobs/sha256").join(wrong.hex()),
        )
        .unwrap();
        let err = fetch_small(
            &store,
            &wrong,
            64,
            "sig",
            RetryPolicy::default(),
            &NoReporter,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Verification(VerificationError::DigestMismatch { .. })
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn large_blobs_stop_at_the_descriptor_size() {
        let data = vec![7u8; 600_000];
        let (_dir, store, d) = layout_with_blob(&data);
        let blob = fetch_large(&store, &d, "elf", None, RetryPolicy::default(), &NoReporter)
            .await
            .unwrap();
        assert_eq!(blob.digests, ContentDigests::of(&data));
        let short = Descriptor::new(&d.media_type, d.digest, 1000);
        let err = fetch_large(
            &store,
            &short,
            "elf",
            None,
            RetryPolicy::default(),
            &NoReporter,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Verification(VerificationError::Overlong { size: 1000, .. })
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_blob_shorter_than_its_descriptor_is_truncated_not_retried() {
        let data = vec![7u8; 600_000];
        let (_dir, store, d) = layout_with_blob(&data);
        let long = Descriptor::new(&d.media_type, d.digest, d.size + 1);
        let err = fetch_large(
            &store,
            &long,
            "elf",
            None,
            RetryPolicy::default(),
            &NoReporter,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Verification(VerificationError::Truncated {
                    received: 600_000,
                    ..
                })
            ),
            "{err}"
        );
        let err = fetch_small(
            &store,
            &long,
            1 << 20,
            "sig",
            RetryPolicy::default(),
            &NoReporter,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Verification(VerificationError::Truncated {
                    received: 600_000,
                    ..
                })
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn matches_content_hasher() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (tx, workers) = spawn_hashers(None);
        tx.send(Chunk::Data(Bytes::from_static(b"garbage before a restart")))
            .await
            .unwrap();
        tx.send(Chunk::Restart).await.unwrap();
        for chunk in data.chunks(4096) {
            tx.send(Chunk::Data(Bytes::copy_from_slice(chunk)))
                .await
                .unwrap();
        }
        drop(tx);
        let (digests, _) = workers.join().await.unwrap();
        assert_eq!(digests, ContentDigests::of(&data));
    }
}
