//! The medical rules the station can check. A deferral lift names a deferral of the
//! same donor, never a permanent one nor another lift, and is made by an active
//! physician account the station issued (a device could invent an account of its own).
//! A donation's DIN lies in a range the station leased to the pushing device, or to a
//! bus hub the device was registered through (the hub sub-leases its leases to its
//! tablets), or in a registered pre-printed roll not handed to another device
//! ([`crate::rolls`]), so no device can file a collection under another's numbers
//! (training numbers are accepted only by a station run for demos and training). A
//! number shared that way (a roll, a hub's lease) is used once.

use std::collections::{BTreeMap, BTreeSet};

use lifebridge_domain::din::{Din, DinRange, FacilityId, TRAINING_FACILITY};
use lifebridge_domain::entities::{Deferral, Role};
use uuid::Uuid;

use super::{Checked, Detail, Policy, about, refuse, rows_for};
use crate::params;
use crate::rolls::{RollRow, range_text};
use crate::staff::{STAFF_COLUMNS, to_staff};
use crate::storage::Result;
use crate::storage::sql::{ROWS_PER_STATEMENT, Tx, Value, list};

fn deferral<'c>(c: &'c Checked<'_>) -> Option<&'c Deferral> {
    match &c.record.detail {
        Detail::Deferral(d) => Some(d.as_ref()),
        _ => None,
    }
}

pub async fn lifts(tx: &mut dyn Tx, checked: &[Checked<'_>]) -> Result<()> {
    let lifts: Vec<(&Checked<'_>, &Deferral, Uuid)> = checked
        .iter()
        .filter_map(|c| deferral(c).and_then(|d| d.lifts.map(|l| (c, d, l))))
        .collect();
    if lifts.is_empty() {
        return Ok(());
    }
    let mut deferrals: BTreeMap<Uuid, Deferral> = checked
        .iter()
        .filter_map(deferral)
        .map(|d| (d.id, d.clone()))
        .collect();
    let wanted: BTreeSet<Uuid> = lifts
        .iter()
        .map(|(_, _, l)| *l)
        .filter(|l| !deferrals.contains_key(l))
        .collect();
    if !wanted.is_empty() {
        let sql =
            "SELECT body FROM change_entry WHERE entity = 'deferral' AND entity_id IN ({ids})";
        for r in rows_for(tx, sql, &wanted).await? {
            // A held body the domain cannot read names nothing a lift could cancel.
            if let Ok(d) = serde_json::from_str::<Deferral>(r.str(0)?) {
                deferrals.insert(d.id, d);
            }
        }
    }
    let signers: BTreeSet<Uuid> = lifts.iter().map(|(_, d, _)| d.recorded_by).collect();
    let sql = format!("SELECT {STAFF_COLUMNS} FROM station_staff WHERE staff_id IN ({{ids}})");
    let mut physicians = BTreeSet::new();
    for r in rows_for(tx, &sql, &signers).await? {
        let staff = to_staff(r)?;
        if staff
            .device_account()
            .is_some_and(|a| a.staff.has_role(Role::Physician))
        {
            physicians.insert(staff.staff_id);
        }
    }
    for (c, lift, target) in lifts {
        let code = match deferrals.get(&target) {
            None => Some("push_refused.lift_unknown"),
            Some(held) if held.lifts.is_some() => Some("push_refused.lift_of_lift"),
            Some(held) if held.donor_id != lift.donor_id => Some("push_refused.lift_other_donor"),
            Some(held) if held.until.is_none() => Some("push_refused.lift_permanent"),
            Some(_) => None,
        };
        if let Some(code) = code {
            return Err(refuse(
                c.entry,
                about(code, c.entry).with("deferral", target.to_string()),
            ));
        }
        if !physicians.contains(&lift.recorded_by) {
            return Err(refuse(
                c.entry,
                about("push_refused.lift_not_physician", c.entry)
                    .with("staff", lift.recorded_by.to_string()),
            ));
        }
    }
    Ok(())
}

/// Every donation's DIN lies in a range the station leased to `device_id` or to a hub
/// it was ever registered through (`hub_tablet`: numbers a hub sub-leased stay valid
/// after the tablet moves to another hub), or in a registered pre-printed roll that is
/// not another device's ([`crate::rolls`]), or (on a training station) in the training
/// facility.
pub async fn dins_issued(
    tx: &mut dyn Tx,
    device_id: Uuid,
    checked: &[Checked<'_>],
    policy: Policy,
) -> Result<()> {
    let donations: Vec<_> = checked
        .iter()
        .filter_map(|c| match &c.record.detail {
            Detail::Donation(d) => Some((c, d)),
            _ => None,
        })
        .collect();
    if donations.is_empty() {
        return Ok(());
    }
    let rows = tx
        .query(
            "SELECT facility, year, first_seq, last_seq, device_id FROM din_lease
             WHERE device_id = ?1
                OR device_id IN (SELECT hub_id FROM hub_tablet WHERE tablet_id = ?1)",
            params![device_id],
        )
        .await?;
    // Its own leases, and its hubs' with the hub's id.
    let mut leases = Vec::with_capacity(rows.len());
    let mut hub_leases = Vec::new();
    for r in rows {
        let range = r.str(0)?.parse::<FacilityId>().ok().and_then(|facility| {
            let year = u8::try_from(r.int(1).ok()?).ok()?;
            let first = u32::try_from(r.int(2).ok()?).ok()?;
            let last = u32::try_from(r.int(3).ok()?).ok()?;
            DinRange::new(facility, year, first, last).ok()
        });
        let holder = crate::storage::parse_uuid(r.str(4)?)?;
        match range {
            Some(range) if holder == device_id => leases.push(range),
            Some(range) => hub_leases.push((range, holder)),
            None => {}
        }
    }
    // The rolls of each facility and year a donation outside the leases names: a
    // statement or two per batch.
    let mut rolls: BTreeMap<(String, u8), Vec<RollRow>> = BTreeMap::new();
    let mut from_rolls = Vec::new();
    for (c, donation) in donations {
        let din = &donation.din;
        let training = policy.training && din.facility().as_str() == TRAINING_FACILITY;
        if training || leases.iter().any(|range| range.contains(din)) {
            continue;
        }
        if let Some((_, hub)) = hub_leases.iter().find(|(range, _)| range.contains(din)) {
            from_rolls.push((c, din, Some(*hub)));
            continue;
        }
        let key = (din.facility().as_str().to_owned(), din.year());
        if !rolls.contains_key(&key) {
            let of_year = crate::rolls::of_year(tx, din.facility(), din.year()).await?;
            rolls.insert(key.clone(), of_year);
        }
        let roll = rolls
            .get(&key)
            .and_then(|of_year| of_year.iter().find(|r| r.range.contains(din)));
        let refusal = match roll {
            Some(roll) if roll.usable_by(device_id) => {
                from_rolls.push((c, din, None));
                continue;
            }
            Some(roll) => about("push_refused.din_roll_other_device", c.entry)
                .with("din", din.as_str())
                .with("roll", range_text(&roll.range))
                .with(
                    "device",
                    roll.device_name
                        .clone()
                        .or(roll.device_id.map(|d| d.to_string()))
                        .unwrap_or_default(),
                ),
            None => about("push_refused.din_not_leased", c.entry).with("din", din.as_str()),
        };
        return Err(refuse(c.entry, refusal));
    }
    shared_dins_unused_elsewhere(tx, device_id, &from_rolls).await
}

/// A roll's label, or a number of a hub's lease, is used once: a number another device
/// already filed a donation under is refused (a roll handed to no device, or handed on
/// after some of it was used; a hub that sub-leased a number twice). A device's own
/// leased numbers need no such check: such a lease is that device's alone. Each number
/// comes with the hub whose lease holds it (`None`: a roll).
async fn shared_dins_unused_elsewhere(
    tx: &mut dyn Tx,
    device_id: Uuid,
    from_rolls: &[(&Checked<'_>, &Din, Option<Uuid>)],
) -> Result<()> {
    let mut by_year: BTreeMap<(&str, u8), BTreeSet<u32>> = BTreeMap::new();
    for (_, din, _) in from_rolls {
        by_year
            .entry((din.facility().as_str(), din.year()))
            .or_default()
            .insert(din.sequence());
    }
    let mut used_elsewhere: BTreeMap<(String, u8, u32), String> = BTreeMap::new();
    for ((facility, year), sequences) in by_year {
        let sequences: Vec<Value> = sequences.into_iter().map(Value::from).collect();
        for chunk in sequences.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT sequence, device_id FROM din_used WHERE facility = ?1 AND year = ?2
                   AND device_id <> ?3 AND sequence IN ({})",
                list(4, chunk.len())
            );
            let mut params = vec![facility.into(), year.into(), device_id.into()];
            params.extend_from_slice(chunk);
            for mut r in tx.query(&sql, &params).await? {
                let sequence = u32::try_from(r.int(0)?).unwrap_or(u32::MAX);
                used_elsewhere.insert((facility.to_owned(), year, sequence), r.text(1)?);
            }
        }
    }
    for (c, din, hub) in from_rolls {
        let key = (
            din.facility().as_str().to_owned(),
            din.year(),
            din.sequence(),
        );
        if let Some(other) = used_elsewhere.get(&key) {
            let why = match hub {
                None => about("push_refused.din_used_elsewhere", c.entry),
                Some(hub) => about("push_refused.din_hub_used_elsewhere", c.entry)
                    .with("hub", hub.to_string()),
            };
            return Err(refuse(
                c.entry,
                why.with("din", din.as_str()).with("device", other.as_str()),
            ));
        }
    }
    Ok(())
}
