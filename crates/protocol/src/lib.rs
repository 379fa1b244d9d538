//! The replication protocol between a device and a station, shared by the device store,
//! the device's replicator and the station: the one reference for what travels.
//!
//! - [`wire`]: every request and answer, the error codes and the supported version window;
//! - [`records`]: what travels inside them (a device's change-log entries, the records a
//!   station sends down, and the bodies of the station-written kinds);
//! - [`ingest`]: the station's rule for one push batch;
//! - [`compress`]: gzip for request and answer bodies;
//! - [`manifest_code`]: the manifest QR, for a bus that never got a signal;
//! - [`prefill_code`]: the QR a donor's phone shows with the questionnaire pre-filled;
//! - [`base45`]: the QR-alphanumeric text both codes carry their bytes in.

pub mod base45;
pub mod compress;
pub mod ingest;
pub mod manifest_code;
pub mod prefill_code;
pub mod records;
pub mod wire;
