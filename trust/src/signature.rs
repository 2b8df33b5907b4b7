//! Minisign signatures (`.minisig`): strict parsing, prehashed signing, verification.
//!
//! Verification uses ed25519-compact over the BLAKE2b-512 prehash that [`crate::digest`] already
//! computed in its single pass: the `minisign` and `minisign-verify` crates only verify by hashing
//! the data themselves (a second full read, with a slower BLAKE2b), so they are not used here.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::diagnose::{Diagnose, Outcome};
use crate::digest::ContentDigests;
use crate::keys::{KeyId, PublicKey, SecretKey};
use crate::statement::{Statement, StatementError};

/// Largest `.minisig` accepted (SPEC §7 bounds a signature to 16 KiB).
pub const MAX_SIGNATURE_LEN: usize = 16 * 1024;
/// Prehashed Ed25519 over BLAKE2b-512 of the data.
const ALG_PREHASHED: [u8; 2] = *b"ED";
/// Legacy Ed25519 over the data itself.
const ALG_LEGACY: [u8; 2] = *b"Ed";
const UNTRUSTED_PREFIX: &str = "untrusted comment: ";
const TRUSTED_PREFIX: &str = "trusted comment: ";

/// A parsed minisign signature.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    untrusted_comment: String,
    prehashed: bool,
    key_id: KeyId,
    signature: [u8; 64],
    trusted_comment: String,
    global_signature: [u8; 64],
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signature")
            .field("key_id", &self.key_id)
            .field("prehashed", &self.prehashed)
            .field("trusted_comment", &self.trusted_comment)
            .finish_non_exhaustive()
    }
}

/// A `.minisig` that could not be read or is not a minisign signature.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// The file could not be read.
    #[error("cannot read signature `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not a minisign signature.
    #[error("signature `{}` is not a minisign signature: {reason}", origin.display())]
    Malformed {
        /// The file, or `<inline>`.
        origin: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
}

impl Diagnose for SignatureError {
    /// A signature that was read but is not one fails verification; one that cannot be read is
    /// an I/O error.
    fn outcome(&self) -> Outcome {
        match self {
            SignatureError::Malformed { .. } => Outcome::VerificationFailed,
            SignatureError::Read { .. } => Outcome::Error,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            SignatureError::Read { .. } => {
                Some("give the signature's path with `--sig` (default `<elf>.minisig`)".into())
            }
            SignatureError::Malformed { .. } => Some(
                "a `.minisig` has four lines: untrusted comment, signature, trusted comment, global signature"
                    .into(),
            ),
        }
    }
}

impl Diagnose for SignatureCheckError {}

/// Why a signature does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureCheckError {
    /// The signature names another key.
    #[error("signature was made by key `{signed}`, not `{key}`")]
    OtherKey {
        /// The key id in the signature.
        signed: KeyId,
        /// The key tried.
        key: KeyId,
    },
    /// The signature over the data does not verify.
    #[error("signature by key `{key}` does not match the bytes")]
    Data {
        /// The key.
        key: KeyId,
    },
    /// The signature over the trusted comment does not verify.
    #[error("trusted comment signed by key `{key}` has been altered")]
    TrustedComment {
        /// The key.
        key: KeyId,
    },
}

impl Signature {
    /// Parses the text of a `.minisig` file strictly: four lines, an optional final newline.
    pub fn parse(text: &str) -> Result<Signature, SignatureError> {
        Self::parse_from(text, Path::new("<inline>"))
    }

    /// Reads and parses a `.minisig` file (at most [`MAX_SIGNATURE_LEN`] bytes).
    pub fn from_file(path: &Path) -> Result<Signature, SignatureError> {
        let read = |source| SignatureError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read)?;
        let mut bytes = Vec::new();
        file.take(MAX_SIGNATURE_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(read)?;
        Self::parse_bytes(&bytes, path)
    }

    /// Parses a `.minisig` held in memory, e.g. a downloaded layer; `origin` names it in errors.
    pub fn parse_bytes(bytes: &[u8], origin: &Path) -> Result<Signature, SignatureError> {
        let malformed = |reason| SignatureError::Malformed {
            origin: origin.to_path_buf(),
            reason,
        };
        if bytes.len() > MAX_SIGNATURE_LEN {
            return Err(malformed("it is larger than 16 KiB"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| malformed("it is not UTF-8 text"))?;
        Self::parse_from(text, origin)
    }

    fn parse_from(text: &str, origin: &Path) -> Result<Signature, SignatureError> {
        let malformed = |reason| SignatureError::Malformed {
            origin: origin.to_path_buf(),
            reason,
        };
        if text.is_empty() {
            return Err(malformed("it is empty"));
        }
        if text.len() > MAX_SIGNATURE_LEN {
            return Err(malformed("it is larger than 16 KiB"));
        }
        let body = text.strip_suffix('\n').unwrap_or(text);
        let lines: Vec<&str> = body
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        if lines.len() != 4 {
            return Err(malformed("it does not have exactly four lines"));
        }
        // Only a CRLF line end may carry one: a comment ending in `\r` would not survive being
        // written back (the next read takes it for the line end).
        if lines.iter().any(|l| l.contains('\r')) {
            return Err(malformed(
                "a line holds a carriage return other than its CRLF end",
            ));
        }
        let untrusted_comment = lines[0]
            .strip_prefix(UNTRUSTED_PREFIX)
            .ok_or(malformed("its first line is not an untrusted comment"))?;
        let sig = BASE64
            .decode(lines[1])
            .map_err(|_| malformed("its signature line is not base64"))?;
        if sig.len() != 74 {
            return Err(malformed("its signature line has the wrong length"));
        }
        let prehashed = match [sig[0], sig[1]] {
            ALG_PREHASHED => true,
            ALG_LEGACY => false,
            _ => return Err(malformed("its algorithm is neither `ED` nor `Ed`")),
        };
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&sig[2..10]);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&sig[10..74]);
        let trusted_comment = lines[2]
            .strip_prefix(TRUSTED_PREFIX)
            .ok_or(malformed("its third line is not a trusted comment"))?;
        let global = BASE64
            .decode(lines[3])
            .map_err(|_| malformed("its global signature is not base64"))?;
        let global_signature: [u8; 64] = global
            .try_into()
            .map_err(|_| malformed("its global signature has the wrong length"))?;
        Ok(Signature {
            untrusted_comment: untrusted_comment.to_string(),
            prehashed,
            key_id: KeyId(key_id),
            signature,
            trusted_comment: trusted_comment.to_string(),
            global_signature,
        })
    }

    /// The id of the key that made it.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signed comment (a zkelf statement, for zkelf's own signatures).
    pub fn trusted_comment(&self) -> &str {
        &self.trusted_comment
    }

    /// The unsigned comment.
    pub fn untrusted_comment(&self) -> &str {
        &self.untrusted_comment
    }

    /// Whether it is prehashed (`ED`); legacy (`Ed`) signatures sign the data itself.
    pub fn is_prehashed(&self) -> bool {
        self.prehashed
    }

    /// The trusted comment parsed as a statement; `None` when it does not claim to be one.
    pub fn statement(&self) -> Option<Result<Statement, StatementError>> {
        Statement::is_claimed_by(&self.trusted_comment)
            .then(|| Statement::parse(&self.trusted_comment))
    }

    /// Checks a prehashed signature against the BLAKE2b-512 of the data, and its trusted comment.
    ///
    /// For a legacy signature use [`Signature::verify_legacy`].
    pub fn verify_prehashed(
        &self,
        key: &PublicKey,
        blake2b: &[u8; 64],
    ) -> Result<(), SignatureCheckError> {
        self.check_key(key)?;
        if !self.prehashed || !key.verifies(blake2b, &self.signature) {
            return Err(SignatureCheckError::Data { key: key.id() });
        }
        self.check_comment(key)
    }

    /// Checks a legacy (`Ed`) signature by streaming the data once more.
    pub fn verify_legacy<R: Read>(
        &self,
        key: &PublicKey,
        mut data: R,
    ) -> std::io::Result<Result<(), SignatureCheckError>> {
        if let Err(err) = self.check_key(key) {
            return Ok(Err(err));
        }
        let sig = ed25519_compact::Signature::new(self.signature);
        let Ok(mut state) = key.ed25519().verify_incremental(&sig) else {
            return Ok(Err(SignatureCheckError::Data { key: key.id() }));
        };
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            state.absorb(&buf[..n]);
        }
        if self.prehashed || state.verify().is_err() {
            return Ok(Err(SignatureCheckError::Data { key: key.id() }));
        }
        Ok(self.check_comment(key))
    }

    fn check_key(&self, key: &PublicKey) -> Result<(), SignatureCheckError> {
        if self.key_id != key.id() {
            return Err(SignatureCheckError::OtherKey {
                signed: self.key_id,
                key: key.id(),
            });
        }
        Ok(())
    }

    fn check_comment(&self, key: &PublicKey) -> Result<(), SignatureCheckError> {
        let mut message = Vec::with_capacity(64 + self.trusted_comment.len());
        message.extend_from_slice(&self.signature);
        message.extend_from_slice(self.trusted_comment.as_bytes());
        if key.verifies(&message, &self.global_signature) {
            Ok(())
        } else {
            Err(SignatureCheckError::TrustedComment { key: key.id() })
        }
    }
}

impl fmt::Display for Signature {
    /// The `.minisig` file text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sig = Vec::with_capacity(74);
        sig.extend_from_slice(if self.prehashed {
            &ALG_PREHASHED
        } else {
            &ALG_LEGACY
        });
        sig.extend_from_slice(&self.key_id.0);
        sig.extend_from_slice(&self.signature);
        writeln!(f, "{UNTRUSTED_PREFIX}{}", self.untrusted_comment)?;
        writeln!(f, "{}", BASE64.encode(sig))?;
        writeln!(f, "{TRUSTED_PREFIX}{}", self.trusted_comment)?;
        writeln!(f, "{}", BASE64.encode(self.global_signature))
    }
}

/// Signs the content (by its digests) with a statement as trusted comment (prehashed, `ED`).
///
/// Fails only if the statement is invalid; it is checked against nothing else, so callers
/// build it from the same `digests`.
pub fn sign(
    secret: &SecretKey,
    digests: &ContentDigests,
    statement: &Statement,
) -> Result<Signature, StatementError> {
    statement.validate()?;
    Ok(sign_with_comment(secret, digests, &statement.render()))
}

/// Signs the content with an arbitrary one-line trusted comment (for tests and interop).
pub fn sign_with_comment(
    secret: &SecretKey,
    digests: &ContentDigests,
    trusted_comment: &str,
) -> Signature {
    let signature = secret.sign_raw(&digests.blake2b);
    let mut message = Vec::with_capacity(64 + trusted_comment.len());
    message.extend_from_slice(&signature);
    message.extend_from_slice(trusted_comment.as_bytes());
    let global_signature = secret.sign_raw(&message);
    Signature {
        untrusted_comment: format!("signature from zkelf secret key {}", secret.id()),
        prehashed: true,
        key_id: secret.id(),
        signature,
        trusted_comment: trusted_comment.to_string(),
        global_signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{SecretKeyFile, generate};

    fn secret() -> SecretKey {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        std::fs::write(&path, generate(None).unwrap().secret_text.as_bytes()).unwrap();
        SecretKeyFile::read(&path).unwrap().unlock(None).unwrap()
    }

    #[test]
    fn signs_verifies_and_round_trips_text() {
        let sk = secret();
        let digests = ContentDigests::of(b"guest bytes");
        let sig = sign_with_comment(&sk, &digests, "hello");
        let text = sig.to_string();
        let parsed = Signature::parse(&text).unwrap();
        assert_eq!(parsed, sig);
        assert!(parsed.is_prehashed());
        assert_eq!(parsed.trusted_comment(), "hello");
        parsed
            .verify_prehashed(&sk.public_key(), &digests.blake2b)
            .unwrap();
        let other = ContentDigests::of(b"guest bytez");
        assert_eq!(
            parsed.verify_prehashed(&sk.public_key(), &other.blake2b),
            Err(SignatureCheckError::Data { key: sk.id() })
        );
        let tampered = Signature::parse(&text.replace("hello", "hellO")).unwrap();
        assert_eq!(
            tampered.verify_prehashed(&sk.public_key(), &digests.blake2b),
            Err(SignatureCheckError::TrustedComment { key: sk.id() })
        );
        let stranger = secret();
        assert!(matches!(
            parsed.verify_prehashed(&stranger.public_key(), &digests.blake2b),
            Err(SignatureCheckError::OtherKey { .. })
        ));
    }

    #[test]
    fn the_minisign_crate_accepts_our_signatures() {
        let sk = secret();
        let data = b"cross-check".to_vec();
        let sig = sign_with_comment(&sk, &ContentDigests::of(&data), "zkelf");
        let pk = minisign::PublicKey::from_base64(&sk.public_key().to_base64()).unwrap();
        let sig_box = minisign::SignatureBox::from_string(&sig.to_string()).unwrap();
        minisign::verify(
            &pk,
            &sig_box,
            std::io::Cursor::new(data),
            true,
            false,
            false,
        )
        .unwrap();
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics_and_accepted_text_round_trips(text in "\\PC{0,400}") {
            if let Ok(sig) = Signature::parse(&text) {
                proptest::prop_assert_eq!(Signature::parse(&sig.to_string()).unwrap(), sig);
            }
        }
    }

    #[test]
    fn any_change_below_the_untrusted_comment_breaks_verification() {
        let sk = secret();
        let digests = ContentDigests::of(b"guest");
        let text = sign_with_comment(&sk, &digests, "zkelf/1 comment").to_string();
        let start = text.find('\n').unwrap() + 1;
        for at in start..text.len() {
            for flip in [0x01u8, 0x20] {
                let mut bytes = text.clone().into_bytes();
                bytes[at] ^= flip;
                let Ok(changed) = Signature::parse_bytes(&bytes, Path::new("m")) else {
                    continue;
                };
                assert!(
                    changed
                        .verify_prehashed(&sk.public_key(), &digests.blake2b)
                        .is_err(),
                    "flipping {flip:#x} at {at} still verifies"
                );
            }
        }
    }

    #[test]
    fn rejects_garbage() {
        for text in [
            "",
            "\n",
            "garbage",
            "untrusted comment: x\nAAAA\ntrusted comment: y\nAAAA\n",
            "untrusted comment: x\n\n\n\n\n",
        ] {
            assert!(
                matches!(
                    Signature::parse(text),
                    Err(SignatureError::Malformed { .. })
                ),
                "{text:?}"
            );
        }
        let sk = secret();
        let good = sign_with_comment(&sk, &ContentDigests::of(b""), "c").to_string();
        assert!(Signature::parse(&format!("{good}extra\n")).is_err());
        assert!(Signature::parse(&good.replace("trusted comment: ", "trusted: ")).is_err());
    }

    /// Found by `fuzz/` (target `signature`): `x\r\r\n` was read as the comment `x\r`, which
    /// renders as `x\r\n` and reads back as `x`, so the round trip broke.
    #[test]
    fn a_stray_carriage_return_is_malformed_and_crlf_is_not() {
        let sk = secret();
        let good = sign_with_comment(&sk, &ContentDigests::of(b""), "c").to_string();
        let crlf = good.replace('\n', "\r\n");
        assert_eq!(
            Signature::parse(&crlf).unwrap(),
            Signature::parse(&good).unwrap()
        );
        for bad in [
            good.replacen('\n', "\r\r\n", 1),
            crlf.replacen("\r\n", "\r\r\n", 1),
            good.replace("trusted comment: c", "trusted comment: c\rd"),
        ] {
            assert_eq!(
                Signature::parse(&bad).unwrap_err().to_string(),
                "signature `<inline>` is not a minisign signature: \
                 a line holds a carriage return other than its CRLF end",
                "{bad:?}"
            );
        }
    }
}
