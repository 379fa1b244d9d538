//! What one device can take and what one request costs (docs/security.md "What one
//! device can take"): DIN lease caps, leases counted from the lease table, a refused
//! lease that never fails the pull, pull pages bounded in bytes, and the statistics
//! tally, which must equal the full read. Each on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, Utc};
use common::{Backend, Device, enroll, start, start_with};
use lifebridge_protocol::records::RemoteKind;
use lifebridge_station::config::DinConfig;
use lifebridge_station::statistics::compute;

fn small_leases(max_outstanding: u32, max_per_day: u32) -> DinConfig {
    DinConfig {
        facility: "W1234".into(),
        reserve: 30,
        lease_size: 25,
        start_sequence: 100,
        max_outstanding,
        max_per_day,
    }
}

/// The versions of the questionnaires among `records`, in order.
fn questionnaires(records: &[lifebridge_protocol::records::RemoteRecord]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.kind == RemoteKind::ReferenceDocument)
        .filter_map(|r| {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            (body["kind"] == "questionnaire").then(|| body["version"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// Syncs with the real replicator (which must succeed) and returns the lease refusal
/// its status keeps, if any.
async fn sync_for_refusal(device: &Device, url: &str) -> Option<String> {
    let replicator = device.replicator(url);
    let status = replicator.status();
    replicator.sync_once().await.unwrap();
    status
        .borrow()
        .lease_refused
        .as_ref()
        .map(|m| m.code.clone())
}

fn leased(device: &Device) -> u64 {
    device.store.lock().unwrap().unused_leased_dins().unwrap()
}

/// Feed records another device can pull: a reference document each.
async fn publish(ts: &common::TestStation, n: usize, size: usize) -> Vec<String> {
    let mut versions = Vec::new();
    for i in 0..n {
        let version = format!("v{i:03}");
        let doc = serde_json::json!({"text": "题".repeat(size / 3), "i": i});
        assert!(
            ts.storage
                .publish_reference("questionnaire", &version, &doc, Utc::now())
                .await
                .unwrap()
        );
        versions.push(version);
    }
    versions
}

async fn a_device_over_its_caps_is_refused_a_lease_and_still_gets_its_records(backend: Backend) {
    // At most 40 outstanding: the first lease (two blocks wanted) is trimmed to one.
    let Some(ts) = start(backend, Some(small_leases(40, 1000))).await else {
        return;
    };
    let url = ts.url();
    let bus = enroll(&ts, &url, "BUS-CAP").await;
    assert_eq!(leased(&bus), 25, "trimmed to the cap in whole blocks");
    publish(&ts, 3, 300).await;
    // Below the reserve (25 < 30), but one more block would pass the cap.
    let page = bus.client(&url).pull(0, 2000, Some(25)).await.unwrap();
    let why = page.lease_refused.expect("the refusal is told");
    assert_eq!(why.code, "din_lease.outstanding_cap");
    assert_eq!(why.params["outstanding"], "25".to_owned().into());
    assert_eq!(
        questionnaires(&page.records),
        ["v000", "v001", "v002"],
        "the records still came"
    );
    assert_eq!(ts.storage.counts().await.unwrap().din_leases, 1);
    // The real replicator: the sync succeeds and the status says why.
    assert_eq!(
        sync_for_refusal(&bus, &url).await.as_deref(),
        Some("din_lease.outstanding_cap")
    );

    // Per day: 50 a day; the device uses 30 of its 50 and is below the reserve again.
    let Some(ts) = start(backend, Some(small_leases(1000, 50))).await else {
        return;
    };
    let url = ts.url();
    let bus = enroll(&ts, &url, "BUS-DAY").await;
    assert_eq!(leased(&bus), 50);
    bus.seed(30);
    assert_eq!(
        sync_for_refusal(&bus, &url).await.as_deref(),
        Some("din_lease.daily_cap")
    );
    assert_eq!(leased(&bus), 20, "nothing more was leased");
    common::assert_station_holds_exactly(&ts, &bus).await;
}

async fn leases_in_flight_come_from_the_lease_table_not_the_device(backend: Backend) {
    let Some(ts) = start(backend, Some(small_leases(1000, 1000))).await else {
        return;
    };
    let url = ts.url();
    let bus = enroll(&ts, &url, "BUS-LIAR").await;
    assert_eq!(ts.storage.counts().await.unwrap().din_leases, 1);
    // A device that says it holds nothing and that it pulled everything (a cursor far
    // past the feed) gets no second lease: the station counts what it leased.
    let client = bus.client(&url);
    for after in [0, 1_000_000, u64::MAX / 2] {
        let page = client.pull(after, 10, Some(0)).await.unwrap();
        assert_eq!(page.lease_refused, None);
    }
    assert_eq!(ts.storage.counts().await.unwrap().din_leases, 1);
    // Once the numbers are seen used, it is leased more.
    bus.seed(25);
    bus.replicator(&url).sync_once().await.unwrap();
    assert_eq!(ts.storage.counts().await.unwrap().din_leases, 2);
    assert_eq!(leased(&bus), 25 + 25);
}

async fn exhausted_numbers_refuse_the_lease_not_the_pull(backend: Backend) {
    let din = DinConfig {
        start_sequence: 999_990,
        ..small_leases(1000, 1000)
    };
    let Some(ts) = start(backend, Some(din)).await else {
        return;
    };
    let url = ts.url();
    let bus = enroll(&ts, &url, "BUS-LATE").await;
    assert_eq!(leased(&bus), 0);
    publish(&ts, 2, 300).await;
    let page = bus.client(&url).pull(0, 2000, Some(0)).await.unwrap();
    assert_eq!(
        page.lease_refused.map(|m| m.code),
        Some("din_lease.exhausted".to_owned())
    );
    assert_eq!(questionnaires(&page.records), ["v000", "v001"]);
    assert_eq!(ts.storage.counts().await.unwrap().din_leases, 0);
}

async fn records_larger_than_a_page_arrive_over_several_pages(backend: Backend) {
    const BOUND: usize = 16 * 1024;
    let Some(ts) = start_with(backend, |c| c.max_pull_page_bytes = BOUND).await else {
        return;
    };
    let url = ts.url();
    let bus = enroll(&ts, &url, "BUS-PAGES").await;
    // 24 records of about 5 KiB (three to a page), one of 40 KiB (alone), 6 more.
    let mut expected = publish(&ts, 24, 5 * 1024).await;
    let doc = serde_json::json!({"text": "x".repeat(40 * 1024)});
    ts.storage
        .publish_reference("questionnaire", "big", &doc, Utc::now())
        .await
        .unwrap();
    expected.push("big".into());
    for i in 0..6 {
        let version = format!("w{i}");
        let doc = serde_json::json!({"text": "y".repeat(5 * 1024)});
        ts.storage
            .publish_reference("questionnaire", &version, &doc, Utc::now())
            .await
            .unwrap();
        expected.push(version);
    }
    let client = bus.client(&url);
    let mut after = 0;
    let mut got = Vec::new();
    let mut pages = 0;
    loop {
        let page = client.pull(after, 2000, None).await.unwrap();
        pages += 1;
        let bytes: usize = page
            .records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap().len())
            .sum();
        assert!(
            bytes <= BOUND || page.records.len() == 1,
            "a page of {} records holds {bytes} bytes",
            page.records.len()
        );
        got.extend(questionnaires(&page.records));
        assert!(page.cursor > after || !page.more);
        after = page.cursor;
        if !page.more {
            break;
        }
    }
    assert_eq!(got, expected, "every record once, in order");
    assert!(pages >= 10, "{pages} pages");

    // The real replicator pulls page after page: another bus's donations all arrive
    // although a page holds only a few.
    let other = enroll(&ts, &url, "BUS-FROM").await;
    common::collect_donations(&other, 12);
    other.replicator(&url).sync_once().await.unwrap();
    bus.replicator(&url).sync_once().await.unwrap();
    assert_eq!(bus.donation_count(), 12);
}

/// The tally the page reads equals the full read on the same data: donors registered
/// on two buses under one document, a corrected donation, several dates.
async fn the_tally_equals_the_full_read(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let a = enroll(&ts, &url, "BUS-A").await;
    let b = enroll(&ts, &url, "BUS-B").await;
    a.seed(6);
    b.seed(4); // the demo numbers donors per store: the same four people as on A
    common::collect_donations(&b, 3);
    {
        let mut store = a.store.lock().unwrap();
        let donation: uuid::Uuid = store
            .connection()
            .query_row("SELECT id FROM donation LIMIT 1", [], |r| {
                r.get::<_, String>(0)
            })
            .unwrap()
            .parse()
            .unwrap();
        let phlebotomist = store.staff_by_name("采血护士 张静").unwrap().unwrap().id;
        store
            .correct_donation(
                lifebridge_store::Actor::staff(phlebotomist),
                donation,
                lifebridge_store::records::DonationCorrection {
                    collected_volume_ml: Some(200),
                    outcome: Some(lifebridge_domain::entities::Outcome::Partial),
                    ..Default::default()
                },
                "scale misread",
            )
            .unwrap();
    }
    for d in [&a, &b, &a] {
        d.replicator(&url).sync_once().await.unwrap();
    }
    let sources = ts.storage.statistics_sources().await.unwrap();
    let today = lifebridge_domain::china_date(Utc::now());
    for date in [
        today,
        today + Duration::days(1),
        today - Duration::days(1),
        today + Duration::days(400),
    ] {
        let tally = ts.storage.statistics(date).await.unwrap();
        assert_eq!(tally, compute(&sources, date), "{date}");
    }
    let s = ts.storage.statistics(today).await.unwrap();
    assert_eq!(s.today.donations, 13);
    assert_eq!(s.today.donors, 9, "four people registered on both buses");
    assert_eq!(s.today.volume_ml, compute(&sources, today).today.volume_ml);
}

both_backends! {
    a_device_over_its_caps_is_refused_a_lease_and_still_gets_its_records => super::a_device_over_its_caps_is_refused_a_lease_and_still_gets_its_records;
    leases_in_flight_come_from_the_lease_table_not_the_device => super::leases_in_flight_come_from_the_lease_table_not_the_device;
    exhausted_numbers_refuse_the_lease_not_the_pull => super::exhausted_numbers_refuse_the_lease_not_the_pull;
    records_larger_than_a_page_arrive_over_several_pages => super::records_larger_than_a_page_arrive_over_several_pages;
    the_tally_equals_the_full_read => super::the_tally_equals_the_full_read;
}
