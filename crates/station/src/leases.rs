//! DIN leases: when a pulling device runs low on numbers, the station leases it a range
//! from a counter per facility and year, inside the pull, as a feed record for that
//! device alone. What a device holds is the station's own count (numbers leased to it
//! and not yet seen in a pushed donation, [`record_used`]), never only the device's
//! word, and two caps bound what one device can take ([`LeaseCaps`]). A lease never
//! takes a number of a registered pre-printed roll ([`crate::rolls`]).

use chrono::{DateTime, Utc};
use lifebridge_domain::din::{Din, DinRange, FacilityId};
use lifebridge_domain::entities::{DinRangeRecord, DinRangeSource, Donation};
use lifebridge_domain::messages::Message;
use lifebridge_protocol::records::RemoteKind;
use uuid::Uuid;

use crate::feed::{self, FeedItem};
use crate::storage::sql::{Tx, Value};
use crate::storage::{Result, StorageError, parse_time};
use crate::{params, rolls};

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
    pub caps: LeaseCaps,
}

/// What one device may take, so a stolen or broken tablet cannot drain the year's
/// numbers (docs/security.md "DIN leases").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseCaps {
    /// Most numbers of the current year leased to one device and not yet seen used.
    pub max_outstanding: u32,
    /// Most numbers leased to one device in any 24 hours.
    pub max_per_day: u32,
}

/// What a lease attempt inside a pull came to. A refusal never fails the pull: the
/// records still go out and the device is told why (a catalogue message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseOutcome {
    /// The device holds enough.
    NotNeeded,
    Leased(DinRange),
    Refused(Message),
}

impl LeasePolicy {
    /// The policy for a device that numbers donations for `tablets` tablets: a bus hub
    /// sub-leases its leases to the tablets registered through it, so its reserve and
    /// its lease size are the policy's times their number (at least 1: every other
    /// device has the policy as configured). The caps stay one device's: a lease is
    /// still trimmed to them in whole blocks of the configured size ([`capped_count`]).
    pub fn for_tablets(&self, tablets: u32) -> LeasePolicy {
        let n = tablets.max(1);
        LeasePolicy {
            reserve: self.reserve.saturating_mul(n),
            lease_size: self.lease_size.saturating_mul(n),
            ..self.clone()
        }
    }
}

/// How many tablets `device_id` numbers donations for: the tablets registered through
/// it and not revoked when it is a bus hub, else 0.
pub async fn tablets_served(tx: &mut dyn Tx, device_id: Uuid) -> Result<u32> {
    let n = tx
        .query_one(
            "SELECT COUNT(*) FROM device WHERE via_hub = ?1 AND revoked_at IS NULL",
            params![device_id],
        )
        .await?
        .count(0)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Numbers a device holds as the station counts them, and what it took lately.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holding {
    /// Leased in the current year and not yet seen in a pushed donation.
    pub outstanding: u64,
    /// Leased in the last 24 hours.
    pub last_day: u64,
}

/// Trims a wanted lease of `count` numbers to what the caps leave, in whole
/// `lease_size` blocks; a refusal message when nothing fits.
pub fn capped_count(
    policy: &LeasePolicy,
    holding: Holding,
    count: u32,
) -> std::result::Result<u32, Message> {
    let caps = policy.caps;
    let outstanding_room = u64::from(caps.max_outstanding).saturating_sub(holding.outstanding);
    let day_room = u64::from(caps.max_per_day).saturating_sub(holding.last_day);
    let size = u64::from(policy.lease_size.max(1));
    let room = outstanding_room.min(day_room);
    let fits = (room / size * size).min(u64::from(count));
    if fits > 0 {
        return Ok(u32::try_from(fits).unwrap_or(count));
    }
    Err(if outstanding_room < size {
        Message::new("din_lease.outstanding_cap")
            .with("outstanding", holding.outstanding.to_string())
            .with("max", caps.max_outstanding.to_string())
    } else {
        Message::new("din_lease.daily_cap")
            .with("leased", holding.last_day.to_string())
            .with("max", caps.max_per_day.to_string())
    })
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

/// What `device_id` holds as the station counts it: numbers of `year` leased to it,
/// less those seen in its pushed donations, and what it was leased since `now` − 24 h.
pub async fn holding(
    tx: &mut dyn Tx,
    device_id: Uuid,
    facility: &FacilityId,
    year: u8,
    now: DateTime<Utc>,
) -> Result<Holding> {
    // A device has a few leases a year: read them and count here, rather than compare
    // times as text in SQL (PostgreSQL's collation need not order them).
    let rows = tx
        .query(
            "SELECT facility, year, first_seq, last_seq, granted_at FROM din_lease WHERE device_id = ?1",
            params![device_id],
        )
        .await?;
    let since = now - chrono::Duration::hours(24);
    let mut leased = 0u64;
    let mut last_day = 0u64;
    for mut r in rows {
        let size = r.count(3)?.saturating_sub(r.count(2)?) + 1;
        if r.str(0)? == facility.as_str() && r.int(1)? == i64::from(year) {
            leased += size;
        }
        if parse_time(&r.text(4)?)? > since {
            last_day += size;
        }
    }
    // The numbers of its leases seen used, by whoever used them: the device itself, or
    // for a bus hub the tablets it sub-leased them to (docs/security.md "Bus hubs").
    // Numbers from pre-printed rolls were never leased: they count against no lease.
    // One primary-key range of `din_used` per lease.
    let used = tx
        .query_one(
            "SELECT COUNT(*) FROM din_lease l JOIN din_used u
               ON u.facility = l.facility AND u.year = l.year
              AND u.sequence BETWEEN l.first_seq AND l.last_seq
             WHERE l.device_id = ?1 AND l.facility = ?2 AND l.year = ?3",
            params![device_id, facility.as_str(), year],
        )
        .await?
        .count(0)?;
    Ok(Holding {
        outstanding: leased.saturating_sub(used),
        last_day,
    })
}

/// Leases `device_id` more numbers when it needs them. What it holds is the larger of
/// what it says it has left and what the lease table says it was leased and has not
/// used (leases it has not pulled yet included), so a device that under-reports gets
/// nothing more for it, and a lease is never made twice for one need.
pub async fn lease(tx: &mut dyn Tx, device_id: Uuid, need: &LeaseNeed) -> Result<LeaseOutcome> {
    let held = holding(tx, device_id, &need.policy.facility, need.year, need.now).await?;
    let tablets = tablets_served(tx, device_id).await?;
    let wanted = lease_count(
        &need.policy.for_tablets(tablets),
        need.unused.max(held.outstanding),
        0,
    );
    if wanted == 0 {
        return Ok(LeaseOutcome::NotNeeded);
    }
    let count = match capped_count(&need.policy, held, wanted) {
        Ok(count) => count,
        Err(why) => {
            tracing::warn!(%device_id, outstanding = held.outstanding, last_day = held.last_day,
                code = %why.code, "DIN lease refused: the device reached a cap");
            return Ok(LeaseOutcome::Refused(why));
        }
    };
    let facility = need.policy.facility.as_str();
    // A hub leases only from what the station leased it (crate::hub), and in blocks of
    // the reserve rather than whole lease sizes: the first tablet must not take the whole
    // pool while the station counts the hub as holding enough (every tablet of the bus
    // gets numbers; a tablet on the bus's LAN tops up from the hub as it uses them).
    if crate::hub::store::is_hub(tx).await? {
        let count = count.min(need.policy.reserve.max(1));
        let Some(range) =
            crate::hub::store::sublease(tx, &need.policy.facility, need.year, count).await?
        else {
            return Ok(LeaseOutcome::Refused(
                Message::new("din_lease.hub_empty")
                    .with("facility", facility)
                    .with("year", format!("{:02}", need.year)),
            ));
        };
        return grant(tx, device_id, need, range).await;
    }
    // Locked before the rolls are read, as registering a roll locks it before it reads
    // the leases (crate::rolls). A new counter starts at 0: a lease never starts below
    // the configured first number.
    let counter = rolls::lock_counter(tx, &need.policy.facility, need.year).await?;
    let rolls: Vec<DinRange> = rolls::of_year(tx, &need.policy.facility, need.year)
        .await?
        .into_iter()
        .map(|r| r.range)
        .collect();
    let next = rolls::skip_rolls(
        counter.max(u64::from(need.policy.start_sequence)),
        count,
        &rolls,
    );
    let range = match lease_range(&need.policy.facility, need.year, next, count) {
        Ok(range) => range,
        Err(e) => {
            tracing::error!(%device_id, facility, year = need.year, "DIN lease refused: {e}");
            return Ok(LeaseOutcome::Refused(
                Message::new("din_lease.exhausted")
                    .with("facility", facility)
                    .with("year", format!("{:02}", need.year)),
            ));
        }
    };
    tx.execute(
        "UPDATE din_counter SET next_seq = ?3 WHERE facility = ?1 AND year = ?2",
        params![facility, need.year, i64::from(range.last()) + 1],
    )
    .await?;
    grant(tx, device_id, need, range).await
}

/// Records the lease of `range` to `device_id` and sends it to the device.
async fn grant(
    tx: &mut dyn Tx,
    device_id: Uuid,
    need: &LeaseNeed,
    range: DinRange,
) -> Result<LeaseOutcome> {
    let facility = need.policy.facility.as_str();
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
    Ok(LeaseOutcome::Leased(range))
}

/// Notes the DINs of pushed donations as used by `device_id` (a correction names its
/// donation's DIN again: one row per number). Called in the push transaction with the
/// donations validation parsed (not parsed again here), so every DIN lies in a range leased to that device, or in a
/// registered pre-printed roll or a training range (counted against no lease).
pub async fn record_used<'a>(
    tx: &mut dyn Tx,
    device_id: Uuid,
    donations: impl Iterator<Item = &'a Donation>,
) -> Result<()> {
    insert_used(tx, donations.map(|d| (device_id, &d.din))).await
}

async fn insert_used<'a>(
    tx: &mut dyn Tx,
    dins: impl Iterator<Item = (Uuid, &'a Din)>,
) -> Result<()> {
    let mut values = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (device_id, din) in dins {
        if seen.insert(din.as_str().to_owned()) {
            values.extend([
                din.facility().as_str().into(),
                Value::from(din.year()),
                Value::from(din.sequence()),
                Value::from(device_id),
            ]);
        }
    }
    if values.is_empty() {
        return Ok(());
    }
    tx.insert_rows(
        "INSERT INTO din_used (facility, year, sequence, device_id)",
        4,
        values,
        "ON CONFLICT (facility, year, sequence) DO NOTHING",
    )
    .await
}

/// Fills `din_used` from every donation the station holds (a station that held
/// donations before the table existed: migration 0008).
pub async fn rebuild_used(tx: &mut dyn Tx) -> Result<()> {
    let rows = tx
        .query(
            "SELECT device_id, body FROM change_entry WHERE entity = 'donation' ORDER BY device_id, seq",
            &[],
        )
        .await?;
    let mut held = Vec::with_capacity(rows.len());
    for r in rows {
        let device = crate::storage::parse_uuid(r.str(0)?)?;
        // A body held from before validation existed may not read: it is skipped.
        if let Ok(donation) = serde_json::from_str::<Donation>(r.str(1)?) {
            held.push((device, donation));
        }
    }
    insert_used(tx, held.iter().map(|(d, donation)| (*d, &donation.din))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(max_outstanding: u32, max_per_day: u32) -> LeasePolicy {
        LeasePolicy {
            facility: "W1234".parse().expect("a facility id"),
            reserve: 200,
            lease_size: 500,
            start_sequence: 1,
            caps: LeaseCaps {
                max_outstanding,
                max_per_day,
            },
        }
    }

    #[test]
    fn caps_trim_a_lease_to_whole_blocks() {
        let holding = |outstanding, last_day| Holding {
            outstanding,
            last_day,
        };
        // Room for everything wanted.
        assert_eq!(
            capped_count(&policy(2000, 2000), holding(0, 0), 1000),
            Ok(1000)
        );
        // Room for one block of the two wanted.
        assert_eq!(
            capped_count(&policy(2000, 2000), holding(1400, 0), 1000),
            Ok(500)
        );
        assert_eq!(
            capped_count(&policy(2000, 1200), holding(0, 600), 1000),
            Ok(500)
        );
        // No whole block fits: refused, naming the cap that binds.
        let out = capped_count(&policy(2000, 2000), holding(1600, 0), 500).unwrap_err();
        assert_eq!(out.code, "din_lease.outstanding_cap");
        let day = capped_count(&policy(2000, 2000), holding(100, 1800), 500).unwrap_err();
        assert_eq!(day.code, "din_lease.daily_cap");
    }
}
