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

/// Tablet → hub → station: each tablet's entries reach the station under its own id and
/// seqs, exactly once however often the hub relays; records of another vehicle reach the
/// bus's tablets through the hub.
async fn relayed_exactly_once(backend: Backend) {
    let Some(station) = start(backend, None).await else {
        return;
    };
    let (hub, relay) = common::linked_hub(&station, "BUS-07-HUB", None).await;
    let a = enroll(&hub, &hub.url(), "TAB-A").await;
    let b = enroll(&hub, &hub.url(), "TAB-B").await;
    collect_donations(&a, 2);
    a.replicator(&hub.url()).sync_once().await.unwrap();
    b.replicator(&hub.url()).sync_once().await.unwrap();
    let round = relay.round().await.unwrap();
    assert_eq!(
        round.registered, 2,
        "both tablets registered through the hub"
    );
    assert_eq!(round.relayed, a.last_seq() + b.last_seq());
    common::assert_station_holds_exactly(&station, &a).await;
    common::assert_station_holds_exactly(&station, &b).await;
    let devices = station.storage.devices().await.unwrap();
    let hub_id = hub.storage.station_id().await.unwrap();
    assert!(
        devices
            .iter()
            .filter(|d| d.device_id == a.id || d.device_id == b.id)
            .all(|d| d.via_hub == Some(hub_id)),
        "the station knows both tablets as relayed by the hub"
    );
    // Again, and after the hub lost its notes of what it relayed (killed before it
    // wrote them): the station stores nothing twice.
    assert_eq!(relay.round().await.unwrap().relayed, 0);
    forget_relayed(&hub, a.id);
    assert_eq!(relay.round().await.unwrap().relayed, 0, "re-sent, none new");
    common::assert_station_holds_exactly(&station, &a).await;
    // A vehicle that syncs with the station directly: its donations reach tablet B on
    // the bus through the hub.
    let c = enroll(&station, &station.url(), "BUS-02").await;
    collect_donations(&c, 3);
    c.replicator(&station.url()).sync_once().await.unwrap();
    assert!(relay.round().await.unwrap().imported >= 3);
    b.replicator(&hub.url()).sync_once().await.unwrap();
    assert_eq!(
        b.donation_count(),
        2 + 3,
        "B holds A's donations and BUS-02's"
    );
}

/// What a hub killed between a relay and its note of it has: the station's answer was
/// never written down.
fn forget_relayed(hub: &TestStation, tablet: uuid::Uuid) {
    let conn = rusqlite::Connection::open(hub.config.data_dir.join("station.db")).unwrap();
    conn.execute(
        "UPDATE hub_relay SET relayed_seq = 0 WHERE device_id = ?1",
        [tablet.to_string()],
    )
    .unwrap();
}

/// A hub the station revoked (stolen, or its disk lost) relays nothing more; what its
/// tablets pushed to it stays there, waiting, and nothing the station held changes.
async fn a_revoked_hub_relays_nothing(backend: Backend) {
    let Some(station) = start(backend, None).await else {
        return;
    };
    let (hub, relay) = common::linked_hub(&station, "BUS-07-HUB", None).await;
    let a = enroll(&hub, &hub.url(), "TAB-A").await;
    collect_donations(&a, 1);
    a.replicator(&hub.url()).sync_once().await.unwrap();
    relay.round().await.unwrap();
    collect_donations(&a, 1);
    a.replicator(&hub.url()).sync_once().await.unwrap();
    let held_before = station.storage.entries(a.id).await.unwrap().len();
    station
        .storage
        .revoke_device("BUS-07-HUB", Utc::now())
        .await
        .unwrap()
        .unwrap();
    let err = relay.round().await.unwrap_err().to_string();
    assert!(err.contains("401") || err.contains("403"), "{err}");
    assert_eq!(
        station.storage.entries(a.id).await.unwrap().len(),
        held_before
    );
    let waiting = hub.storage.hub_tablets().await.unwrap()[0].waiting();
    assert!(
        waiting > 0,
        "the tablet's new entries still wait on the hub"
    );
}

both_backends! {
    through_a_hub_each_entry_reaches_the_station_once => super::relayed_exactly_once;
    a_revoked_hubs_relay_is_refused_and_nothing_is_lost => super::a_revoked_hub_relays_nothing;
}

/// The station leases a hub one lease size (500) before any tablet is registered; the
/// hub sub-leases it in blocks of the reserve (200), so each tablet enrolled offline gets
/// numbers instead of the first taking the whole pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tablet_of_an_offline_hub_gets_numbers_from_one_lease() {
    let (hub, link) = offline_hub().await;
    station_leased(&hub, &link, 1, 500).await;
    let mut ranges = Vec::new();
    for name in ["TAB-A", "TAB-B", "TAB-C"] {
        let t = enroll(&hub, &hub.url(), name).await;
        let usage = t.store.lock().unwrap().din_usage().unwrap();
        assert_eq!(usage.len(), 1, "{name} was leased numbers");
        ranges.push(usage[0].record.range.clone());
    }
    let sizes: Vec<u32> = ranges.iter().map(|r| r.len()).collect();
    assert_eq!(
        sizes,
        [200, 200, 100],
        "blocks of the reserve, the last what is left"
    );
    let page = enroll(&hub, &hub.url(), "TAB-D")
        .await
        .client(&hub.url())
        .pull(0, 10, Some(0))
        .await
        .unwrap();
    assert_eq!(
        page.lease_refused.map(|m| m.code),
        Some("din_lease.hub_empty".to_owned()),
        "a fourth tablet is told the hub's pool is empty until the station tops it up"
    );
}
