//! The statistics figures from records as devices push them: real bodies from a demo
//! drive, edited into a day with known answers (China dates, corrections, aborted and
//! partial collections, deferrals, repeat and rural donors).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use chrono::NaiveDate;
use lifebridge_domain::entities::EntityKind;
use lifebridge_station::db::Storage;
use lifebridge_station::params;
use lifebridge_station::statistics::StatisticsSources;
use lifebridge_station::statistics::compute;
use lifebridge_station::statistics::tally;
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
