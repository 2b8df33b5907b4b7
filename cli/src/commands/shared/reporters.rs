//! Progress reporters: the builder's (a spinner on a terminal, plain lines otherwise) and the
//! registry's (progress bars on a terminal, notes with `-v`). Only the cli knows indicatif; its
//! colors follow `--color` (`main` tells `console`, which draws them).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::printer::Printer;

/// Steps as a spinner (terminal) or `info` lines; container output with `-v`.
pub(crate) struct BuildReporter<'a> {
    printer: &'a Printer,
    state: Mutex<State>,
}

struct State {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl<'a> BuildReporter<'a> {
    pub(crate) fn new(printer: &'a Printer) -> Self {
        Self {
            printer,
            state: Mutex::new(State {
                bar: None,
                started: Instant::now(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl zkelf_builder::Reporter for BuildReporter<'_> {
    fn step(&self, message: &str) {
        let mut state = self.state();
        state.started = Instant::now();
        if let Some(bar) = state.bar.take() {
            bar.finish_and_clear();
        }
        if self.printer.progress_enabled() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {prefix} [{elapsed}] {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(message.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            state.bar = Some(bar);
        } else {
            self.printer.info(format!("{message}…"));
        }
    }

    fn output(&self, line: &str) {
        let state = self.state();
        if self.printer.verbose(1) {
            match &state.bar {
                Some(bar) => bar.println(line),
                None => self.printer.info(line),
            }
        } else if let Some(bar) = &state.bar {
            bar.set_message(line.chars().take(100).collect::<String>());
        }
    }

    fn finish(&self, message: &str) {
        let mut state = self.state();
        let elapsed = state.started.elapsed().as_secs_f64();
        if let Some(bar) = state.bar.take() {
            bar.finish_and_clear();
        }
        self.printer.info(format!("  {message} ({elapsed:.1}s)"));
    }

    fn note(&self, message: &str) {
        let state = self.state();
        match &state.bar {
            Some(bar) => bar.println(message),
            None => self.printer.info(message),
        }
    }
}

/// A step that failed leaves no spinner behind on the terminal: the error follows on a clean
/// line.
impl Drop for BuildReporter<'_> {
    fn drop(&mut self) {
        if let Some(bar) = self.state().bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// Progress bars on a terminal (indicatif), notes through the printer with `-v`.
pub(crate) struct ProgressReporter<'a> {
    printer: &'a Printer,
    bar: Mutex<Option<ProgressBar>>,
}

impl<'a> ProgressReporter<'a> {
    pub(crate) fn new(printer: &'a Printer) -> Self {
        Self {
            printer,
            bar: Mutex::new(None),
        }
    }
}

impl zkelf_registry::Reporter for ProgressReporter<'_> {
    fn start(&self, what: &str, total: Option<u64>) {
        if !self.printer.progress_enabled() || total.is_none_or(|t| t < (1 << 20)) {
            return;
        }
        let bar = ProgressBar::new(total.unwrap_or(0));
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} {wide_bar:.cyan/blue} {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(what.chars().take(40).collect::<String>());
        *self
            .bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(bar);
    }

    fn progress(&self, _what: &str, done: u64) {
        if let Some(bar) = self
            .bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            bar.set_position(done);
        }
    }

    fn finish(&self, _what: &str) {
        if let Some(bar) = self
            .bar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            bar.finish_and_clear();
        }
    }

    fn note(&self, message: &str) {
        if self.printer.verbose(1) {
            self.printer.info(message);
        }
    }

    fn notice(&self, message: &str) {
        self.printer.info(format!("note: {message}"));
    }
}
