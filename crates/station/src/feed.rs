//! The station's change sequence (`feed`): what devices pull. Donations and deferrals go
//! out as written, donors merged per field ([`derive_feed`]); the station's own records
//! (leases, reference documents, appointments, staff, hand-offs) are appended here too.
//! Numbers come from one counter row taken inside the writing transaction, so sequence
//! order is commit order and a pulling device never skips a late commit.

use chrono::{DateTime, Utc};
use lifebridge_domain::entities::EntityKind;
use lifebridge_domain::hlc::Hlc;
use lifebridge_domain::merge::{FieldClocks, merge_fields_until};
use lifebridge_protocol::records::{LocalChange, RemoteKind, RemoteRecord};
use uuid::Uuid;

use crate::params;
use crate::storage::sql::{Tx, Value};
use crate::storage::{
    Result, StorageError, clamp, parse_clocks, parse_hlc, parse_kind, parse_uuid,
};

/// A record to append to the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    pub kind: RemoteKind,
    pub record_id: Uuid,
    pub origin_device: Uuid,
    pub target_device: Option<Uuid>,
    pub hlc: Hlc,
    /// Empty when [`FeedItem::entry_seq`] names the change entry that holds it.
    pub body: String,
    pub field_clocks: Option<FieldClocks>,
    /// A record that goes out exactly as `origin_device` pushed it (a donation, a
    /// deferral): the seq of that change entry, whose body the pull reads, so the feed
    /// does not store every such body a second time (migration 0011).
    pub entry_seq: Option<u64>,
}

/// The merged state of one donor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DonorState {
    pub body: String,
    pub field_clocks: FieldClocks,
    pub hlc: Hlc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullPage {
    pub records: Vec<RemoteRecord>,
    pub cursor: u64,
    pub more: bool,
    /// Why the DIN lease this pull asked for was not made (the records still go out).
    pub lease_refused: Option<lifebridge_domain::messages::Message>,
}

/// How large one pull page may grow: records, and bytes of records as they travel
/// (JSON before compression). A record larger than `bytes` goes alone in its page, so
/// one large record delays nothing but itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageBound {
    pub records: u32,
    pub bytes: usize,
}

/// What a record adds to a page besides its body and field clocks: its kind, ids, clock
/// and the JSON around them (about 200 bytes; rounded up).
const RECORD_OVERHEAD: usize = 256;

/// Bytes `text` takes inside a JSON string: quotes and backslashes are escaped (other
/// escapes are rare in a JSON body and left to the overhead).
fn escaped_len(text: &str) -> usize {
    text.len() + text.bytes().filter(|b| matches!(b, b'"' | b'\\')).count()
}

/// A record's size on the wire, near enough to bound a page.
pub fn wire_size(record: &RemoteRecord) -> usize {
    let clocks = record
        .field_clocks
        .as_ref()
        .and_then(|c| serde_json::to_string(c).ok())
        .map_or(0, |c| c.len());
    escaped_len(&record.body) + clocks + RECORD_OVERHEAD
}

/// What one newly stored entry adds to the feed, and the donor's new merged state.
///
/// Donations and deferrals go out as written (one writer each). A donor goes out merged
/// with every earlier version the station holds, per field, by clock. Staff, drives,
/// screenings and labels stay at the station. An entry whose body the station cannot
/// read is kept (it is acknowledged data) but adds nothing; `tracing` reports it.
/// Fields are merged as the station's clock reads `now`: a field clock further ahead
/// than the push bound (one held from before that check) loses to any honest one.
pub fn derive_feed(
    device_id: Uuid,
    entry: &LocalChange,
    donor: Option<&DonorState>,
    now: DateTime<Utc>,
) -> (Option<FeedItem>, Option<DonorState>) {
    let item = |kind, body: String, hlc, field_clocks, entry_seq| FeedItem {
        kind,
        record_id: entry.entity_id,
        origin_device: device_id,
        target_device: None,
        hlc,
        body,
        field_clocks,
        entry_seq,
    };
    // As written: the entry row (stored in the same transaction) holds the body.
    let as_written = |kind| item(kind, String::new(), entry.hlc, None, Some(entry.seq));
    match entry.entity {
        EntityKind::Donation => (Some(as_written(RemoteKind::Donation)), None),
        EntityKind::Deferral => (Some(as_written(RemoteKind::Deferral)), None),
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
                .unwrap_or_else(|| lifebridge_domain::merge::uniform_clocks(&incoming, entry.hlc));
            let (merged, clocks, hlc) = match donor
                .map(|d| serde_json::from_str::<serde_json::Value>(&d.body).map(|v| (v, d)))
            {
                Some(Ok((serde_json::Value::Object(held), state))) => {
                    let (m, c) = merge_fields_until(
                        &held,
                        &state.field_clocks,
                        &incoming,
                        &incoming_clocks,
                        crate::validate::latest_ms(now),
                    );
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
                Some(item(RemoteKind::Donor, body, hlc, Some(clocks), None)),
                Some(state),
            )
        }
        // Staff, drives, screenings, labels and anything added later stay at the station.
        _ => (None, None),
    }
}

/// What a hub adds to its feed beside [`derive_feed`] for one of its tablets' entries:
/// the records the other tablets of the same bus work on together (the drive they all
/// join, the queue's visits, the physician's screenings, the chair's releases), as
/// written, like donations (the feed row names the change entry). A city station never
/// calls it: there these stay at the station, since no other device works in that drive.
pub fn bus_item(device_id: Uuid, entry: &LocalChange) -> Option<FeedItem> {
    let kind = match entry.entity {
        EntityKind::Drive => RemoteKind::Drive,
        EntityKind::Visit => RemoteKind::Visit,
        EntityKind::Screening => RemoteKind::Screening,
        EntityKind::DonationRelease => RemoteKind::DonationRelease,
        _ => return None,
    };
    Some(FeedItem {
        kind,
        record_id: entry.entity_id,
        origin_device: device_id,
        target_device: None,
        hlc: entry.hlc,
        body: String::new(),
        field_clocks: None,
        entry_seq: Some(entry.seq),
    })
}

/// Whether one-writer records written by the pulling device itself are left out.
pub fn own_record_skipped(kind: RemoteKind) -> bool {
    matches!(
        kind,
        RemoteKind::Donation
            | RemoteKind::Deferral
            | RemoteKind::Drive
            | RemoteKind::Visit
            | RemoteKind::Screening
            | RemoteKind::DonationRelease
    )
}

/// A clock stamp for records the station itself writes (leases, documents).
pub fn station_hlc(station_id: Uuid, now: DateTime<Utc>) -> Hlc {
    Hlc {
        wall_ms: u64::try_from(now.timestamp_millis()).unwrap_or(0),
        counter: 0,
        node: station_id,
    }
}

/// A feed item the station itself writes, for every device or for one.
pub fn station_item(
    station_id: Uuid,
    kind: RemoteKind,
    record_id: Uuid,
    target_device: Option<Uuid>,
    body: String,
    now: DateTime<Utc>,
) -> FeedItem {
    FeedItem {
        kind,
        record_id,
        origin_device: station_id,
        target_device,
        hlc: station_hlc(station_id, now),
        body,
        field_clocks: None,
        entry_seq: None,
    }
}

/// This station's id (made once, when the database is created).
pub async fn station_id(tx: &mut dyn Tx) -> Result<Uuid> {
    let row = tx
        .query_one(
            "SELECT value FROM station_meta WHERE key = 'station_id'",
            &[],
        )
        .await?;
    parse_uuid(row.str(0)?)
}

/// The last station seq handed out so far (0 for an empty feed).
pub async fn head(tx: &mut dyn Tx) -> Result<u64> {
    tx.query_one("SELECT value FROM station_counter WHERE name = 'feed'", &[])
        .await?
        .count(0)
}

/// Appends `items` to the feed; returns the last station seq used (0 for none).
pub async fn append(tx: &mut dyn Tx, items: &[FeedItem]) -> Result<i64> {
    if items.is_empty() {
        return Ok(0);
    }
    let n = items.len() as i64;
    // Taking the counter locks its row until commit, so feed order is commit order.
    let last = tx
        .query_one(
            "UPDATE station_counter SET value = value + ?1 WHERE name = 'feed' RETURNING value",
            params![n],
        )
        .await?
        .int(0)?;
    tx.feed_appended(u64::try_from(last).unwrap_or(0));
    let mut values = Vec::with_capacity(items.len() * 9);
    for (i, item) in items.iter().enumerate() {
        values.extend([
            Value::Int(last - n + 1 + i as i64),
            item.kind.as_str().into(),
            item.record_id.into(),
            item.origin_device.into(),
            item.target_device.into(),
            item.hlc.to_string().into(),
            Value::Text(item.body.clone()),
            item.field_clocks
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?
                .into(),
            item.entry_seq.map(clamp).into(),
        ]);
    }
    tx.insert_rows(
        "INSERT INTO feed (station_seq, kind, record_id, origin_device, target_device, hlc, body, field_clocks, entry_seq)",
        9,
        values,
        "",
    )
    .await?;
    Ok(last)
}

/// The feed rows `?2` pulls: those for every device, those addressed to it, and — for a
/// bus hub — those addressed to a tablet registered through it and not revoked (the hub
/// passes them on; [`RemoteRecord::target_device`] names the tablet).
const FOR_PULLER: &str = "(f.target_device IS NULL OR f.target_device = ?2
    OR f.target_device IN (SELECT d.device_id FROM device d
                           WHERE d.via_hub = ?2 AND d.revoked_at IS NULL))";

/// One page of what `device_id` pulls after `after`, bounded by `bound` in records and
/// in bytes.
pub async fn pull_page(
    tx: &mut dyn Tx,
    device_id: Uuid,
    after: u64,
    bound: PageBound,
) -> Result<PullPage> {
    let limit = bound.records as usize;
    // Sizes first, not bodies, so a page never loads more bodies than it sends. Scan a
    // window of the feed, not just matching rows, so the cursor can move past long runs
    // of this device's own records.
    let sizes = tx
        .query(
            &format!(
                "SELECT f.station_seq, f.kind, f.origin_device,
                    LENGTH(COALESCE(c.body, f.body)) + COALESCE(LENGTH(f.field_clocks), 0)
             FROM feed f LEFT JOIN change_entry c
               ON c.device_id = f.origin_device AND c.seq = f.entry_seq
             WHERE f.station_seq > ?1 AND {FOR_PULLER}
             ORDER BY f.station_seq LIMIT ?3"
            ),
            params![clamp(after), device_id, i64::from(bound.records) + 1],
        )
        .await?;
    let mut more = sizes.len() > limit;
    let mut last = after;
    let mut total = 0usize;
    for r in sizes.iter().take(limit) {
        let skipped =
            parse_uuid(r.str(2)?)? == device_id && own_record_skipped(parse_kind(r.str(1)?)?);
        if !skipped {
            // Characters, a lower bound of the bytes; the exact count follows below.
            let size = usize::try_from(r.count(3)?)
                .unwrap_or(usize::MAX)
                .saturating_add(RECORD_OVERHEAD);
            if total > 0 && total.saturating_add(size) > bound.bytes {
                more = true;
                break;
            }
            total = total.saturating_add(size);
        }
        last = r.count(0)?;
    }
    if last == after {
        return Ok(PullPage {
            records: Vec::new(),
            cursor: after,
            more: false,
            lease_refused: None,
        });
    }
    let rows = tx
        .query(
            &format!(
                "SELECT f.station_seq, f.kind, f.record_id, f.origin_device, f.hlc,
                    f.body, f.field_clocks, f.entry_seq, c.body, f.target_device
             FROM feed f LEFT JOIN change_entry c
               ON c.device_id = f.origin_device AND c.seq = f.entry_seq
             WHERE f.station_seq > ?1 AND f.station_seq <= ?3 AND {FOR_PULLER}
             ORDER BY f.station_seq"
            ),
            params![clamp(after), device_id, clamp(last)],
        )
        .await?;
    let mut cursor = after;
    let mut records = Vec::new();
    let mut bytes = 0usize;
    for mut r in rows {
        let seq = r.count(0)?;
        let kind = parse_kind(r.str(1)?)?;
        let origin = parse_uuid(r.str(3)?)?;
        if origin == device_id && own_record_skipped(kind) {
            cursor = seq;
            continue;
        }
        let body = match r.opt_int(7)? {
            None => r.text(5)?,
            // Written in the same transaction as the entry it names, so never missing.
            Some(entry_seq) => r.opt_text(8)?.ok_or_else(|| {
                StorageError::Corrupt(format!(
                    "feed record {seq} names change entry {entry_seq} of device {origin}, which the station does not hold"
                ))
            })?,
        };
        let record = RemoteRecord {
            kind,
            id: parse_uuid(r.str(2)?)?,
            origin_device: origin,
            hlc: parse_hlc(r.str(4)?)?,
            field_clocks: parse_clocks(r.opt_str(6)?)?,
            body,
            // Named only when it is not the puller itself: a hub's tablet.
            target_device: r
                .opt_str(9)?
                .map(parse_uuid)
                .transpose()?
                .filter(|t| *t != device_id),
        };
        // Multi-byte text is longer in bytes than in characters: the rest waits for the
        // next page.
        let size = wire_size(&record);
        if !records.is_empty() && bytes.saturating_add(size) > bound.bytes {
            more = true;
            break;
        }
        bytes = bytes.saturating_add(size);
        records.push(record);
        cursor = seq;
    }
    Ok(PullPage {
        records,
        cursor,
        more,
        lease_refused: None,
    })
}

/// The feed item that publishes a reference document.
pub fn reference_item(
    station_id: Uuid,
    kind: &str,
    version: &str,
    document: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<FeedItem> {
    let body = lifebridge_protocol::records::ReferenceDocumentBody {
        kind: kind.to_owned(),
        version: version.to_owned(),
        document: document.clone(),
    };
    Ok(station_item(
        station_id,
        RemoteKind::ReferenceDocument,
        Uuid::now_v7(),
        None,
        serde_json::to_string(&body)?,
        now,
    ))
}

/// Adds a rules table or questionnaire to the feed; `false` if that version exists.
pub async fn publish_reference(
    tx: &mut dyn Tx,
    kind: &str,
    version: &str,
    document: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<bool> {
    if !keep_reference(tx, kind, version, document, now).await? {
        return Ok(false);
    }
    let station = station_id(tx).await?;
    let item = reference_item(station, kind, version, document, now)?;
    append(tx, &[item]).await?;
    Ok(true)
}

/// Keeps a rules table or questionnaire as this station's own (the one validation reads);
/// `false` if that version is kept already. [`publish_reference`] also sends it out; a
/// hub keeps what its station published (crate::hub::store::import).
pub async fn keep_reference(
    tx: &mut dyn Tx,
    kind: &str,
    version: &str,
    document: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<bool> {
    let inserted = tx
        .execute(
            "INSERT INTO reference_document (kind, version, body, published_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (kind, version) DO NOTHING",
            params![kind, version, document.to_string(), now.to_rfc3339()],
        )
        .await?;
    Ok(inserted > 0)
}

/// The rules table in force at this station from the body of the latest published one
/// (`latest_reference("rules")`): that table, or the embedded GB 18467-2011 table before
/// any was published or when the published one cannot be read (logged).
pub fn rules_in_force(published: Option<String>) -> lifebridge_domain::rules::RuleSet {
    use lifebridge_domain::rules::RuleSet;
    match published {
        Some(body) => RuleSet::from_json(&body).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "published rules table unreadable; using the embedded one");
            RuleSet::gb18467_2011()
        }),
        None => RuleSet::gb18467_2011(),
    }
}

/// The body of the latest published reference document of `kind` (`rules`).
pub async fn latest_reference(tx: &mut dyn Tx, kind: &str) -> Result<Option<String>> {
    tx.query_opt(
        "SELECT body FROM reference_document WHERE kind = ?1
         ORDER BY published_at DESC, version DESC LIMIT 1",
        params![kind],
    )
    .await?
    .map(|mut r| r.text(0))
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Storage;
    use crate::migrations::{MIGRATIONS, checksum, create_table_sql};
    use crate::storage::sqlite::SqliteStorage;
    use lifebridge_protocol::ingest::digest_of;

    /// A station written before migration 0011 copied donation and deferral bodies into
    /// the feed and stored each entry's digest; after it, those rows name their change
    /// entry and pull the same bytes, and the digests are computed, equal to the stored.
    #[tokio::test]
    async fn migration_0011_moves_copied_bodies_drops_digests_and_serves_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("station.db");
        let (device, puller) = (Uuid::now_v7(), Uuid::now_v7());
        let donation = r#"{"id":"d","volume_ml":400}"#;
        let donor = r#"{"id":"p","name":"王"}"#;
        let hlc = Hlc {
            wall_ms: 1,
            counter: 0,
            node: device,
        }
        .to_string();
        let mut digests = Vec::new();
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(create_table_sql()).unwrap();
            for m in MIGRATIONS.iter().filter(|m| m.version < 11) {
                conn.execute_batch(m.sql).unwrap();
                conn.execute(
                    "INSERT INTO station_migration (version, name, sha256, applied_at) VALUES (?1, ?2, ?3, 'then')",
                    (m.version, m.name, checksum(m.sql)),
                )
                .unwrap();
            }
            for (seq, entity, body) in [(1, "donation", donation), (2, "donor", donor)] {
                let id = format!("00000000-0000-0000-0000-00000000000{seq}");
                let digest = digest_of(entity, &id, &hlc, body);
                conn.execute(
                    "INSERT INTO change_entry (device_id, seq, hlc, entity, entity_id, body, digest, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'r')",
                    (device.to_string(), seq, hlc.clone(), entity, &id, body, &digest),
                )
                .unwrap();
                digests.push(digest);
                conn.execute(
                    "INSERT INTO feed (station_seq, kind, record_id, origin_device, hlc, body, field_clocks)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    (
                        seq,
                        entity,
                        format!("00000000-0000-0000-0000-00000000000{seq}"),
                        device.to_string(),
                        hlc.clone(),
                        body,
                        (entity == "donor").then_some("{}"),
                    ),
                )
                .unwrap();
            }
            conn.execute(
                "UPDATE station_counter SET value = 2 WHERE name = 'feed'",
                (),
            )
            .unwrap();
        }
        let storage = SqliteStorage::open(&path).unwrap();
        let bound = PageBound {
            records: 10,
            bytes: 1 << 20,
        };
        let page = storage.pull(puller, 0, bound, None).await.unwrap();
        let bodies: Vec<&str> = page.records.iter().map(|r| r.body.as_str()).collect();
        assert_eq!(bodies, [donation, donor]);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let rows: Vec<(String, Option<i64>)> = conn
            .prepare("SELECT body, entry_seq FROM feed ORDER BY station_seq")
            .unwrap()
            .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            [(String::new(), Some(1)), (donor.to_owned(), None)],
            "the donation's copy moved; the merged donor keeps its body"
        );
        // The stored digests are gone; the ones computed from the entries are the same.
        let held = storage.entries(device).await.unwrap();
        assert_eq!(
            held.into_iter().map(|e| e.digest).collect::<Vec<_>>(),
            digests
        );
    }
}
