//! Bounded, hashed, retried downloads.
//!
//! Bytes are counted as they arrive and the transfer stops as soon as it passes the
//! descriptor's size; a worker thread hashes (SHA-256 and BLAKE2b in one pass through
//! `ContentHasher`) and writes while the next chunk is received, so memory stays flat and the
//! runtime is never blocked by hashing. Connection errors, timeouts and 5xx are retried with
//! backoff, resuming with `Range` where the store allows it.

use std::fs::File;
use std::io::{Seek as _, Write as _};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use zkelf_trust::digest::{ContentDigests, ContentHasher};

use crate::artifact::{self, Descriptor};
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
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 3,
            backoff: Duration::from_millis(250),
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
            what: format!("{what} (`{}`, {} bytes)", descriptor.digest, descriptor.size),
            limit,
        }
        .into());
    }
    let bound = descriptor.size;
    let bytes = with_retries(retry, reporter, what, || async {
        let blob = store.open_blob(descriptor, 0).await?;
        match crate::store::read_bounded(blob.stream, bound).await {
            Ok(Ok(bytes)) => Ok(Ok(bytes)),
            Ok(Err(_)) => Ok(Err(())),
            Err(e) => Err(unwrap_io(e, store, what)),
        }
    })
    .await?
    .map_err(|()| VerificationError::TooLarge {
        what: format!("{what} (`{}`)", descriptor.digest),
        limit: bound,
    })?;
    let actual = artifact::sha256_digest(&bytes);
    if actual != descriptor.digest {
        return Err(VerificationError::DigestMismatch {
            what: what.to_owned(),
            expected: descriptor.digest.clone(),
            actual,
        }
        .into());
    }
    Ok(bytes)
}

/// Recovers the store error carried by a stream's `io::Error`.
pub(crate) fn unwrap_io(e: std::io::Error, store: &dyn Store, what: &str) -> StoreError {
    let kind = e.kind();
    match e.into_inner() {
        Some(inner) => match inner.downcast::<StoreError>() {
            Ok(store_err) => *store_err,
            Err(other) => StoreError::Connect {
                store: store.name(),
                what: what.to_owned(),
                https_only: false,
                source: other,
            },
        },
        None => StoreError::Connect {
            store: store.name(),
            what: what.to_owned(),
            https_only: false,
            source: Box::new(std::io::Error::from(kind)),
        },
    }
}

enum Chunk {
    Data(Bytes),
    /// The store restarted from byte 0: drop what was written and hashed.
    Restart,
}

/// Streams a blob into `sink` (or only hashes it when `sink` is `None`), stopping at the
/// descriptor's size; returns the digests of what arrived. The caller compares digests.
pub async fn fetch_large(
    store: &dyn Store,
    descriptor: &Descriptor,
    what: &str,
    sink: Option<File>,
    retry: RetryPolicy,
    reporter: &dyn Reporter,
) -> Result<(ContentDigests, Option<File>), Error> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(16);
    let worker = tokio::task::spawn_blocking(move || -> std::io::Result<(ContentDigests, Option<File>)> {
        let mut sink = sink;
        let mut hasher = ContentHasher::new();
        while let Some(chunk) = rx.blocking_recv() {
            match chunk {
                Chunk::Data(bytes) => {
                    hasher.update(&bytes);
                    if let Some(f) = sink.as_mut() {
                        f.write_all(&bytes)?;
                    }
                }
                Chunk::Restart => {
                    hasher = ContentHasher::new();
                    if let Some(f) = sink.as_mut() {
                        f.set_len(0)?;
                        f.rewind()?;
                    }
                }
            }
        }
        Ok((hasher.finalize(), sink))
    });
    reporter.start(what, Some(descriptor.size));
    let result = receive(store, descriptor, what, &tx, retry, reporter).await;
    drop(tx);
    reporter.finish(what);
    let joined = worker.await.map_err(|e| Error::Io {
        path: what.into(),
        source: std::io::Error::other(e),
    })?;
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
    tx: &tokio::sync::mpsc::Sender<Chunk>,
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
                    tx.send(Chunk::Restart).await.map_err(|_| worker_gone(what))?;
                }
                let mut stream = blob.stream;
                let mut failure = None;
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(bytes) => {
                            received += bytes.len() as u64;
                            if received > descriptor.size {
                                return Err(VerificationError::TooLarge {
                                    what: format!("{what} (`{}`)", descriptor.digest),
                                    limit: descriptor.size,
                                }
                                .into());
                            }
                            tx.send(Chunk::Data(bytes)).await.map_err(|_| worker_gone(what))?;
                            reporter.progress(what, received);
                        }
                        Err(e) => {
                            failure = Some(unwrap_io(e, store, what));
                            break;
                        }
                    }
                }
                match failure {
                    None if received == descriptor.size => return Ok(()),
                    None => StoreError::Connect {
                        store: store.name(),
                        what: what.to_owned(),
                        https_only: false,
                        source: format!("the connection closed after {received} of {} bytes", descriptor.size)
                            .into(),
                    },
                    Some(e) => e,
                }
            }
        };
        if !failure.is_transient() || attempt >= retry.retries {
            return Err(failure.into());
        }
        reporter.note(&format!("retrying {what} from byte {received} after: {failure}"));
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
