//! The OCI digest, `sha256:<64 lowercase hex>`, in one home: descriptors, the cache, the lock
//! file and every comparison go through it.
//!
//! It wraps `zkelf_trust::digest::Sha256Digest` (the bare hex a statement signs) rather than
//! being a second SHA-256 type: the two differ only by the algorithm prefix OCI writes, so a
//! statement's `sha256` and a descriptor's `digest` compare as values, never as formatted text.

use std::fmt;
use std::str::FromStr;

use zkelf_trust::digest::Sha256Digest;

/// `sha256:<64 lowercase hex digits>`; serializes as that string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OciDigest(Sha256Digest);

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

impl fmt::Display for OciDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.0)
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

impl FromStr for OciDigest {
    type Err = OciDigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix("sha256:")
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

impl serde::Serialize for OciDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for OciDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_displays_and_compares() {
        let hex = "ab".repeat(32);
        let d: OciDigest = format!("sha256:{hex}").parse().unwrap();
        assert_eq!(d.to_string(), format!("sha256:{hex}"));
        assert_eq!(d.sha256().to_string(), hex);
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
}
