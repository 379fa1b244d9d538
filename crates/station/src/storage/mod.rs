//! The station's storage, behind one trait with a SQLite and a PostgreSQL backend.
//!
//! Both backends apply the same rules ([`lifebridge_protocol::ingest::plan`] for batches,
//! [`derive_feed`] for what devices pull); only the SQL differs.

pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use lifebridge_domain::cold_chain::Manifest;
use lifebridge_domain::din::{DinRange, FacilityId};
use lifebridge_domain::entities::{Appointment, DinRangeRecord, DinRangeSource, EntityKind};
use lifebridge_domain::handoff::{DeskScan, HandoffRecord};
use lifebridge_domain::hlc::Hlc;
use lifebridge_domain::merge::{FieldClocks, merge_fields, uniform_clocks};
use lifebridge_protocol::ingest::Refusal;
use lifebridge_protocol::records::{LocalChange, ReferenceDocumentBody, RemoteKind, RemoteRecord};
use serde::Serialize;
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRecord {
    pub device_id: Uuid,
    pub name: String,
    pub enrolled_at: String,
    pub revoked_at: Option<String>,
    pub held_seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushOutcome {
    pub held_seq: u64,
    pub stored: u32,
}

/// The station's DIN leasing policy (from the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeasePolicy {
    pub facility: FacilityId,
    /// Lease more when a device holds fewer unissued numbers than this.
    pub reserve: u32,
    pub lease_size: u32,
    /// The first sequence number the station leases in a new year (numbers below it
    /// may be in use on pre-printed rolls).
    pub start_sequence: u32,
}

/// A lease to make inside a pull, when the device runs low.
#[derive(Debug, Clone)]
pub struct LeaseNeed {
    pub policy: LeasePolicy,
    pub unused: u64,
    pub year: u8,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullPage {
    pub records: Vec<RemoteRecord>,
    pub cursor: u64,
    pub more: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub devices: u64,
    pub revoked_devices: u64,
    pub change_entries: u64,
    pub feed_records: u64,
    pub donors: u64,
    pub din_leases: u64,
}

/// One stored change entry, for audits and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub seq: u64,
    pub digest: String,
}

#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// This station's id (made once, when the database is created).
    async fn station_id(&self) -> Result<Uuid>;
    async fn ping(&self) -> Result<()>;

    async fn create_enrollment(
        &self,
        name: &str,
        code_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Uses up an enrollment code and enrolls the device; `None` when the code is
    /// unknown, used or expired (or the device id is already enrolled).
    async fn redeem_enrollment(
        &self,
        code_hash: &str,
        device_id: Uuid,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceRecord>>;
    /// The enrolled, unrevoked device with this credential.
    async fn device_by_token(&self, token_hash: &str) -> Result<Option<DeviceRecord>>;
    async fn devices(&self) -> Result<Vec<DeviceRecord>>;
    /// Revokes by device id or name; `None` when no such active device exists.
    async fn revoke_device(
        &self,
        id_or_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DeviceRecord>>;

    /// Applies one batch in one transaction (see [`lifebridge_protocol::ingest`]).
    async fn push(
        &self,
        device_id: Uuid,
        entries: &[LocalChange],
        now: DateTime<Utc>,
    ) -> Result<PushOutcome>;
    async fn pull(
        &self,
        device_id: Uuid,
        after: u64,
        limit: u32,
        lease: Option<LeaseNeed>,
    ) -> Result<PullPage>;
    /// Adds a rules table or questionnaire to the feed; `false` if that version exists.
    async fn publish_reference(
        &self,
        kind: &str,
        version: &str,
        document: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// Sends appointments to every device; one whose latest published version is
    /// identical is left out. Returns how many were published.
    async fn publish_appointments(
        &self,
        appointments: &[Appointment],
        now: DateTime<Utc>,
    ) -> Result<u32>;
    /// The latest published version of every appointment on `date`.
    async fn appointments_on(&self, date: NaiveDate) -> Result<Vec<Appointment>>;

    async fn counts(&self) -> Result<Counts>;
    /// Every entry held for a device, in seq order.
    async fn entries(&self, device_id: Uuid) -> Result<Vec<StoredEntry>>;
    /// The merged donor as the station holds it.
    async fn donor(&self, donor_id: Uuid) -> Result<Option<String>>;

    // The receiving desk (crate::receiving).

    /// Records a manifest loaded from its QR at the desk; compares it with the
    /// replicated copy if that arrived first.
    async fn put_manifest_qr(&self, manifest: &Manifest, now: DateTime<Utc>)
    -> Result<ManifestRow>;
    async fn manifest_row(&self, manifest_id: Uuid) -> Result<Option<ManifestRow>>;
    /// The latest manifests by dispatch time, newest first.
    async fn manifest_rows(&self, limit: u32) -> Result<Vec<ManifestRow>>;
    /// `false` when a staff member of that name exists (nothing is written). An account
    /// with a device role is also sent to every device, in the same transaction.
    async fn add_staff(&self, staff: &StaffRow) -> Result<bool>;
    async fn staff_by_name(&self, name: &str) -> Result<Option<StaffRow>>;
    /// Every account, open and closed, by name.
    async fn staff_list(&self) -> Result<Vec<StaffRow>>;
    /// Stores the account's roles, PIN hash and open/closed state (by `staff_id`; the
    /// name stays), and sends it to the devices again, in one transaction. `false` when
    /// there is no such account.
    async fn update_staff(&self, staff: &StaffRow, now: DateTime<Utc>) -> Result<bool>;
    async fn open_receipt(&self, receipt: &ReceiptRow) -> Result<()>;
    /// The receipt with its scans in scan order.
    async fn receipt(&self, receipt_id: Uuid) -> Result<Option<ReceiptRow>>;
    /// `false` when the receipt is unknown or already signed (nothing is written).
    async fn add_desk_scan(
        &self,
        receipt_id: Uuid,
        scan_id: Uuid,
        scan: &DeskScan,
        scanned_by: Uuid,
    ) -> Result<bool>;
    /// Stores the signed hand-off and sends it to each manifest's device, in one
    /// transaction; `false` when the receipt was signed already (nothing is written).
    async fn sign_receipt(&self, receipt_id: Uuid, record: &HandoffRecord) -> Result<bool>;
    /// The signed hand-off of a receipt, as stored.
    async fn handoff_of(&self, receipt_id: Uuid) -> Result<Option<String>>;
    /// What the statistics are computed from.
    async fn statistics_sources(&self) -> Result<StatisticsSources>;
    /// The body of the latest published reference document of `kind` (`rules`).
    async fn latest_reference(&self, kind: &str) -> Result<Option<String>>;
}

/// A manifest as the desk knows it (table `manifest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestRow {
    pub manifest_id: Uuid,
    pub device_id: Uuid,
    pub site_name: String,
    pub dispatched_at: String,
    pub replicated_body: Option<String>,
    pub qr_body: Option<String>,
    pub qr_matches: Option<bool>,
    pub first_seen_at: String,
}

impl ManifestRow {
    /// The manifest to work from: the replicated copy when present (it is what the
    /// device holds), else the one from the QR.
    pub fn manifest(&self) -> Result<Manifest> {
        let body = self
            .replicated_body
            .as_deref()
            .or(self.qr_body.as_deref())
            .ok_or_else(|| {
                StorageError::Corrupt(format!("manifest {} has no body", self.manifest_id))
            })?;
        Ok(serde_json::from_str(body)?)
    }
}

/// Folds one arrival of a manifest (by replication or by QR) into what the desk held.
/// The first copy of each kind stands: a manifest is never edited once signed, so a
/// second, different copy is exactly what `qr_matches = false` reports.
pub fn merge_manifest(
    held: Option<ManifestRow>,
    manifest: &Manifest,
    body: &str,
    by_qr: bool,
    now: DateTime<Utc>,
) -> ManifestRow {
    let mut row = held.unwrap_or_else(|| ManifestRow {
        manifest_id: manifest.id,
        device_id: manifest.device_id,
        site_name: manifest.site_name.clone(),
        dispatched_at: manifest.dispatched_at.to_rfc3339(),
        replicated_body: None,
        qr_body: None,
        qr_matches: None,
        first_seen_at: now.to_rfc3339(),
    });
    let slot = if by_qr {
        &mut row.qr_body
    } else {
        &mut row.replicated_body
    };
    if slot.is_none() {
        *slot = Some(body.to_owned());
    }
    row.qr_matches = match (&row.replicated_body, &row.qr_body) {
        (Some(a), Some(b)) => Some(
            // Compared as manifests, not text: key order or number formatting may differ.
            match (
                serde_json::from_str::<Manifest>(a),
                serde_json::from_str::<Manifest>(b),
            ) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            },
        ),
        _ => None,
    };
    row
}

/// The manifest a pushed change entry carries, if it is one the station can read.
pub fn pushed_manifest(entry: &LocalChange) -> Option<Manifest> {
    if entry.entity != EntityKind::Manifest {
        return None;
    }
    match serde_json::from_str::<Manifest>(&entry.body) {
        Ok(m) if m.id == entry.entity_id => Some(m),
        Ok(m) => {
            tracing::warn!(entity_id = %entry.entity_id, body_id = %m.id, "manifest entry names another id; not projected");
            None
        }
        Err(e) => {
            tracing::warn!(entity_id = %entry.entity_id, error = %e, "manifest entry body unreadable; not projected");
            None
        }
    }
}

/// A member of station staff who signs at the desk (table `station_staff`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub staff_id: Uuid,
    pub name: String,
    /// One or more roles separated by commas (`receiving`, or device roles such as
    /// `driver` or `registration,phlebotomist`): see `receiving::StaffRole`.
    pub role: String,
    pub pin_hash: String,
    pub created_at: String,
    /// `false` once closed (`lifebridge-station staff deactivate`): signs nothing.
    pub active: bool,
}

/// One receiving at the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRow {
    pub receipt_id: Uuid,
    pub manifest_ids: Vec<Uuid>,
    pub opened_by: Uuid,
    pub opened_at: DateTime<Utc>,
    pub signed_at: Option<String>,
    pub scans: Vec<DeskScan>,
}

/// The latest body of every record the statistics read, as pushed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatisticsSources {
    pub donations: Vec<String>,
    pub screenings: Vec<String>,
    pub drives: Vec<String>,
    /// Merged donors.
    pub donors: Vec<String>,
}

/// Keeps the last body per entity id from `(entity_id, body)` rows in push order.
pub fn latest_bodies(rows: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let mut latest: std::collections::BTreeMap<String, String> = Default::default();
    for (id, body) in rows {
        latest.insert(id, body);
    }
    latest.into_values().collect()
}

/// The feed items that send a signed hand-off to each device whose manifest it covers.
pub fn handoff_items(station_id: Uuid, record: &HandoffRecord) -> Result<Vec<FeedItem>> {
    let body = serde_json::to_string(record)?;
    Ok(record
        .device_ids
        .iter()
        .map(|device| FeedItem {
            kind: RemoteKind::Handoff,
            record_id: record.id,
            origin_device: station_id,
            target_device: Some(*device),
            hlc: station_hlc(station_id, record.signed_at),
            body: body.clone(),
            field_clocks: None,
        })
        .collect())
}

/// A record to append to the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    pub kind: RemoteKind,
    pub record_id: Uuid,
    pub origin_device: Uuid,
    pub target_device: Option<Uuid>,
    pub hlc: Hlc,
    pub body: String,
    pub field_clocks: Option<FieldClocks>,
}

/// The merged state of one donor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DonorState {
    pub body: String,
    pub field_clocks: FieldClocks,
    pub hlc: Hlc,
}

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

/// What one newly stored entry adds to the feed, and the donor's new merged state.
///
/// Donations and deferrals go out as written (one writer each). A donor goes out merged
/// with every earlier version the station holds, per field, by clock. Staff, drives,
/// screenings and labels stay at the station. An entry whose body the station cannot
/// read is kept (it is acknowledged data) but adds nothing; `tracing` reports it.
pub fn derive_feed(
    device_id: Uuid,
    entry: &LocalChange,
    donor: Option<&DonorState>,
) -> (Option<FeedItem>, Option<DonorState>) {
    let item = |kind, body: String, hlc, field_clocks| FeedItem {
        kind,
        record_id: entry.entity_id,
        origin_device: device_id,
        target_device: None,
        hlc,
        body,
        field_clocks,
    };
    match entry.entity {
        EntityKind::Donation => (
            Some(item(
                RemoteKind::Donation,
                entry.body.clone(),
                entry.hlc,
                None,
            )),
            None,
        ),
        EntityKind::Deferral => (
            Some(item(
                RemoteKind::Deferral,
                entry.body.clone(),
                entry.hlc,
                None,
            )),
            None,
        ),
        EntityKind::Donor => {
            let Ok(serde_json::Value::Object(incoming)) =
                serde_json::from_str::<serde_json::Value>(&entry.body)
            else {
                tracing::warn!(%device_id, seq = entry.seq, "donor entry body is not a JSON object; not merged");
                return (None, None);
            };
            let incoming_clocks = entry
                .field_clocks
                .clone()
                .unwrap_or_else(|| uniform_clocks(&incoming, entry.hlc));
            let (merged, clocks, hlc) = match donor
                .map(|d| serde_json::from_str::<serde_json::Value>(&d.body).map(|v| (v, d)))
            {
                Some(Ok((serde_json::Value::Object(held), state))) => {
                    let (m, c) =
                        merge_fields(&held, &state.field_clocks, &incoming, &incoming_clocks);
                    (m, c, state.hlc.max(entry.hlc))
                }
                _ => (incoming, incoming_clocks, entry.hlc),
            };
            let body = serde_json::Value::Object(merged).to_string();
            let state = DonorState {
                body: body.clone(),
                field_clocks: clocks.clone(),
                hlc,
            };
            (
                Some(item(RemoteKind::Donor, body, hlc, Some(clocks))),
                Some(state),
            )
        }
        // Staff, drives, screenings, labels and anything added later stay at the station.
        _ => (None, None),
    }
}

/// The feed item for a new lease of `range` to `device_id`.
pub fn lease_item(
    station_id: Uuid,
    device_id: Uuid,
    lease_id: Uuid,
    range: DinRange,
    now: DateTime<Utc>,
) -> Result<FeedItem> {
    let record = DinRangeRecord {
        id: lease_id,
        range,
        source: DinRangeSource::Leased,
        device_id,
        granted_at: now,
    };
    Ok(FeedItem {
        kind: RemoteKind::DinRange,
        record_id: lease_id,
        origin_device: station_id,
        target_device: Some(device_id),
        hlc: station_hlc(station_id, now),
        body: serde_json::to_string(&record)?,
        field_clocks: None,
    })
}

/// A clock stamp for records the station itself writes (leases, documents).
/// The feed item that sends a staff account to every device, when it holds a device
/// role (`receiving` accounts stay at the station).
pub fn staff_item(
    station_id: Uuid,
    staff: &StaffRow,
    now: DateTime<Utc>,
) -> Result<Option<FeedItem>> {
    let Some(account) = staff.device_account() else {
        return Ok(None);
    };
    Ok(Some(FeedItem {
        kind: RemoteKind::Staff,
        record_id: staff.staff_id,
        origin_device: station_id,
        target_device: None,
        hlc: station_hlc(station_id, now),
        body: serde_json::to_string(&account)?,
        field_clocks: None,
    }))
}

/// A time stored as RFC 3339 text (both backends store times so).
/// A desk scan's label piece as stored (`desk_scan.piece`: the piece's JSON, or NULL).
pub fn piece_text(scan: &DeskScan) -> Result<Option<String>> {
    Ok(scan.piece.map(|p| serde_json::to_string(&p)).transpose()?)
}

/// A desk scan's manual entry as stored (`desk_scan.manual`: its JSON, or NULL for a scan).
pub fn manual_text(scan: &DeskScan) -> Result<Option<String>> {
    Ok(scan
        .manual
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?)
}

/// Reads `desk_scan.manual` back.
pub fn parse_manual(text: Option<&str>) -> Result<Option<lifebridge_domain::handoff::DeskManual>> {
    text.map(|t| {
        serde_json::from_str(t)
            .map_err(|e| StorageError::Corrupt(format!("desk scan manual entry {t:?}: {e}")))
    })
    .transpose()
}

/// Reads `desk_scan.piece` back.
pub fn parse_piece(text: Option<&str>) -> Result<Option<lifebridge_domain::labels::LabelPiece>> {
    text.map(|t| {
        serde_json::from_str(t)
            .map_err(|e| StorageError::Corrupt(format!("desk scan piece {t:?}: {e}")))
    })
    .transpose()
}

pub fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StorageError::Corrupt(format!("time {text:?}: {e}")))
}

pub fn station_hlc(station_id: Uuid, now: DateTime<Utc>) -> Hlc {
    Hlc {
        wall_ms: u64::try_from(now.timestamp_millis()).unwrap_or(0),
        counter: 0,
        node: station_id,
    }
}

/// How many numbers to lease now, if any: enough to bring the device back above the
/// reserve, counting leases it has not pulled yet, in whole `lease_size` blocks.
pub fn lease_count(policy: &LeasePolicy, unused: u64, in_flight: u64) -> u32 {
    let have = unused.saturating_add(in_flight);
    if have >= u64::from(policy.reserve) {
        return 0;
    }
    let missing = u64::from(policy.reserve) - have;
    let size = u64::from(policy.lease_size.max(1));
    let blocks = missing.div_ceil(size);
    u32::try_from(blocks * size).unwrap_or(u32::MAX)
}

/// Makes the range for a lease of `count` numbers from `next` (the counter value), or
/// says the year's numbers are used up.
pub fn lease_range(facility: &FacilityId, year: u8, next: u64, count: u32) -> Result<DinRange> {
    const MAX_SEQUENCE: u64 = 999_999;
    let last = next + u64::from(count) - 1;
    if last > MAX_SEQUENCE || count == 0 {
        return Err(StorageError::Invalid(format!(
            "DIN numbers for facility {facility} year {year:02} are exhausted: cannot lease {count} from {next}"
        )));
    }
    DinRange::new(facility.clone(), year, next as u32, last as u32)
        .map_err(|e| StorageError::Invalid(e.to_string()))
}

/// Whether one-writer records written by the pulling device itself are left out.
pub fn own_record_skipped(kind: RemoteKind) -> bool {
    matches!(kind, RemoteKind::Donation | RemoteKind::Deferral)
}

/// The feed item that publishes a reference document.
pub fn reference_item(
    station_id: Uuid,
    kind: &str,
    version: &str,
    document: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<FeedItem> {
    let body = ReferenceDocumentBody {
        kind: kind.to_owned(),
        version: version.to_owned(),
        document: document.clone(),
    };
    Ok(FeedItem {
        kind: RemoteKind::ReferenceDocument,
        record_id: Uuid::now_v7(),
        origin_device: station_id,
        target_device: None,
        hlc: station_hlc(station_id, now),
        body: serde_json::to_string(&body)?,
        field_clocks: None,
    })
}

/// The feed item that sends (or re-sends, changed) one appointment to every device.
pub fn appointment_item(
    station_id: Uuid,
    appointment: &Appointment,
    now: DateTime<Utc>,
) -> Result<FeedItem> {
    Ok(FeedItem {
        kind: RemoteKind::Appointment,
        record_id: appointment.id,
        origin_device: station_id,
        target_device: None,
        hlc: station_hlc(station_id, now),
        body: serde_json::to_string(appointment)?,
        field_clocks: None,
    })
}

/// The columns of `station_staff` in the order both backends read them into a [`StaffRow`].
pub const STAFF_COLUMNS: &str = "staff_id, name, role, pin_hash, created_at, active";

/// The SQL that reads every appointment record of the feed, in station order, as
/// `(record_id, body)` (the same text for both backends).
pub const APPOINTMENT_FEED_SQL: &str =
    "SELECT record_id, body FROM feed WHERE kind = 'appointment' ORDER BY station_seq";

/// The latest body of each appointment, from `(record_id, body)` rows in station order.
fn latest_appointment_bodies(
    rows_in_feed_order: impl IntoIterator<Item = (String, String)>,
) -> std::collections::BTreeMap<String, String> {
    rows_in_feed_order.into_iter().collect()
}

/// The feed items for the appointments whose latest published version differs (new
/// ones included); `held` is [`APPOINTMENT_FEED_SQL`]'s rows.
pub fn changed_appointment_items(
    held: impl IntoIterator<Item = (String, String)>,
    appointments: &[Appointment],
    station_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<FeedItem>> {
    let latest = latest_appointment_bodies(held);
    let mut items = Vec::new();
    for appointment in appointments {
        let item = appointment_item(station_id, appointment, now)?;
        if latest.get(&appointment.id.to_string()) != Some(&item.body) {
            items.push(item);
        }
    }
    Ok(items)
}

/// The latest version of every appointment on `date`, from [`APPOINTMENT_FEED_SQL`]'s rows.
pub fn latest_appointments(
    held: impl IntoIterator<Item = (String, String)>,
    date: NaiveDate,
) -> Result<Vec<Appointment>> {
    let mut out = Vec::new();
    for body in latest_appointment_bodies(held).into_values() {
        let appointment: Appointment = serde_json::from_str(&body)?;
        if appointment.date == date {
            out.push(appointment);
        }
    }
    out.sort_by(|a, b| (&a.site_name, a.time, &a.name).cmp(&(&b.site_name, b.time, &b.name)));
    Ok(out)
}

/// A cursor from a device as a database integer: anything past `i64::MAX` is past the
/// end of the feed anyway.
pub fn clamp(cursor: u64) -> i64 {
    i64::try_from(cursor).unwrap_or(i64::MAX)
}
