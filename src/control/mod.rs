//! The test-facing control plane that watches and shapes Twilio API traffic: the request
//! journal ([`journal`]), fault and latency injection ([`faults`]) and Prometheus metrics
//! ([`metrics`]), as plain types that know no handler and no application state.
//!
//! The HTTP edge uses them: `routes::observe` is the middleware that runs every Twilio API
//! request past them, and `routes::emulator` serves them under `/_emulator/` (the journal,
//! the fault rules and the metrics).

pub mod faults;
pub mod journal;
pub mod metrics;
pub mod pattern;

use self::faults::Faults;
use self::journal::Journal;
use self::metrics::Metrics;

/// The journal, fault rules and metrics of one running emulator.
#[derive(Debug)]
pub struct ControlPlane {
    journal: Journal,
    faults: Faults,
    metrics: Metrics,
}

impl ControlPlane {
    /// A control plane whose journal keeps at most `journal_size` requests.
    pub fn new(journal_size: usize, journal_max_bytes: usize) -> Self {
        Self {
            journal: Journal::new(journal_size, journal_max_bytes),
            faults: Faults::new(),
            metrics: Metrics::default(),
        }
    }

    /// The request journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The fault rules.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The request metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// Whether `path` belongs to the emulator's own endpoints, which are never journaled,
/// counted or faulted.
pub fn is_control_path(path: &str) -> bool {
    path == "/_emulator" || path.starts_with("/_emulator/")
}
