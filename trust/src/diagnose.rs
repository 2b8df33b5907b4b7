//! How a library error tells the binary what it means: whether it is a verification failure
//! (exit 1) or another error (exit 2), and how to get past it. Every error type of the zkelf
//! libraries implements [`Diagnose`]; the cli asks each cause of a failure through it, once.
//! A leaf: it names no other module's types.

/// How a failure ends a command (SPEC §9), as the library that raised it sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The bytes are not what they should be: a signature, digest, statement, policy, rollback
    /// or reproducibility check failed (exit 1).
    VerificationFailed,
    /// Anything else: usage, I/O, network, Docker (exit 2).
    Error,
}

/// What an error can say beyond its message.
pub trait Diagnose: std::error::Error {
    /// How to get past it, where there is a legitimate way.
    fn hint(&self) -> Option<String> {
        None
    }

    /// Whether it is a verification failure or another error.
    fn outcome(&self) -> Outcome {
        Outcome::Error
    }
}

/// A boxed error says what the error in it says (a cause in a chain may be the box itself).
impl<T: Diagnose> Diagnose for Box<T> {
    fn hint(&self) -> Option<String> {
        (**self).hint()
    }

    fn outcome(&self) -> Outcome {
        (**self).outcome()
    }
}
