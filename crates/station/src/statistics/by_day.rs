//! The statistics by day (migration 0009): sums of the tally's per-record rows, kept at
//! every push in the push's own transaction, so a period's figures read
//! O(days × drives) rows and never one row per donation.
//!
//! What each figure reads, for a period `from..=to` (a day, or a year up to a day):
//!
//! | figure | rows |
//! |---|---|
//! | donations, aborted, volume, by site | `stat_day_drive` (day, drive): current donations; the site is the drive's, joined at the request |
//! | by ABO/RhD | `stat_day_group` (day, group of the donor record) |
//! | screenings, deferred, permanent exclusions | `stat_day_screening` (day) |
//! | donors, repeat, rural, residence known | `stat_day_people`: `'day'` rows for a day, `'year'` rows summed over the year to the day |
//!
//! People are not additive across days (one person giving twice in a year is one donor),
//! so each person adds to the people rows once per period the page can ask for: a
//! `'day'` row for each day they gave, and a `'year'` row on the day of their first
//! donation of that year (a year up to any day then holds exactly the people whose
//! first donation of the year falls in it). Each says whether the person gave on an
//! earlier day (for a year: in an earlier year) and the residence of the donor record of
//! that first donation, as [`super::totals`] does.
//!
//! Keeping them: a push names what it touches (its donations, the donations they
//! supersede, the donations of its donors, their people, its screenings); what those
//! contribute is read before the tally's rows change and again after, and the
//! difference is added, one upsert per touched row of each table
//! ([`contributions`], [`apply`]). A correction, a changed outcome, a donor merged or
//! whose document changes so moves its contribution from the old rows to the new in
//! the same transaction. Pushes keep them in turn (a row lock taken before the first
//! read, [`super::tally::record`]): on PostgreSQL two pushes at once about one person
//! would otherwise each add that person. [`rebuild`] fills them from the tally at once.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{People, ScreeningCounts, Totals, day_number, year_start};
use crate::params;
use crate::storage::sql::{ROWS_PER_STATEMENT, Row, Tx, Value, list};
use crate::storage::{Result, parse_time, parse_uuid};

/// One per-day table: its key after the day, and the sums it keeps.
struct Facet {
    table: &'static str,
    key: Option<&'static str>,
    sums: &'static [&'static str],
}

const DRIVE: usize = 0;
const GROUP: usize = 1;
const SCREENING: usize = 2;
const PEOPLE: usize = 3;

const FACETS: [Facet; 4] = [
    Facet {
        table: "stat_day_drive",
        key: Some("drive_id"),
        sums: &["donations", "aborted", "volume_ml"],
    },
    Facet {
        table: "stat_day_group",
        key: Some("abo_rh"),
        sums: &["donations"],
    },
    Facet {
        table: "stat_day_screening",
        key: None,
        sums: &["screenings", "deferred", "permanent"],
    },
    Facet {
        table: "stat_day_people",
        key: Some("period"),
        sums: &["donors", "repeat_donors", "rural_donors", "residence_known"],
    },
];

/// The widest [`Facet::sums`].
const SUMS: usize = 4;

/// One row of one per-day table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Bucket {
    facet: usize,
    day: i64,
    /// The facet's key; empty when it has none.
    key: String,
}

/// What some records add to the per-day rows.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sums(BTreeMap<Bucket, [i64; SUMS]>);

impl Sums {
    fn add(&mut self, facet: usize, day: i64, key: &str, sums: [i64; SUMS]) {
        let bucket = Bucket {
            facet,
            day,
            key: key.to_owned(),
        };
        let row = self.0.entry(bucket).or_default();
        for (r, s) in row.iter_mut().zip(sums) {
            *r += s;
        }
    }
}

/// The records whose contribution a change may move.
#[derive(Debug, Default)]
pub struct Touched {
    pub donations: BTreeSet<Uuid>,
    pub people: BTreeSet<String>,
    pub screenings: BTreeSet<Uuid>,
}

/// Which rows a read takes: the given keys (of the named column), or the whole table
/// (the rebuild).
pub(super) enum Scope<'a> {
    All,
    Keys(Vec<Value>, &'a str),
}

/// `sql` with its `{filter}` naming `n` keys of `column`.
fn filtered(sql: &str, column: &str, n: usize) -> String {
    sql.replace("{filter}", &format!("{column} IN ({})", list(1, n)))
}

/// Runs the query `sql`, whose `{filter}` is replaced by the scope's condition, in
/// chunks of [`ROWS_PER_STATEMENT`] keys.
pub(super) async fn select(tx: &mut dyn Tx, sql: &str, scope: Scope<'_>) -> Result<Vec<Row>> {
    match scope {
        Scope::All => tx.query_once(&sql.replace("{filter}", "1 = 1"), &[]).await,
        Scope::Keys(keys, column) => {
            let mut rows = Vec::new();
            for chunk in keys.chunks(ROWS_PER_STATEMENT) {
                let sql = filtered(sql, column, chunk.len());
                rows.extend(tx.query_once(&sql, chunk).await?);
            }
            Ok(rows)
        }
    }
}

/// Runs the statement `sql` (with a `{filter}`) for `keys` of `column`, in chunks.
pub(super) async fn execute_in(
    tx: &mut dyn Tx,
    sql: &str,
    column: &str,
    keys: &[Value],
) -> Result<()> {
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        tx.execute_once(&filtered(sql, column, chunk.len()), chunk)
            .await?;
    }
    Ok(())
}

pub(super) fn keys<T: Clone + Into<Value>>(set: &BTreeSet<T>) -> Vec<Value> {
    set.iter().cloned().map(Into::into).collect()
}

/// What the touched records add to the per-day rows as the tally holds them now.
pub async fn contributions(tx: &mut dyn Tx, touched: &Touched) -> Result<Sums> {
    let mut sums = Sums::default();
    if !touched.donations.is_empty() {
        let scope = Scope::Keys(keys(&touched.donations), "d.donation_id");
        donations(tx, scope, &mut sums).await?;
    }
    if !touched.people.is_empty() {
        people(
            tx,
            Scope::Keys(keys(&touched.people), "d.person"),
            &mut sums,
        )
        .await?;
    }
    if !touched.screenings.is_empty() {
        let scope = Scope::Keys(keys(&touched.screenings), "s.screening_id");
        screenings(tx, scope, &mut sums).await?;
    }
    Ok(sums)
}

/// A donation that a later record supersedes counts nowhere.
const CURRENT_DONATION: &str =
    "NOT EXISTS (SELECT 1 FROM stat_donation c WHERE c.supersedes = d.donation_id)";

async fn donations(tx: &mut dyn Tx, scope: Scope<'_>, sums: &mut Sums) -> Result<()> {
    let sql = format!(
        "SELECT d.day, d.drive_id, d.outcome, d.volume_ml, COALESCE(p.abo_rh, 'unknown')
         FROM stat_donation d LEFT JOIN stat_donor p ON p.donor_id = d.donor_id
         WHERE {{filter}} AND {CURRENT_DONATION}"
    );
    for mut r in select(tx, &sql, scope).await? {
        let (day, drive) = (r.int(0)?, r.text(1)?);
        match r.str(2)? {
            "complete" | "partial" => {
                sums.add(DRIVE, day, &drive, [1, 0, r.int(3)?, 0]);
                sums.add(GROUP, day, r.str(4)?, [1, 0, 0, 0]);
            }
            "aborted" => sums.add(DRIVE, day, &drive, [0, 1, 0, 0]),
            // In progress: not done, counted nowhere.
            _ => {}
        }
    }
    Ok(())
}

/// One current complete or partial donation of a person.
struct Given {
    day: i64,
    started_at: DateTime<Utc>,
    id: Uuid,
    rural: Option<bool>,
}

async fn people(tx: &mut dyn Tx, scope: Scope<'_>, sums: &mut Sums) -> Result<()> {
    let sql = format!(
        "SELECT d.person, d.day, d.started_at, d.donation_id, p.rural
         FROM stat_donation d LEFT JOIN stat_donor p ON p.donor_id = d.donor_id
         WHERE {{filter}} AND d.outcome IN ('complete', 'partial') AND {CURRENT_DONATION}"
    );
    let mut by_person: BTreeMap<String, Vec<Given>> = BTreeMap::new();
    for mut r in select(tx, &sql, scope).await? {
        let given = Given {
            day: r.int(1)?,
            started_at: parse_time(r.str(2)?)?,
            id: parse_uuid(r.str(3)?)?,
            rural: r.opt_int(4)?.map(|v| v != 0),
        };
        by_person.entry(r.text(0)?).or_default().push(given);
    }
    for given in by_person.values_mut() {
        person(given, sums);
    }
    Ok(())
}

/// What one person's donations add to the people rows (see the module doc).
fn person(given: &mut [Given], sums: &mut Sums) {
    // The first donation of a day or a year is the earliest, the smaller id on a tie,
    // as the full read picks it.
    given.sort_by_key(|g| (g.started_at, g.id));
    let Some(first_day) = given.first().map(|g| g.day) else {
        return;
    };
    let row = |repeat: bool, rural: Option<bool>| {
        [
            1,
            i64::from(repeat),
            i64::from(rural == Some(true)),
            i64::from(rural.is_some()),
        ]
    };
    let (mut day, mut year) = (None, None);
    // Days grow with the start time, so each day's and year's first comes first.
    for g in given.iter() {
        if day != Some(g.day) {
            day = Some(g.day);
            sums.add(PEOPLE, g.day, "day", row(first_day < g.day, g.rural));
        }
        let y = g.day / 10_000;
        if year != Some(y) {
            year = Some(y);
            sums.add(
                PEOPLE,
                g.day,
                "year",
                row(first_day < y * 10_000 + 101, g.rural),
            );
        }
    }
}

async fn screenings(tx: &mut dyn Tx, scope: Scope<'_>, sums: &mut Sums) -> Result<()> {
    let sql = "SELECT s.day, s.deferred, s.permanent FROM stat_screening s
               WHERE {filter}
                 AND NOT EXISTS (SELECT 1 FROM stat_screening c WHERE c.supersedes = s.screening_id)";
    for r in select(tx, sql, scope).await? {
        let flag = |i: usize| -> Result<i64> { Ok(i64::from(r.int(i)? != 0)) };
        sums.add(SCREENING, r.int(0)?, "", [1, flag(1)?, flag(2)?, 0]);
    }
    Ok(())
}

/// Adds `after - before` to the per-day rows: one upsert per changed row.
pub async fn apply(tx: &mut dyn Tx, before: Sums, after: Sums) -> Result<()> {
    let mut delta = after;
    for (bucket, sums) in before.0 {
        let row = delta.0.entry(bucket).or_default();
        for (r, s) in row.iter_mut().zip(sums) {
            *r -= s;
        }
    }
    for (f, facet) in FACETS.iter().enumerate() {
        let mut values = Vec::new();
        for (bucket, sums) in delta.0.range(
            Bucket {
                facet: f,
                day: i64::MIN,
                key: String::new(),
            }..Bucket {
                facet: f + 1,
                day: i64::MIN,
                key: String::new(),
            },
        ) {
            if sums.iter().all(|s| *s == 0) {
                continue;
            }
            values.push(Value::Int(bucket.day));
            if facet.key.is_some() {
                values.push(Value::Text(bucket.key.clone()));
            }
            values.extend(sums[..facet.sums.len()].iter().map(|s| Value::Int(*s)));
        }
        if values.is_empty() {
            continue;
        }
        let key: Vec<&str> = std::iter::once("day").chain(facet.key).collect();
        let columns: Vec<&str> = key.iter().chain(facet.sums).copied().collect();
        let set: Vec<String> = facet
            .sums
            .iter()
            .map(|c| format!("{c} = {}.{c} + excluded.{c}", facet.table))
            .collect();
        tx.insert_rows(
            &format!("INSERT INTO {} ({})", facet.table, columns.join(", ")),
            columns.len(),
            values,
            &format!(
                "ON CONFLICT ({}) DO UPDATE SET {}",
                key.join(", "),
                set.join(", ")
            ),
        )
        .await?;
    }
    Ok(())
}

/// Empties the per-day rows and fills them from the whole tally.
pub async fn rebuild(tx: &mut dyn Tx) -> Result<()> {
    for facet in &FACETS {
        tx.execute(&format!("DELETE FROM {}", facet.table), &[])
            .await?;
    }
    let mut sums = Sums::default();
    donations(tx, Scope::All, &mut sums).await?;
    people(tx, Scope::All, &mut sums).await?;
    screenings(tx, Scope::All, &mut sums).await?;
    apply(tx, Sums::default(), sums).await
}

/// The periods the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// The day itself.
    Day,
    /// The year up to and including the day.
    YearToDate,
}

impl Span {
    pub fn from(self, date: NaiveDate) -> NaiveDate {
        match self {
            Span::Day => date,
            Span::YearToDate => year_start(date),
        }
    }
}

/// A period's sums from the per-day rows.
pub async fn totals(tx: &mut dyn Tx, span: Span, date: NaiveDate) -> Result<Totals> {
    let (from, to) = (day_number(span.from(date)), day_number(date));
    let n = |v: i64| u32::try_from(v).unwrap_or(0);
    let mut t = Totals::default();
    // Sums are cast back to integers: PostgreSQL's SUM of BIGINT is NUMERIC.
    for mut r in tx
        .query(
            "SELECT COALESCE(s.site, ''), CAST(SUM(b.donations) AS BIGINT),
                    CAST(SUM(b.aborted) AS BIGINT), CAST(SUM(b.volume_ml) AS BIGINT)
             FROM stat_day_drive b LEFT JOIN stat_drive s ON s.drive_id = b.drive_id
             WHERE b.day >= ?1 AND b.day <= ?2
             GROUP BY COALESCE(s.site, '')",
            params![from, to],
        )
        .await?
    {
        let (donations, aborted, volume) = (n(r.int(1)?), n(r.int(2)?), r.count(3)?);
        t.donations += donations;
        t.aborted += aborted;
        t.volume_ml += volume;
        // A site only aborted at (or whose donations were all corrected away) is not one
        // the period collected at.
        if donations > 0 {
            t.by_site.insert(r.text(0)?, (donations, volume));
        }
    }
    for mut r in tx
        .query(
            "SELECT abo_rh, CAST(SUM(donations) AS BIGINT) FROM stat_day_group
             WHERE day >= ?1 AND day <= ?2 GROUP BY abo_rh",
            params![from, to],
        )
        .await?
    {
        let donations = n(r.int(1)?);
        if donations > 0 {
            t.by_group.insert(r.text(0)?, donations);
        }
    }
    let r = tx
        .query_one(
            "SELECT CAST(COALESCE(SUM(screenings), 0) AS BIGINT), CAST(COALESCE(SUM(deferred), 0) AS BIGINT),
                    CAST(COALESCE(SUM(permanent), 0) AS BIGINT)
             FROM stat_day_screening WHERE day >= ?1 AND day <= ?2",
            params![from, to],
        )
        .await?;
    t.screenings = ScreeningCounts {
        screenings: n(r.int(0)?),
        deferred: n(r.int(1)?),
        permanent: n(r.int(2)?),
    };
    let period = match span {
        Span::Day => "day",
        Span::YearToDate => "year",
    };
    let r = tx
        .query_one(
            "SELECT CAST(COALESCE(SUM(donors), 0) AS BIGINT), CAST(COALESCE(SUM(repeat_donors), 0) AS BIGINT),
                    CAST(COALESCE(SUM(rural_donors), 0) AS BIGINT), CAST(COALESCE(SUM(residence_known), 0) AS BIGINT)
             FROM stat_day_people WHERE period = ?3 AND day >= ?1 AND day <= ?2",
            params![from, to, period],
        )
        .await?;
    t.people = People {
        donors: n(r.int(0)?),
        repeat_donors: n(r.int(1)?),
        rural_donors: n(r.int(2)?),
        residence_known: n(r.int(3)?),
    };
    Ok(t)
}
