//! The statistics' tally: what the figures read from each donation, screening, drive
//! and donor, kept at every push in the push's own transaction (migration 0008), and
//! the per-day sums of it ([`super::by_day`], migration 0009) that a request reads, so
//! it reads O(days × drives) rows and parses no body. A station that held records
//! before the tally existed fills it once ([`rebuild_rows`], then
//! [`by_day::rebuild`]) when the migrations are applied.
//!
//! Every row holds the facts of a record's latest body, exactly as [`super::compute`]
//! reads them: a correction leaves the record it supersedes in the table and hides it
//! at the read; a donor's identity document and blood group live in its own row, and
//! its donations carry the person (updated when the donor changes), so the people of a
//! push and their other donations are found by index.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use lifebridge_domain::entities::{Donation, Donor, Drive, Outcome, Screening};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::by_day::{self, Scope, Span, Touched, execute_in, keys, select};
use super::{Statistics, abo_text, day_number, deferral_of, period, person_of};
use crate::params;
use crate::storage::sql::{Tx, Value};
use crate::storage::{Result, StorageError, parse_uuid};

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
    pub fn is_empty(&self) -> bool {
        self.donations.is_empty()
            && self.screenings.is_empty()
            && self.drives.is_empty()
            && self.donors.is_empty()
    }

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

/// Brings the tally and its per-day sums up to date with `changes`, in the caller's
/// transaction: what the touched records contribute is read before the rows change and
/// after, and the difference added (see [`by_day`]).
pub async fn record(tx: &mut dyn Tx, changes: &Changes<'_>) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    // On PostgreSQL pushes from several devices run at once (READ COMMITTED): a push
    // must read what the pushes before it wrote of the same people and corrections, or
    // both would add a person once. So the upkeep takes its turn here, before it reads;
    // each later statement then sees what the push before it committed. (SQLite has one
    // writer and drops `FOR UPDATE`.)
    tx.query_opt(
        "SELECT value FROM station_meta WHERE key = 'statistics_by_day' FOR UPDATE",
        &[],
    )
    .await?;
    let batch = Batch::parse(changes);
    let persons = persons(tx, &batch).await?;
    let (touched, held) = touched(tx, &batch, &persons).await?;
    let before = by_day::contributions(tx, &held).await?;
    write(tx, &batch, &persons).await?;
    let after = by_day::contributions(tx, &touched).await?;
    by_day::apply(tx, before, after).await
}

/// Empties the tally and its per-day sums and fills them from every record the
/// station holds.
pub async fn rebuild(tx: &mut dyn Tx) -> Result<()> {
    rebuild_rows(tx).await?;
    by_day::rebuild(tx).await
}

/// Empties the tally's per-record rows and fills them from every record the station
/// holds (the same latest bodies the full read uses); the per-day sums are left alone
/// (migration 0008 runs this before 0009 made them).
pub async fn rebuild_rows(tx: &mut dyn Tx) -> Result<()> {
    for table in TABLES.iter().map(|t| t.name).chain(["stat_unreadable"]) {
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
    let batch = Batch::parse(&changes);
    let persons = persons(tx, &batch).await?;
    write(tx, &batch, &persons).await
}

/// A record the tally keeps a row of.
trait Record: DeserializeOwned {
    fn id(&self) -> Uuid;
}

/// Each names its id `id`.
macro_rules! records {
    ($($t:ty),*) => {$(
        impl Record for $t {
            fn id(&self) -> Uuid {
                self.id
            }
        }
    )*};
}
records!(Drive, Donor, Donation, Screening);

/// One kind's bodies, parsed: the readable ones, and the ids of those the figures
/// cannot read (a body that does not parse, or names another id).
struct Parsed<T> {
    ok: BTreeMap<Uuid, T>,
    gone: Vec<Uuid>,
}

impl<T: Record> Parsed<T> {
    fn of(bodies: &BTreeMap<Uuid, &str>) -> Parsed<T> {
        let mut parsed = Parsed {
            ok: BTreeMap::new(),
            gone: Vec::new(),
        };
        for (id, body) in bodies {
            match serde_json::from_str::<T>(body) {
                Ok(v) if v.id() == *id => {
                    parsed.ok.insert(*id, v);
                }
                _ => parsed.gone.push(*id),
            }
        }
        parsed
    }

    fn ids(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.ok.keys().chain(&self.gone).copied()
    }
}

struct Batch {
    drives: Parsed<Drive>,
    donors: Parsed<Donor>,
    donations: Parsed<Donation>,
    screenings: Parsed<Screening>,
}

impl Batch {
    fn parse(changes: &Changes<'_>) -> Batch {
        Batch {
            drives: Parsed::of(&changes.drives),
            donors: Parsed::of(&changes.donors),
            donations: Parsed::of(&changes.donations),
            screenings: Parsed::of(&changes.screenings),
        }
    }
}

/// One kind's tally table: its entity, and its columns, the record's id first.
struct Table {
    entity: &'static str,
    name: &'static str,
    columns: &'static [&'static str],
}

const DRIVES: Table = Table {
    entity: "drive",
    name: "stat_drive",
    columns: &["drive_id", "site"],
};
const DONORS: Table = Table {
    entity: "donor",
    name: "stat_donor",
    columns: &["donor_id", "person", "abo_rh", "rural"],
};
const DONATIONS: Table = Table {
    entity: "donation",
    name: "stat_donation",
    columns: &[
        "donation_id",
        "day",
        "started_at",
        "donor_id",
        "drive_id",
        "outcome",
        "volume_ml",
        "supersedes",
        "person",
    ],
};
const SCREENINGS: Table = Table {
    entity: "screening",
    name: "stat_screening",
    columns: &["screening_id", "day", "deferred", "permanent", "supersedes"],
};
const TABLES: [&Table; 4] = [&DRIVES, &DONORS, &DONATIONS, &SCREENINGS];

/// Replaces the rows of one kind's records: an unreadable record loses its row (and is
/// counted), a readable one gets `row(record)`.
async fn upsert<T>(
    tx: &mut dyn Tx,
    table: &Table,
    parsed: &Parsed<T>,
    unreadable: &mut Unreadable,
    row: impl Fn(&T) -> Result<Vec<Value>>,
) -> Result<()> {
    let key = table.columns[0];
    for id in parsed.ok.keys() {
        unreadable.note(table.entity, *id, true);
    }
    for id in &parsed.gone {
        unreadable.note(table.entity, *id, false);
    }
    if !parsed.gone.is_empty() {
        let gone: Vec<Value> = parsed.gone.iter().map(|id| Value::from(*id)).collect();
        let sql = format!("DELETE FROM {} WHERE {{filter}}", table.name);
        execute_in(tx, &sql, key, &gone).await?;
    }
    let mut values = Vec::with_capacity(parsed.ok.len() * table.columns.len());
    for v in parsed.ok.values() {
        values.extend(row(v)?);
    }
    let set: Vec<String> = table.columns[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    tx.insert_rows(
        &format!("INSERT INTO {} ({})", table.name, table.columns.join(", ")),
        table.columns.len(),
        values,
        &format!("ON CONFLICT ({key}) DO UPDATE SET {}", set.join(", ")),
    )
    .await
}

/// Writes the batch's rows: drives and donors first, so the donors' donations take
/// their person.
async fn write(tx: &mut dyn Tx, batch: &Batch, persons: &BTreeMap<Uuid, String>) -> Result<()> {
    let mut unreadable = Unreadable::default();
    upsert(tx, &DRIVES, &batch.drives, &mut unreadable, |d| {
        Ok(vec![Value::from(d.id), d.site_name.clone().into()])
    })
    .await?;
    upsert(tx, &DONORS, &batch.donors, &mut unreadable, |d| {
        Ok(vec![
            Value::from(d.id),
            person_of(Some(d), d.id).into(),
            abo_text(d.abo_rh).into(),
            d.rural.map(i64::from).into(),
        ])
    })
    .await?;
    // The donor's donations are this person's (a corrected document moves them); an
    // unreadable donor's are counted under its id, as the full read does.
    let kept: Vec<Value> = batch.donors.ok.keys().map(|id| Value::from(*id)).collect();
    let gone: Vec<Value> = batch
        .donors
        .gone
        .iter()
        .map(|id| Value::from(*id))
        .collect();
    for (ids, person) in [
        (
            &kept,
            "(SELECT p.person FROM stat_donor p WHERE p.donor_id = stat_donation.donor_id)",
        ),
        (&gone, "donor_id"),
    ] {
        let sql = format!("UPDATE stat_donation SET person = {person} WHERE {{filter}}");
        execute_in(tx, &sql, "donor_id", ids).await?;
    }
    upsert(tx, &DONATIONS, &batch.donations, &mut unreadable, |d| {
        let person = persons
            .get(&d.donor_id)
            .cloned()
            .unwrap_or_else(|| d.donor_id.to_string());
        Ok(vec![
            Value::from(d.id),
            Value::Int(day_number(lifebridge_domain::china_date(d.started_at))),
            Value::Text(d.started_at.to_rfc3339()),
            Value::from(d.donor_id),
            Value::from(d.drive_id),
            Value::Text(outcome_text(d.outcome)?),
            Value::Int(i64::from(d.collected_volume_ml.unwrap_or(0))),
            d.supersedes.map(Value::from).unwrap_or(Value::Null),
            Value::Text(person),
        ])
    })
    .await?;
    upsert(tx, &SCREENINGS, &batch.screenings, &mut unreadable, |s| {
        let (deferred, permanent) = deferral_of(s);
        Ok(vec![
            Value::from(s.id),
            Value::Int(day_number(lifebridge_domain::china_date(s.recorded_at))),
            Value::from(deferred),
            Value::from(permanent),
            s.supersedes.map(Value::from).unwrap_or(Value::Null),
        ])
    })
    .await?;
    unreadable.write(tx).await
}

/// The person each donor of the batch (its donors, and its donations' donors) is
/// counted as once the batch is written: a donor the batch brings by its new body (by
/// its id when unreadable), another by its tally row, an unknown donor by its id.
async fn persons(tx: &mut dyn Tx, batch: &Batch) -> Result<BTreeMap<Uuid, String>> {
    let mut out: BTreeMap<Uuid, String> = batch
        .donors
        .ok
        .values()
        .map(|d| (d.id, person_of(Some(d), d.id)))
        .chain(batch.donors.gone.iter().map(|id| (*id, id.to_string())))
        .collect();
    let others: BTreeSet<Uuid> = batch
        .donations
        .ok
        .values()
        .map(|d| d.donor_id)
        .filter(|id| !out.contains_key(id))
        .collect();
    if !others.is_empty() {
        let sql = "SELECT donor_id, person FROM stat_donor WHERE {filter}";
        for mut r in select(tx, sql, Scope::Keys(keys(&others), "donor_id")).await? {
            out.insert(parse_uuid(r.str(0)?)?, r.text(1)?);
        }
    }
    Ok(out)
}

/// The records whose contribution to the per-day sums the batch may move, found
/// before it is written: its donations, those they supersede (now and before), the
/// donations of its donors, the people of all of these before and after, and its
/// screenings with those they supersede. Second, those of them the tally holds now:
/// a record it does not hold contributes nothing before the write, so a batch of new
/// records reads no donation or screening before it.
async fn touched(
    tx: &mut dyn Tx,
    batch: &Batch,
    persons: &BTreeMap<Uuid, String>,
) -> Result<(Touched, Touched)> {
    let mut t = Touched::default();
    let mut held = Touched::default();
    let changed: BTreeSet<Uuid> = batch.donations.ids().collect();
    let mut targets: BTreeSet<Uuid> = batch
        .donations
        .ok
        .values()
        .filter_map(|d| d.supersedes)
        .collect();
    targets.extend(held_donations(tx, "donation_id", &changed, &mut t, &mut held).await?);
    let donors: BTreeSet<Uuid> = batch.donors.ids().collect();
    held_donations(tx, "donor_id", &donors, &mut t, &mut held).await?;
    let unseen: BTreeSet<Uuid> = targets.difference(&held.donations).copied().collect();
    held_donations(tx, "donation_id", &unseen, &mut t, &mut held).await?;
    t.donations.extend(changed.iter().chain(&targets));
    t.people.extend(persons.values().cloned());
    // A donation of the batch whose donor is unknown is counted under the donor's id.
    t.people.extend(
        batch
            .donations
            .ok
            .values()
            .filter(|d| !persons.contains_key(&d.donor_id))
            .map(|d| d.donor_id.to_string()),
    );
    // People are read whole before and after: who they are is known, not whether the
    // tally holds a donation of theirs.
    held.people = t.people.clone();
    let changed: BTreeSet<Uuid> = batch.screenings.ids().collect();
    let mut targets: BTreeSet<Uuid> = batch
        .screenings
        .ok
        .values()
        .filter_map(|s| s.supersedes)
        .collect();
    if !changed.is_empty() {
        let sql = "SELECT screening_id, supersedes FROM stat_screening WHERE {filter}";
        for r in select(tx, sql, Scope::Keys(keys(&changed), "screening_id")).await? {
            held.screenings.insert(parse_uuid(r.str(0)?)?);
            if let Some(old) = r.opt_str(1)? {
                targets.insert(parse_uuid(old)?);
            }
        }
    }
    // Corrected screenings are few: read them whether held or not.
    held.screenings.extend(&targets);
    t.screenings = &changed | &targets;
    Ok((t, held))
}

/// The donations the tally holds whose `column` is one of `ids`: held, touched, and
/// their people touched. Returns what they supersede.
async fn held_donations(
    tx: &mut dyn Tx,
    column: &str,
    ids: &BTreeSet<Uuid>,
    t: &mut Touched,
    held: &mut Touched,
) -> Result<BTreeSet<Uuid>> {
    let mut superseded = BTreeSet::new();
    if ids.is_empty() {
        return Ok(superseded);
    }
    let sql = "SELECT donation_id, person, supersedes FROM stat_donation WHERE {filter}";
    for mut r in select(tx, sql, Scope::Keys(keys(ids), column)).await? {
        let id = parse_uuid(r.str(0)?)?;
        held.donations.insert(id);
        t.donations.insert(id);
        t.people.insert(r.text(1)?);
        if let Some(old) = r.opt_str(2)? {
            superseded.insert(parse_uuid(old)?);
        }
    }
    Ok(superseded)
}

fn outcome_text(o: Outcome) -> Result<String> {
    match serde_json::to_value(o)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(StorageError::Corrupt(format!("outcome {other}"))),
    }
}

/// The figures for `date` (its day and its year) from the per-day sums.
pub async fn statistics(tx: &mut dyn Tx, date: NaiveDate) -> Result<Statistics> {
    let today = by_day::totals(tx, Span::Day, date).await?;
    let year = by_day::totals(tx, Span::YearToDate, date).await?;
    let unreadable = tx
        .query_one("SELECT COUNT(*) FROM stat_unreadable", &[])
        .await?
        .count(0)?;
    Ok(Statistics {
        date,
        today: period(today, Span::Day.from(date), date),
        year: period(year, Span::YearToDate.from(date), date),
        unreadable: u32::try_from(unreadable).unwrap_or(u32::MAX),
    })
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
