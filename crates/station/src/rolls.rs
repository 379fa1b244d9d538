//! The register of pre-printed DIN rolls (migration 0010, docs/security.md "DIN").
//!
//! A blood station prints rolls of labels ahead of time and hands them to vehicles; a
//! DIN from such a roll is as good as a leased one, once station staff have registered
//! the roll (`lifebridge-station rolls register`). A roll may be handed to one device,
//! and then only that device may number donations from it. What the register keeps
//! true, so that no number is ever used twice:
//!
//! - a roll never overlaps a lease (of any device) or another roll: registration is
//!   refused naming both ranges ([`register`]);
//! - the lease counters skip every registered roll ([`skip_rolls`], called by
//!   [`crate::leases::lease`]).
//!
//! Registration and leasing both lock the counter row of the roll's facility and year,
//! so a lease made while a roll is being registered is either seen by the overlap check
//! or sees the roll.

use chrono::{DateTime, Utc};
use lifebridge_domain::din::{DinRange, FacilityId};
use lifebridge_domain::messages::Message;
use serde::Serialize;
use uuid::Uuid;

use crate::params;
use crate::storage::sql::{Row, Tx, Value};
use crate::storage::{Result, parse_time, parse_uuid};

/// A registered roll, with the name of the device it was handed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollRow {
    pub roll_id: Uuid,
    pub range: DinRange,
    pub device_id: Option<Uuid>,
    pub device_name: Option<String>,
    pub registered_at: DateTime<Utc>,
}

impl RollRow {
    /// Whether `device_id` may number donations from this roll.
    pub fn usable_by(&self, device_id: Uuid) -> bool {
        self.device_id.is_none_or(|d| d == device_id)
    }
}

/// A range as people read it on a label: `A9999 26 000001–000500`.
pub fn range_text(range: &DinRange) -> String {
    format!(
        "{} {:02} {:06}–{:06}",
        range.facility(),
        range.year(),
        range.first(),
        range.last()
    )
}

/// The roll an operator typed, or what is wrong with it (naming the option).
pub fn parse_range(
    facility: &str,
    year: u16,
    first: u32,
    last: u32,
) -> std::result::Result<DinRange, Message> {
    let facility: FacilityId = facility
        .trim()
        .parse()
        .map_err(|_| Message::new("din_roll.facility_invalid").with("facility", facility))?;
    // Staff read "2026" off the calendar; the label prints "26". Both mean the same roll.
    let year = match year {
        0..=99 => year,
        2000..=2099 => year - 2000,
        _ => return Err(Message::new("din_roll.year_invalid").with("year", year.to_string())),
    };
    let year = u8::try_from(year)
        .map_err(|_| Message::new("din_roll.year_invalid").with("year", year.to_string()))?;
    DinRange::new(facility, year, first, last).map_err(|_| {
        Message::new("din_roll.sequence_invalid")
            .with("first", first.to_string())
            .with("last", last.to_string())
    })
}

const ROLL_COLUMNS: &str =
    "r.roll_id, r.facility, r.year, r.first_seq, r.last_seq, r.device_id, d.name, r.registered_at";
const ROLL_FROM: &str = "din_roll r LEFT JOIN device d ON d.device_id = r.device_id";

fn to_roll(mut r: Row) -> Result<RollRow> {
    let range = stored_range(&r, 1)?;
    Ok(RollRow {
        roll_id: parse_uuid(r.str(0)?)?,
        range,
        device_id: r.opt_str(5)?.map(parse_uuid).transpose()?,
        device_name: r.opt_text(6)?,
        registered_at: parse_time(r.str(7)?)?,
    })
}

/// The range in columns `at..at + 4` (facility, year, first, last) of a stored row.
fn stored_range(r: &Row, at: usize) -> Result<DinRange> {
    let corrupt = |what: &str| crate::storage::StorageError::Corrupt(format!("DIN range: {what}"));
    let facility: FacilityId = r.str(at)?.parse().map_err(|_| corrupt("facility"))?;
    let year = u8::try_from(r.int(at + 1)?).map_err(|_| corrupt("year"))?;
    let first = u32::try_from(r.int(at + 2)?).map_err(|_| corrupt("first"))?;
    let last = u32::try_from(r.int(at + 3)?).map_err(|_| corrupt("last"))?;
    DinRange::new(facility, year, first, last).map_err(|e| corrupt(&e.to_string()))
}

/// Every registered roll, by facility, year and first number.
pub async fn list(tx: &mut dyn Tx) -> Result<Vec<RollRow>> {
    tx.query(
        &format!("SELECT {ROLL_COLUMNS} FROM {ROLL_FROM} ORDER BY r.facility, r.year, r.first_seq"),
        &[],
    )
    .await?
    .into_iter()
    .map(to_roll)
    .collect()
}

/// The rolls of one facility and year, by first number.
pub async fn of_year(tx: &mut dyn Tx, facility: &FacilityId, year: u8) -> Result<Vec<RollRow>> {
    tx.query(
        &format!(
            "SELECT {ROLL_COLUMNS} FROM {ROLL_FROM} WHERE r.facility = ?1 AND r.year = ?2
             ORDER BY r.first_seq"
        ),
        params![facility.as_str(), year],
    )
    .await?
    .into_iter()
    .map(to_roll)
    .collect()
}

/// The first number from `next` on where `count` numbers in a row lie in no roll
/// (`rolls` sorted by first number). Numbers before a roll too few for `count` are
/// skipped with it: a lease is one contiguous range.
pub fn skip_rolls(next: u64, count: u32, rolls: &[DinRange]) -> u64 {
    let mut start = next;
    for roll in rolls {
        let end = start + u64::from(count.max(1)) - 1;
        if u64::from(roll.last()) < start {
            continue;
        }
        if u64::from(roll.first()) > end {
            break;
        }
        start = u64::from(roll.last()) + 1;
    }
    start
}

/// Locks the lease counter of `range`'s facility and year (made at 0 when no lease of
/// that year was made yet: the lease starts at the configured first number anyway), so
/// registration and leasing of one year never interleave.
pub async fn lock_counter(tx: &mut dyn Tx, facility: &FacilityId, year: u8) -> Result<u64> {
    tx.execute(
        "INSERT INTO din_counter (facility, year, next_seq) VALUES (?1, ?2, 0)
         ON CONFLICT (facility, year) DO NOTHING",
        params![facility.as_str(), year],
    )
    .await?;
    tx.query_one(
        "SELECT next_seq FROM din_counter WHERE facility = ?1 AND year = ?2 FOR UPDATE",
        params![facility.as_str(), year],
    )
    .await?
    .count(0)
}

/// The active device with this id or name, or why there is none (one of several
/// devices of that name is not an answer); no device at all for `None`.
async fn device(
    tx: &mut dyn Tx,
    id_or_name: Option<&str>,
) -> Result<std::result::Result<Option<Uuid>, Message>> {
    let Some(id_or_name) = id_or_name.map(str::trim) else {
        return Ok(Ok(None));
    };
    let rows = tx
        .query(
            "SELECT device_id FROM device WHERE (device_id = ?1 OR name = ?1) AND revoked_at IS NULL",
            params![id_or_name],
        )
        .await?;
    Ok(match rows.as_slice() {
        [one] => Ok(Some(parse_uuid(one.str(0)?)?)),
        [] => Err(Message::new("din_roll.device_unknown").with("device", id_or_name)),
        many => Err(Message::new("din_roll.device_ambiguous")
            .with("device", id_or_name)
            .with("count", many.len().to_string())),
    })
}

/// What a range of numbers overlaps that the station already gave out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlap {
    /// A lease, and the device (id) it was leased to.
    Lease {
        device_id: String,
        range: DinRange,
    },
    Roll(RollRow),
}

impl std::fmt::Display for Overlap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Overlap::Lease { device_id, range } => {
                write!(f, "lease {} of device {device_id}", range_text(range))
            }
            Overlap::Roll(roll) => write!(f, "roll {} ({})", range_text(&roll.range), roll.roll_id),
        }
    }
}

/// The first lease (of any device), then the first registered roll, that shares a
/// number with `range`; `None` when the range is clear of both.
pub async fn overlap(tx: &mut dyn Tx, range: &DinRange) -> Result<Option<Overlap>> {
    let bounds = [
        Value::from(range.facility().as_str()),
        Value::from(range.year()),
        Value::from(range.first()),
        Value::from(range.last()),
    ];
    let lease = tx
        .query_opt(
            "SELECT device_id, facility, year, first_seq, last_seq FROM din_lease
             WHERE facility = ?1 AND year = ?2 AND first_seq <= ?4 AND last_seq >= ?3
             ORDER BY first_seq LIMIT 1",
            &bounds,
        )
        .await?;
    if let Some(mut lease) = lease {
        return Ok(Some(Overlap::Lease {
            range: stored_range(&lease, 1)?,
            device_id: lease.text(0)?,
        }));
    }
    let roll = tx
        .query_opt(
            &format!(
                "SELECT {ROLL_COLUMNS} FROM {ROLL_FROM}
                 WHERE r.facility = ?1 AND r.year = ?2 AND r.first_seq <= ?4 AND r.last_seq >= ?3
                 ORDER BY r.first_seq LIMIT 1"
            ),
            &bounds,
        )
        .await?;
    roll.map(|r| to_roll(r).map(Overlap::Roll)).transpose()
}

async fn load(tx: &mut dyn Tx, roll_id: Uuid) -> Result<RollRow> {
    let row = tx
        .query_one(
            &format!("SELECT {ROLL_COLUMNS} FROM {ROLL_FROM} WHERE r.roll_id = ?1"),
            params![roll_id],
        )
        .await?;
    to_roll(row)
}

/// Registers a roll of pre-printed labels, handed to the device `device` (id or name)
/// when given. Refused, with nothing written, when the range overlaps a lease or
/// another roll, or the device is unknown.
pub async fn register(
    tx: &mut dyn Tx,
    range: &DinRange,
    device: Option<&str>,
    now: DateTime<Utc>,
) -> Result<std::result::Result<RollRow, Message>> {
    let device_id = match self::device(tx, device).await? {
        Ok(id) => id,
        Err(why) => return Ok(Err(why)),
    };
    lock_counter(tx, range.facility(), range.year()).await?;
    let refusal = match overlap(tx, range).await? {
        None => None,
        Some(Overlap::Lease {
            device_id,
            range: leased,
        }) => Some(
            Message::new("din_roll.overlaps_lease")
                .with("lease", range_text(&leased))
                .with("device", device_id),
        ),
        Some(Overlap::Roll(other)) => Some(
            Message::new("din_roll.overlaps_roll")
                .with("other", range_text(&other.range))
                .with("other_id", other.roll_id.to_string()),
        ),
    };
    if let Some(why) = refusal {
        return Ok(Err(why.with("roll", range_text(range))));
    }
    let roll_id = Uuid::now_v7();
    tx.execute(
        "INSERT INTO din_roll (roll_id, facility, year, first_seq, last_seq, device_id, registered_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            roll_id,
            range.facility().as_str(),
            range.year(),
            range.first(),
            range.last(),
            device_id,
            now.to_rfc3339(),
        ],
    )
    .await?;
    tracing::info!(%roll_id, roll = %range_text(range), device = ?device_id, "registered a pre-printed roll");
    Ok(Ok(load(tx, roll_id).await?))
}

/// Hands a registered roll to `device` (id or name), or to any device (`None`): from
/// now on donations numbered from it are accepted from that device only, or from any.
pub async fn assign(
    tx: &mut dyn Tx,
    roll_id: Uuid,
    device: Option<&str>,
) -> Result<std::result::Result<RollRow, Message>> {
    let device_id = match self::device(tx, device).await? {
        Ok(id) => id,
        Err(why) => return Ok(Err(why)),
    };
    let changed = tx
        .execute(
            "UPDATE din_roll SET device_id = ?2 WHERE roll_id = ?1",
            params![roll_id, device_id],
        )
        .await?;
    if changed == 0 {
        return Ok(Err(
            Message::new("din_roll.unknown").with("roll", roll_id.to_string())
        ));
    }
    Ok(Ok(load(tx, roll_id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(first: u32, last: u32) -> DinRange {
        DinRange::new("A9999".parse().expect("a facility"), 26, first, last).expect("a range")
    }

    #[test]
    fn a_lease_skips_every_roll_it_would_overlap() {
        let rolls = [range(10, 19), range(20, 29), range(100, 199)];
        // Clear of every roll.
        assert_eq!(skip_rolls(30, 50, &rolls), 30);
        assert_eq!(skip_rolls(0, 10, &rolls), 0);
        // Starts inside a roll, then runs into the next: past both.
        assert_eq!(skip_rolls(15, 5, &rolls), 30);
        // Would end inside a later roll: past it, the gap before it is too small.
        assert_eq!(skip_rolls(60, 50, &rolls), 200);
        assert_eq!(skip_rolls(5, 6, &rolls), 30);
        assert_eq!(skip_rolls(5, 5, &rolls), 5);
    }

    #[test]
    fn a_typed_roll_names_the_option_that_is_wrong() {
        let code = |f: &str, y: u16, a: u32, b: u32| parse_range(f, y, a, b).err().map(|m| m.code);
        assert_eq!(code("A9999", 26, 1, 500), None);
        // The calendar year is the two digits the label prints.
        assert_eq!(
            parse_range("A9999", 2026, 1, 500).ok(),
            parse_range("A9999", 26, 1, 500).ok()
        );
        assert_eq!(
            code("A9999", 1999, 1, 500).as_deref(),
            Some("din_roll.year_invalid")
        );
        assert_eq!(
            code("O9999", 26, 1, 500).as_deref(),
            Some("din_roll.facility_invalid")
        );
        assert_eq!(
            code("A9999", 100, 1, 500).as_deref(),
            Some("din_roll.year_invalid")
        );
        assert_eq!(
            code("A9999", 26, 500, 1).as_deref(),
            Some("din_roll.sequence_invalid")
        );
        assert_eq!(
            code("A9999", 26, 1, 1_000_000).as_deref(),
            Some("din_roll.sequence_invalid")
        );
        assert_eq!(range_text(&range(1, 500)), "A9999 26 000001–000500");
    }
}
