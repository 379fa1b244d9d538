//! Replication between a device and a station: the wire protocol both sides share, the
//! station's batch rule, body compression, and the device's background replicator.

pub mod client;
pub mod compress;
pub mod ingest;
pub mod manifest_code;
pub mod protocol;
pub mod replicator;

pub use lifebridge_store::replication::{
    ApplyReport, FieldClocks, LocalChange, RemoteKind, RemoteRecord, merge_fields,
};

use crate::protocol::ErrorBody;

/// `sync_state` key holding the station address, id and this device's credential.
pub const STATION_KEY: &str = "station";

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the station cannot be reached: {0}")]
    Unreachable(String),
    #[error("the station refused the request ({status}, {code}): {message}", code = serde_json::to_string(&body.error).unwrap_or_default(), message = body.message)]
    Station { status: u16, body: ErrorBody },
    #[error("the station's answer makes no sense: {0}")]
    Protocol(String),
    #[error("sync settings: {0}")]
    Config(String),
    #[error("device store: {0}")]
    Store(#[from] lifebridge_store::StoreError),
}
