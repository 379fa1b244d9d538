//! The wire format between a device and a station (HTTP + JSON, gzip-compressed bodies).
//!
//! Every request carries the device's protocol and store schema versions and its wall
//! clock; every answer carries the station's clock and, when the two are further apart
//! than the station's bound, a warning the app shows to the crew. Records still sync:
//! nothing is ordered by a wall clock, only by hybrid logical clocks.

use crate::records::{LocalChange, RemoteRecord};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The protocol this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// The oldest protocol a station of this build still accepts. Raising it is a
/// documented, announced step (docs/api.md "Versions").
pub const MIN_PROTOCOL_VERSION: u32 = 1;
/// The device store schema this build writes: the version of the last migration in
/// `migrations/device/` (a unit test of the store keeps the two equal). Devices send it
/// so a station can refuse those outside its window.
pub const SCHEMA_VERSION: u32 = 10;
/// The oldest device store schema a station of this build accepts.
pub const MIN_SCHEMA_VERSION: u32 = 1;
/// Most entries a station accepts in one push batch.
pub const MAX_BATCH_ENTRIES: usize = 2000;
/// Most records a station returns in one pull page.
pub const MAX_PULL_PAGE: u32 = 2000;
/// How far ahead of the station's clock a pushed clock stamp (an entry's, or a donor
/// field's) may be. Honest tablets drift seconds a day and are warned past
/// `clock_skew_bound_secs` (two minutes by default); an hour still lets through a clock
/// set a little fast by hand. A stamp further ahead would win every per-field merge
/// until the real time caught up with it, so the station refuses the batch and tells
/// the crew to set the device's clock. Because nothing stored is ever further ahead
/// than this, no stamp outranks an honest edit made more than an hour after it.
pub const MAX_CLOCK_LEAD_MS: u64 = 3600 * 1000;
/// Most bytes one pushed entry's body may hold. The largest honest body is a manifest:
/// a few hundred bags and a logger's readings are well under 1 MiB.
pub const MAX_ENTRY_BODY_BYTES: usize = 1024 * 1024;
/// Most field clocks a donor entry may carry (a donor has about a dozen fields).
pub const MAX_FIELD_CLOCKS: usize = 64;

/// Sent with every request, so the station can refuse versions it cannot serve and
/// warn about a device clock that is far off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    pub protocol_version: u32,
    pub schema_version: u32,
    pub device_time: DateTime<Utc>,
}

impl ClientInfo {
    /// This build's versions, stamped with the device's clock now.
    pub fn current() -> ClientInfo {
        ClientInfo {
            protocol_version: PROTOCOL_VERSION,
            schema_version: SCHEMA_VERSION,
            device_time: Utc::now(),
        }
    }
}

/// `POST /v1/enroll`: exchange a one-time enrollment code for a device credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    #[serde(flatten)]
    pub client: ClientInfo,
    pub code: String,
    /// The device store's own id; the station binds the credential to it.
    pub device_id: Uuid,
    pub device_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub device_id: Uuid,
    pub device_name: String,
    /// Bearer token for every later request. Shown once; the station keeps only a hash.
    pub token: String,
    pub station_id: Uuid,
    #[serde(flatten)]
    pub clock: StationClock,
}

/// The header a bus hub sets when it acts for one of its tablets: the tablet's device id.
/// The bearer token is the hub's own. The station accepts it on `/v1/push` and
/// `/v1/status` only, from a device enrolled as a hub, for a tablet registered through
/// that hub ([`RegisterTabletRequest`]); the entries are then checked exactly as if the
/// tablet had pushed them itself (its own clock, its own seqs, its own leases and the
/// hub's), so `(device, seq)` stays the key end to end.
pub const RELAY_FOR_HEADER: &str = "lifebridge-relay-for";

/// `POST /v1/hub/tablets` (hubs only): registers a tablet that enrolled with the hub, so
/// the station accepts its entries relayed by that hub and sends the hub the records
/// addressed to it. Idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterTabletRequest {
    #[serde(flatten)]
    pub client: ClientInfo,
    /// The tablet's own device id (its store's id, as it enrolled with the hub).
    pub device_id: Uuid,
    pub device_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterTabletResponse {
    pub device_id: Uuid,
    /// The highest `seq` of this tablet the station holds (0 for a new one): the hub
    /// relays from the entry after it.
    pub held_seq: u64,
    #[serde(flatten)]
    pub clock: StationClock,
}

/// `GET /v1/events`: server-sent events, one named [`FEED_EVENT`] each time the station's
/// feed advances (and one with the current head when the stream opens), its data a
/// [`FeedEvent`] in JSON. A device whose pull cursor is behind `cursor` pulls now.
pub const EVENTS_PATH: &str = "/v1/events";

/// The SSE event name of a [`FeedEvent`].
pub const FEED_EVENT: &str = "feed";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEvent {
    /// The last station seq of the feed (some of it may be for other devices only).
    pub cursor: u64,
}

/// `POST /v1/push`: a batch of this device's change log, consecutive `seq`s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    #[serde(flatten)]
    pub client: ClientInfo,
    pub entries: Vec<LocalChange>,
    /// The head of the device's audit chain when it sent the batch. The station keeps
    /// the last one it acknowledged and refuses a chain that shrank or forked since.
    /// Absent from devices built before it existed (nothing is checked then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<AuditHead>,
}

/// The last entry of a device's audit chain: its `seq` and its hash (which covers every
/// entry before it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub seq: u64,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// The highest `seq` the station now holds for this device; everything up to it is
    /// durably stored and the device never needs to send it again.
    pub held_seq: u64,
    /// Entries of this batch that were new to the station (0 for a re-sent batch).
    pub stored: u32,
    #[serde(flatten)]
    pub clock: StationClock,
}

/// `POST /v1/pull`: the next page of the station's change sequence after `after`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    #[serde(flatten)]
    pub client: ClientInfo,
    pub after: u64,
    pub limit: u32,
    /// Unissued DINs left in this device's leased ranges; below the station's reserve
    /// the station leases another range in this answer.
    #[serde(default)]
    pub unused_dins: Option<u64>,
    /// The DIN ranges this device holds from the station's leases (granted in the last
    /// year). A station restored from a backup may have lost some of them: it learns them
    /// back from here (docs/security.md, "A station restored from a backup").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leases: Vec<crate::records::HeldLease>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    pub records: Vec<RemoteRecord>,
    /// The cursor to send as `after` next time (and to store with the applied page).
    pub cursor: u64,
    /// More records wait after `cursor`: ask again. A page ends at `limit` records or
    /// at the station's byte bound, whichever comes first.
    pub more: bool,
    /// Why the DIN lease this pull asked for (`unused_dins`) was not made: a cap was
    /// reached, the year's numbers ran out, or the lease failed. The records still
    /// came; the app shows it to the crew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_refused: Option<lifebridge_domain::messages::Message>,
    /// The highest `seq` the station holds for this device. Below the device's
    /// acknowledged push cursor, the station was restored from a backup: the device
    /// pushes again from here. Above the end of the device's change log, the device was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_seq: Option<u64>,
    #[serde(flatten)]
    pub clock: StationClock,
}

/// `GET /v1/status` answer: what the station holds for the calling device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    pub device_id: Uuid,
    pub device_name: String,
    pub held_seq: u64,
    #[serde(flatten)]
    pub clock: StationClock,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StationClock {
    pub station_time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_warning: Option<ClockWarning>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockWarning {
    /// Device clock minus station clock, in milliseconds.
    pub skew_ms: i64,
    pub bound_ms: u64,
    pub message: String,
}

impl StationClock {
    /// The station's clock, with a warning when `device_time` is more than `bound_ms`
    /// away from it.
    pub fn compare(station_time: DateTime<Utc>, device_time: DateTime<Utc>, bound_ms: u64) -> Self {
        let skew_ms = (device_time - station_time).num_milliseconds();
        let clock_warning = (skew_ms.unsigned_abs() > bound_ms).then(|| ClockWarning {
            skew_ms,
            bound_ms,
            message: format!(
                "this device's clock is {} {} the station's (more than the {} s allowed); \
                 set the date and time on the device — records still sync",
                human_duration(skew_ms.unsigned_abs()),
                if skew_ms > 0 { "ahead of" } else { "behind" },
                bound_ms / 1000
            ),
        });
        StationClock {
            station_time,
            clock_warning,
        }
    }
}

/// A duration as a person reads it (`90 s`, `5 min`, `3 h`, `2 days`).
pub fn human_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172_800 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

/// Every error answer has this body, whatever the status code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorCode,
    pub message: String,
    /// `sequence_gap`: the `seq` the station needs next from this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<u64>,
    /// `sequence_gap` and `sequence_conflict`: the highest `seq` the station holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_seq: Option<u64>,
    /// `sequence_conflict`: the `seq` whose content differs from what the station holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicting_seq: Option<u64>,
    /// `entry_refused`: the entry that refused the batch, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<Box<RefusedEntry>>,
}

/// A pushed entry the station will not store, and why (a catalogue message the app
/// shows the crew). One refused entry refuses its whole batch: nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedEntry {
    pub seq: u64,
    pub entity: lifebridge_domain::entities::EntityKind,
    pub entity_id: Uuid,
    pub reason: lifebridge_domain::messages::Message,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is not the JSON this endpoint takes, or a field is out of range.
    MalformedBody,
    /// 400: a push batch that is empty, too long or not consecutive.
    InvalidBatch,
    /// 413
    BodyTooLarge,
    /// 415: a `Content-Encoding` other than gzip or identity.
    UnsupportedEncoding,
    /// 401: no credential, an unknown one, or a revoked device.
    Unauthorized,
    /// 403: an enrollment code that is unknown, used or expired.
    EnrollmentRefused,
    /// 426: protocol or schema version outside the station's window.
    UnsupportedVersion,
    /// 409: the batch starts after the next `seq` the station needs.
    SequenceGap,
    /// 409: a `seq` the station holds arrived again with different content.
    SequenceConflict,
    /// 422: an entry of the batch failed the station's checks (`refused` says which
    /// and why); nothing of the batch was stored.
    EntryRefused,
    /// 403: a hub's request for a tablet the station does not relay through it (the
    /// caller is not a hub, the tablet is not registered through it, or it is bound to
    /// another hub or revoked).
    RelayRefused,
    /// 404
    NotFound,
    /// 503: the station's database is unavailable; retry later.
    Unavailable,
    /// 500
    Internal,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::MalformedBody | ErrorCode::InvalidBatch => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::EnrollmentRefused | ErrorCode::RelayRefused => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::SequenceGap | ErrorCode::SequenceConflict => 409,
            ErrorCode::BodyTooLarge => 413,
            ErrorCode::EntryRefused => 422,
            ErrorCode::UnsupportedEncoding => 415,
            ErrorCode::UnsupportedVersion => 426,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }
}

impl ErrorBody {
    pub fn new(error: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error,
            message: message.into(),
            expected_seq: None,
            held_seq: None,
            conflicting_seq: None,
            refused: None,
        }
    }
}

/// Checks the versions a device sent against what this build of the station serves.
pub fn check_versions(client: &ClientInfo) -> Result<(), ErrorBody> {
    let max_schema = SCHEMA_VERSION;
    if !(MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&client.protocol_version) {
        return Err(ErrorBody::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "protocol_version {} is not supported: this station accepts {MIN_PROTOCOL_VERSION} to {PROTOCOL_VERSION}; {}",
                client.protocol_version,
                if client.protocol_version > PROTOCOL_VERSION {
                    "update the station"
                } else {
                    "update the app"
                }
            ),
        ));
    }
    if !(MIN_SCHEMA_VERSION..=max_schema).contains(&client.schema_version) {
        return Err(ErrorBody::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "schema_version {} is not supported: this station accepts device stores with schema {MIN_SCHEMA_VERSION} to {max_schema}; {}",
                client.schema_version,
                if client.schema_version > max_schema {
                    "update the station"
                } else {
                    "update the app"
                }
            ),
        ));
    }
    Ok(())
}
