//! A bus hub (`lifebridge-station hub`): tablets enrolled with it see each other's
//! records with no station reachable, lease DINs from what the station leased the hub,
//! and (with the station's relay, tests/hub_relay.rs for the station's side) reach the
//! station exactly once.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::{Backend, TestStation, collect_donations, enroll, start};
use lifebridge_domain::din::DinRange;
use lifebridge_station::hub::store::Upstream;

/// A hub that enrolled with a station which is not reachable now (a village with no
/// internet): its link points at a closed port.
async fn offline_hub() -> (TestStation, Upstream) {
    let hub = start(Backend::Sqlite, None).await.unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let link = Upstream {
        url,
        cert_pem: None,
        device_id: hub.storage.station_id().await.unwrap(),
        name: "BUS-07-HUB".into(),
        token: "hub-token".into(),
        pull_cursor: 0,
        paused: false,
        enrolled_at: Utc::now().to_rfc3339(),
    };
    assert!(hub.storage.hub_set_upstream(link.clone()).await.unwrap());
    (hub, link)
}

/// What the station leased the hub (as its pull brought it), `first..=last` of A9999.
async fn station_leased(hub: &TestStation, link: &Upstream, first: u32, last: u32) {
    let lease = common::station_lease(link.device_id, first, last);
    let outcome = hub
        .storage
        .hub_import(vec![lease], 1, Utc::now())
        .await
        .unwrap();
    assert_eq!(outcome.leased, u64::from(last - first + 1));
    assert_eq!(
        outcome.appended, 0,
        "the hub's own lease is not for its tablets"
    );
}

/// Two tablets on one hub, no station: what one collects is on the other after a sync
/// with the hub, numbered from the hub's sub-lease of what the station leased it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tablets_on_an_offline_hub_see_each_others_records() {
    let (hub, link) = offline_hub().await;
    station_leased(&hub, &link, 1000, 2999).await;
    let a = enroll(&hub, &hub.url(), "TAB-A").await;
    let b = enroll(&hub, &hub.url(), "TAB-B").await;
    // Each tablet's lease came from the hub's pool, disjoint.
    let ranges: Vec<DinRange> = [&a, &b]
        .iter()
        .map(|t| {
            t.store.lock().unwrap().din_usage().unwrap()[0]
                .record
                .range
                .clone()
        })
        .collect();
    for r in &ranges {
        assert!(
            r.first() >= 1000 && r.last() <= 2999,
            "{r:?} inside the hub's lease"
        );
    }
    assert!(ranges[0].last() < ranges[1].first() || ranges[1].last() < ranges[0].first());
    collect_donations(&a, 2);
    a.replicator(&hub.url()).sync_once().await.unwrap();
    b.replicator(&hub.url()).sync_once().await.unwrap();
    assert_eq!(b.donation_count(), 2, "tablet B holds tablet A's donations");
    let donors = |t: &common::Device| -> i64 {
        t.store
            .lock()
            .unwrap()
            .connection()
            .query_row("SELECT COUNT(*) FROM donor", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(donors(&b), donors(&a), "and its donors");
    // The hub held everything; the station never answered.
    common::assert_station_holds_exactly(&hub, &a).await;
    let tablets = hub.storage.hub_tablets().await.unwrap();
    assert_eq!(tablets.len(), 2);
    assert!(tablets.iter().all(|t| !t.registered && t.relayed_seq == 0));
    assert_eq!(
        tablets.iter().map(|t| t.waiting()).sum::<u64>(),
        a.last_seq() + b.last_seq(),
        "everything waits to go upstream"
    );
}

/// A hub leases only what the station leased it: with nothing, a tablet is told why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_with_no_numbers_from_the_station_leases_none() {
    let (hub, _link) = offline_hub().await;
    let a = enroll(&hub, &hub.url(), "TAB-A").await;
    assert!(a.store.lock().unwrap().din_usage().unwrap().is_empty());
    let page = a.client(&hub.url()).pull(0, 100, Some(0)).await.unwrap();
    assert_eq!(
        page.lease_refused.map(|m| m.code),
        Some("din_lease.hub_empty".to_owned())
    );
}

/// The relay's round against a station that does not answer fails, and changes nothing
/// of what the hub holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_with_the_station_unreachable_changes_nothing() {
    let (hub, link) = offline_hub().await;
    station_leased(&hub, &link, 1, 999).await;
    let a = enroll(&hub, &hub.url(), "TAB-A").await;
    collect_donations(&a, 1);
    a.replicator(&hub.url()).sync_once().await.unwrap();
    let relay = lifebridge_station::hub::connect(hub.storage.clone(), None, &hub.config)
        .await
        .unwrap();
    let err = relay.round().await.unwrap_err();
    assert!(err.to_string().contains("cannot be reached"), "{err}");
    let tablets = hub.storage.hub_tablets().await.unwrap();
    assert_eq!(tablets[0].waiting(), a.last_seq());
    assert_eq!(
        hub.storage
            .hub_upstream()
            .await
            .unwrap()
            .unwrap()
            .pull_cursor,
        1
    );
}
