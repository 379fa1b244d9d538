//! The device side of replication: the client that talks to one station and the
//! background replicator. What travels is defined in `lifebridge_protocol`.

/// The station client lives in `lifebridge-client` (the hub uses it too).
pub mod client {
    pub use lifebridge_client::*;
}
pub mod replicator;

use lifebridge_protocol::wire::ErrorBody;

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
    /// The station refused an entry of this device's change log (422 `entry_refused`):
    /// what came before it was pushed and the pull went on; the entry waits, and is
    /// offered again at the next sync after the backoff.
    #[error("the station refused entry {} ({}): {}", .0.seq, .0.entity.as_str(), .0.reason)]
    Refused(Box<lifebridge_protocol::wire::RefusedEntry>),
}

impl From<lifebridge_client::ClientError> for SyncError {
    fn from(e: lifebridge_client::ClientError) -> SyncError {
        use lifebridge_client::ClientError as C;
        match e {
            C::Unreachable(why) => SyncError::Unreachable(why),
            C::Station { status, body } => SyncError::Station { status, body },
            C::Protocol(why) => SyncError::Protocol(why),
            C::Config(why) => SyncError::Config(why),
        }
    }
}
