//! DIN leases: when a pulling device runs low on numbers, the station leases it a range
//! from a counter per facility and year, inside the pull, as a feed record for that
//! device alone.

use chrono::{DateTime, Utc};
use lifebridge_domain::din::{DinRange, FacilityId};
use lifebridge_domain::entities::{DinRangeRecord, DinRangeSource};
use lifebridge_protocol::records::RemoteKind;
use uuid::Uuid;

use crate::feed::{self, FeedItem};
use crate::params;
use crate::storage::sql::Tx;
use crate::storage::{Result, StorageError, clamp};

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
    Ok(feed::station_item(
        station_id,
        RemoteKind::DinRange,
        lease_id,
        Some(device_id),
        serde_json::to_string(&record)?,
        now,
    ))
}

/// Leases `device_id` more numbers when it needs them (counting leases after `after`
/// that it has not pulled yet).
pub async fn lease(tx: &mut dyn Tx, device_id: Uuid, after: u64, need: &LeaseNeed) -> Result<()> {
    let in_flight = tx
        .query_one(
            "SELECT CAST(COALESCE(SUM(last_seq - first_seq + 1), 0) AS BIGINT) FROM din_lease
             WHERE device_id = ?1 AND station_seq > ?2",
            params![device_id, clamp(after)],
        )
        .await?
        .count(0)?;
    let count = lease_count(&need.policy, need.unused, in_flight);
    if count == 0 {
        return Ok(());
    }
    let facility = need.policy.facility.as_str();
    tx.execute(
        "INSERT INTO din_counter (facility, year, next_seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (facility, year) DO NOTHING",
        params![facility, need.year, need.policy.start_sequence],
    )
    .await?;
    let next = tx
        .query_one(
            "UPDATE din_counter SET next_seq = next_seq + ?3 WHERE facility = ?1 AND year = ?2
             RETURNING next_seq - ?3",
            params![facility, need.year, count],
        )
        .await?
        .count(0)?;
    let range = lease_range(&need.policy.facility, need.year, next, count)?;
    let lease_id = Uuid::now_v7();
    let station = feed::station_id(tx).await?;
    let item = lease_item(station, device_id, lease_id, range.clone(), need.now)?;
    let seq = feed::append(tx, std::slice::from_ref(&item)).await?;
    tx.execute(
        "INSERT INTO din_lease (device_id, lease_id, facility, year, first_seq, last_seq, station_seq, granted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            device_id,
            lease_id,
            facility,
            need.year,
            range.first(),
            range.last(),
            seq,
            need.now.to_rfc3339(),
        ],
    )
    .await?;
    tracing::info!(%device_id, facility, year = need.year, first = range.first(), last = range.last(), "leased DIN range");
    Ok(())
}
