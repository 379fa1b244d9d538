//! The statistics figures from records as devices push them: real bodies from a demo
//! drive, edited into a day with known answers (China dates, corrections, aborted and
//! partial collections, deferrals, repeat and rural donors).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use lifebridge_domain::entities::EntityKind;
use lifebridge_station::db::Storage;
use lifebridge_station::params;
use lifebridge_station::statistics::compute;
use lifebridge_station::statistics::tally;
use lifebridge_station::statistics::{Statistics, StatisticsSources};
use lifebridge_station::storage::postgres::PostgresStorage;
use lifebridge_station::storage::sql::{Backend, Mode, Tx, TxFuture};
use lifebridge_station::storage::sqlite::SqliteStorage;
use lifebridge_store::{Store, StoreKey};
use serde_json::{Value, json};
use uuid::Uuid;

/// One body of each kind, as the demo crew's device wrote it.
fn templates() -> (Value, Value, Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(
        &dir.path().join("bus.db"),
        &StoreKey::new("statistics test").unwrap(),
        "BUS",
    )
    .unwrap();
    lifebridge_store::demo::seed(&mut store, 1, |_| Ok(())).unwrap();
    let entries = store.changes_after(0, u32::MAX).unwrap();
    let find = |kind: &str| -> Value {
        let e = entries
            .iter()
            .rev()
            .find(|e| e.entity.as_str() == kind)
            .unwrap();
        serde_json::from_str(&e.body).unwrap()
    };
    (
        find("drive"),
        find("donor"),
        find("screening"),
        find("donation"),
    )
}

fn with(template: &Value, changes: Value) -> String {
    let mut v = template.clone();
    for (k, val) in changes.as_object().unwrap() {
        v[k] = val.clone();
    }
    v.to_string()
}

/// A day (2026-05-10) with known answers: two sites, one person registered twice, a
/// correction, a donation just past midnight in China, partial and aborted collections,
/// a permanent exclusion, last year's screening.
fn known_sources() -> StatisticsSources {
    let (drive, donor, screening, donation) = templates();
    let id = || Uuid::now_v7().to_string();
    let (village, town) = (id(), id());
    let (d1, d2, d3, d1_again) = (id(), id(), id(), id());
    let passport = |n: u32| json!({"kind": "passport", "number": format!("E{n:08}")});
    let superseded = id();
    StatisticsSources {
        drives: vec![
            with(&drive, json!({"id": village, "site_name": "甲村"})),
            with(&drive, json!({"id": town, "site_name": "乙镇"})),
        ],
        donors: vec![
            with(
                &donor,
                json!({"id": d1, "rural": true, "abo_rh": "A+", "document": passport(1)}),
            ),
            with(
                &donor,
                json!({"id": d2, "rural": false, "abo_rh": "O-", "document": passport(2)}),
            ),
            with(
                &donor,
                json!({"id": d3, "rural": null, "abo_rh": null, "document": passport(3)}),
            ),
            // d1 again, registered on another vehicle before either synced.
            with(
                &donor,
                json!({"id": d1_again, "rural": true, "abo_rh": "A+", "document": passport(1)}),
            ),
        ],
        screenings: vec![
            with(
                &screening,
                json!({"id": id(), "recorded_at": "2026-05-10T01:00:00Z"}),
            ),
            with(
                &screening,
                json!({"id": id(), "recorded_at": "2026-05-10T02:00:00Z"}),
            ),
            with(
                &screening,
                json!({"id": id(), "recorded_at": "2026-05-10T03:00:00Z"}),
            ),
            with(
                &screening,
                json!({"id": id(), "recorded_at": "2026-05-10T04:00:00Z",
                       "decision": {"kind": "defer", "code": "HBSAG_POSITIVE", "until": null}}),
            ),
            // Last year: outside both periods.
            with(
                &screening,
                json!({"id": id(), "recorded_at": "2025-12-30T04:00:00Z",
                       "decision": {"kind": "defer", "code": "HB_LOW", "until": null}}),
            ),
        ],
        donations: vec![
            // d1 gave in January (registered there as d1_again), and today in the
            // village: one person, a repeat donor.
            with(
                &donation,
                json!({"id": id(), "donor_id": d1_again, "drive_id": village, "outcome": "complete",
                       "collected_volume_ml": 400, "started_at": "2026-01-05T02:00:00Z", "supersedes": null}),
            ),
            with(
                &donation,
                json!({"id": id(), "donor_id": d1, "drive_id": village, "outcome": "complete",
                       "collected_volume_ml": 400, "started_at": "2026-05-10T02:00:00Z", "supersedes": null}),
            ),
            // d2's first record was corrected (450 mL); only the correction counts.
            with(
                &donation,
                json!({"id": superseded, "donor_id": d2, "drive_id": village, "outcome": "complete",
                       "collected_volume_ml": 400, "started_at": "2026-05-10T04:00:00Z", "supersedes": null}),
            ),
            with(
                &donation,
                json!({"id": id(), "donor_id": d2, "drive_id": village, "outcome": "complete",
                       "collected_volume_ml": 450, "started_at": "2026-05-10T04:00:00Z", "supersedes": superseded}),
            ),
            // 17:00 UTC is 01:00 the next day in China: not today.
            with(
                &donation,
                json!({"id": id(), "donor_id": d2, "drive_id": town, "outcome": "complete",
                       "collected_volume_ml": 300, "started_at": "2026-05-10T17:00:00Z", "supersedes": null}),
            ),
            with(
                &donation,
                json!({"id": id(), "donor_id": d3, "drive_id": town, "outcome": "partial",
                       "collected_volume_ml": 200, "started_at": "2026-05-10T03:00:00Z", "supersedes": null}),
            ),
            with(
                &donation,
                json!({"id": id(), "donor_id": d3, "drive_id": town, "outcome": "aborted",
                       "collected_volume_ml": 50, "started_at": "2026-05-10T03:30:00Z", "supersedes": null}),
            ),
        ],
    }
}

#[test]
fn a_day_and_a_year_with_known_answers() {
    let sources = known_sources();
    let s = compute(&sources, NaiveDate::from_ymd_opt(2026, 5, 10).unwrap());
    let today = &s.today;
    assert_eq!(today.donations, 3);
    assert_eq!(today.aborted, 1);
    assert_eq!(today.volume_ml, 400 + 450 + 200);
    let sites: Vec<(&str, u32, u64)> = today
        .by_site
        .iter()
        .map(|x| (x.site.as_str(), x.donations, x.volume_ml))
        .collect();
    assert_eq!(sites, [("甲村", 2, 850), ("乙镇", 1, 200)]);
    let groups: Vec<(&str, u32)> = today
        .by_abo_rh
        .iter()
        .map(|g| (g.group.as_str(), g.donations))
        .collect();
    assert_eq!(groups, [("A+", 1), ("O-", 1), ("unknown", 1)]);
    assert_eq!((today.screenings, today.deferred), (4, 1));
    // HBsAg positive: a permanent exclusion, not a temporary deferral.
    assert_eq!(today.permanent_exclusions, 1);
    assert_eq!(today.deferral_rate, 0.25);
    assert_eq!((today.donors, today.repeat_donors), (3, 1));
    assert_eq!((today.rural_donors, today.residence_known), (1, 2));
    assert_eq!(today.rural_share, 0.5);

    let year = &s.year;
    assert_eq!(year.from, NaiveDate::from_ymd_opt(2026, 1, 1));
    assert_eq!(year.donations, 4);
    assert_eq!(year.volume_ml, 400 + 400 + 450 + 200);
    // In the year, d1's first donation is January's, with none before it; the two
    // registrations of d1 are one donor.
    assert_eq!((year.donors, year.repeat_donors), (3, 0));
    assert_eq!((year.screenings, year.deferred), (4, 1));
    assert_eq!(year.permanent_exclusions, 1);
    assert_eq!(s.unreadable, 0);
}

#[test]
fn nothing_held_gives_zeros_not_nan() {
    let s = compute(
        &StatisticsSources::default(),
        NaiveDate::from_ymd_opt(2026, 5, 10).unwrap(),
    );
    assert_eq!(s.today.donations, 0);
    assert_eq!(s.today.deferral_rate, 0.0);
    assert_eq!(s.year.rural_share, 0.0);
    let s = compute(
        &StatisticsSources {
            donations: vec!["{\"broken\": true}".into()],
            ..Default::default()
        },
        NaiveDate::from_ymd_opt(2026, 5, 10).unwrap(),
    );
    assert_eq!(s.unreadable, 1);
}

fn id_of(body: &str) -> Uuid {
    let v: Value = serde_json::from_str(body).unwrap();
    v["id"].as_str().unwrap().parse().unwrap()
}

/// The records of `s` as a station holds them (change entries, merged donors), then the
/// tally filled from them at once, as migration 0008 does.
fn held<'a>(tx: &'a mut dyn Tx, s: &'a StatisticsSources) -> TxFuture<'a, ()> {
    Box::pin(async move {
        let device = Uuid::now_v7();
        let mut seq = 0i64;
        for (entity, bodies) in [
            ("drive", &s.drives),
            ("donation", &s.donations),
            ("screening", &s.screenings),
        ] {
            for body in bodies {
                seq += 1;
                tx.execute(
                    "INSERT INTO change_entry (device_id, seq, hlc, entity, entity_id, body, received_at)
                     VALUES (?1, ?2, 'h', ?3, ?4, ?5, 'r')",
                    params![device, seq, entity, id_of(body), body.as_str()],
                )
                .await?;
            }
        }
        for body in &s.donors {
            tx.execute(
                "INSERT INTO donor_state (donor_id, body, field_clocks, hlc) VALUES (?1, ?2, '{}', 'h')",
                params![id_of(body), body.as_str()],
            )
            .await?;
        }
        tally::rebuild(tx).await
    })
}

/// The tally kept record by record, donations before their donors and drives (as
/// pushes may bring them).
fn one_by_one<'a>(tx: &'a mut dyn Tx, s: &'a StatisticsSources) -> TxFuture<'a, ()> {
    Box::pin(async move {
        for (kind, bodies) in [
            (EntityKind::Donation, &s.donations),
            (EntityKind::Screening, &s.screenings),
            (EntityKind::Donor, &s.donors),
            (EntityKind::Drive, &s.drives),
        ] {
            for body in bodies {
                let mut changes = tally::Changes::default();
                changes.add(kind, id_of(body), body);
                tally::record(tx, &changes).await?;
            }
        }
        Ok(())
    })
}

/// The tally (what the page reads) gives the full read's figures on the same records,
/// whether filled at once from held records or record by record in another order.
async fn tally_equals_full_read<B: Backend>(at_once: B, in_turn: B) {
    let sources = Arc::new(known_sources());
    let s = sources.clone();
    at_once
        .transact(Mode::Write, move |tx| {
            let s = s.clone();
            Box::pin(async move { held(tx, &s).await })
        })
        .await
        .unwrap();
    let s = sources.clone();
    in_turn
        .transact(Mode::Write, move |tx| {
            let s = s.clone();
            Box::pin(async move { one_by_one(tx, &s).await })
        })
        .await
        .unwrap();
    for (y, m, d) in [
        (2026, 5, 10),
        (2026, 5, 11),
        (2026, 1, 5),
        (2025, 12, 30),
        (2027, 1, 1),
    ] {
        let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let full = compute(&sources, date);
        assert_eq!(
            at_once.statistics(date).await.unwrap(),
            full,
            "{date} (at once)"
        );
        assert_eq!(
            in_turn.statistics(date).await.unwrap(),
            full,
            "{date} (in turn)"
        );
    }
    let s = in_turn
        .statistics(NaiveDate::from_ymd_opt(2026, 5, 10).unwrap())
        .await
        .unwrap();
    assert_eq!((s.today.donors, s.today.repeat_donors), (3, 1));
    assert_eq!(s.today.volume_ml, 400 + 450 + 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tally_equals_the_full_read_on_known_records_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let open = |name: &str| SqliteStorage::open(&dir.path().join(name)).unwrap();
    tally_equals_full_read(open("at_once.db"), open("in_turn.db")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tally_equals_the_full_read_on_known_records_postgres() {
    let (Some(a), Some(b)) = (common::pg_database().await, common::pg_database().await) else {
        return;
    };
    tally_equals_full_read(
        PostgresStorage::connect(&a).await.unwrap(),
        PostgresStorage::connect(&b).await.unwrap(),
    )
    .await;
}

/// What a station holds after some pushes: the latest body of each record by kind, as
/// the full read takes them.
#[derive(Default)]
struct Held {
    drives: BTreeMap<Uuid, String>,
    donors: BTreeMap<Uuid, String>,
    screenings: BTreeMap<Uuid, String>,
    donations: BTreeMap<Uuid, String>,
}

impl Held {
    fn kind(&mut self, kind: EntityKind) -> &mut BTreeMap<Uuid, String> {
        match kind {
            EntityKind::Drive => &mut self.drives,
            EntityKind::Donor => &mut self.donors,
            EntityKind::Screening => &mut self.screenings,
            _ => &mut self.donations,
        }
    }

    fn sources(&self) -> StatisticsSources {
        let all = |m: &BTreeMap<Uuid, String>| m.values().cloned().collect();
        StatisticsSources {
            donations: all(&self.donations),
            screenings: all(&self.screenings),
            drives: all(&self.drives),
            donors: all(&self.donors),
        }
    }
}

/// One push: its bodies, by kind and id (the id given apart, so an unreadable body
/// can stand for a record).
type Batch = Vec<(EntityKind, Uuid, String)>;

/// Keeps one push's bodies in the tally, in one transaction as ingest does.
async fn keep<B: Backend>(station: &B, batch: Arc<Batch>) {
    station
        .transact(Mode::Write, move |tx| {
            let b = batch.clone();
            Box::pin(async move {
                let mut changes = tally::Changes::default();
                for (kind, id, body) in b.iter() {
                    changes.add(*kind, *id, body);
                }
                tally::record(tx, &changes).await
            })
        })
        .await
        .unwrap();
}

/// Keeps one push's bodies in the tally and in `held`.
async fn push<B: Backend>(station: &B, held: &mut Held, batch: Batch) {
    let batch = Arc::new(batch);
    keep(station, batch.clone()).await;
    for (kind, id, body) in batch.iter() {
        held.kind(*kind).insert(*id, body.clone());
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The days the checks ask about: around a new year, and two days in May.
fn dates() -> [NaiveDate; 6] {
    [
        date(2025, 12, 31),
        date(2026, 1, 1),
        date(2026, 1, 2),
        date(2026, 3, 2),
        date(2026, 5, 10),
        date(2026, 5, 11),
    ]
}

/// The station's figures (the per-day sums) equal the full read of what it holds, on
/// every day of `dates()`; returns the figures for `on`.
async fn agrees<B: Backend>(station: &B, held: &Held, on: NaiveDate, step: &str) -> Statistics {
    let sources = held.sources();
    for d in dates().into_iter().chain([on]) {
        assert_eq!(
            station.statistics(d).await.unwrap(),
            compute(&sources, d),
            "{d} after {step}"
        );
    }
    station.statistics(on).await.unwrap()
}

/// Corrections move their contribution, and people are counted once per period: every
/// case here gives other figures than a plain sum of per-day counts would.
async fn corrections_move_their_contribution<B: Backend>(station: B) {
    let (drive, donor, screening, donation) = templates();
    let mut held = Held::default();
    let (village, town) = (Uuid::now_v7(), Uuid::now_v7());
    let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let passport = |n: u32| json!({"kind": "passport", "number": format!("E{n:08}")});
    let drive_body = |id: Uuid, site: &str| {
        (
            EntityKind::Drive,
            id,
            with(&drive, json!({"id": id, "site_name": site})),
        )
    };
    let donor_body = |id: Uuid, n: u32, group: Value, rural: Value| {
        (
            EntityKind::Donor,
            id,
            with(
                &donor,
                json!({"id": id, "document": passport(n), "abo_rh": group, "rural": rural}),
            ),
        )
    };
    let donation_body = |id: Uuid, who: Uuid, at: Uuid, when: &str, outcome: &str, ml: u32| {
        (
            EntityKind::Donation,
            id,
            with(
                &donation,
                json!({"id": id, "donor_id": who, "drive_id": at, "started_at": when,
                       "outcome": outcome, "collected_volume_ml": ml, "supersedes": null}),
            ),
        )
    };
    let (x, y, z, w) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    push(
        &station,
        &mut held,
        vec![
            drive_body(village, "甲村"),
            drive_body(town, "乙镇"),
            donor_body(a, 1, json!("A+"), json!(true)),
            donor_body(b, 2, json!("O-"), json!(false)),
            donor_body(c, 3, Value::Null, Value::Null),
            // a gives on two days of the year: one donor of the year, not two.
            donation_body(x, a, village, "2026-03-02T02:00:00Z", "complete", 400),
            donation_body(y, a, village, "2026-05-10T02:00:00Z", "complete", 300),
            donation_body(z, b, town, "2026-05-10T03:00:00Z", "complete", 400),
            donation_body(w, c, town, "2026-01-20T03:00:00Z", "complete", 200),
        ],
    )
    .await;
    let s = agrees(&station, &held, date(2026, 5, 10), "the first push").await;
    assert_eq!((s.year.donations, s.year.donors), (4, 3));
    assert_eq!((s.today.donors, s.today.repeat_donors), (2, 1));
    assert_eq!((s.year.rural_donors, s.year.residence_known), (1, 2));

    // z corrected: another day and another site. The day it left loses it.
    let z2 = Uuid::now_v7();
    let mut moved = donation_body(z2, b, village, "2026-05-11T03:00:00Z", "complete", 450);
    moved.2 = with(
        &serde_json::from_str(&moved.2).unwrap(),
        json!({"supersedes": z}),
    );
    push(&station, &mut held, vec![moved]).await;
    let s = agrees(&station, &held, date(2026, 5, 10), "a correction").await;
    let sites: Vec<(&str, u32, u64)> = s
        .today
        .by_site
        .iter()
        .map(|x| (x.site.as_str(), x.donations, x.volume_ml))
        .collect();
    assert_eq!(sites, [("甲村", 1, 300)]);
    // The year up to the 10th no longer holds it; up to the 11th it does, once.
    assert_eq!((s.year.donations, s.year.volume_ml), (3, 400 + 300 + 200));
    let next = agrees(&station, &held, date(2026, 5, 11), "a correction").await;
    assert_eq!(next.today.by_site[0].volume_ml, 450);
    assert_eq!((next.year.donations, next.year.donors), (4, 3));

    // y's outcome changes (a later body of the same donation): a gave nothing that day,
    // and is still one donor of the year (March).
    push(
        &station,
        &mut held,
        vec![donation_body(
            y,
            a,
            village,
            "2026-05-10T02:00:00Z",
            "aborted",
            50,
        )],
    )
    .await;
    let s = agrees(&station, &held, date(2026, 5, 10), "an outcome changed").await;
    assert_eq!(
        (s.today.donations, s.today.aborted, s.today.donors),
        (0, 1, 0)
    );
    assert_eq!(s.year.donors, 2);

    // c is merged into a (the same document): one person, whose first donation of the
    // year is c's in January (so a's March one is a repeat's, and the year's residence is
    // c's record's, unknown).
    push(
        &station,
        &mut held,
        vec![donor_body(c, 1, json!("B+"), Value::Null)],
    )
    .await;
    let s = agrees(&station, &held, date(2026, 5, 11), "a donor merged").await;
    assert_eq!((s.year.donors, s.year.residence_known), (2, 1));
    let march = agrees(&station, &held, date(2026, 3, 2), "a donor merged").await;
    assert_eq!((march.today.donors, march.today.repeat_donors), (1, 1));
    let groups: Vec<(&str, u32)> = s
        .year
        .by_abo_rh
        .iter()
        .map(|g| (g.group.as_str(), g.donations))
        .collect();
    assert_eq!(groups, [("A+", 1), ("B+", 1), ("O-", 1)]);

    // b's group typed again, the town renamed, a screening corrected onto another day
    // with another decision.
    let (s1, s2) = (Uuid::now_v7(), Uuid::now_v7());
    push(
        &station,
        &mut held,
        vec![
            donor_body(b, 2, json!("O+"), json!(false)),
            drive_body(town, "丙乡"),
            (
                EntityKind::Screening,
                s1,
                with(
                    &screening,
                    json!({"id": s1, "recorded_at": "2026-05-10T01:00:00Z", "supersedes": null}),
                ),
            ),
        ],
    )
    .await;
    push(
        &station,
        &mut held,
        vec![(
            EntityKind::Screening,
            s2,
            with(
                &screening,
                json!({"id": s2, "recorded_at": "2026-05-11T01:00:00Z", "supersedes": s1,
                       "decision": {"kind": "defer", "code": "HBSAG_POSITIVE", "until": null}}),
            ),
        )],
    )
    .await;
    let s = agrees(&station, &held, date(2026, 5, 11), "a screening corrected").await;
    assert_eq!((s.today.screenings, s.today.permanent_exclusions), (1, 1));
    let before = agrees(&station, &held, date(2026, 5, 10), "a screening corrected").await;
    assert_eq!(before.today.screenings, 0);

    // The correction becomes unreadable: it counts nowhere, and what it corrected
    // counts again.
    push(
        &station,
        &mut held,
        vec![(EntityKind::Donation, z2, "{\"broken\": true}".into())],
    )
    .await;
    let s = agrees(
        &station,
        &held,
        date(2026, 5, 10),
        "an unreadable correction",
    )
    .await;
    assert_eq!(s.unreadable, 1);
    assert_eq!(s.today.donations, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrections_move_their_contribution_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    corrections_move_their_contribution(SqliteStorage::open(&dir.path().join("s.db")).unwrap())
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrections_move_their_contribution_postgres() {
    let Some(url) = common::pg_database().await else {
        return;
    };
    corrections_move_their_contribution(PostgresStorage::connect(&url).await.unwrap()).await;
}

/// A small deterministic generator (xorshift), so a failing sequence can be replayed.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.roll(xs.len())]
    }
}

/// Random pushes of everything that moves a figure (new and re-sent donations, later
/// bodies with another day, site, donor or outcome, corrections before and after what
/// they correct, donors merged and split, groups and residences changed, drives renamed,
/// screenings and their corrections, unreadable bodies): after every push the per-day
/// sums equal the full read.
async fn random_pushes_keep_the_sums<B: Backend>(station: B, seed: u64, pushes: usize) {
    let (drive, donor, screening, donation) = templates();
    let mut held = Held::default();
    let mut dice = Dice(seed);
    let drives: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let donors: Vec<Uuid> = (0..6).map(|_| Uuid::now_v7()).collect();
    let mut donations: Vec<Uuid> = Vec::new();
    let mut screenings: Vec<Uuid> = Vec::new();
    // Around a new year and in May, some past midnight in China.
    let times = [
        "2025-12-31T03:00:00Z",
        "2025-12-31T17:00:00Z",
        "2026-01-01T02:00:00Z",
        "2026-01-02T01:00:00Z",
        "2026-03-02T02:00:00Z",
        "2026-05-10T02:00:00Z",
        "2026-05-10T02:00:00Z",
        "2026-05-10T16:30:00Z",
        "2026-05-11T04:00:00Z",
    ];
    let groups = [json!("A+"), json!("O-"), json!("B+"), Value::Null];
    let rural = [json!(true), json!(false), Value::Null];
    let outcomes = ["complete", "complete", "partial", "aborted", "in_progress"];
    let decisions = [
        json!({"kind": "accept"}),
        json!({"kind": "defer", "code": "HBSAG_POSITIVE", "until": null}),
        json!({"kind": "defer", "code": "HB_LOW", "until": null}),
    ];
    for step in 0..pushes {
        let mut batch: Batch = Vec::new();
        for _ in 0..1 + dice.roll(4) {
            match dice.roll(10) {
                0 => {
                    let id = *dice.pick(&drives);
                    let site = *dice.pick(&["甲村", "乙镇"]);
                    let body = with(&drive, json!({"id": id, "site_name": site}));
                    batch.push((EntityKind::Drive, id, body));
                }
                1 | 2 => {
                    let id = *dice.pick(&donors);
                    let number = format!("E{:08}", dice.roll(4));
                    let body = with(
                        &donor,
                        json!({"id": id, "document": {"kind": "passport", "number": number},
                               "abo_rh": dice.pick(&groups), "rural": dice.pick(&rural)}),
                    );
                    batch.push((EntityKind::Donor, id, body));
                }
                3..=6 => {
                    // A new donation, a later body of one held, or a correction of one
                    // held or still to come.
                    let id = match (dice.roll(3), donations.is_empty()) {
                        (0, false) => *dice.pick(&donations),
                        _ => Uuid::now_v7(),
                    };
                    let supersedes = match dice.roll(4) {
                        0 if !donations.is_empty() => json!(dice.pick(&donations)),
                        1 => {
                            let ahead = Uuid::now_v7();
                            donations.push(ahead);
                            json!(ahead)
                        }
                        _ => Value::Null,
                    };
                    let body = with(
                        &donation,
                        json!({"id": id, "donor_id": dice.pick(&donors), "drive_id": dice.pick(&drives),
                               "started_at": dice.pick(&times), "outcome": dice.pick(&outcomes),
                               "collected_volume_ml": 100 * (1 + dice.roll(4)), "supersedes": supersedes}),
                    );
                    if !donations.contains(&id) {
                        donations.push(id);
                    }
                    batch.push((EntityKind::Donation, id, body));
                }
                7 | 8 => {
                    let id = match (dice.roll(3), screenings.is_empty()) {
                        (0, false) => *dice.pick(&screenings),
                        _ => Uuid::now_v7(),
                    };
                    let supersedes = match dice.roll(3) {
                        0 if !screenings.is_empty() => json!(dice.pick(&screenings)),
                        _ => Value::Null,
                    };
                    let body = with(
                        &screening,
                        json!({"id": id, "recorded_at": dice.pick(&times),
                               "decision": dice.pick(&decisions), "supersedes": supersedes}),
                    );
                    if !screenings.contains(&id) {
                        screenings.push(id);
                    }
                    batch.push((EntityKind::Screening, id, body));
                }
                _ => {
                    // An unreadable latest body (a later readable one may mend it).
                    let (kind, id) = match dice.roll(3) {
                        0 if !donations.is_empty() => {
                            (EntityKind::Donation, *dice.pick(&donations))
                        }
                        1 if !screenings.is_empty() => {
                            (EntityKind::Screening, *dice.pick(&screenings))
                        }
                        _ => (EntityKind::Donor, *dice.pick(&donors)),
                    };
                    batch.push((kind, id, "{\"broken\": true}".into()));
                }
            }
        }
        // A record named twice in a push keeps its last body, as `Changes` does.
        let mut last: BTreeMap<(EntityKind, Uuid), usize> = BTreeMap::new();
        for (i, (kind, id, _)) in batch.iter().enumerate() {
            last.insert((*kind, *id), i);
        }
        let batch: Batch = batch
            .into_iter()
            .enumerate()
            .filter(|(i, (kind, id, _))| last.get(&(*kind, *id)) == Some(i))
            .map(|(_, e)| e)
            .collect();
        push(&station, &mut held, batch).await;
        agrees(
            &station,
            &held,
            date(2026, 5, 10),
            &format!("push {step} (seed {seed})"),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_pushes_keep_the_sums_sqlite() {
    for seed in [1, 7, 42] {
        let dir = tempfile::tempdir().unwrap();
        let station = SqliteStorage::open(&dir.path().join("s.db")).unwrap();
        random_pushes_keep_the_sums(station, seed, 60).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_pushes_keep_the_sums_postgres() {
    let Some(url) = common::pg_database().await else {
        return;
    };
    random_pushes_keep_the_sums(PostgresStorage::connect(&url).await.unwrap(), 7, 60).await;
}

/// Takes a station back to before migration 0009: the tally's rows (0008) held, no
/// per-day sums.
async fn before_0009<B: Backend>(station: &B) {
    station
        .transact(Mode::Write, |tx| {
            Box::pin(async move {
                tx.batch(
                    "DROP TABLE stat_day_drive; DROP TABLE stat_day_group;
                     DROP TABLE stat_day_screening; DROP TABLE stat_day_people;
                     DELETE FROM station_migration WHERE version = 9;",
                )
                .await
            })
        })
        .await
        .unwrap();
}

/// Records pushed before migration 0009: applying it fills the per-day sums from the
/// tally, and they give the full read's figures.
async fn the_pushed_records<B: Backend>(station: &B) -> Held {
    let mut held = Held::default();
    let sources = known_sources();
    for (kind, bodies) in [
        (EntityKind::Drive, &sources.drives),
        (EntityKind::Donor, &sources.donors),
        (EntityKind::Screening, &sources.screenings),
        (EntityKind::Donation, &sources.donations),
    ] {
        let batch = bodies.iter().map(|b| (kind, id_of(b), b.clone())).collect();
        push(station, &mut held, batch).await;
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0009_fills_the_sums_from_the_tally_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let held = {
        let station = SqliteStorage::open(&path).unwrap();
        let held = the_pushed_records(&station).await;
        before_0009(&station).await;
        held
    };
    let station = SqliteStorage::open(&path).unwrap();
    let s = agrees(&station, &held, date(2026, 5, 10), "migration 0009").await;
    assert_eq!((s.today.donors, s.today.repeat_donors), (3, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0009_fills_the_sums_from_the_tally_postgres() {
    let Some(url) = common::pg_database().await else {
        return;
    };
    let held = {
        let station = PostgresStorage::connect(&url).await.unwrap();
        let held = the_pushed_records(&station).await;
        before_0009(&station).await;
        held
    };
    let station = PostgresStorage::connect(&url).await.unwrap();
    let s = agrees(&station, &held, date(2026, 5, 10), "migration 0009").await;
    assert_eq!((s.today.donors, s.today.repeat_donors), (3, 1));
}

/// Pushes from many devices at once, all about one person (one document on many donor
/// records), with corrections in other pushes than what they correct: once all have
/// committed, the sums equal the full read (each push's upkeep reads what the pushes
/// before it committed).
async fn concurrent_pushes_keep_the_sums<B: Backend>(station: B) {
    let (drive, donor, _, donation) = templates();
    let station = Arc::new(station);
    let site = Uuid::now_v7();
    let mut batches: Vec<Batch> = vec![vec![(
        EntityKind::Drive,
        site,
        with(&drive, json!({"id": site, "site_name": "甲村"})),
    )]];
    let times = [
        "2025-12-31T03:00:00Z",
        "2026-01-02T03:00:00Z",
        "2026-05-10T03:00:00Z",
        "2026-05-11T03:00:00Z",
    ];
    let mut given = Vec::new();
    for i in 0..16 {
        let (d, x) = (Uuid::now_v7(), Uuid::now_v7());
        let body = with(
            &donor,
            json!({"id": d, "document": {"kind": "passport", "number": "E00000001"},
                   "abo_rh": "A+", "rural": i % 3 == 0}),
        );
        let gift = with(
            &donation,
            json!({"id": x, "donor_id": d, "drive_id": site, "started_at": times[i % 4],
                   "outcome": "complete", "collected_volume_ml": 400, "supersedes": null}),
        );
        batches.push(vec![
            (EntityKind::Donor, d, body),
            (EntityKind::Donation, x, gift),
        ]);
        given.push((d, x));
    }
    for (i, (d, x)) in given.iter().enumerate().step_by(3) {
        let c = Uuid::now_v7();
        let correction = with(
            &donation,
            json!({"id": c, "donor_id": d, "drive_id": site, "started_at": times[(i + 1) % 4],
                   "outcome": "partial", "collected_volume_ml": 200, "supersedes": x}),
        );
        batches.push(vec![(EntityKind::Donation, c, correction)]);
    }
    let tasks: Vec<_> = batches
        .iter()
        .map(|b| {
            let (station, b) = (station.clone(), Arc::new(b.clone()));
            tokio::spawn(async move { keep(station.as_ref(), b).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let mut held = Held::default();
    for (kind, id, body) in batches.into_iter().flatten() {
        held.kind(kind).insert(id, body);
    }
    let s = agrees(station.as_ref(), &held, date(2026, 5, 11), "pushes at once").await;
    assert_eq!(s.year.donors, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_keep_the_sums_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_pushes_keep_the_sums(SqliteStorage::open(&dir.path().join("s.db")).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_keep_the_sums_postgres() {
    let Some(url) = common::pg_database().await else {
        return;
    };
    concurrent_pushes_keep_the_sums(PostgresStorage::connect(&url).await.unwrap()).await;
}
