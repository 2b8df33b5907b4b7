//! Minisign keys: public keys, secret keys (encrypted with scrypt or not), passwords.
//!
//! Files are minisign's own formats so the minisign tool reads what zkelf writes and the other
//! way round. Secret material lives in `Zeroizing` buffers and never appears in `Debug` output
//! or error messages.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use crate::diagnose::Diagnose;

/// Signature algorithm tag of minisign keys (Ed25519).
const SIG_ALG: [u8; 2] = *b"Ed";
/// No key derivation: the secret key is stored in the clear.
const KDF_NONE: [u8; 2] = [0, 0];
/// scrypt key derivation.
const KDF_SCRYPT: [u8; 2] = *b"Sc";
/// BLAKE2b checksum.
const CHK_ALG: [u8; 2] = *b"B2";
/// Layout of a decoded secret key: algs, salt, scrypt limits, then (keynum, key, checksum).
const SECRET_KEY_LEN: usize = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32;
/// Decoded length of a public key line: algorithm, key id, Ed25519 key.
const PUBLIC_KEY_LEN: usize = 2 + 8 + 32;
const KEYNUM_AT: usize = 2 + 2 + 2 + 32 + 8 + 8;
/// Secret and public key files are tiny; anything bigger is not a key.
const MAX_KEY_FILE: u64 = 4096;

/// A minisign key id: 8 bytes, shown as 16 uppercase hex digits as the minisign tool does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // minisign prints the little-endian u64.
        write!(f, "{:016X}", u64::from_le_bytes(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl FromStr for KeyId {
    type Err = KeyError;

    /// Parses 16 hex digits (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyError::BadKeyId {
                value: s.chars().take(40).collect(),
            });
        }
        let n = u64::from_str_radix(s, 16).map_err(|_| KeyError::BadKeyId {
            value: s.to_string(),
        })?;
        Ok(KeyId(n.to_le_bytes()))
    }
}

impl serde::Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for KeyId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "KeyId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A minisign key id: 16 uppercase hex digits, as the minisign tool shows it.",
            "type": "string",
            "pattern": "^[0-9A-F]{16}$"
        })
    }
}

/// Problems with keys and passwords. Messages never contain secret material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file could not be read.
    #[error("cannot read key file `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A key file is not in minisign's format.
    #[error("`{}` is not a minisign {what}: {reason}", path.display())]
    Malformed {
        /// The file (or `<inline>` for a key given as text).
        path: PathBuf,
        /// `public key` or `secret key`.
        what: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A public key where a secret key was wanted (`sign --key X.pub`).
    #[error("`{}` is a public key, not a secret key", path.display())]
    PublicNotSecret {
        /// The file.
        path: PathBuf,
    },
    /// A secret key where a public key was wanted (`verify --key X.key`).
    #[error("`{}` is a secret key, not a public key", path.display())]
    SecretNotPublic {
        /// The file (or `<inline>`).
        path: PathBuf,
    },
    /// A key id is not 16 hex digits.
    #[error("`{value}` is not a key id (16 hex digits)")]
    BadKeyId {
        /// The rejected text.
        value: String,
    },
    /// The secret key is encrypted and no password was given.
    #[error("secret key `{}` is encrypted and no password was given", path.display())]
    PasswordRequired {
        /// The key file.
        path: PathBuf,
    },
    /// The password does not decrypt the secret key.
    #[error("wrong password for secret key `{}`", path.display())]
    WrongPassword {
        /// The key file.
        path: PathBuf,
    },
    /// The secret key's checksum or embedded public key is inconsistent.
    #[error("secret key `{}` is corrupted: {reason}", path.display())]
    Corrupted {
        /// The key file.
        path: PathBuf,
        /// What does not match.
        reason: &'static str,
    },
    /// Key generation or encryption failed.
    #[error("cannot generate a key pair")]
    Generate {
        /// The minisign crate's error.
        #[source]
        source: minisign::PError,
    },
}

/// `` (`x.key`?)`` for `x.pub` when `x.key` exists beside it: the file meant.
fn sibling(path: &Path, from: &str, to: &str) -> String {
    if path.extension().is_some_and(|e| e == from) {
        let other = path.with_extension(to);
        if other.exists() {
            return format!(" (`{}`?)", other.display());
        }
    }
    String::new()
}

impl Diagnose for KeyError {
    fn hint(&self) -> Option<String> {
        match self {
            KeyError::PasswordRequired { .. } => Some(
                "give the password with `--password-file` or the `ZKELF_PASSWORD` environment variable"
                    .into(),
            ),
            KeyError::WrongPassword { .. } => {
                Some("check `--password-file` or `ZKELF_PASSWORD`".into())
            }
            KeyError::PublicNotSecret { path } => Some(format!(
                "signing needs the secret key, the `.key` file made with it{}",
                sibling(path, "pub", "key")
            )),
            KeyError::SecretNotPublic { path } => Some(format!(
                "trust is given by the public key, the `.pub` file made with it{}; the secret key stays with the signer",
                sibling(path, "key", "pub")
            )),
            KeyError::Malformed { .. } => Some(
                "key files are minisign's: an `untrusted comment:` line, then one base64 line"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// A minisign public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey {
    id: KeyId,
    key: [u8; 32],
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.id)
    }
}

impl PublicKey {
    /// Parses the base64 line of a public key (`RW…`, 56 characters).
    pub fn from_base64(text: &str) -> Result<PublicKey, KeyError> {
        Self::decode(text.trim(), Path::new("<inline>"))
    }

    fn decode(text: &str, origin: &Path) -> Result<PublicKey, KeyError> {
        let malformed = |reason| KeyError::Malformed {
            path: origin.to_path_buf(),
            what: "public key",
            reason,
        };
        // Zeroized: the line may be a secret key given by mistake.
        let bytes = Zeroizing::new(
            BASE64
                .decode(text)
                .map_err(|_| malformed("its key line is not base64"))?,
        );
        if bytes.len() == SECRET_KEY_LEN && bytes[..2] == SIG_ALG {
            return Err(KeyError::SecretNotPublic {
                path: origin.to_path_buf(),
            });
        }
        if bytes.len() != PUBLIC_KEY_LEN {
            return Err(malformed("its key line has the wrong length"));
        }
        if bytes[..2] != SIG_ALG {
            return Err(malformed("its algorithm is not Ed25519 (`Ed`)"));
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&bytes[2..10]);
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes[10..42]);
        Ok(PublicKey { id: KeyId(id), key })
    }

    /// Parses the text of a `.pub` file (an `untrusted comment:` line, then the base64 line);
    /// a file holding only the base64 line is accepted too.
    pub fn parse_file_text(text: &str, origin: &Path) -> Result<PublicKey, KeyError> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next().ok_or(KeyError::Malformed {
            path: origin.to_path_buf(),
            what: "public key",
            reason: "it is empty",
        })?;
        let key_line = if first.starts_with("untrusted comment:") {
            lines.next().ok_or(KeyError::Malformed {
                path: origin.to_path_buf(),
                what: "public key",
                reason: "it has no key line",
            })?
        } else {
            first
        };
        if lines.next().is_some() {
            return Err(KeyError::Malformed {
                path: origin.to_path_buf(),
                what: "public key",
                reason: "it has lines after the key",
            });
        }
        Self::decode(key_line, origin)
    }

    /// Reads a minisign `.pub` file.
    pub fn from_file(path: &Path) -> Result<PublicKey, KeyError> {
        let text = read_small(path, "public key")?;
        Self::parse_file_text(&text, path)
    }

    /// The key id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The raw Ed25519 key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// The base64 line (`RW…`).
    pub fn to_base64(&self) -> String {
        let mut bytes = Vec::with_capacity(42);
        bytes.extend_from_slice(&SIG_ALG);
        bytes.extend_from_slice(&self.id.0);
        bytes.extend_from_slice(&self.key);
        BASE64.encode(bytes)
    }

    /// The text of a `.pub` file, as the minisign tool writes it.
    pub fn to_file_text(&self) -> String {
        format!(
            "untrusted comment: minisign public key {}\n{}\n",
            self.id,
            self.to_base64()
        )
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let key = ed25519_compact::PublicKey::new(self.key);
        key.verify(message, &ed25519_compact::Signature::new(*signature))
            .is_ok()
    }

    pub(crate) fn ed25519(&self) -> ed25519_compact::PublicKey {
        ed25519_compact::PublicKey::new(self.key)
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_base64(s)
    }
}

/// A password; the text is wiped from memory when dropped and never printed.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    /// Wraps a password.
    pub fn new(password: String) -> Self {
        Self(Zeroizing::new(password))
    }

    /// Reads a password file: its first line, without the line ending.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let text = Zeroizing::new(read_small(path, "password file")?);
        let line = text.lines().next().unwrap_or_default();
        Ok(Self::new(line.to_string()))
    }

    /// The password text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A decrypted minisign secret key, ready to sign.
#[derive(Clone)]
pub struct SecretKey {
    id: KeyId,
    /// Ed25519 secret key: 32-byte seed then 32-byte public key.
    key: Zeroizing<[u8; 64]>,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({}, <redacted>)", self.id)
    }
}

/// A secret key file as read, before any password is asked for.
pub struct SecretKeyFile {
    path: PathBuf,
    text: Zeroizing<String>,
    decoded: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for SecretKeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKeyFile")
            .field("path", &self.path)
            .field("encrypted", &self.is_encrypted())
            .finish_non_exhaustive()
    }
}

impl SecretKeyFile {
    /// Reads and decodes a minisign `.key` file (encrypted or not).
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let text = Zeroizing::new(read_small(path, "secret key")?);
        Self::from_text(text, path)
    }

    /// Decodes the text of a `.key` file; `path` names it in errors.
    pub fn from_text(text: Zeroizing<String>, path: &Path) -> Result<Self, KeyError> {
        let malformed = |reason| KeyError::Malformed {
            path: path.to_path_buf(),
            what: "secret key",
            reason,
        };
        let mut lines = text.lines();
        if !lines
            .next()
            .is_some_and(|l| l.starts_with("untrusted comment:"))
        {
            return Err(malformed("it does not start with `untrusted comment:`"));
        }
        let line = lines.next().ok_or(malformed("it has no key line"))?.trim();
        let decoded = Zeroizing::new(
            BASE64
                .decode(line)
                .map_err(|_| malformed("its key line is not base64"))?,
        );
        if decoded.len() == PUBLIC_KEY_LEN && decoded[..2] == SIG_ALG {
            return Err(KeyError::PublicNotSecret {
                path: path.to_path_buf(),
            });
        }
        if decoded.len() != SECRET_KEY_LEN {
            return Err(malformed("its key line has the wrong length"));
        }
        if decoded[..2] != SIG_ALG {
            return Err(malformed("its algorithm is not Ed25519 (`Ed`)"));
        }
        if decoded[2..4] != KDF_NONE && decoded[2..4] != KDF_SCRYPT {
            return Err(malformed("its key derivation is neither scrypt nor none"));
        }
        if decoded[4..6] != CHK_ALG {
            return Err(malformed("its checksum algorithm is not BLAKE2b (`B2`)"));
        }
        Ok(Self {
            path: path.to_path_buf(),
            text,
            decoded,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a password is needed to unlock it.
    pub fn is_encrypted(&self) -> bool {
        self.decoded[2..4] == KDF_SCRYPT
    }

    /// Decrypts (when encrypted) and checks the key.
    ///
    /// Unencrypted keys written by `minisign -G -W` carry an all-zero checksum, which the
    /// `minisign` crate rejects as corrupted; here such a key is accepted when its embedded
    /// public key matches the one derived from its seed, which catches the same corruption.
    pub fn unlock(&self, password: Option<&Password>) -> Result<SecretKey, KeyError> {
        let plain: Zeroizing<Vec<u8>> = if self.is_encrypted() {
            let password = password.ok_or_else(|| KeyError::PasswordRequired {
                path: self.path.clone(),
            })?;
            // The crate implements minisign's scrypt parameters and checksum check; it takes the
            // password as a plain `String`, a copy we cannot wipe.
            let sk = minisign::SecretKey::from_box(
                minisign::SecretKeyBox::from_string(&self.text)
                    .map_err(|source| KeyError::Generate { source })?,
                Some(password.expose().to_string()),
            )
            .map_err(|err| match err.kind() {
                minisign::ErrorKind::Verify => KeyError::WrongPassword {
                    path: self.path.clone(),
                },
                _ => KeyError::Malformed {
                    path: self.path.clone(),
                    what: "secret key",
                    reason: "its scrypt parameters are not supported",
                },
            })?;
            Zeroizing::new(sk.to_bytes())
        } else {
            self.decoded.clone()
        };
        let mut id = [0u8; 8];
        id.copy_from_slice(&plain[KEYNUM_AT..KEYNUM_AT + 8]);
        let mut key = Zeroizing::new([0u8; 64]);
        key.copy_from_slice(&plain[KEYNUM_AT + 8..KEYNUM_AT + 72]);
        let checksum = &plain[KEYNUM_AT + 72..KEYNUM_AT + 104];
        let expected = checksum_of(&id, &key);
        let zeroed = checksum.iter().all(|&b| b == 0);
        if !zeroed && checksum != expected.as_slice() {
            return Err(KeyError::Corrupted {
                path: self.path.clone(),
                reason: "its checksum does not match",
            });
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&key[..32]);
        // `from_seed` panics on an all-zero seed; such a key is corrupt (or hand-made), not a key.
        let derived = ed25519_compact::KeyPair::try_from_seed(ed25519_compact::Seed::new(*seed))
            .map_err(|_| KeyError::Corrupted {
                path: self.path.clone(),
                reason: "its seed is all zeros",
            })?;
        if derived.pk.as_ref() != &key[32..] {
            return Err(KeyError::Corrupted {
                path: self.path.clone(),
                reason: "its public half does not match its seed",
            });
        }
        Ok(SecretKey { id: KeyId(id), key })
    }
}

fn checksum_of(id: &[u8; 8], key: &[u8; 64]) -> [u8; 32] {
    let mut state = blake2b_simd::Params::new().hash_length(32).to_state();
    state.update(&SIG_ALG);
    state.update(id);
    state.update(key);
    let mut out = [0u8; 32];
    out.copy_from_slice(state.finalize().as_bytes());
    out
}

impl SecretKey {
    /// Reads and unlocks a secret key file in one step.
    pub fn from_file(path: &Path, password: Option<&Password>) -> Result<SecretKey, KeyError> {
        SecretKeyFile::read(path)?.unlock(password)
    }

    /// The key id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        let mut key = [0u8; 32];
        key.copy_from_slice(&self.key[32..]);
        PublicKey { id: self.id, key }
    }

    /// An Ed25519 signature of `message`, hedged with fresh randomness as minisign does.
    pub(crate) fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
        let key = ed25519_compact::SecretKey::new(*self.key);
        *key.sign(message, Some(ed25519_compact::Noise::generate()))
    }
}

/// A new key pair's files, as text.
pub struct GeneratedKeyPair {
    /// The public key.
    pub public: PublicKey,
    /// The text of the `.pub` file.
    pub public_text: String,
    /// The text of the `.key` file (encrypted unless generated without a password).
    pub secret_text: Zeroizing<String>,
}

impl fmt::Debug for GeneratedKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKeyPair")
            .field("public", &self.public)
            .field("secret_text", &"<redacted>")
            .finish()
    }
}

/// Generates a key pair; the secret key is encrypted with scrypt when `password` is given.
pub fn generate(password: Option<&Password>) -> Result<GeneratedKeyPair, KeyError> {
    let generate = |source| KeyError::Generate { source };
    let (pair, comment) = match password {
        Some(password) => (
            minisign::KeyPair::generate_encrypted_keypair(Some(password.expose().to_string()))
                .map_err(generate)?,
            "minisign encrypted secret key",
        ),
        None => (
            minisign::KeyPair::generate_unencrypted_keypair().map_err(generate)?,
            "minisign unencrypted secret key",
        ),
    };
    let secret_text = Zeroizing::new(
        pair.sk
            .to_box(Some(comment))
            .map_err(generate)?
            .into_string(),
    );
    let public = PublicKey::from_base64(&pair.pk.to_base64())
        .expect("the minisign crate writes valid public keys");
    Ok(GeneratedKeyPair {
        public,
        public_text: public.to_file_text(),
        secret_text,
    })
}

fn read_small(path: &Path, what: &'static str) -> Result<String, KeyError> {
    use std::io::Read as _;
    let read = |source| KeyError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut text = String::new();
    file.take(MAX_KEY_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::InvalidData => KeyError::Malformed {
                path: path.to_path_buf(),
                what,
                reason: "it is not text",
            },
            _ => read(err),
        })?;
    if text.len() as u64 > MAX_KEY_FILE {
        return Err(KeyError::Malformed {
            path: path.to_path_buf(),
            what,
            reason: "it is too large",
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_displays_like_minisign_and_parses_back() {
        let id = KeyId(0x9287_C303_EF57_014B_u64.to_le_bytes());
        assert_eq!(id.to_string(), "9287C303EF57014B");
        assert_eq!("9287c303ef57014b".parse::<KeyId>().unwrap(), id);
        assert!("9287C303EF57014".parse::<KeyId>().is_err());
        assert!("9287C303EF57014G".parse::<KeyId>().is_err());
    }

    #[test]
    fn parses_a_minisign_tool_public_key() {
        let text = "untrusted comment: minisign public key 9287C303EF57014B\n\
                    RWRLAVfvA8OHkvcAecr3hHlcBGAKIxY3f3wjmW7+G0HGJ46vhCEy0/Mn\n";
        let key = PublicKey::parse_file_text(text, Path::new("k.pub")).unwrap();
        assert_eq!(key.id().to_string(), "9287C303EF57014B");
        assert_eq!(key.to_file_text(), text);
        assert!(PublicKey::from_base64("RWRLAVfvA8OHkvcAecr3").is_err());
        assert!(PublicKey::parse_file_text("", Path::new("k.pub")).is_err());
    }

    #[test]
    fn generated_keys_unlock_and_secrets_stay_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let password = Password::new("correct horse".into());
        for pw in [None, Some(&password)] {
            let pair = generate(pw).unwrap();
            let path = dir.path().join("k.key");
            std::fs::write(&path, pair.secret_text.as_bytes()).unwrap();
            let file = SecretKeyFile::read(&path).unwrap();
            assert_eq!(file.is_encrypted(), pw.is_some());
            let sk = file.unlock(pw).unwrap();
            assert_eq!(sk.public_key(), pair.public);
            assert!(!format!("{sk:?}").contains(&hex(&sk.key[..8])));
            assert!(format!("{password:?}").contains("<redacted>"));
            assert!(!format!("{password:?}").contains("horse"));
        }
        let pair = generate(Some(&password)).unwrap();
        let path = dir.path().join("e.key");
        std::fs::write(&path, pair.secret_text.as_bytes()).unwrap();
        let wrong = Password::new("wrong".into());
        assert!(matches!(
            SecretKey::from_file(&path, Some(&wrong)),
            Err(KeyError::WrongPassword { .. })
        ));
        assert!(matches!(
            SecretKey::from_file(&path, None),
            Err(KeyError::PasswordRequired { .. })
        ));
    }

    #[test]
    fn zeroed_checksum_is_accepted_but_a_flipped_key_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let pair = generate(None).unwrap();
        let line = pair.secret_text.lines().nth(1).unwrap();
        let mut bytes = BASE64.decode(line).unwrap();
        let chk = KEYNUM_AT + 72;
        bytes[chk..chk + 32].fill(0);
        let write = |bytes: &[u8]| {
            let path = dir.path().join("w.key");
            let text = format!("untrusted comment: x\n{}\n", BASE64.encode(bytes));
            std::fs::write(&path, text).unwrap();
            SecretKey::from_file(&path, None)
        };
        assert_eq!(write(&bytes).unwrap().public_key(), pair.public);
        bytes[KEYNUM_AT + 8] ^= 1;
        assert!(matches!(write(&bytes), Err(KeyError::Corrupted { .. })));
    }

    #[test]
    fn an_all_zero_seed_is_a_corrupt_key_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let pair = generate(None).unwrap();
        let line = pair.secret_text.lines().nth(1).unwrap();
        let mut bytes = BASE64.decode(line).unwrap();
        bytes[KEYNUM_AT + 8..KEYNUM_AT + 104].fill(0);
        let path = dir.path().join("z.key");
        let text = format!("untrusted comment: x\n{}\n", BASE64.encode(&bytes));
        std::fs::write(&path, text).unwrap();
        let err = SecretKey::from_file(&path, None).unwrap_err();
        assert!(
            matches!(
                err,
                KeyError::Corrupted {
                    reason: "its seed is all zeros",
                    ..
                }
            ),
            "{err}"
        );
    }

    /// Found by `fuzz/` (target `key`): unlocking panicked inside ed25519-compact (exit 101).
    #[test]
    fn an_all_zero_seed_is_corrupted_not_a_panic() {
        let pair = generate(None).unwrap();
        let mut bytes = BASE64
            .decode(pair.secret_text.lines().nth(1).unwrap())
            .unwrap();
        // The seed, and the checksum (all zeros, as `minisign -G -W` writes it).
        bytes[KEYNUM_AT + 8..KEYNUM_AT + 40].fill(0);
        bytes[KEYNUM_AT + 72..].fill(0);
        let text = format!("untrusted comment: x\n{}\n", BASE64.encode(&bytes));
        let file = SecretKeyFile::from_text(Zeroizing::new(text), Path::new("z.key")).unwrap();
        assert!(!file.is_encrypted());
        let err = file.unlock(None).expect_err("an all-zero seed is refused");
        assert_eq!(
            err.to_string(),
            "secret key `z.key` is corrupted: its seed is all zeros"
        );
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
