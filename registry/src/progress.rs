//! Progress reporting: the library says what it is doing, the binary decides how to show it.

/// Receives progress of long operations (downloads, uploads). All methods default to nothing.
pub trait Reporter: Send + Sync {
    /// A transfer of `what` begins; `total` bytes when known.
    fn start(&self, what: &str, total: Option<u64>) {
        let _ = (what, total);
    }

    /// `done` bytes of `what` are transferred so far.
    fn progress(&self, what: &str, done: u64) {
        let _ = (what, done);
    }

    /// The transfer of `what` ended (successfully or not).
    fn finish(&self, what: &str) {
        let _ = what;
    }

    /// Something worth a line: a retry, a skipped upload.
    fn note(&self, message: &str) {
        let _ = message;
    }

    /// Something the user should see without asking for more: a default zkelf chose for them
    /// (the `latest` tag of a reference that named none).
    fn notice(&self, message: &str) {
        let _ = message;
    }
}

/// A reporter that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReporter;

impl Reporter for NoReporter {}
