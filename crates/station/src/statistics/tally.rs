//! The statistics' tally: what the figures read from each donation, screening, drive
//! and donor, kept at every push in the push's own transaction (migration 0008), so a
//! request reads one period's rows by day and parses no body. A station that held
//! records before the tally existed fills it once ([`rebuild`]) when the migration is
//! applied.
//!
//! Every row holds the facts of a record's latest body, exactly as [`super::compute`]
//! reads them: a correction leaves the record it supersedes in the table and hides it
//! at the read; a donor's identity document and blood group live in its own row, and
//! its donations carry the person (updated when the donor changes), so the people of a
//! period and their earlier donations are found by index.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use lifebridge_domain::entities::{Donation, Donor, Drive, Outcome, Screening};
use uuid::Uuid;

use super::{
    DonationFact, PeriodFacts, ScreeningCounts, Statistics, abo_text, day_number, deferral_of,
    figures, person_of, year_start,
};
use crate::params;
use crate::storage::sql::{ROWS_PER_STATEMENT, Tx, Value, list};
use crate::storage::{Result, StorageError, parse_time, parse_uuid};

/// The latest body of each record a push (or the rebuild) brings, by kind; a record
/// named twice keeps its last body.
#[derive(Debug, Default)]
pub struct Changes<'a> {
    pub donations: BTreeMap<Uuid, &'a str>,
    pub screenings: BTreeMap<Uuid, &'a str>,
    pub drives: BTreeMap<Uuid, &'a str>,
    /// Merged donor bodies, as `donor_state` now holds them.
    pub donors: BTreeMap<Uuid, &'a str>,
}

impl<'a> Changes<'a> {
    /// Files a pushed entry under its kind (kinds the figures do not read are ignored).
    pub fn add(
        &mut self,
        entity: lifebridge_domain::entities::EntityKind,
        id: Uuid,
        body: &'a str,
    ) {
        use lifebridge_domain::entities::EntityKind as K;
        let map = match entity {
            K::Donation => &mut self.donations,
            K::Screening => &mut self.screenings,
            K::Drive => &mut self.drives,
            K::Donor => &mut self.donors,
            _ => return,
        };
        map.insert(id, body);
    }
}

/// Brings the tally up to date with `changes`, in the caller's transaction. Drives and
/// donors first, so a donation in the same batch finds its donor's person.
pub async fn record(tx: &mut dyn Tx, changes: &Changes<'_>) -> Result<()> {
    let mut unreadable = Unreadable::default();
    drives(tx, &changes.drives, &mut unreadable).await?;
    donors(tx, &changes.donors, &mut unreadable).await?;
    donations(tx, &changes.donations, &mut unreadable).await?;
    screenings(tx, &changes.screenings, &mut unreadable).await?;
    unreadable.write(tx).await
}

/// Empties the tally and fills it from every record the station holds (the same
/// latest bodies the full read uses).
pub async fn rebuild(tx: &mut dyn Tx) -> Result<()> {
    for table in [
        "stat_donation",
        "stat_screening",
        "stat_drive",
        "stat_donor",
        "stat_unreadable",
    ] {
        tx.execute(&format!("DELETE FROM {table}"), &[]).await?;
    }
    // The latest body per record, as the full read takes them (push order per device).
    let mut latest: Vec<BTreeMap<Uuid, String>> = Vec::new();
    for entity in ["donation", "screening", "drive"] {
        let rows = tx
            .query(
                "SELECT entity_id, body FROM change_entry WHERE entity = ?1 ORDER BY device_id, seq",
                params![entity],
            )
            .await?;
        let mut bodies = BTreeMap::new();
        for mut r in rows {
            bodies.insert(parse_uuid(r.str(0)?)?, r.text(1)?);
        }
        latest.push(bodies);
    }
    let mut donors = BTreeMap::new();
    for mut r in tx
        .query("SELECT donor_id, body FROM donor_state", &[])
        .await?
    {
        donors.insert(parse_uuid(r.str(0)?)?, r.text(1)?);
    }
    fn view(m: Option<&BTreeMap<Uuid, String>>) -> BTreeMap<Uuid, &str> {
        m.into_iter()
            .flatten()
            .map(|(k, v)| (*k, v.as_str()))
            .collect()
    }
    let changes = Changes {
        donations: view(latest.first()),
        screenings: view(latest.get(1)),
        drives: view(latest.get(2)),
        donors: view(Some(&donors)),
    };
    record(tx, &changes).await
}

/// Records whose latest body the figures cannot read: counted, not used.
#[derive(Debug, Default)]
struct Unreadable {
    now: Vec<(&'static str, Uuid)>,
    readable: Vec<(&'static str, Uuid)>,
}

impl Unreadable {
    fn note(&mut self, entity: &'static str, id: Uuid, readable: bool) {
        if readable {
            self.readable.push((entity, id));
        } else {
            self.now.push((entity, id));
        }
    }

    async fn write(self, tx: &mut dyn Tx) -> Result<()> {
        // Validation parses every body it lets in, so this is nearly always empty: the
        // delete below runs only when the station holds something unreadable at all.
        let any = tx
            .query_opt("SELECT 1 FROM stat_unreadable LIMIT 1", &[])
            .await?
            .is_some();
        if any {
            for (entity, id) in &self.readable {
                tx.execute(
                    "DELETE FROM stat_unreadable WHERE entity = ?1 AND record_id = ?2",
                    params![*entity, *id],
                )
                .await?;
            }
        }
        let values: Vec<Value> = self
            .now
            .iter()
            .flat_map(|(entity, id)| [Value::from(*entity), Value::from(*id)])
            .collect();
        tx.insert_rows(
            "INSERT INTO stat_unreadable (entity, record_id)",
            2,
            values,
            "ON CONFLICT (entity, record_id) DO NOTHING",
        )
        .await
    }
}

/// Runs `sql(list)` once per chunk of `ids`, `list` being the chunk's placeholders.
async fn for_ids(tx: &mut dyn Tx, ids: &[Uuid], sql: impl Fn(String) -> String) -> Result<()> {
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<Value> = chunk.iter().map(|id| Value::from(*id)).collect();
        tx.execute_once(&sql(list(1, chunk.len())), &values).await?;
    }
    Ok(())
}

/// Deletes the rows of `ids` from `table` (keyed by `key`).
async fn delete_ids(tx: &mut dyn Tx, table: &str, key: &str, ids: &[Uuid]) -> Result<()> {
    for_ids(tx, ids, |list| {
        format!("DELETE FROM {table} WHERE {key} IN ({list})")
    })
    .await
}

async fn drives(
    tx: &mut dyn Tx,
    bodies: &BTreeMap<Uuid, &str>,
    unreadable: &mut Unreadable,
) -> Result<()> {
    let mut values = Vec::new();
    let mut gone = Vec::new();
    for (id, body) in bodies {
        match serde_json::from_str::<Drive>(body) {
            Ok(d) if d.id == *id => values.extend([Value::from(*id), d.site_name.into()]),
            _ => gone.push(*id),
        }
    }
    for id in bodies.keys() {
        unreadable.note("drive", *id, !gone.contains(id));
    }
    delete_ids(tx, "stat_drive", "drive_id", &gone).await?;
    tx.insert_rows(
        "INSERT INTO stat_drive (drive_id, site)",
        2,
        values,
        "ON CONFLICT (drive_id) DO UPDATE SET site = excluded.site",
    )
    .await
}

async fn donors(
    tx: &mut dyn Tx,
    bodies: &BTreeMap<Uuid, &str>,
    unreadable: &mut Unreadable,
) -> Result<()> {
    let mut values = Vec::new();
    let mut gone = Vec::new();
    let mut kept = Vec::new();
    for (id, body) in bodies {
        match serde_json::from_str::<Donor>(body) {
            Ok(d) if d.id == *id => {
                kept.push(*id);
                values.extend([
                    Value::from(*id),
                    person_of(Some(&d), d.id).into(),
                    abo_text(d.abo_rh).into(),
                    d.rural.map(i64::from).into(),
                ]);
            }
            _ => gone.push(*id),
        }
    }
    for id in bodies.keys() {
        unreadable.note("donor", *id, !gone.contains(id));
    }
    delete_ids(tx, "stat_donor", "donor_id", &gone).await?;
    tx.insert_rows(
        "INSERT INTO stat_donor (donor_id, person, abo_rh, rural)",
        4,
        values,
        "ON CONFLICT (donor_id) DO UPDATE SET person = excluded.person,
             abo_rh = excluded.abo_rh, rural = excluded.rural",
    )
    .await?;
    // The donor's donations are this person's (a corrected document moves them); an
    // unreadable donor's are counted under its id, as the full read does.
    for (ids, person) in [
        (
            &kept,
            "(SELECT p.person FROM stat_donor p WHERE p.donor_id = stat_donation.donor_id)",
        ),
        (&gone, "donor_id"),
    ] {
        for_ids(tx, ids, |list| {
            format!("UPDATE stat_donation SET person = {person} WHERE donor_id IN ({list})")
        })
        .await?;
    }
    Ok(())
}

/// The person of each donor in `ids` as the tally holds it.
async fn persons(tx: &mut dyn Tx, ids: &BTreeSet<Uuid>) -> Result<BTreeMap<Uuid, String>> {
    let ids: Vec<Value> = ids.iter().map(|id| Value::from(*id)).collect();
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let rows = tx
            .query_once(
                &format!(
                    "SELECT donor_id, person FROM stat_donor WHERE donor_id IN ({})",
                    list(1, chunk.len())
                ),
                chunk,
            )
            .await?;
        for mut r in rows {
            out.insert(parse_uuid(r.str(0)?)?, r.text(1)?);
        }
    }
    Ok(out)
}

fn outcome_text(o: Outcome) -> Result<String> {
    match serde_json::to_value(o)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(StorageError::Corrupt(format!("outcome {other}"))),
    }
}

async fn donations(
    tx: &mut dyn Tx,
    bodies: &BTreeMap<Uuid, &str>,
    unreadable: &mut Unreadable,
) -> Result<()> {
    let mut parsed = Vec::new();
    let mut gone = Vec::new();
    for (id, body) in bodies {
        match serde_json::from_str::<Donation>(body) {
            Ok(d) if d.id == *id => parsed.push(d),
            _ => gone.push(*id),
        }
    }
    for id in bodies.keys() {
        unreadable.note("donation", *id, !gone.contains(id));
    }
    delete_ids(tx, "stat_donation", "donation_id", &gone).await?;
    let donor_ids = parsed.iter().map(|d| d.donor_id).collect();
    let known = persons(tx, &donor_ids).await?;
    let mut values = Vec::with_capacity(parsed.len() * 9);
    for d in parsed {
        let person = known
            .get(&d.donor_id)
            .cloned()
            .unwrap_or_else(|| d.donor_id.to_string());
        values.extend([
            Value::from(d.id),
            Value::Int(day_number(lifebridge_domain::china_date(d.started_at))),
            Value::Text(d.started_at.to_rfc3339()),
            Value::from(d.donor_id),
            Value::from(d.drive_id),
            Value::Text(outcome_text(d.outcome)?),
            Value::Int(i64::from(d.collected_volume_ml.unwrap_or(0))),
            d.supersedes.map(Value::from).unwrap_or(Value::Null),
            Value::Text(person),
        ]);
    }
    tx.insert_rows(
        "INSERT INTO stat_donation (donation_id, day, started_at, donor_id, drive_id, outcome, volume_ml, supersedes, person)",
        9,
        values,
        "ON CONFLICT (donation_id) DO UPDATE SET day = excluded.day, started_at = excluded.started_at,
             donor_id = excluded.donor_id, drive_id = excluded.drive_id, outcome = excluded.outcome,
             volume_ml = excluded.volume_ml, supersedes = excluded.supersedes, person = excluded.person",
    )
    .await
}

async fn screenings(
    tx: &mut dyn Tx,
    bodies: &BTreeMap<Uuid, &str>,
    unreadable: &mut Unreadable,
) -> Result<()> {
    if bodies.is_empty() {
        return Ok(());
    }
    let catalogue = lifebridge_domain::rules::RuleSet::gb18467_2011().deferrals;
    let mut values = Vec::new();
    let mut gone = Vec::new();
    for (id, body) in bodies {
        match serde_json::from_str::<Screening>(body) {
            Ok(s) if s.id == *id => {
                let (deferred, permanent) = deferral_of(&s, &catalogue);
                values.extend([
                    Value::from(*id),
                    Value::Int(day_number(lifebridge_domain::china_date(s.recorded_at))),
                    Value::from(deferred),
                    Value::from(permanent),
                    s.supersedes.map(Value::from).unwrap_or(Value::Null),
                ]);
            }
            _ => gone.push(*id),
        }
    }
    for id in bodies.keys() {
        unreadable.note("screening", *id, !gone.contains(id));
    }
    delete_ids(tx, "stat_screening", "screening_id", &gone).await?;
    tx.insert_rows(
        "INSERT INTO stat_screening (screening_id, day, deferred, permanent, supersedes)",
        5,
        values,
        "ON CONFLICT (screening_id) DO UPDATE SET day = excluded.day, deferred = excluded.deferred,
             permanent = excluded.permanent, supersedes = excluded.supersedes",
    )
    .await
}

/// The figures for `date` (its day and its year) from the tally.
pub async fn statistics(tx: &mut dyn Tx, date: NaiveDate) -> Result<Statistics> {
    let today = period_facts(tx, date, date).await?;
    let from = year_start(date);
    let year = period_facts(tx, from, date).await?;
    let unreadable = tx
        .query_one("SELECT COUNT(*) FROM stat_unreadable", &[])
        .await?
        .count(0)?;
    Ok(Statistics {
        date,
        today: figures(&today, date, date),
        year: figures(&year, from, date),
        unreadable: u32::try_from(unreadable).unwrap_or(u32::MAX),
    })
}

/// A period's facts: its current donations with their donor's and drive's facts, the
/// people among them with an earlier donation, and its screening counts.
pub async fn period_facts(tx: &mut dyn Tx, from: NaiveDate, to: NaiveDate) -> Result<PeriodFacts> {
    let (from_day, to_day) = (day_number(from), day_number(to));
    let rows = tx
        .query(
            "SELECT d.donation_id, d.person, d.started_at, d.outcome, d.volume_ml,
                    COALESCE(s.site, ''), COALESCE(p.abo_rh, 'unknown'), p.rural
             FROM stat_donation d
             LEFT JOIN stat_drive s ON s.drive_id = d.drive_id
             LEFT JOIN stat_donor p ON p.donor_id = d.donor_id
             WHERE d.day >= ?1 AND d.day <= ?2
               AND NOT EXISTS (SELECT 1 FROM stat_donation c WHERE c.supersedes = d.donation_id)",
            params![from_day, to_day],
        )
        .await?;
    let mut donations = Vec::with_capacity(rows.len());
    for mut r in rows {
        let outcome: Outcome = serde_json::from_value(serde_json::Value::String(r.text(3)?))?;
        donations.push(DonationFact {
            id: parse_uuid(r.str(0)?)?,
            person: r.text(1)?,
            started_at: parse_time(r.str(2)?)?,
            outcome,
            volume_ml: r.count(4)?,
            site: r.text(5)?,
            group: r.text(6)?,
            rural: r.opt_int(7)?.map(|v| v != 0),
        });
    }
    let people: Vec<Value> = donations
        .iter()
        .filter(|d| matches!(d.outcome, Outcome::Complete | Outcome::Partial))
        .map(|d| d.person.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(Value::Text)
        .collect();
    let mut earlier = BTreeSet::new();
    for chunk in people.chunks(ROWS_PER_STATEMENT) {
        let mut values = vec![Value::Int(from_day)];
        values.extend(chunk.iter().cloned());
        let rows = tx
            .query_once(
                &format!(
                    "SELECT DISTINCT d.person FROM stat_donation d
                     WHERE d.person IN ({}) AND d.day < ?1 AND d.outcome IN ('complete', 'partial')
                       AND NOT EXISTS (SELECT 1 FROM stat_donation c WHERE c.supersedes = d.donation_id)",
                    list(2, chunk.len())
                ),
                &values,
            )
            .await?;
        for mut r in rows {
            earlier.insert(r.text(0)?);
        }
    }
    let counts = tx
        .query_one(
            "SELECT COUNT(*), CAST(COALESCE(SUM(deferred), 0) AS BIGINT), CAST(COALESCE(SUM(permanent), 0) AS BIGINT)
             FROM stat_screening s
             WHERE s.day >= ?1 AND s.day <= ?2
               AND NOT EXISTS (SELECT 1 FROM stat_screening c WHERE c.supersedes = s.screening_id)",
            params![from_day, to_day],
        )
        .await?;
    let n = |i: usize| -> Result<u32> { Ok(u32::try_from(counts.count(i)?).unwrap_or(u32::MAX)) };
    Ok(PeriodFacts {
        donations,
        earlier,
        screenings: ScreeningCounts {
            screenings: n(0)?,
            deferred: n(1)?,
            permanent: n(2)?,
        },
    })
}
