//! Streaming content digests: one pass over the bytes feeds SHA-256 (the statement's `sha256`)
//! and BLAKE2b-512 (minisign's prehash), with memory that does not grow with the input.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::mpsc;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::diagnose::Diagnose;

/// A SHA-256 digest; displays and parses as 64 lowercase hex digits, serializes as that string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// The SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(sha2::Sha256::digest(bytes).into())
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({self})")
    }
}

/// A string that is not 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a sha256 digest (64 lowercase hex digits)")]
pub struct DigestParseError {
    /// The rejected text (truncated to 80 characters).
    pub value: String,
}

impl Diagnose for DigestParseError {}

impl FromStr for Sha256Digest {
    type Err = DigestParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DigestParseError {
            value: s.chars().take(80).collect(),
        };
        let bytes = s.as_bytes();
        if bytes.len() != 64 {
            return Err(err());
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            out[i] = (lower_hex_value(pair[0]).ok_or_else(err)? << 4)
                | lower_hex_value(pair[1]).ok_or_else(err)?;
        }
        Ok(Self(out))
    }
}

fn lower_hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Sha256Digest {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Sha256Digest".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A SHA-256 digest: 64 lowercase hex digits.",
            "type": "string",
            "pattern": "^[0-9a-f]{64}$"
        })
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The OCI digest, `sha256:<64 lowercase hex>`: descriptors, the cache, the lock file and every
/// comparison of them go through it.
///
/// It wraps [`Sha256Digest`] (the bare hex a statement signs) rather than being a second SHA-256
/// type: the two differ only by the algorithm prefix OCI writes, so a statement's `sha256` and a
/// descriptor's `digest` compare as values, never as formatted text. Serializes as that string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OciDigest(Sha256Digest);

/// The algorithm prefix of an [`OciDigest`]: the one place it is spelled.
const OCI_SHA256_PREFIX: &str = "sha256:";

impl OciDigest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256Digest::of(bytes))
    }

    /// The SHA-256 it names.
    pub fn sha256(&self) -> Sha256Digest {
        self.0
    }
}

impl From<Sha256Digest> for OciDigest {
    fn from(d: Sha256Digest) -> Self {
        Self(d)
    }
}

impl From<OciDigest> for Sha256Digest {
    fn from(d: OciDigest) -> Self {
        d.0
    }
}

impl fmt::Display for OciDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{OCI_SHA256_PREFIX}{}", self.0)
    }
}

impl fmt::Debug for OciDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OciDigest({self})")
    }
}

/// A string that is not `sha256:<64 lowercase hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not `sha256:<64 hex digits>`")]
pub struct OciDigestError {
    /// The rejected text (truncated to 80 characters).
    pub value: String,
}

impl Diagnose for OciDigestError {}

impl FromStr for OciDigest {
    type Err = OciDigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix(OCI_SHA256_PREFIX)
            .and_then(|hex| hex.parse().ok())
            .map(Self)
            .ok_or_else(|| OciDigestError {
                value: s.chars().take(80).collect(),
            })
    }
}

/// A digest written as text (a descriptor's, a lock pin's) names this digest: text that does
/// not parse names nothing.
impl PartialEq<str> for OciDigest {
    fn eq(&self, other: &str) -> bool {
        other.parse::<OciDigest>().is_ok_and(|d| d == *self)
    }
}

impl PartialEq<String> for OciDigest {
    fn eq(&self, other: &String) -> bool {
        *self == **other
    }
}

impl Serialize for OciDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for OciDigest {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OciDigest".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An OCI digest: `sha256:` and 64 lowercase hex digits.",
            "type": "string",
            "pattern": "^sha256:[0-9a-f]{64}$"
        })
    }
}

impl<'de> Deserialize<'de> for OciDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What one pass over some bytes yields: SHA-256, BLAKE2b-512 (the minisign prehash) and size.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ContentDigests {
    /// SHA-256 of the bytes.
    pub sha256: Sha256Digest,
    /// BLAKE2b-512 of the bytes: what a prehashed (`ED`) minisign signature signs.
    pub blake2b: [u8; 64],
    /// Number of bytes.
    pub size: u64,
}

impl fmt::Debug for ContentDigests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentDigests")
            .field("sha256", &self.sha256)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl ContentDigests {
    /// Digests of an in-memory buffer.
    pub fn of(bytes: &[u8]) -> Self {
        let mut hasher = ContentHasher::new();
        hasher.update(bytes);
        hasher.finalize()
    }
}

/// Incremental hasher for callers that stream bytes themselves (e.g. a download).
#[derive(Clone, Default)]
pub struct ContentHasher {
    sha256: Sha256Hasher,
    blake2b: PrehashHasher,
}

impl fmt::Debug for ContentHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentHasher")
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

impl ContentHasher {
    /// A hasher that has seen no bytes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        self.blake2b.update(bytes);
    }

    /// Bytes fed so far.
    pub fn size(&self) -> u64 {
        self.sha256.size()
    }

    /// The digests of everything fed.
    pub fn finalize(self) -> ContentDigests {
        let (sha256, size) = self.sha256.finalize();
        ContentDigests {
            sha256,
            blake2b: self.blake2b.finalize(),
            size,
        }
    }
}

/// The SHA-256 half of [`ContentHasher`] (with the byte count), for pipelines that run the two
/// halves on separate threads, as [`hash_reader`] and the registry's downloads do.
#[derive(Clone, Default)]
pub struct Sha256Hasher {
    inner: sha2::Sha256,
    size: u64,
}

impl fmt::Debug for Sha256Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sha256Hasher")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Sha256Hasher {
    /// Feeds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.inner.update(bytes);
        self.size += bytes.len() as u64;
    }

    /// Bytes fed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The SHA-256 and the byte count of everything fed.
    pub fn finalize(self) -> (Sha256Digest, u64) {
        (Sha256Digest(self.inner.finalize().into()), self.size)
    }
}

/// The BLAKE2b-512 half of [`ContentHasher`]: minisign's prehash.
#[derive(Clone)]
pub struct PrehashHasher(blake2b_simd::State);

impl Default for PrehashHasher {
    fn default() -> Self {
        Self(blake2b_state())
    }
}

impl fmt::Debug for PrehashHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrehashHasher").finish_non_exhaustive()
    }
}

impl PrehashHasher {
    /// Feeds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The BLAKE2b-512 of everything fed.
    pub fn finalize(self) -> [u8; 64] {
        *self.0.finalize().as_array()
    }
}

fn blake2b_state() -> blake2b_simd::State {
    blake2b_simd::Params::new().hash_length(64).to_state()
}

/// A file that could not be read, with its path.
#[derive(Debug, thiserror::Error)]
#[error("cannot read `{}`", path.display())]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

impl Diagnose for ReadError {}

/// Digests of a file, read once in large chunks (see [`hash_reader`]).
pub fn hash_file(path: &Path) -> Result<ContentDigests, ReadError> {
    let wrap = |source| ReadError {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(wrap)?;
    hash_reader(file).map_err(wrap)
}

/// Size of one read; big reads keep syscalls and channel hand-offs rare.
const CHUNK: usize = 1 << 20;
/// Chunks in flight between the reader and the BLAKE2b thread; bounds memory to a few MiB.
const IN_FLIGHT: usize = 4;

/// Digests of everything `reader` yields, read once.
///
/// SHA-256 and BLAKE2b-512 cost about the same per byte and cannot be parallelized within one
/// stream, so they run side by side: this thread reads and feeds SHA-256 while a second thread
/// feeds BLAKE2b-512 the same chunks (shared, not copied). At most `IN_FLIGHT + 2` chunks exist at
/// once, so memory stays flat whatever the input size.
pub fn hash_reader<R: Read>(mut reader: R) -> io::Result<ContentDigests> {
    let (to_blake, from_reader) = mpsc::sync_channel::<Arc<Vec<u8>>>(IN_FLIGHT);
    let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let blake = scope.spawn(move || {
            let mut prehash = PrehashHasher::default();
            for chunk in from_reader {
                prehash.update(&chunk);
                if let Ok(buf) = Arc::try_unwrap(chunk) {
                    let _ = recycle.send(buf);
                }
            }
            prehash.finalize()
        });
        let mut sha256 = Sha256Hasher::default();
        let read_result = (|| -> io::Result<()> {
            let mut spare: Option<Vec<u8>> = None;
            loop {
                let mut buf = spare
                    .take()
                    .or_else(|| recycled.try_recv().ok())
                    .unwrap_or_else(|| vec![0u8; CHUNK]);
                buf.resize(CHUNK, 0);
                let n = read_full(&mut reader, &mut buf)?;
                if n == 0 {
                    return Ok(());
                }
                buf.truncate(n);
                let chunk = Arc::new(buf);
                if to_blake.send(Arc::clone(&chunk)).is_err() {
                    return Err(io::Error::other("the hashing thread stopped"));
                }
                sha256.update(chunk.as_slice());
                spare = Arc::try_unwrap(chunk).ok();
                if n < CHUNK {
                    return Ok(());
                }
            }
        })();
        drop(to_blake);
        let blake2b = blake
            .join()
            .map_err(|_| io::Error::other("the hashing thread panicked"))?;
        read_result?;
        let (sha256, size) = sha256.finalize();
        Ok(ContentDigests {
            sha256,
            blake2b,
            size,
        })
    })
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_digests_parse_display_and_compare() {
        let hex = "ab".repeat(32);
        let d: OciDigest = format!("sha256:{hex}").parse().unwrap();
        assert_eq!(d.to_string(), format!("sha256:{hex}"));
        assert_eq!(d.sha256().to_string(), hex);
        assert_eq!(Sha256Digest::from(d), d.sha256());
        assert!(d == format!("sha256:{hex}"));
        assert!(d != hex);
        assert!(d != format!("sha256:{}", "AB".repeat(32)));
        for bad in ["", "sha256:", "sha512:00", &hex, &format!("sha256:{hex}0")] {
            assert!(bad.parse::<OciDigest>().is_err(), "{bad}");
        }
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"sha256:{hex}\""));
        assert_eq!(serde_json::from_str::<OciDigest>(&json).unwrap(), d);
        assert!(serde_json::from_str::<OciDigest>("\"sha256:x\"").is_err());
    }

    #[test]
    fn digest_hex_round_trips_and_rejects_near_misses() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let digest: Sha256Digest = hex.parse().unwrap();
        assert_eq!(digest, Sha256Digest::of(b""));
        assert_eq!(digest.to_string(), hex);
        assert!(hex.to_uppercase().parse::<Sha256Digest>().is_err());
        assert!(hex[1..].parse::<Sha256Digest>().is_err());
        assert!(format!("{hex}0").parse::<Sha256Digest>().is_err());
        assert!(format!("g{}", &hex[1..]).parse::<Sha256Digest>().is_err());
        let json = serde_json::to_string(&digest).unwrap();
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(serde_json::from_str::<Sha256Digest>(&json).unwrap(), digest);
    }

    #[test]
    fn threaded_reader_matches_incremental_hasher_at_chunk_edges() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let threaded = hash_reader(&data[..]).unwrap();
            let mut hasher = ContentHasher::new();
            for piece in data.chunks(7919) {
                hasher.update(piece);
            }
            assert_eq!(threaded, hasher.finalize(), "len {len}");
            assert_eq!(threaded.size, len as u64);
        }
    }

    #[test]
    fn known_answers() {
        let d = ContentDigests::of(b"abc");
        assert_eq!(
            d.sha256.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // BLAKE2b-512("abc") from RFC 7693 appendix A.
        assert_eq!(&d.blake2b[..4], &[0xba, 0x80, 0xa5, 0x3f]);
    }

    #[test]
    fn read_errors_surface() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        assert!(hash_reader(Failing).is_err());
        let err = hash_file(Path::new("/nonexistent/zkelf")).unwrap_err();
        assert_eq!(err.path, Path::new("/nonexistent/zkelf"));
    }
}
