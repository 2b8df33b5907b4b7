//! Policy evaluation: which signatures count, why the others do not, and whether the policy is
//! satisfied (SPEC §2 and §3).
//!
//! [`evaluate`] never fails: it returns an [`Evaluation`] listing every signature with whether it
//! counts and, if not, the [`Rejection`]. [`Evaluation::into_verified`] then turns it into a
//! [`Verified`] or a [`VerifyError`] naming how many valid signatures of which role were found
//! against how many the policy requires.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;

use crate::diagnose::{Diagnose, Outcome};
use crate::digest::{ContentDigests, Sha256Digest};
use crate::keys::KeyId;
use crate::policy::{Policy, Role, TrustedKey};
use crate::signature::Signature;
use crate::statement::{Kind, Statement};
use crate::time::Date;
pub use rejection::{Rejection, Uncheckable};

/// The bytes being verified and what was fetched with them.
#[derive(Debug, Clone)]
pub struct Subject {
    /// How to name it in messages (a path or a reference).
    pub name: String,
    /// Digests of the bytes.
    pub digests: ContentDigests,
    /// SHA-256 of the provenance document fetched or given with it, if any.
    pub provenance: Option<Sha256Digest>,
    /// SHA-256 of the verification key fetched or given with it, if any.
    pub vk: Option<Sha256Digest>,
    /// Where the bytes can be read again; needed only for legacy (`Ed`) signatures.
    pub file: Option<PathBuf>,
    /// What the bytes are labelled as where they were found, unsigned (a manifest's
    /// annotations, or the release statement an attestation is attached to).
    pub labels: Labels,
}

/// Guest, version and zkVM the subject is labelled as. Unlike [`Expected`], nobody asked for
/// them: every statement must name the same, but a signature that names nothing (unbound) is
/// not failed for them; its key's guest globs are judged against the labelled guest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    /// Guest name.
    pub guest: Option<String>,
    /// Guest version.
    pub version: Option<semver::Version>,
    /// zkVM.
    pub zkvm: Option<String>,
}

impl Labels {
    /// The labels as names a statement must carry.
    fn as_expected(&self) -> Expected {
        Expected {
            guest: self.guest.clone(),
            version: self.version.clone(),
            zkvm: self.zkvm.clone(),
            ..Expected::default()
        }
    }

    /// The names of a statement.
    pub fn of(statement: &Statement) -> Self {
        Self {
            guest: Some(statement.guest.clone()),
            version: Some(statement.version.clone()),
            zkvm: Some(statement.zkvm.clone()),
        }
    }
}

impl Subject {
    /// A subject with nothing fetched alongside.
    pub fn new(name: impl Into<String>, digests: ContentDigests) -> Self {
        Self {
            name: name.into(),
            digests,
            provenance: None,
            vk: None,
            file: None,
            labels: Labels::default(),
        }
    }
}

/// What the caller asked for; `None` means "not asked".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Guest name.
    pub guest: Option<String>,
    /// Guest version.
    pub version: Option<semver::Version>,
    /// zkVM.
    pub zkvm: Option<String>,
    /// SHA-256 the bytes must have, pinned out of band (e.g. `--sha256`).
    pub sha256: Option<Sha256Digest>,
    /// SHA-256 the verification key must have, pinned out of band (`--vk-sha256`): a statement
    /// must bind exactly this VK. (A VK signed on its own is pinned by its caller, which
    /// evaluates that signature with this digest as [`Expected::sha256`].)
    pub vk_sha256: Option<Sha256Digest>,
}

impl Expected {
    /// The first of guest, version and zkVM that was asked for, as `(field, value)`.
    fn first_named(&self) -> Option<(&'static str, String)> {
        (self.guest.clone().map(|g| ("guest", g)))
            .or_else(|| self.version.as_ref().map(|v| ("version", v.to_string())))
            .or_else(|| self.zkvm.clone().map(|z| ("zkvm", z)))
    }
}

/// Switches that relax verification; all off by default.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Accept legacy (`Ed`, non-prehashed) signatures.
    pub allow_legacy: bool,
    /// Accept signatures whose trusted comment is not a zkelf statement without a pinned sha256.
    pub allow_unbound: bool,
    /// The time at which keys' `not_after` is judged.
    pub now: SystemTime,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            allow_legacy: false,
            allow_unbound: false,
            now: SystemTime::now(),
        }
    }
}

/// The verdict on one signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureCheck {
    /// Position in the list given to [`evaluate`].
    pub index: usize,
    /// The key id in the signature.
    pub key_id: KeyId,
    /// The key's name in the policy, when listed.
    pub key_name: Option<String>,
    /// The statement, when the trusted comment is one and parses.
    pub statement: Option<Statement>,
    /// The trusted comment as signed.
    pub trusted_comment: String,
    /// Whether the trusted comment is not a zkelf statement (binds nothing).
    pub unbound: bool,
    /// The role it counts for, if it counts.
    pub counts_for: Option<Role>,
    /// Why it does not count, if it does not.
    pub rejection: Option<Rejection>,
}

/// Every signature's verdict and the counts per role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    /// The subject's name.
    pub subject: String,
    /// SHA-256 of the bytes.
    pub sha256: Sha256Digest,
    /// Size of the bytes.
    pub size: u64,
    /// One entry per signature, in the order given.
    pub checks: Vec<SignatureCheck>,
    /// Distinct release keys that count.
    pub release_keys: Vec<KeyId>,
    /// Distinct rebuild keys that count.
    pub rebuild_keys: Vec<KeyId>,
    /// Release keys the policy requires.
    pub required_release: u32,
    /// Rebuild keys the policy requires.
    pub required_rebuild: u32,
    /// Whether a provenance blob was given and compared with the statements.
    pub provenance_checked: bool,
    /// Whether a VK blob was given and compared with the statements.
    pub vk_checked: bool,
}

impl Evaluation {
    /// Whether the policy's requirements are met.
    pub fn satisfied(&self) -> bool {
        self.release_keys.len() as u64 >= u64::from(self.required_release)
            && self.rebuild_keys.len() as u64 >= u64::from(self.required_rebuild)
    }

    /// The statement of the first counting signature, release first.
    pub fn statement(&self) -> Option<&Statement> {
        let counting = |role| {
            self.checks
                .iter()
                .filter(move |c| c.counts_for == Some(role))
                .find_map(|c| c.statement.as_ref())
        };
        counting(Role::Release).or_else(|| counting(Role::Rebuild))
    }

    /// Whether a counting signature is unbound (its comment is not a statement).
    pub fn unbound(&self) -> bool {
        self.checks
            .iter()
            .any(|c| c.counts_for.is_some() && c.unbound)
    }

    /// Succeeds when the policy is satisfied.
    pub fn into_verified(self) -> Result<Verified, Box<VerifyError>> {
        if self.satisfied() {
            return Ok(Verified {
                statement: self.statement().cloned(),
                unbound: self.unbound(),
                evaluation: self,
            });
        }
        let source = self.checks.iter().find_map(|c| c.rejection.clone());
        Err(Box::new(VerifyError {
            subject: self.subject.clone(),
            found_release: self.release_keys.len(),
            required_release: self.required_release,
            found_rebuild: self.rebuild_keys.len(),
            required_rebuild: self.required_rebuild,
            signatures: self.checks.len(),
            source,
            evaluation: self,
        }))
    }
}

/// Bytes the policy accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// The statement of the first counting signature (`None` when only unbound ones count).
    pub statement: Option<Statement>,
    /// Whether what counted binds no guest, version or zkVM.
    pub unbound: bool,
    /// The full evaluation.
    pub evaluation: Evaluation,
}

/// The policy is not satisfied: the bytes are not a release it accepts.
#[derive(Debug, thiserror::Error)]
#[error("{} is not verified: {}", subject_label(subject), counts(self))]
pub struct VerifyError {
    /// The subject's name.
    pub subject: String,
    /// Distinct release keys that counted.
    pub found_release: usize,
    /// Release keys required.
    pub required_release: u32,
    /// Distinct rebuild keys that counted.
    pub found_rebuild: usize,
    /// Rebuild keys required.
    pub required_rebuild: u32,
    /// Signatures examined.
    pub signatures: usize,
    /// The first signature's rejection.
    #[source]
    pub source: Option<Rejection>,
    /// Every signature's verdict.
    pub evaluation: Evaluation,
}

/// What to do when an unbound signature was asked to name a guest, version or zkVM.
pub const UNVERIFIABLE_HINT: &str = "nothing signed names a guest, version or zkVM here: leave out `--guest`, `--version` and `--zkvm` and pin the bytes (`--sha256 <hex>`), or use a release signed with a zkelf statement (or attested with one, `zkelf attest`)";

fn subject_label(subject: &str) -> String {
    format!("`{subject}`")
}

fn counts(e: &VerifyError) -> String {
    if e.signatures == 0 {
        return "it has no signature".into();
    }
    let mut parts = Vec::new();
    if e.required_release > 0 || e.found_release > 0 {
        parts.push(format!(
            "{} valid release signature{} of {} required",
            e.found_release,
            if e.found_release == 1 { "" } else { "s" },
            e.required_release
        ));
    }
    if e.required_rebuild > 0 {
        parts.push(format!(
            "{} valid rebuild attestation{} of {} required",
            e.found_rebuild,
            if e.found_rebuild == 1 { "" } else { "s" },
            e.required_rebuild
        ));
    }
    parts.join(", ")
}

impl Diagnose for VerifyError {
    fn hint(&self) -> Option<String> {
        match &self.source {
            Some(Rejection::Unbound { .. }) => Some(
                "pin the bytes with `--sha256 <hex>`, or accept an unbound signature with `--allow-unbound`"
                    .into(),
            ),
            Some(Rejection::Legacy { .. }) => Some(
                "re-sign with `zkelf sign` (prehashed), or accept it with `--allow-legacy`".into(),
            ),
            Some(Rejection::UntrustedKey { .. }) => {
                Some("add the key to the policy, or check `--key`/`--policy`".into())
            }
            Some(Rejection::FieldMismatch { .. }) => {
                Some("check `--guest`, `--version` and `--zkvm`".into())
            }
            Some(Rejection::Unverifiable { .. }) => Some(UNVERIFIABLE_HINT.into()),
            _ => None,
        }
    }

    /// The policy is not satisfied: always a verification failure.
    fn outcome(&self) -> Outcome {
        Outcome::VerificationFailed
    }
}

/// Decides for every signature whether it counts under `policy` for `subject` and `expected`.
pub fn evaluate(
    policy: &Policy,
    subject: &Subject,
    signatures: &[Signature],
    expected: &Expected,
    options: &Options,
) -> Evaluation {
    let today = Date::of(options.now);
    let mut release_keys = Vec::new();
    let mut rebuild_keys = Vec::new();
    let mut checks = Vec::with_capacity(signatures.len());
    for (index, signature) in signatures.iter().enumerate() {
        let key_id = signature.key_id();
        let mut check = SignatureCheck {
            index,
            key_id,
            key_name: policy.key(key_id).map(|k| k.name.clone()),
            statement: None,
            trusted_comment: signature.trusted_comment().to_string(),
            unbound: !Statement::is_claimed_by(signature.trusted_comment()),
            counts_for: None,
            rejection: None,
        };
        match check_one(
            policy, subject, signature, expected, options, today, &mut check,
        ) {
            Ok(role) => {
                let counted = match role {
                    Role::Release => &mut release_keys,
                    Role::Rebuild => &mut rebuild_keys,
                };
                if counted.contains(&key_id) {
                    check.rejection = Some(Rejection::Duplicate { key: key_id, role });
                } else {
                    counted.push(key_id);
                    check.counts_for = Some(role);
                }
            }
            Err(rejection) => check.rejection = Some(rejection),
        }
        checks.push(check);
    }
    Evaluation {
        subject: subject.name.clone(),
        sha256: subject.digests.sha256,
        size: subject.digests.size,
        checks,
        release_keys,
        rebuild_keys,
        required_release: policy.require_release,
        required_rebuild: policy.require_rebuild,
        provenance_checked: subject.provenance.is_some(),
        vk_checked: subject.vk.is_some(),
    }
}

/// One signature's verdict: the key and its signature first, then what its trusted comment
/// binds (a statement, or nothing but the key).
fn check_one(
    policy: &Policy,
    subject: &Subject,
    signature: &Signature,
    expected: &Expected,
    options: &Options,
    today: Date,
    check: &mut SignatureCheck,
) -> Result<Role, Rejection> {
    let trusted = check_key(policy, subject, signature, options, today)?;
    if let Some(pinned) = expected.sha256
        && pinned != subject.digests.sha256
    {
        return Err(Rejection::PinMismatch {
            pinned,
            actual: subject.digests.sha256,
        });
    }
    match signature.statement() {
        Some(Ok(statement)) => {
            check.statement = Some(statement.clone());
            check_statement(trusted, statement, subject, expected)
        }
        Some(Err(source)) => Err(Rejection::Statement {
            key: trusted.key.id(),
            source,
        }),
        None => check_unbound(trusted, &subject.labels, expected, options),
    }
}

/// The key: listed, not revoked, its signature valid over these bytes, not expired.
fn check_key<'p>(
    policy: &'p Policy,
    subject: &Subject,
    signature: &Signature,
    options: &Options,
    today: Date,
) -> Result<&'p TrustedKey, Rejection> {
    let key = signature.key_id();
    let trusted = policy.key(key).ok_or(Rejection::UntrustedKey { key })?;
    if policy.is_revoked(key) {
        return Err(Rejection::Revoked {
            key,
            name: trusted.name.clone(),
        });
    }
    if signature.is_prehashed() {
        signature.verify_prehashed(&trusted.key, &subject.digests.blake2b)?;
    } else if !options.allow_legacy {
        return Err(Rejection::Legacy { key });
    } else {
        check_legacy(trusted, subject, signature)?;
    }
    if let Some(not_after) = trusted.not_after
        && trusted.expired(today)
    {
        return Err(Rejection::Expired {
            key,
            name: trusted.name.clone(),
            not_after,
        });
    }
    Ok(trusted)
}

/// A legacy (`Ed`) signature, checked by reading the bytes again.
fn check_legacy(
    trusted: &TrustedKey,
    subject: &Subject,
    signature: &Signature,
) -> Result<(), Rejection> {
    let key = trusted.key.id();
    let uncheckable = |source| Rejection::LegacyUncheckable { key, source };
    let path = subject
        .file
        .as_ref()
        .ok_or_else(|| uncheckable(Uncheckable::NotKept))?;
    let file = std::fs::File::open(path).map_err(|err| {
        uncheckable(Uncheckable::Open {
            path: path.clone(),
            source: Arc::new(err),
        })
    })?;
    signature
        .verify_legacy(&trusted.key, file)
        .map_err(|err| {
            uncheckable(Uncheckable::Read {
                path: path.clone(),
                source: Arc::new(err),
            })
        })??;
    Ok(())
}

/// A signature whose trusted comment is not a statement: nothing but the key binds these bytes.
/// It counts only when the caller pinned them or explicitly allowed it, asked for no guest,
/// version or zkVM (nothing signed names them, so nothing could be compared: SPEC §2), and
/// only under a key that may sign releases of the guest the bytes are labelled as (any guest,
/// `*`, when unlabelled).
fn check_unbound(
    trusted: &TrustedKey,
    labels: &Labels,
    expected: &Expected,
    options: &Options,
) -> Result<Role, Rejection> {
    let (key, name) = (trusted.key.id(), trusted.name.clone());
    if let Some((field, asked)) = expected.first_named() {
        return Err(Rejection::Unverifiable { key, field, asked });
    }
    if expected.sha256.is_none() && !options.allow_unbound {
        return Err(Rejection::Unbound { key });
    }
    if !trusted.roles.contains(&Role::Release) {
        return Err(Rejection::WrongRole {
            key,
            name,
            kind: Kind::Release,
        });
    }
    let guest = labels.guest.as_deref();
    if !guest.map_or(trusted.guests.iter().any(|g| g == "*"), |g| {
        trusted.covers_guest(g)
    }) {
        return Err(Rejection::GuestNotCovered {
            key,
            name,
            guest: guest.unwrap_or("<unknown>").to_string(),
        });
    }
    Ok(Role::Release)
}

/// A statement: a role and guest the key may sign, about these bytes, naming what was asked
/// for, binding the blobs fetched with them.
fn check_statement(
    trusted: &TrustedKey,
    statement: Statement,
    subject: &Subject,
    expected: &Expected,
) -> Result<Role, Rejection> {
    let (key, name) = (trusted.key.id(), trusted.name.clone());
    let role = match statement.kind {
        Kind::Release => Role::Release,
        Kind::Rebuild => Role::Rebuild,
    };
    if !trusted.roles.contains(&role) {
        return Err(Rejection::WrongRole {
            key,
            name,
            kind: statement.kind,
        });
    }
    if !trusted.covers_guest(&statement.guest) {
        return Err(Rejection::GuestNotCovered {
            key,
            name,
            guest: statement.guest,
        });
    }
    if statement.sha256 != subject.digests.sha256 {
        return Err(Rejection::Sha256Mismatch {
            key,
            signed: statement.sha256,
            actual: subject.digests.sha256,
        });
    }
    if statement.size != subject.digests.size {
        return Err(Rejection::SizeMismatch {
            key,
            signed: statement.size,
            actual: subject.digests.size,
        });
    }
    check_asked(key, &statement, expected)?;
    check_asked(key, &statement, &subject.labels.as_expected())?;
    for (field, signed, fetched) in [
        ("provenance", statement.provenance, subject.provenance),
        ("vk", statement.vk, subject.vk),
    ] {
        // A blob that was not fetched cannot be compared (`*_checked` says so); one that was
        // fetched must be exactly the one signed, and must have been signed at all.
        if fetched.is_some() && signed != fetched {
            return Err(Rejection::BlobMismatch {
                key,
                field,
                signed,
                fetched,
            });
        }
    }
    Ok(role)
}

/// Guest, version, zkVM and VK as the caller asked for them.
fn check_asked(key: KeyId, statement: &Statement, expected: &Expected) -> Result<(), Rejection> {
    let mismatch = |field, signed: String, asked: String| Rejection::FieldMismatch {
        key,
        field,
        signed,
        asked,
    };
    if let Some(guest) = &expected.guest
        && *guest != statement.guest
    {
        return Err(mismatch("guest", statement.guest.clone(), guest.clone()));
    }
    if let Some(version) = &expected.version
        && *version != statement.version
    {
        return Err(mismatch(
            "version",
            statement.version.to_string(),
            version.to_string(),
        ));
    }
    if let Some(zkvm) = &expected.zkvm
        && *zkvm != statement.zkvm
    {
        return Err(mismatch("zkvm", statement.zkvm.clone(), zkvm.clone()));
    }
    if let Some(pinned) = expected.vk_sha256
        && statement.vk != Some(pinned)
    {
        return Err(Rejection::VkPinMismatch {
            key,
            signed: statement.vk,
            pinned,
        });
    }
    Ok(())
}

mod rejection;
#[cfg(test)]
mod tests;
