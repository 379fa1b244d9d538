//! The statistics page for a city-year (issue 14: under 50 ms): a year of donations at
//! several sites, each with its screening, people giving more than once, kept in the
//! tally batch by batch as pushes keep it (change entries, merged donors and the tally
//! in one transaction per batch, without HTTP or the rest of ingest, which the
//! single-device run measures), then the page read beside the full read of the same
//! records.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use lifebridge_domain::entities::EntityKind;
use lifebridge_station::db::Storage;
use lifebridge_station::statistics::tally;
use lifebridge_station::storage::postgres::PostgresStorage;
use lifebridge_station::storage::sql::{Backend, Mode, Value as Sql};
use lifebridge_station::storage::sqlite::SqliteStorage;
use lifebridge_store::Store;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{BoxError, key, median};

/// Donations per batch: a push of 2,000 entries carries about this many donations.
const PER_BATCH: usize = 250;

/// One body of each kind the figures read, as the demo crew's device wrote it.
struct Templates {
    drive: Value,
    donor: Value,
    screening: Value,
    donation: Value,
}

fn templates(dir: &Path) -> Result<Templates, BoxError> {
    let mut store = Store::create(&dir.join("city-template.db"), &key()?, "CITY")?;
    lifebridge_store::demo::seed(&mut store, 1, |_| Ok(()))?;
    let entries = store.changes_after(0, u32::MAX)?;
    let find = |kind: EntityKind| -> Result<Value, BoxError> {
        let e = entries
            .iter()
            .rev()
            .find(|e| e.entity == kind)
            .ok_or("the demo seeder wrote no such record")?;
        Ok(serde_json::from_str(&e.body)?)
    };
    Ok(Templates {
        drive: find(EntityKind::Drive)?,
        donor: find(EntityKind::Donor)?,
        screening: find(EntityKind::Screening)?,
        donation: find(EntityKind::Donation)?,
    })
}

fn with(template: &Value, changes: Value) -> String {
    let mut v = template.clone();
    if let (Some(v), Some(changes)) = (v.as_object_mut(), changes.as_object()) {
        for (k, val) in changes {
            v.insert(k.clone(), val.clone());
        }
    }
    v.to_string()
}

/// A small deterministic generator (xorshift): every run pushes the same year.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// One batch's bodies: (entity, id, body).
type Batch = Vec<(EntityKind, Uuid, String)>;

/// The year's batches: `donations` donations over `year` at `sites` sites (a drive per
/// site and month), each with its screening (some deferred); a pool of people three
/// fifths the donations, so many give more than once; each donor's body comes with its
/// first donation.
fn year_of_batches(t: &Templates, year: i32, donations: u32, sites: u32) -> Vec<Batch> {
    let mut dice = Dice(0x5eed_1234_abcd_0001);
    let drives: Vec<Vec<Uuid>> = (0..sites)
        .map(|_| (0..12).map(|_| Uuid::now_v7()).collect())
        .collect();
    let people = (u64::from(donations) * 3 / 5).max(1);
    let donor_ids: Vec<Uuid> = (0..people).map(|_| Uuid::now_v7()).collect();
    let mut sent = vec![false; donor_ids.len()];
    let groups = ["A+", "B+", "O+", "AB+", "O-"];
    let start = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let mut batches = Vec::new();
    let mut batch: Batch = Vec::new();
    for (s, months) in drives.iter().enumerate() {
        for (m, id) in months.iter().enumerate() {
            let body = with(
                &t.drive,
                json!({"id": id, "site_name": format!("site {} ({})", s + 1, m + 1)}),
            );
            batch.push((EntityKind::Drive, *id, body));
        }
    }
    for n in 0..donations {
        let day =
            start + chrono::Duration::days((u64::from(n) * 365 / u64::from(donations)) as i64);
        let at = day
            .and_hms_opt(1 + dice.roll(8) as u32, dice.roll(60) as u32, 0)
            .unwrap_or_default()
            .and_utc();
        let who = dice.roll(people) as usize;
        let donor_id = donor_ids[who];
        if !sent[who] {
            sent[who] = true;
            let body = with(
                &t.donor,
                json!({"id": donor_id, "document": {"kind": "passport", "number": format!("E{who:08}")},
                       "abo_rh": groups[dice.roll(groups.len() as u64) as usize],
                       "rural": dice.roll(5) != 0}),
            );
            batch.push((EntityKind::Donor, donor_id, body));
        }
        let screening = Uuid::now_v7();
        let decision = match dice.roll(200) {
            0 => json!({"kind": "defer", "code": "HBSAG_POSITIVE", "until": null}),
            1..=19 => json!({"kind": "defer", "code": "HB_LOW", "until": null}),
            _ => json!({"kind": "accept"}),
        };
        batch.push((
            EntityKind::Screening,
            screening,
            with(
                &t.screening,
                json!({"id": screening, "donor_id": donor_id, "recorded_at": at, "decision": decision, "supersedes": null}),
            ),
        ));
        let donation = Uuid::now_v7();
        let outcome = match dice.roll(100) {
            0 | 1 => "aborted",
            2..=4 => "partial",
            _ => "complete",
        };
        let drive = drives[dice.roll(u64::from(sites)) as usize][day.month0() as usize];
        batch.push((
            EntityKind::Donation,
            donation,
            with(
                &t.donation,
                json!({"id": donation, "donor_id": donor_id, "drive_id": drive, "started_at": at,
                       "outcome": outcome, "collected_volume_ml": 200 + 50 * dice.roll(5), "supersedes": null}),
            ),
        ));
        if (n as usize + 1).is_multiple_of(PER_BATCH) {
            batches.push(std::mem::take(&mut batch));
        }
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

/// Keeps one batch as a push does: its change entries, the donors' merged bodies and
/// the tally, in one transaction; returns the time the tally took.
async fn keep<B: Backend>(
    station: &B,
    device: Uuid,
    first_seq: i64,
    batch: Batch,
) -> Result<Duration, BoxError> {
    let batch = Arc::new(batch);
    let took = station
        .transact(Mode::Write, move |tx| {
            let batch = batch.clone();
            Box::pin(async move {
                let mut entries = Vec::new();
                let mut donors = Vec::new();
                for (i, (kind, id, body)) in batch.iter().enumerate() {
                    if *kind == EntityKind::Donor {
                        donors.extend([
                            Sql::from(*id),
                            body.as_str().into(),
                            "{}".into(),
                            "h".into(),
                        ]);
                    }
                    entries.extend([
                        Sql::from(device),
                        Sql::Int(first_seq + i as i64),
                        "h".into(),
                        kind.as_str().into(),
                        Sql::from(*id),
                        body.as_str().into(),
                        "r".into(),
                    ]);
                }
                tx.insert_rows(
                    "INSERT INTO change_entry (device_id, seq, hlc, entity, entity_id, body, received_at)",
                    7,
                    entries,
                    "",
                )
                .await?;
                tx.insert_rows(
                    "INSERT INTO donor_state (donor_id, body, field_clocks, hlc)",
                    4,
                    donors,
                    "",
                )
                .await?;
                let start = Instant::now();
                let mut changes = tally::Changes::default();
                for (kind, id, body) in batch.iter() {
                    changes.add(*kind, *id, body);
                }
                tally::record(tx, &changes).await?;
                Ok(start.elapsed())
            })
        })
        .await?;
    Ok(took)
}

/// The city-year on SQLite, and on PostgreSQL when a server is given.
pub async fn run(
    dir: &Path,
    donations: u32,
    sites: u32,
    pg_server: Option<&str>,
) -> Result<(), BoxError> {
    if donations == 0 {
        return Ok(());
    }
    let t = templates(dir)?;
    // Last year, whole: the page asked on its last day reads all of it.
    let year = chrono::Utc::now().year() - 1;
    let at = Plan {
        t: &t,
        year,
        donations,
        sites: sites.max(1),
    };
    measure(
        SqliteStorage::open(&dir.join("city-year.db"))?,
        "SQLite",
        &at,
    )
    .await?;
    if let Some(server) = pg_server {
        let url = super::pg_database(server, "city").await?;
        measure(PostgresStorage::connect(&url).await?, "PostgreSQL", &at).await?;
    }
    Ok(())
}

struct Plan<'a> {
    t: &'a Templates,
    year: i32,
    donations: u32,
    sites: u32,
}

async fn measure<B: Backend>(station: B, label: &str, at: &Plan<'_>) -> Result<(), BoxError> {
    let date = NaiveDate::from_ymd_opt(at.year, 12, 31).ok_or("no such year")?;
    let batches = year_of_batches(at.t, at.year, at.donations, at.sites);
    let device = Uuid::now_v7();
    let (mut seq, mut each, mut tallies) = (1i64, Vec::new(), Vec::new());
    let start = Instant::now();
    for batch in batches {
        let n = batch.len() as i64;
        let one = Instant::now();
        tallies.push(keep(&station, device, seq, batch).await?.as_secs_f64());
        each.push(one.elapsed().as_secs_f64());
        seq += n;
    }
    let upkeep = start.elapsed();
    let people = station.statistics(date).await?.year.donors;
    println!(
        "city-year, {} donations in {} at {} sites ({people} people gave), {label}:",
        at.donations, at.year, at.sites,
    );
    println!(
        "  kept at push: {:.2} s for {} batches of {PER_BATCH} donations with their screenings (median {:.1} ms a batch, of which the tally {:.1} ms)",
        upkeep.as_secs_f64(),
        each.len(),
        1000.0 * median(each),
        1000.0 * median(tallies)
    );
    super::statistics_lines(&station, date).await?;
    Ok(())
}
