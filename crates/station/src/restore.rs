//! A station restored from a backup (docs/security.md): its database is older than what
//! the devices hold. Three things follow, each repaired when a device next syncs:
//!
//! - a device pulled feed records this database no longer has, and its cursor may be past
//!   numbers the restored feed now gives to other records: the station remembers the
//!   highest cursor it handed each device (`device.pulled_seq`), and a device that pulls
//!   from beyond it pulls again from there ([`resume`]);
//! - a device pushed entries this database lost: every pull answer carries the station's
//!   `held_seq`, below the device's acknowledged cursor the device pushes again;
//! - the station leased DIN ranges it no longer knows: a device reports the leases it
//!   holds with every pull, and a device whose cursor is past what this database handed
//!   it gets its unknown leases registered again ([`recover_leases`]), with every DIN
//!   counter raised past every leased number, so no number is leased twice and the
//!   device's re-pushed donations pass the DIN check.

use chrono::{DateTime, Utc};
use lifebridge_protocol::records::HeldLease;
use uuid::Uuid;

use crate::leases::LeasePolicy;
use crate::params;
use crate::storage::sql::Tx;
use crate::storage::{Result, clamp};

/// Where the pull of a device that asks for records after `after` starts: `after`
/// itself, or — when the device's cursor is past the highest one this database handed it
/// (the station was restored from a backup) — that highest cursor, once the leases it
/// reports and this database lost are registered again.
pub async fn resume(
    tx: &mut dyn Tx,
    device_id: Uuid,
    after: u64,
    leases: &[HeldLease],
    policy: Option<&LeasePolicy>,
    now: DateTime<Utc>,
) -> Result<u64> {
    let pulled = tx
        .query_one(
            "SELECT pulled_seq FROM device WHERE device_id = ?1 FOR UPDATE",
            params![device_id],
        )
        .await?
        .count(0)?;
    if after <= pulled {
        return Ok(after);
    }
    tracing::warn!(%device_id, cursor = after, resumed_from = pulled,
        "the device pulled further than this database remembers (the station was restored from a backup?): pulling again from here");
    if let Some(policy) = policy {
        recover_leases(tx, device_id, leases, policy, now).await?;
    }
    Ok(pulled)
}

/// Remembers that `device_id` was handed `cursor` (only ever raised).
pub async fn pulled(tx: &mut dyn Tx, device_id: Uuid, cursor: u64) -> Result<()> {
    tx.execute(
        "UPDATE device SET pulled_seq = ?2 WHERE device_id = ?1 AND pulled_seq < ?2",
        params![device_id, clamp(cursor)],
    )
    .await?;
    Ok(())
}

/// Why a reported lease is not registered again, if it is not.
pub fn unacceptable(lease: &HeldLease, policy: &LeasePolicy) -> Option<&'static str> {
    let range = &lease.range;
    if range.facility() != &policy.facility {
        return Some("another facility's range");
    }
    if range.first() < policy.start_sequence {
        return Some("below the numbers the station leases");
    }
    // A device that claims to have been leased more than the station ever leases at once
    // is not telling the truth; a restored station must not hand it the year's numbers.
    if range.len() > policy.reserve.max(policy.lease_size) {
        return Some("larger than any lease the station makes");
    }
    None
}

/// Registers again the leases `device_id` holds and this database lost, and raises every
/// DIN counter past every number leased. A lease that overlaps one this database holds
/// (for any device) or a registered pre-printed roll is not registered: it is logged,
/// and the donations numbered from it stay refused until someone looks.
pub async fn recover_leases(
    tx: &mut dyn Tx,
    device_id: Uuid,
    leases: &[HeldLease],
    policy: &LeasePolicy,
    now: DateTime<Utc>,
) -> Result<u32> {
    let mut registered = 0;
    // A bus hub's leases are as large as its tablets make them (leases::lease).
    let policy = &policy.for_tablets(crate::leases::tablets_served(tx, device_id).await?);
    for lease in leases {
        if let Some(why) = unacceptable(lease, policy) {
            tracing::warn!(%device_id, lease = %lease.lease_id, why, "reported lease not registered again");
            continue;
        }
        let range = &lease.range;
        let facility = range.facility().as_str();
        let known = tx
            .query_opt(
                "SELECT 1 FROM din_lease WHERE lease_id = ?1",
                params![lease.lease_id],
            )
            .await?
            .is_some();
        if known {
            continue;
        }
        // A lease this database holds, or a registered pre-printed roll (no lease the
        // station makes holds a number of one).
        if let Some(found) = crate::rolls::overlap(tx, range).await? {
            tracing::error!(%device_id, lease = %lease.lease_id, overlaps = %found,
                first = range.first(), last = range.last(),
                "reported lease overlaps numbers this station gave out: not registered; DINs in it may have been used twice");
            continue;
        }
        // station_seq 0: the device has the lease, so it is never counted in flight.
        tx.execute(
            "INSERT INTO din_lease (device_id, lease_id, facility, year, first_seq, last_seq, station_seq, granted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7)",
            params![
                device_id,
                lease.lease_id,
                facility,
                range.year(),
                range.first(),
                range.last(),
                now.to_rfc3339(),
            ],
        )
        .await?;
        tx.execute(
            "INSERT INTO din_counter (facility, year, next_seq) VALUES (?1, ?2, ?3)
             ON CONFLICT (facility, year) DO UPDATE SET next_seq = CASE
                 WHEN din_counter.next_seq < excluded.next_seq THEN excluded.next_seq
                 ELSE din_counter.next_seq END",
            params![facility, range.year(), i64::from(range.last()) + 1],
        )
        .await?;
        tracing::warn!(%device_id, lease = %lease.lease_id, facility, year = range.year(),
            first = range.first(), last = range.last(), "lease this database lost registered again");
        registered += 1;
    }
    raise_counters(tx).await?;
    Ok(registered)
}

/// Raises every DIN counter past the last number of every lease this database holds.
/// Every donation the station accepts is numbered from one of them (`validate`), so this
/// puts every counter past every DIN the station has seen pushed too.
pub async fn raise_counters(tx: &mut dyn Tx) -> Result<u64> {
    tx.execute(
        "UPDATE din_counter SET next_seq = (SELECT MAX(l.last_seq) + 1 FROM din_lease l
             WHERE l.facility = din_counter.facility AND l.year = din_counter.year)
         WHERE next_seq <= (SELECT MAX(l.last_seq) FROM din_lease l
             WHERE l.facility = din_counter.facility AND l.year = din_counter.year)",
        &[],
    )
    .await
}
