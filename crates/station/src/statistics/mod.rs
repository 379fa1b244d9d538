//! The station's figures (domain.md section 7: what the seed city reports): today's and
//! this year's donations by site, volume, ABO/RhD, deferral rate, repeat-donor and
//! rural-donor shares. A period's figures are its [`Totals`] finished by [`period`];
//! the totals come two ways:
//!
//! - the full read ([`compute`]): every body the station holds, parsed, the period's
//!   donations counted one by one ([`totals`]). Linear in what the station holds; kept
//!   as the reference the page is tested against, and as the benchmark's baseline.
//! - what the page reads ([`tally::statistics`]): the per-day sums of [`by_day`]
//!   (migration 0009), kept at each push in the push's own transaction from the
//!   per-record rows of [`tally`] (migration 0008). A period reads O(days × drives)
//!   rows whatever the station holds: by drive (donations, aborted, volume; the site
//!   joined at the read), by blood group, screenings, and people. People are not
//!   additive across days, so each person is counted once per day they gave and once
//!   per year, on the day of their first donation that year, with whether they gave
//!   before and the residence of that first donation's donor record.
//!
//! Tests hold the two to equality on both backends, after every push of random
//! corrections, merges and changed outcomes (`crates/station/tests/statistics.rs`).

pub mod by_day;
pub mod tally;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use lifebridge_domain::entities::{
    AboRh, Donation, Donor, Drive, Outcome, PhysicianDecision, RecordId, Screening,
};
use serde::Serialize;

/// The latest body of every record the statistics read, as pushed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatisticsSources {
    pub donations: Vec<String>,
    pub screenings: Vec<String>,
    pub drives: Vec<String>,
    /// Merged donors.
    pub donors: Vec<String>,
}

/// Keeps the last body per entity id from `(entity_id, body)` rows in push order.
pub fn latest_bodies(rows: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let mut latest: BTreeMap<String, String> = Default::default();
    for (id, body) in rows {
        latest.insert(id, body);
    }
    latest.into_values().collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statistics {
    pub date: NaiveDate,
    pub today: Period,
    pub year: Period,
    /// Bodies the station holds but could not read (reported, not counted).
    pub unreadable: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Complete and partial collections (aborted ones collected nothing usable).
    pub donations: u32,
    pub aborted: u32,
    pub volume_ml: u64,
    pub by_site: Vec<SiteFigure>,
    /// Donor's ABO/RhD as the station knows it; `unknown` when never typed.
    pub by_abo_rh: Vec<GroupFigure>,
    pub screenings: u32,
    pub deferred: u32,
    /// Of `deferred`, the permanent exclusions (by the deferral catalogue); the rest are
    /// temporary deferrals. Told apart wherever deferrals are counted.
    pub permanent_exclusions: u32,
    /// `deferred / screenings`, 0 when nobody was screened.
    pub deferral_rate: f64,
    pub donors: u32,
    /// Donors with an earlier donation held at the station before their first one in
    /// the period (the seed city's "fixed" donors).
    pub repeat_donors: u32,
    pub repeat_share: f64,
    pub rural_donors: u32,
    /// Donors whose residence (rural or urban) is recorded; the share is of these.
    pub residence_known: u32,
    pub rural_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteFigure {
    /// The drive's site name; empty when the station never received the drive.
    pub site: String,
    pub donations: u32,
    pub volume_ml: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFigure {
    pub group: String,
    pub donations: u32,
}

/// One donation as the figures read it: the donation with its donor's and drive's
/// facts as the station holds them now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DonationFact {
    pub id: RecordId,
    /// The identity document (`kind:number`), or the donor id when the donor is unknown.
    pub person: String,
    pub started_at: DateTime<Utc>,
    pub outcome: Outcome,
    pub volume_ml: u64,
    /// The drive's site name; empty when the drive is unknown.
    pub site: String,
    /// The donor's ABO/RhD, `unknown` when never typed or the donor is unknown.
    pub group: String,
    pub rural: Option<bool>,
}

/// Screenings of a period: how many, deferred, and of those permanent exclusions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScreeningCounts {
    pub screenings: u32,
    pub deferred: u32,
    pub permanent: u32,
}

/// What one period's figures are computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodFacts {
    /// The current (not superseded) donations started in the period.
    pub donations: Vec<DonationFact>,
    /// People with a complete or partial donation on a day before the period: a
    /// person's first donation in the period is a repeat donation exactly when one
    /// exists (an earlier one inside the period would be the first itself).
    pub earlier: BTreeSet<String>,
    pub screenings: ScreeningCounts,
}

/// The donation-or-screening day as stored (`yyyymmdd`, China Standard Time), an
/// integer so both databases order it the same way.
pub fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 10_000 + i64::from(date.month()) * 100 + i64::from(date.day())
}

/// `person` as the figures count people: one person registered on two vehicles offline
/// has two donor ids and one identity document.
pub fn person_of(donor: Option<&Donor>, donor_id: RecordId) -> String {
    match donor {
        Some(d) => format!("{}:{}", d.document.kind().as_str(), d.document.number()),
        None => donor_id.to_string(),
    }
}

/// Whether a screening's decision defers, and whether by a permanent exclusion (as the
/// embedded GB 18467-2011 catalogue names it).
pub fn deferral_of(s: &Screening) -> (bool, bool) {
    // Parsed and validated once per process: every push that brings screenings asks,
    // and the rules table is 14 KB of JSON.
    static CATALOGUE: std::sync::OnceLock<lifebridge_domain::rules::DeferralCatalogue> =
        std::sync::OnceLock::new();
    let catalogue =
        CATALOGUE.get_or_init(|| lifebridge_domain::rules::RuleSet::gb18467_2011().deferrals);
    match &s.decision {
        PhysicianDecision::Defer { code, .. } => (
            true,
            catalogue.deferral(code).is_some_and(|k| k.is_permanent()),
        ),
        _ => (false, false),
    }
}

/// ABO/RhD as the figures name it.
pub fn abo_text(g: Option<AboRh>) -> String {
    match g {
        Some(g) => serde_json::to_value(g)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into()),
        None => "unknown".into(),
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        0.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

/// Parses every body of one kind, dropping the ones a later correction supersedes.
fn current<T: serde::de::DeserializeOwned>(
    bodies: &[String],
    unreadable: &mut u32,
    id: impl Fn(&T) -> RecordId,
    supersedes: impl Fn(&T) -> Option<RecordId>,
) -> Vec<T> {
    let parsed: Vec<T> = bodies
        .iter()
        .filter_map(|b| match serde_json::from_str(b) {
            Ok(v) => Some(v),
            Err(_) => {
                *unreadable += 1;
                None
            }
        })
        .collect();
    let replaced: BTreeSet<RecordId> = parsed.iter().filter_map(&supersedes).collect();
    parsed
        .into_iter()
        .filter(|v| !replaced.contains(&id(v)))
        .collect()
}

/// The figures from every body the station holds (the full read; the page reads the
/// tally, which must agree with this).
pub fn compute(sources: &StatisticsSources, date: NaiveDate) -> Statistics {
    let mut unreadable = 0;
    let donations: Vec<Donation> = current(
        &sources.donations,
        &mut unreadable,
        |d: &Donation| d.id,
        |d| d.supersedes,
    );
    let screenings: Vec<Screening> = current(
        &sources.screenings,
        &mut unreadable,
        |s: &Screening| s.id,
        |s| s.supersedes,
    );
    let drives: BTreeMap<RecordId, Drive> =
        current(&sources.drives, &mut unreadable, |d: &Drive| d.id, |_| None)
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
    let donors: BTreeMap<RecordId, Donor> =
        current(&sources.donors, &mut unreadable, |d: &Donor| d.id, |_| None)
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
    let facts: Vec<(NaiveDate, DonationFact)> = donations
        .iter()
        .map(|d| {
            let donor = donors.get(&d.donor_id);
            let fact = DonationFact {
                id: d.id,
                person: person_of(donor, d.donor_id),
                started_at: d.started_at,
                outcome: d.outcome,
                volume_ml: u64::from(d.collected_volume_ml.unwrap_or(0)),
                // No drive on record: the page names it "unknown site" in its language.
                site: drives
                    .get(&d.drive_id)
                    .map(|dr| dr.site_name.clone())
                    .unwrap_or_default(),
                group: abo_text(donor.and_then(|x| x.abo_rh)),
                rural: donor.and_then(|x| x.rural),
            };
            (lifebridge_domain::china_date(d.started_at), fact)
        })
        .collect();
    let screened: Vec<(NaiveDate, (bool, bool))> = screenings
        .iter()
        .map(|s| (lifebridge_domain::china_date(s.recorded_at), deferral_of(s)))
        .collect();
    let period = |from: NaiveDate| {
        let inside = |day: NaiveDate| day >= from && day <= date;
        let mut counts = ScreeningCounts::default();
        for (_, (deferred, permanent)) in screened.iter().filter(|(day, _)| inside(*day)) {
            counts.screenings += 1;
            counts.deferred += u32::from(*deferred);
            counts.permanent += u32::from(*permanent);
        }
        let facts = PeriodFacts {
            donations: facts
                .iter()
                .filter(|(day, _)| inside(*day))
                .map(|(_, f)| f.clone())
                .collect(),
            earlier: facts
                .iter()
                .filter(|(day, f)| *day < from && counted(f.outcome))
                .map(|(_, f)| f.person.clone())
                .collect(),
            screenings: counts,
        };
        figures(&facts, from, date)
    };
    Statistics {
        date,
        today: period(date),
        year: period(year_start(date)),
        unreadable,
    }
}

/// The first day of `date`'s year.
pub fn year_start(date: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date)
}

/// Complete and partial collections count; aborted ones collected nothing usable and
/// one in progress is not done.
pub(crate) fn counted(outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Complete | Outcome::Partial)
}

/// A period's figures as sums, before order and shares: what the full read counts
/// donation by donation ([`totals`]) and what the per-day rows add up to
/// ([`by_day::totals`]); [`period`] finishes both alike.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub donations: u32,
    pub aborted: u32,
    pub volume_ml: u64,
    /// Per site: complete and partial donations, and their volume.
    pub by_site: BTreeMap<String, (u32, u64)>,
    pub by_group: BTreeMap<String, u32>,
    pub screenings: ScreeningCounts,
    pub people: People,
}

/// The people of a period, each counted once: the donor record of their first
/// donation in the period tells the residence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct People {
    pub donors: u32,
    pub repeat_donors: u32,
    pub rural_donors: u32,
    pub residence_known: u32,
}

/// One period's figures from its facts (the full read).
pub fn figures(facts: &PeriodFacts, from: NaiveDate, to: NaiveDate) -> Period {
    period(totals(facts), from, to)
}

/// A period's sums from its facts, donation by donation.
pub fn totals(facts: &PeriodFacts) -> Totals {
    let mut t = Totals {
        screenings: facts.screenings,
        ..Totals::default()
    };
    // In id order whatever the source, so a tie in start time picks the same first
    // donation of a person (and so the same donor record's residence).
    let mut donations: Vec<&DonationFact> = facts.donations.iter().collect();
    donations.sort_by_key(|d| d.id);
    let mut first_in_period: BTreeMap<&str, (DateTime<Utc>, Option<bool>)> = BTreeMap::new();
    for d in donations {
        if d.outcome == Outcome::Aborted {
            t.aborted += 1;
            continue;
        }
        if !counted(d.outcome) {
            continue;
        }
        t.donations += 1;
        t.volume_ml += d.volume_ml;
        let e = t.by_site.entry(d.site.clone()).or_default();
        e.0 += 1;
        e.1 += d.volume_ml;
        *t.by_group.entry(d.group.clone()).or_default() += 1;
        let first = first_in_period
            .entry(d.person.as_str())
            .or_insert((d.started_at, d.rural));
        if d.started_at < first.0 {
            *first = (d.started_at, d.rural);
        }
    }
    t.people.donors = first_in_period.len() as u32;
    for (who, (_, rural)) in &first_in_period {
        if facts.earlier.contains(*who) {
            t.people.repeat_donors += 1;
        }
        if let Some(rural) = rural {
            t.people.residence_known += 1;
            if *rural {
                t.people.rural_donors += 1;
            }
        }
    }
    t
}

/// A period's figures from its sums: sites by donations, shares.
pub fn period(t: Totals, from: NaiveDate, to: NaiveDate) -> Period {
    let mut by_site: Vec<SiteFigure> = t
        .by_site
        .into_iter()
        .map(|(site, (donations, volume_ml))| SiteFigure {
            site,
            donations,
            volume_ml,
        })
        .collect();
    by_site.sort_by(|a, b| b.donations.cmp(&a.donations).then(a.site.cmp(&b.site)));
    let p = t.people;
    Period {
        from: Some(from),
        to: Some(to),
        donations: t.donations,
        aborted: t.aborted,
        volume_ml: t.volume_ml,
        by_site,
        by_abo_rh: t
            .by_group
            .into_iter()
            .map(|(group, donations)| GroupFigure { group, donations })
            .collect(),
        screenings: t.screenings.screenings,
        deferred: t.screenings.deferred,
        permanent_exclusions: t.screenings.permanent,
        deferral_rate: ratio(t.screenings.deferred, t.screenings.screenings),
        donors: p.donors,
        repeat_donors: p.repeat_donors,
        repeat_share: ratio(p.repeat_donors, p.donors),
        rural_donors: p.rural_donors,
        residence_known: p.residence_known,
        rural_share: ratio(p.rural_donors, p.residence_known),
    }
}
