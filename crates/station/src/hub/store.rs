//! What a hub keeps of its link to the city station (migration 0013), written once for
//! both backends like every station algorithm: the link itself, how far each tablet
//! was relayed, the station's records imported into the hub's own feed, and the DIN
//! ranges it sub-leases.

use chrono::{DateTime, Utc};
use lifebridge_domain::din::{DinRange, FacilityId};
use lifebridge_domain::entities::{DinRangeRecord, EntityKind};
use lifebridge_protocol::records::{LocalChange, RemoteKind, RemoteRecord};
use uuid::Uuid;

use crate::feed::{self, FeedItem};
use crate::params;
use crate::storage::sql::Tx;
use crate::storage::{Result, StorageError, parse_clocks, parse_hlc, parse_uuid};

/// The hub's link to the city station.
#[derive(Clone, PartialEq, Eq)]
pub struct Upstream {
    pub url: String,
    /// The station's certificate (PEM) the hub pins; `None` for loopback HTTP.
    pub cert_pem: Option<String>,
    /// The hub's device id at the station: its own station id.
    pub device_id: Uuid,
    pub name: String,
    pub token: String,
    pub pull_cursor: u64,
    pub paused: bool,
    pub enrolled_at: String,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token: it is the hub's credential at the station.
        f.debug_struct("Upstream")
            .field("url", &self.url)
            .field("device_id", &self.device_id)
            .field("name", &self.name)
            .field("pull_cursor", &self.pull_cursor)
            .field("paused", &self.paused)
            .finish_non_exhaustive()
    }
}

pub async fn upstream(tx: &mut dyn Tx) -> Result<Option<Upstream>> {
    let Some(mut r) = tx
        .query_opt(
            "SELECT url, cert_pem, device_id, name, token, pull_cursor, paused, enrolled_at
             FROM hub_upstream WHERE singleton = 1",
            &[],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Upstream {
        device_id: parse_uuid(r.str(2)?)?,
        pull_cursor: r.count(5)?,
        paused: r.int(6)? != 0,
        url: r.text(0)?,
        cert_pem: r.opt_text(1)?,
        name: r.text(3)?,
        token: r.text(4)?,
        enrolled_at: r.text(7)?,
    }))
}

/// Keeps the link made at the hub's enrollment with the station; `false` when the hub
/// is enrolled already (a hub has one station).
pub async fn set_upstream(tx: &mut dyn Tx, link: &Upstream) -> Result<bool> {
    let n = tx
        .execute(
            "INSERT INTO hub_upstream (singleton, url, cert_pem, device_id, name, token, pull_cursor, paused, enrolled_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, 0, 0, ?6) ON CONFLICT (singleton) DO NOTHING",
            params![
                link.url.as_str(),
                link.cert_pem.clone(),
                link.device_id,
                link.name.as_str(),
                link.token.as_str(),
                link.enrolled_at.as_str()
            ],
        )
        .await?;
    Ok(n == 1)
}

pub async fn set_paused(tx: &mut dyn Tx, paused: bool) -> Result<bool> {
    Ok(tx
        .execute(
            "UPDATE hub_upstream SET paused = ?1 WHERE singleton = 1",
            params![i64::from(paused)],
        )
        .await?
        == 1)
}

/// A tablet enrolled with the hub, and how far the station holds its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tablet {
    pub device_id: Uuid,
    pub name: String,
    /// The hub holds this tablet's entries up to here.
    pub held_seq: u64,
    /// The station took its registration through this hub.
    pub registered: bool,
    /// The station holds its entries up to here.
    pub relayed_seq: u64,
    pub last_error: Option<String>,
    pub revoked: bool,
    /// When the hub received the tablet's latest entry.
    pub last_record_at: Option<String>,
}

impl Tablet {
    /// Entries the hub holds that the station does not yet.
    pub fn waiting(&self) -> u64 {
        self.held_seq.saturating_sub(self.relayed_seq)
    }
}

pub async fn tablets(tx: &mut dyn Tx) -> Result<Vec<Tablet>> {
    let rows = tx
        .query(
            "SELECT d.device_id, d.name, d.held_seq, r.registered_at, r.relayed_seq, r.last_error, d.revoked_at,
                    (SELECT c.received_at FROM change_entry c WHERE c.device_id = d.device_id
                     ORDER BY c.seq DESC LIMIT 1)
             FROM device d LEFT JOIN hub_relay r ON r.device_id = d.device_id
             ORDER BY d.enrolled_at, d.device_id",
            &[],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for mut r in rows {
        out.push(Tablet {
            device_id: parse_uuid(r.str(0)?)?,
            held_seq: r.count(2)?,
            registered: r.opt_str(3)?.is_some(),
            relayed_seq: r.opt_int(4)?.map_or(0, |v| u64::try_from(v).unwrap_or(0)),
            last_error: r.opt_text(5)?,
            revoked: r.opt_str(6)?.is_some(),
            last_record_at: r.opt_text(7)?,
            name: r.text(1)?,
        });
    }
    Ok(out)
}

/// Notes how far the station holds `device`'s entries (`registered` once the station took
/// its registration); `error` is why the last attempt failed, `None` after a success. The
/// relayed seq never moves back: the station's answer is the truth only upward.
pub async fn note_relay(
    tx: &mut dyn Tx,
    device: Uuid,
    held_upstream: Option<u64>,
    registered_now: Option<DateTime<Utc>>,
    error: Option<&str>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO hub_relay (device_id, registered_at, relayed_seq, last_error) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (device_id) DO UPDATE SET
           registered_at = COALESCE(hub_relay.registered_at, excluded.registered_at),
           relayed_seq = CASE WHEN excluded.relayed_seq > hub_relay.relayed_seq
                              THEN excluded.relayed_seq ELSE hub_relay.relayed_seq END,
           last_error = excluded.last_error",
        params![
            device,
            registered_now.map(|t| t.to_rfc3339()),
            held_upstream.map_or(0, crate::storage::clamp),
            error
        ],
    )
    .await?;
    Ok(())
}

/// `device`'s entries after `after`, at most `limit`, exactly as the tablet pushed them
/// (the columns hold the text it sent), so the station's digest of a re-sent entry
/// matches the tablet's own.
pub async fn entries_after(
    tx: &mut dyn Tx,
    device: Uuid,
    after: u64,
    limit: u32,
) -> Result<Vec<LocalChange>> {
    let rows = tx
        .query(
            "SELECT seq, hlc, entity, entity_id, body, field_clocks FROM change_entry
             WHERE device_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            params![device, crate::storage::clamp(after), i64::from(limit)],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for mut r in rows {
        let entity = r.str(2)?;
        out.push(LocalChange {
            seq: r.count(0)?,
            hlc: parse_hlc(r.str(1)?)?,
            entity: EntityKind::parse(entity).ok_or_else(|| {
                StorageError::Corrupt(format!("change entry of unknown kind {entity:?}"))
            })?,
            entity_id: parse_uuid(r.str(3)?)?,
            field_clocks: parse_clocks(r.opt_str(5)?)?,
            body: r.text(4)?,
        });
    }
    Ok(out)
}

/// Imports one page the hub pulled from the station into its own feed, with the new
/// cursor, in one transaction: what its tablets pull next.
///
/// - a DIN lease of the hub's own goes into its sub-lease pool, not to the tablets;
/// - a record addressed to one of its tablets is addressed to it here too;
/// - a donor is merged per field with what the hub holds (its tablets' edits and the
///   station's), exactly as the station merges;
/// - a donation or deferral one of the hub's own tablets wrote is already in its feed;
/// - a rules table or questionnaire is also kept as the hub's own reference document,
///   so the hub checks its tablets' entries against the station's rules;
/// - the rest goes out as the station sent it.
pub async fn import(
    tx: &mut dyn Tx,
    records: &[RemoteRecord],
    cursor: u64,
    now: DateTime<Utc>,
) -> Result<ImportOutcome> {
    let Some(link) = upstream(tx).await? else {
        return Err(StorageError::Invalid(
            "this station is not a hub: it has no upstream station".into(),
        ));
    };
    let mut outcome = ImportOutcome::default();
    let mut items = Vec::new();
    let mut local = std::collections::BTreeSet::new();
    for r in tx.query("SELECT device_id FROM device", &[]).await? {
        local.insert(parse_uuid(r.str(0)?)?);
    }
    // Every donor of the page, loaded and locked once and saved once, merged in page
    // order (as a push merges its batch).
    let donor_entries: Vec<LocalChange> = records
        .iter()
        .filter(|r| r.kind == RemoteKind::Donor && r.target_device.is_none())
        .map(|r| LocalChange {
            seq: 0,
            hlc: r.hlc,
            entity: EntityKind::Donor,
            entity_id: r.id,
            body: r.body.clone(),
            field_clocks: r.field_clocks.clone(),
        })
        .collect();
    let mut donors = crate::ingest::load_donors(tx, &donor_entries).await?;
    let mut changed = std::collections::BTreeSet::new();
    let mut donor_entries = donor_entries.iter();
    for r in records {
        let item = |target_device| FeedItem {
            kind: r.kind,
            record_id: r.id,
            origin_device: r.origin_device,
            target_device,
            hlc: r.hlc,
            body: r.body.clone(),
            field_clocks: r.field_clocks.clone(),
            entry_seq: None,
        };
        match (r.kind, r.target_device) {
            (_, Some(tablet)) => items.push(item(Some(tablet))),
            (RemoteKind::DinRange, None) => {
                let lease: DinRangeRecord = serde_json::from_str(&r.body).map_err(|e| {
                    StorageError::Corrupt(format!("DIN lease {} from the station: {e}", r.id))
                })?;
                if lease.device_id == link.device_id {
                    outcome.leased += u64::from(lease.range.len());
                    add_lease(tx, &lease).await?;
                }
            }
            (RemoteKind::Donor, None) => {
                let Some(entry) = donor_entries.next() else {
                    continue;
                };
                let (merged, state) =
                    feed::derive_feed(r.origin_device, entry, donors.get(&r.id), now);
                // The station sending back what the hub's tablets wrote changes nothing:
                // the tablets hold it already.
                if state.is_some() && state.as_ref() == donors.get(&r.id) {
                    outcome.own += 1;
                    continue;
                }
                if let Some(state) = state {
                    donors.insert(r.id, state);
                    changed.insert(r.id);
                }
                items.extend(merged);
            }
            (RemoteKind::Donation | RemoteKind::Deferral, None)
                if local.contains(&r.origin_device) =>
            {
                outcome.own += 1;
            }
            (RemoteKind::ReferenceDocument, None) => {
                if let Ok(doc) = serde_json::from_str::<
                    lifebridge_protocol::records::ReferenceDocumentBody,
                >(&r.body)
                {
                    feed::keep_reference(tx, &doc.kind, &doc.version, &doc.document, now).await?;
                }
                items.push(item(None));
            }
            _ => items.push(item(None)),
        }
    }
    crate::ingest::save_donors(tx, &donors, &changed).await?;
    outcome.appended = items.len() as u64;
    feed::append(tx, &items).await?;
    tx.execute(
        "UPDATE hub_upstream SET pull_cursor = ?1 WHERE singleton = 1 AND pull_cursor < ?1",
        params![crate::storage::clamp(cursor)],
    )
    .await?;
    Ok(outcome)
}

/// What one imported page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Records added to the hub's feed.
    pub appended: u64,
    /// DIN numbers the station leased to the hub.
    pub leased: u64,
    /// Records the hub held already: its own tablets' donations and deferrals, and
    /// donors the station sent back unchanged.
    pub own: u64,
}

async fn add_lease(tx: &mut dyn Tx, lease: &DinRangeRecord) -> Result<()> {
    tx.execute(
        "INSERT INTO hub_lease (lease_id, facility, year, first_seq, last_seq, next_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?4) ON CONFLICT (lease_id) DO NOTHING",
        params![
            lease.id,
            lease.range.facility().as_str(),
            lease.range.year(),
            lease.range.first(),
            lease.range.last()
        ],
    )
    .await?;
    Ok(())
}

/// Numbers of `facility` and `year` the hub holds from the station and has not
/// sub-leased yet: what it tells the station it has left.
pub async fn unleased(tx: &mut dyn Tx, facility: &FacilityId, year: u8) -> Result<u64> {
    let rows = tx
        .query(
            "SELECT first_seq, last_seq, next_seq FROM hub_lease WHERE facility = ?1 AND year = ?2",
            params![facility.as_str(), year],
        )
        .await?;
    let mut left = 0u64;
    for r in rows {
        left += (r.count(1)? + 1).saturating_sub(r.count(2)?.max(r.count(0)?));
    }
    Ok(left)
}

/// Takes up to `count` numbers of `facility` and `year` from the hub's own leases, from
/// the oldest lease with numbers left (one contiguous range: a tablet's lease is a
/// range). `None` when the hub holds none: it leases nothing it was not leased.
pub async fn sublease(
    tx: &mut dyn Tx,
    facility: &FacilityId,
    year: u8,
    count: u32,
) -> Result<Option<DinRange>> {
    let Some(r) = tx
        .query_opt(
            "SELECT lease_id, last_seq, next_seq FROM hub_lease
             WHERE facility = ?1 AND year = ?2 AND next_seq <= last_seq
             ORDER BY first_seq LIMIT 1 FOR UPDATE",
            params![facility.as_str(), year],
        )
        .await?
    else {
        return Ok(None);
    };
    let (last, next) = (r.count(1)?, r.count(2)?);
    let end = last.min(next + u64::from(count.max(1)) - 1);
    let range = crate::leases::lease_range(facility, year, next, (end - next + 1) as u32)?;
    tx.execute(
        "UPDATE hub_lease SET next_seq = ?2 WHERE lease_id = ?1",
        params![r.str(0)?, crate::storage::clamp(end + 1)],
    )
    .await?;
    Ok(Some(range))
}

/// Whether this station is a hub (it has an upstream station).
pub async fn is_hub(tx: &mut dyn Tx) -> Result<bool> {
    Ok(tx
        .query_opt("SELECT 1 FROM hub_upstream WHERE singleton = 1", &[])
        .await?
        .is_some())
}
