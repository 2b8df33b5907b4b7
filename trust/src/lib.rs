//! Signed statements, minisign keys and the trust policy: what a zkelf signature binds and who
//! may make it. The one home of these concepts; the registry and the cli call into it.
//!
//! # Public API
//!
//! ```text
//! digest::Sha256Digest(pub [u8; 32])            Display/FromStr: 64 lowercase hex; serde as string
//!     Sha256Digest::of(&[u8]) -> Sha256Digest
//! digest::OciDigest(Sha256Digest)               Display/FromStr: `sha256:<hex>`; serde as string
//!     OciDigest::of(&[u8]), .sha256(), From<Sha256Digest>; == a digest written as text
//! digest::ContentDigests { sha256: Sha256Digest, blake2b: [u8; 64], size: u64 }
//!     ContentDigests::of(&[u8]) -> ContentDigests
//! digest::ContentHasher::new() / update(&mut self, &[u8]) / size(&self) -> u64 / finalize(self) -> ContentDigests
//! digest::Sha256Hasher / PrehashHasher          the two halves, for pipelines that hash them on two threads
//! digest::hash_reader<R: Read>(R) -> io::Result<ContentDigests>        one pass, two threads, flat memory
//! digest::hash_file(&Path) -> Result<ContentDigests, digest::ReadError>
//!
//! statement::Statement { kind: Kind, guest, version: semver::Version, zkvm, target, sha256: Sha256Digest,
//!                        size: u64, provenance: Option<Sha256Digest>, vk: Option<Sha256Digest>,
//!                        builder: Option<String>, created: u64 }
//!     Statement::parse(&str) -> Result<Statement, StatementError>     strict; FromStr too
//!     Statement::render(&self) -> String                               also Display
//!     Statement::validate(&self) -> Result<(), StatementError>
//!     Statement::is_claimed_by(comment: &str) -> bool                  starts with `zkelf/`
//! statement::Kind::{Release, Rebuild}
//!
//! keys::KeyId([u8; 8])                          Display/FromStr: 16 hex digits as minisign prints
//! keys::PublicKey::from_base64(&str) / from_file(&Path) -> Result<PublicKey, KeyError>
//!     .id() -> KeyId, .to_base64(), .to_file_text()
//! keys::Password::new(String) / from_file(&Path)?; .expose() -> &str    Zeroizing, Debug <redacted>
//! keys::SecretKeyFile::read(&Path)? / from_text(Zeroizing<String>, &Path)?; .is_encrypted();
//!     .unlock(Option<&Password>) -> Result<SecretKey, KeyError>
//! keys::SecretKey::from_file(&Path, Option<&Password>) -> Result<SecretKey, KeyError>
//!     .id(), .public_key()                                              Zeroizing, Debug <redacted>
//! keys::generate(Option<&Password>) -> Result<GeneratedKeyPair { public, public_text, secret_text }, KeyError>
//!
//! signature::Signature::parse(&str) / parse_bytes(&[u8], origin: &Path) / from_file(&Path)
//!     -> Result<Signature, SignatureError>                            at most 16 KiB, strict
//!     .key_id() -> KeyId, .trusted_comment() -> &str, .is_prehashed() -> bool,
//!     .statement() -> Option<Result<Statement, StatementError>>, .to_string() (the .minisig text)
//!     .verify_prehashed(&PublicKey, &[u8; 64]) -> Result<(), SignatureCheckError>
//! signature::sign(&SecretKey, &ContentDigests, &Statement) -> Result<Signature, StatementError>
//! signature::sign_with_comment(&SecretKey, &ContentDigests, &str) -> Signature   any trusted comment
//!
//! policy::Policy { keys: Vec<TrustedKey>, revoked, require_release: u32, require_rebuild: u32, source }
//!     Policy::load(&Path) -> Result<Policy, PolicyError>
//!     Policy::from_public_key(PublicKey) -> Policy       one release key for any guest, require.release = 1
//! policy::TrustedKey { name, key: PublicKey, roles: Vec<Role>, guests: Vec<String>, not_after: Option<Date> }
//! policy::Role::{Release, Rebuild}
//!
//! verify::Subject { name: String, digests: ContentDigests, provenance: Option<Sha256Digest>,
//!                   vk: Option<Sha256Digest>, file: Option<PathBuf>, labels: Labels }
//!                                                                         Subject::new(name, digests)
//! verify::Labels { guest, version, zkvm }   unsigned names statements must agree with  Labels::of(&Statement)
//! verify::Expected { guest: Option<String>, version: Option<semver::Version>, zkvm: Option<String>,
//!                    sha256: Option<Sha256Digest>, vk_sha256: Option<Sha256Digest> }
//!                                                                         Default = nothing asked
//! verify::Options { allow_legacy: bool, allow_unbound: bool, now: SystemTime }   Default = strict, now
//! verify::evaluate(&Policy, &Subject, &[Signature], &Expected, &Options) -> Evaluation   never fails
//! verify::Evaluation { checks: Vec<SignatureCheck>, release_keys, rebuild_keys, .. }
//!     .satisfied() -> bool, .statement() -> Option<&Statement>
//!     .into_verified(self) -> Result<Verified, Box<VerifyError>>
//! verify::SignatureCheck { index, key_id, key_name, statement, trusted_comment, unbound,
//!                          counts_for: Option<Role>, rejection: Option<Rejection> }
//! verify::Rejection (enum, one variant per reason) .code() -> &'static str, .full_message()
//! verify::Verified { statement: Option<Statement>, unbound: bool, evaluation: Evaluation }
//! verify::VerifyError { subject, found_release, required_release, found_rebuild, required_rebuild,
//!                       source: Option<Rejection>, evaluation }       the cli maps it to exit 1
//!
//! time::Date { year, month, day }              Date::of(SystemTime), from_days(i64), days(); Display YYYY-MM-DD
//! time::days_from_civil(year, month, day) -> i64    time::rfc3339(unix) -> String
//!
//! bounded::read(&Path, limit) / read_to_string -> Result<_, BoundedReadError>   whole file or TooLarge
//!     bounded::MAX_POLICY_LEN, MAX_MANIFEST_LEN, MAX_LOCK_FILE_LEN, MAX_STATE_LEN
//! files::TempFile::new_in(&Path, TempKind) / persist(dest, replace)   unnamed (O_TMPFILE) or locked named temporaries
//! files::sweep(&Path, SystemTime) -> usize        stale named temporaries a killed zkelf left
//! files::check_own_file / check_own_dir / check_own_dirs -> io::Result<()>   refuse links and special files (NotOurs)
//! files::FileLock::acquire(&Path) -> io::Result<FileLock>   an flock, refusing a link or FIFO at the path
//! elf::riscv_class(&Path) / riscv_class_of(&[u8], &Path) -> Result<ElfClass, ElfError>   a well-formed RISC-V ET_EXEC
//! elf::resolve_target(&Path, ElfClass, Option<&str>)
//! ```
//!
//! Every error type keeps the objects it is about (path, key id, digests) as fields and
//! implements `diagnose::Diagnose` (`hint() -> Option<String>`, `outcome() -> Outcome`): how to
//! fix it, and whether it is a verification failure (exit 1) or another error (exit 2).

pub mod bounded;
pub mod diagnose;
pub mod digest;
pub mod elf;
pub mod files;
pub mod keys;
pub mod name;
pub mod policy;
pub mod signature;
pub mod statement;
pub mod time;
pub mod verify;
