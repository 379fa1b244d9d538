//! What every request handler shares: the storage, the configuration, the lease policy
//! and the counters behind `/metrics`. Its own module so the API (`server`) and the
//! desk (`receiving`) both depend on it and not on each other.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;

use crate::config::Config;
use crate::db::Storage;
use crate::leases::LeasePolicy;

pub struct AppState {
    pub storage: Arc<dyn Storage>,
    pub config: Config,
    pub lease: Option<LeasePolicy>,
    pub metrics: Metrics,
    /// The open `/v1/events` streams.
    pub events: crate::events::Streams,
}

#[derive(Default)]
pub struct Metrics {
    pub(crate) requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    pub(crate) entries_stored: AtomicU64,
    pub(crate) batches_resent: AtomicU64,
    pub(crate) sequence_gaps: AtomicU64,
    pub(crate) sequence_conflicts: AtomicU64,
    pub(crate) records_pulled: AtomicU64,
    pub(crate) bytes_received: AtomicU64,
    /// Push batches refused by [`crate::validate`], by the catalogue code of the reason.
    pub(crate) refusals: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    pub(crate) fn count(&self, route: &'static str, status: StatusCode) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route, status.as_u16())).or_default() += 1;
        }
    }

    pub(crate) fn count_refusal(&self, code: &str) {
        if let Ok(mut m) = self.refusals.lock() {
            *m.entry(code.to_owned()).or_default() += 1;
        }
    }

    /// `lifebridge_push_refusals_total{reason="push_refused.din_not_leased"}` and the like.
    pub(crate) fn write_refusals(&self, out: &mut String) {
        use std::fmt::Write;
        let name = "lifebridge_push_refusals_total";
        let _ = writeln!(
            out,
            "# HELP {name} Push batches refused because an entry failed the station's checks, by reason.\n# TYPE {name} counter"
        );
        if let Ok(m) = self.refusals.lock() {
            for (reason, n) in m.iter() {
                let _ = writeln!(out, "{name}{{reason=\"{reason}\"}} {n}");
            }
        }
    }
}
