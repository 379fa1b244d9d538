//! The station's figures (domain.md section 7: what the seed city reports): today's and
//! this year's donations by site, volume, ABO/RhD, deferral rate, repeat-donor and
//! rural-donor shares. Pure: fed the bodies the station holds and the day, so the page
//! only draws what is computed here.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
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

fn abo_text(g: Option<AboRh>) -> String {
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
    let year_start = NaiveDate::from_ymd_opt(date.year(), 1, 1).unwrap_or(date);
    let period = |from: NaiveDate| figures(&donations, &screenings, &drives, &donors, from, date);
    Statistics {
        date,
        today: period(date),
        year: period(year_start),
        unreadable,
    }
}

fn figures(
    donations: &[Donation],
    screenings: &[Screening],
    drives: &BTreeMap<RecordId, Drive>,
    donors: &BTreeMap<RecordId, Donor>,
    from: NaiveDate,
    to: NaiveDate,
) -> Period {
    let day = |d: &Donation| lifebridge_domain::china_date(d.started_at);
    let inside = |date: NaiveDate| date >= from && date <= to;
    let mut p = Period {
        from: Some(from),
        to: Some(to),
        ..Period::default()
    };
    let mut by_site: BTreeMap<String, (u32, u64)> = BTreeMap::new();
    let mut by_group: BTreeMap<String, u32> = BTreeMap::new();
    // People, not registrations: one person registered on two vehicles offline has two
    // donor ids and one identity document.
    let person = |donor_id: RecordId| match donors.get(&donor_id) {
        Some(d) => format!("{}:{}", d.document.kind().as_str(), d.document.number()),
        None => donor_id.to_string(),
    };
    let persons: Vec<String> = donations.iter().map(|d| person(d.donor_id)).collect();
    let mut first_in_period: BTreeMap<&str, (chrono::DateTime<chrono::Utc>, RecordId)> =
        BTreeMap::new();
    for (d, who) in donations
        .iter()
        .zip(&persons)
        .filter(|(d, _)| inside(day(d)))
    {
        if d.outcome == Outcome::Aborted {
            p.aborted += 1;
            continue;
        }
        if d.outcome == Outcome::InProgress {
            continue;
        }
        p.donations += 1;
        let volume = u64::from(d.collected_volume_ml.unwrap_or(0));
        p.volume_ml += volume;
        let site = drives
            .get(&d.drive_id)
            .map(|dr| dr.site_name.clone())
            // No drive on record: the page names it "unknown site" in its language.
            .unwrap_or_default();
        let e = by_site.entry(site).or_default();
        e.0 += 1;
        e.1 += volume;
        *by_group
            .entry(abo_text(donors.get(&d.donor_id).and_then(|x| x.abo_rh)))
            .or_default() += 1;
        let first = first_in_period
            .entry(who.as_str())
            .or_insert((d.started_at, d.donor_id));
        if d.started_at < first.0 {
            *first = (d.started_at, d.donor_id);
        }
    }
    p.by_site = by_site
        .into_iter()
        .map(|(site, (donations, volume_ml))| SiteFigure {
            site,
            donations,
            volume_ml,
        })
        .collect();
    p.by_site
        .sort_by(|a, b| b.donations.cmp(&a.donations).then(a.site.cmp(&b.site)));
    p.by_abo_rh = by_group
        .into_iter()
        .map(|(group, donations)| GroupFigure { group, donations })
        .collect();
    let catalogue = lifebridge_domain::rules::RuleSet::gb18467_2011().deferrals;
    for s in screenings
        .iter()
        .filter(|s| inside(lifebridge_domain::china_date(s.recorded_at)))
    {
        p.screenings += 1;
        if let PhysicianDecision::Defer { code, .. } = &s.decision {
            p.deferred += 1;
            if catalogue.deferral(code).is_some_and(|k| k.is_permanent()) {
                p.permanent_exclusions += 1;
            }
        }
    }
    p.deferral_rate = ratio(p.deferred, p.screenings);
    p.donors = first_in_period.len() as u32;
    for (who, (first, donor_id)) in &first_in_period {
        let earlier = donations.iter().zip(&persons).any(|(d, person)| {
            person == who
                && d.started_at < *first
                && matches!(d.outcome, Outcome::Complete | Outcome::Partial)
        });
        if earlier {
            p.repeat_donors += 1;
        }
        if let Some(rural) = donors.get(donor_id).and_then(|d| d.rural) {
            p.residence_known += 1;
            if rural {
                p.rural_donors += 1;
            }
        }
    }
    p.repeat_share = ratio(p.repeat_donors, p.donors);
    p.rural_share = ratio(p.rural_donors, p.residence_known);
    p
}
