//! How the builder tells its caller what it is doing; only the cli knows indicatif.

/// Receives progress from long-running builder operations.
pub trait Reporter: Send + Sync {
    /// A new step starts (`fetching crates`, `building keccak for rv32im`).
    fn step(&self, message: &str);
    /// One line of a container's or the engine's output (compiler messages, apt).
    fn output(&self, line: &str);
    /// The current step finished.
    fn finish(&self, message: &str);
    /// Something the user should see without `-v` (a cache entry that could not be used,
    /// a rebuild going on with another builder). Defaults to [`Reporter::output`].
    fn note(&self, message: &str) {
        self.output(message);
    }
}

/// A reporter that discards everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReporter;

impl Reporter for NoReporter {
    fn step(&self, _message: &str) {}
    fn output(&self, _line: &str) {}
    fn finish(&self, _message: &str) {}
}
