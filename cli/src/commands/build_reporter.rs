//! The builder's [`Reporter`]: a spinner on a terminal, plain lines otherwise.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use zkelf_builder::Reporter;

use crate::printer::Printer;

/// Steps as a spinner (terminal) or `info` lines; container output with `-v`.
pub(super) struct BuildReporter<'a> {
    printer: &'a Printer,
    state: Mutex<State>,
}

struct State {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl<'a> BuildReporter<'a> {
    pub(super) fn new(printer: &'a Printer) -> Self {
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

impl Reporter for BuildReporter<'_> {
    fn step(&self, message: &str) {
        let mut state = self.state();
        state.started = Instant::now();
        if let Some(bar) = state.bar.take() {
            bar.finish_and_clear();
        }
        if self.printer.progress_enabled() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {wide_msg}")
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
}
