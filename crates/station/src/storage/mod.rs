//! Where the station keeps its data: the primitives every station algorithm is written
//! over ([`sql`]: one transaction, SQL in one placeholder style, rows of plain values),
//! and the two backends that run them ([`sqlite`], [`postgres`]): each keeps only its
//! dialect, its connection handling and its locking. The algorithms themselves (ingest,
//! feed, leases, the desk, staff) live in the modules named for them; [`crate::db`] is
//! the one API over both backends.

pub mod postgres;
mod postgres_tls;
pub mod sql;
pub mod sqlite;

use chrono::{DateTime, Utc};
use lifebridge_domain::hlc::Hlc;
use lifebridge_domain::merge::FieldClocks;
use lifebridge_protocol::ingest::Refusal;
use lifebridge_protocol::records::RemoteKind;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the station database failed: {0}")]
    Database(String),
    #[error("the station database holds something it cannot read: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Invalid(String),
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        StorageError::Database(e.to_string())
    }
}

impl From<serde_json::Error> for StorageError {
    fn from(e: serde_json::Error) -> Self {
        StorageError::Corrupt(e.to_string())
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

// How values are stored: ids, clocks and times as text, field clocks as JSON.

pub fn parse_kind(text: &str) -> Result<RemoteKind> {
    RemoteKind::parse(text).ok_or_else(|| StorageError::Corrupt(format!("feed kind {text:?}")))
}

pub fn parse_hlc(text: &str) -> Result<Hlc> {
    text.parse()
        .map_err(|e| StorageError::Corrupt(format!("clock {text:?}: {e}")))
}

pub fn parse_uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| StorageError::Corrupt(format!("id {text:?}: {e}")))
}

pub fn parse_clocks(text: Option<&str>) -> Result<Option<FieldClocks>> {
    text.map(|t| serde_json::from_str(t).map_err(StorageError::from))
        .transpose()
}

/// A time stored as RFC 3339 text (both backends store times so).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StorageError::Corrupt(format!("time {text:?}: {e}")))
}

/// A cursor from a device as a database integer: anything past `i64::MAX` is past the
/// end of the feed anyway.
pub fn clamp(cursor: u64) -> i64 {
    i64::try_from(cursor).unwrap_or(i64::MAX)
}
