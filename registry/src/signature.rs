//! A minisign signature found with an artifact, parsed once where it is fetched, and what its
//! trusted comment claims. A leaf: stores, the pull and the policy evaluation all read
//! signatures through it.

use zkelf_trust::signature::Signature;
use zkelf_trust::statement::Statement;

/// A signature found with an artifact, parsed when it was fetched.
#[derive(Debug, Clone)]
pub struct FetchedSignature {
    /// Where it came from (`release layer`, `attestation sha256:…`).
    pub origin: String,
    /// The `.minisig` text.
    pub text: String,
    parsed: Result<Signature, String>,
}

impl FetchedSignature {
    /// `text` from `origin`, parsed (a signature that does not parse is kept, with why).
    pub fn new(origin: impl Into<String>, text: String) -> Self {
        let parsed = Signature::parse(&text).map_err(|e| e.to_string());
        Self {
            origin: origin.into(),
            text,
            parsed,
        }
    }

    /// The parsed signature, or why it does not parse.
    pub fn parsed(&self) -> Result<&Signature, &str> {
        self.parsed.as_ref().map_err(String::as_str)
    }

    /// What its trusted comment claims: see [`claimed_statement`].
    pub fn claimed_statement(&self) -> Result<Option<Statement>, String> {
        claimed_of(self.parsed().map_err(str::to_owned)?)
    }

    /// Its trusted comment, for messages.
    pub fn trusted_comment(&self) -> Option<&str> {
        self.parsed().ok().map(Signature::trusted_comment)
    }
}

/// The statement a minisig's trusted comment carries.
pub fn statement_of_signature(text: &str) -> Result<Statement, String> {
    match claimed_statement(text)? {
        Some(statement) => Ok(statement),
        None => Err("the trusted comment is not a zkelf statement".to_owned()),
    }
}

/// What a minisig's trusted comment claims: a statement, or `None` when the comment is not a
/// zkelf statement at all (an *unbound* signature, such as the file name that guest releases on
/// GitHub sign today). A comment that claims to be a statement but does not parse is an error.
pub fn claimed_statement(text: &str) -> Result<Option<Statement>, String> {
    claimed_of(&Signature::parse(text).map_err(|e| e.to_string())?)
}

fn claimed_of(signature: &Signature) -> Result<Option<Statement>, String> {
    match signature.statement() {
        Some(Ok(statement)) => Ok(Some(statement)),
        Some(Err(e)) => Err(e.to_string()),
        None => Ok(None),
    }
}

/// The trusted comment of a minisig, for messages.
pub fn trusted_comment(text: &str) -> Option<String> {
    Signature::parse(text)
        .ok()
        .map(|s| s.trusted_comment().to_owned())
}
