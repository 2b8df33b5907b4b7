//! A minisign signature found with an artifact, parsed once where it is fetched, and what its
//! trusted comment claims. A leaf: stores, the pull and the policy evaluation all read
//! signatures through it.

use std::sync::Arc;

use zkelf_trust::diagnose::Diagnose;
use zkelf_trust::digest::Sha256Digest;
use zkelf_trust::signature::{Signature, SignatureError};
use zkelf_trust::statement::{Statement, StatementError};

/// Why a signature found with an artifact (or given for one) cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SignatureProblem {
    /// Its bytes are not UTF-8 text.
    #[error("not UTF-8")]
    NotUtf8,
    /// It is not a minisign signature (shared: a fetched signature is cloned with the artifact).
    #[error(transparent)]
    Malformed(Arc<SignatureError>),
    /// Its trusted comment claims to be a statement but is not a valid one.
    #[error(transparent)]
    Statement(StatementError),
    /// Its trusted comment is not a zkelf statement, where one is required.
    #[error("the trusted comment is not a zkelf statement")]
    NotAStatement,
    /// Its statement binds another provenance or VK than the artifact carries.
    #[error(
        "the statement binds {blob} `{}`, the artifact carries `{}`",
        or_none(signed),
        or_none(carried)
    )]
    OtherBlob {
        /// `provenance` or `vk`.
        blob: &'static str,
        /// What the statement binds.
        signed: Option<Sha256Digest>,
        /// What the artifact carries.
        carried: Option<Sha256Digest>,
    },
}

impl Diagnose for SignatureProblem {}

fn or_none(digest: &Option<Sha256Digest>) -> String {
    digest.map_or_else(|| "none".to_owned(), |d| d.to_string())
}

/// A signature found with an artifact, parsed when it was fetched.
#[derive(Debug, Clone)]
pub struct FetchedSignature {
    /// Where it came from (`release layer`, `attestation sha256:…`).
    pub origin: String,
    /// The `.minisig` text.
    pub text: String,
    parsed: Result<Signature, Arc<SignatureError>>,
}

impl FetchedSignature {
    /// `text` from `origin`, parsed (a signature that does not parse is kept, with why).
    pub fn new(origin: impl Into<String>, text: String) -> Self {
        let parsed = Signature::parse(&text).map_err(Arc::new);
        Self {
            origin: origin.into(),
            text,
            parsed,
        }
    }

    /// The parsed signature, or why it does not parse.
    pub fn parsed(&self) -> Result<&Signature, &SignatureError> {
        self.parsed.as_ref().map_err(|e| &**e)
    }

    /// What its trusted comment claims: see [`claimed_statement`].
    pub fn claimed_statement(&self) -> Result<Option<Statement>, SignatureProblem> {
        match &self.parsed {
            Ok(signature) => claimed_of(signature),
            Err(e) => Err(SignatureProblem::Malformed(e.clone())),
        }
    }

    /// Its trusted comment, for messages.
    pub fn trusted_comment(&self) -> Option<&str> {
        self.parsed().ok().map(Signature::trusted_comment)
    }
}

/// The statement a minisig's trusted comment carries.
pub fn statement_of_signature(text: &str) -> Result<Statement, SignatureProblem> {
    claimed_statement(text)?.ok_or(SignatureProblem::NotAStatement)
}

/// What a minisig's trusted comment claims: a statement, or `None` when the comment is not a
/// zkelf statement at all (an *unbound* signature, such as the file name that guest releases on
/// GitHub sign today). A comment that claims to be a statement but does not parse is an error.
pub fn claimed_statement(text: &str) -> Result<Option<Statement>, SignatureProblem> {
    let signature = Signature::parse(text).map_err(|e| SignatureProblem::Malformed(Arc::new(e)))?;
    claimed_of(&signature)
}

/// What a parsed signature's trusted comment claims (see [`claimed_statement`]).
pub fn claimed_of(signature: &Signature) -> Result<Option<Statement>, SignatureProblem> {
    match signature.statement() {
        Some(Ok(statement)) => Ok(Some(statement)),
        Some(Err(e)) => Err(SignatureProblem::Statement(e)),
        None => Ok(None),
    }
}

/// The trusted comment of a minisig, for messages.
pub fn trusted_comment(text: &str) -> Option<String> {
    Signature::parse(text)
        .ok()
        .map(|s| s.trusted_comment().to_owned())
}
