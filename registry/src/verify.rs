//! The bridge to zkelf-trust: statements of fetched signatures, and the policy evaluation of
//! everything a pull fetched.

use zkelf_trust::signature::Signature;
use zkelf_trust::statement::Statement;

/// The statement a minisig's trusted comment carries.
pub fn statement_of_signature(text: &str) -> Result<Statement, String> {
    let signature = Signature::parse(text).map_err(|e| e.to_string())?;
    match signature.statement() {
        Some(Ok(statement)) => Ok(statement),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("the trusted comment is not a zkelf statement".to_owned()),
    }
}

/// Stand-in until zkelf-trust's `verify` module lands.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct VerifyError(pub String);
