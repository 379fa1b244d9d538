//! The replication protocol between a device and a station, shared by the device store,
//! the device's replicator and the station: the one reference for what travels.
//!
//! - [`wire`]: every request and answer, the error codes and the supported version window;
//! - [`records`]: what travels inside them (a device's change-log entries, the records a
//!   station sends down, and the bodies of the station-written kinds);
//! - [`ingest`]: the station's rule for one push batch;
//! - [`compress`]: gzip for request and answer bodies;
//! - [`manifest_code`]: the manifest QR, for a bus that never got a signal.

pub mod compress;
pub mod ingest;
pub mod manifest_code;
pub mod records;
pub mod wire;
