//! A bus hub when things fail (issue 10, docs/hub.md "When things fail"), end to end with
//! real encrypted tablet stores, real replicators and real hubs: a tablet that syncs at
//! the yard directly and later through its hub, a hub whose disk is lost mid-drive and
//! is replaced, and both hops faulty at once with the hub and the station SIGKILLed
//! (the `lifebridge-station` binary for both). Both backends at the station.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::Utc;
use common::proxy::{self, Rng};
use common::{
    Backend, Device, TestStation, assert_station_holds_exactly, collect_donations,
    enroll_with_code, new_code, new_code_as, start,
};
use lifebridge_station::config::DinConfig;
use lifebridge_station::devices::DeviceKind;
use lifebridge_station::hub::relay::Relay;

/// A hub enrolled with `station` by a hub code, its own database SQLite (a bus's
/// laptop), as `lifebridge-station hub --upstream --code` does on its first start.
async fn linked_hub(station: &TestStation, name: &str) -> (TestStation, Relay) {
    let hub = start(Backend::Sqlite, Some(bus_din())).await.unwrap();
    let code = new_code_as(&station.storage, DeviceKind::Hub, name).await;
    let enrollment = lifebridge_station::hub::Enrollment {
        url: station.url(),
        code,
        name: name.into(),
        cert_pem: None,
    };
    let relay =
        lifebridge_station::hub::connect(hub.storage.clone(), Some(enrollment), &hub.config)
            .await
            .unwrap();
    // The first round brings the hub its DIN lease from the station.
    relay.round().await.unwrap();
    (hub, relay)
}

/// The hub's own leasing to its tablets: blocks small enough that the 500 numbers the
/// station leases a new hub serve several tablets (with the station's 500-number blocks
/// the first tablet would take the hub's whole pool, and the station leases a hub more
/// only once it serves three tablets or its numbers are used).
fn bus_din() -> DinConfig {
    DinConfig {
        reserve: 50,
        lease_size: 100,
        ..common::test_din()
    }
}

/// A tablet enrolled with `hub` (a code from the hub's own data folder), holding DIN
/// numbers from it. The station leases a hub by the tablets it knows it serves, so a
/// hub's first lease may all go to its first tablet: the next relay round tops the hub
/// up for the second.
async fn hub_tablet(hub: &TestStation, relay: &Relay, name: &str) -> Device {
    let code = new_code(&hub.storage, name).await;
    let tablet = enroll_with_code(&hub.url(), &code, name).await;
    for _ in 0..3 {
        if !has_lease(&tablet) {
            relay.round().await.unwrap();
            tablet.take_lease(&hub.url()).await;
        }
    }
    assert!(has_lease(&tablet), "{name} got no DIN numbers from its hub");
    tablet
}

fn has_lease(d: &Device) -> bool {
    !d.store.lock().unwrap().din_usage().unwrap().is_empty()
}

/// Donations a tablet collected itself.
fn own_donations(d: &Device) -> i64 {
    d.store
        .lock()
        .unwrap()
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM donation WHERE origin_device = ?1",
            [d.id.to_string()],
            |r| r.get(0),
        )
        .unwrap()
}

/// The DINs a tablet issued.
fn own_dins(d: &Device) -> Vec<String> {
    let store = d.store.lock().unwrap();
    let mut stmt = store
        .connection()
        .prepare("SELECT din FROM donation WHERE origin_device = ?1")
        .unwrap();
    stmt.query_map([d.id.to_string()], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Every tablet holds every tablet's donations, each once.
fn assert_each_holds_all(tablets: &[&Device]) {
    let all: i64 = tablets.iter().map(|d| own_donations(d)).sum();
    for d in tablets {
        assert_eq!(
            d.donation_count(),
            all,
            "{} holds every donation once",
            d.name
        );
    }
}

/// No DIN issued twice across the bus.
fn assert_dins_distinct(tablets: &[&Device]) {
    let mut seen = HashSet::new();
    for d in tablets {
        for din in own_dins(d) {
            assert!(seen.insert(din.clone()), "DIN {din} issued twice");
        }
    }
}

/// A tablet enrolled with its hub goes to the yard, enrolls with the station and syncs
/// there directly; back on the bus it syncs with the hub, which relays the same entries
/// later: the station stores each once, nobody sees a conflict.
async fn synced_at_the_yard_then_through_the_hub(backend: Backend) {
    let Some(station) = start(backend, None).await else {
        return;
    };
    let (hub, relay) = linked_hub(&station, "BUS-07-HUB").await;
    let mut a = hub_tablet(&hub, &relay, "TAB-A").await;
    let b = hub_tablet(&hub, &relay, "TAB-B").await;
    collect_donations(&a, 2);
    a.replicator(&hub.url()).sync_once().await.unwrap();
    // The morning's records go up while the bus still has signal (the station learns
    // the tablet is the hub's, so the numbers the hub leased it are accepted from it).
    relay.round().await.unwrap();
    let relayed = a.last_seq();
    assert_station_holds_exactly(&station, &a).await;
    // The rest of the day has no signal: nothing more goes up.
    collect_donations(&a, 2);
    a.replicator(&hub.url()).sync_once().await.unwrap();
    let on_the_bus = a.last_seq();
    assert_eq!(
        station.storage.entries(a.id).await.unwrap().len() as u64,
        relayed
    );

    // At the yard: the station's code, the same store; two more donations are
    // collected in the yard before the sync.
    let hub_token = a.token.clone();
    let code = new_code(&station.storage, "TAB-A").await;
    a.token = a
        .client(&station.url())
        .enroll(&code, a.id, "TAB-A")
        .await
        .unwrap()
        .token;
    collect_donations(&a, 2);
    let report = a.replicator(&station.url()).sync_once().await.unwrap();
    assert_eq!(
        report.pushed,
        a.last_seq() - relayed,
        "what the station lacked went up, from where the hub had left it"
    );
    assert_station_holds_exactly(&station, &a).await;
    assert!(a.last_seq() > on_the_bus);

    // Back on the bus: the hub holds less than the tablet pushed to the station.
    a.token = hub_token;
    collect_donations(&a, 1);
    a.replicator(&hub.url()).sync_once().await.unwrap();
    // The hub's link comes back: the station already holds most of it; what it lacks
    // goes up, nothing twice.
    relay.round().await.unwrap();
    assert_station_holds_exactly(&station, &a).await;
    assert_station_holds_exactly(&station, &b).await;
    assert_eq!(relay.round().await.unwrap().relayed, 0);
    let counts = station.storage.counts().await.unwrap();
    assert_eq!(counts.change_entries, a.last_seq() + b.last_seq());
    // Neither the tablet nor the hub meets a conflict: both sync cleanly, A's donations
    // reach B once.
    a.replicator(&hub.url()).sync_once().await.unwrap();
    b.replicator(&hub.url()).sync_once().await.unwrap();
    assert_eq!(a.store.lock().unwrap().pending_changes().unwrap(), 0);
    assert_each_holds_all(&[&a, &b]);
    let tablets = hub.storage.hub_tablets().await.unwrap();
    assert!(
        tablets.iter().all(|t| t.last_error.is_none()),
        "{tablets:?}"
    );
}

/// The hub's disk is lost mid-drive, with entries it acknowledged to the tablets but
/// never relayed: the station revokes it, a new hub is enrolled, the tablets enroll with
/// it and push again everything it lacks; the station ends with every entry once.
async fn a_hub_whose_disk_is_lost_is_replaced(backend: Backend) {
    let Some(station) = start(backend, None).await else {
        return;
    };
    let (old, relay) = linked_hub(&station, "BUS-07-HUB").await;
    let mut a = hub_tablet(&old, &relay, "TAB-A").await;
    let mut b = hub_tablet(&old, &relay, "TAB-B").await;
    collect_donations(&a, 2);
    collect_donations(&b, 1);
    a.replicator(&old.url()).sync_once().await.unwrap();
    b.replicator(&old.url()).sync_once().await.unwrap();
    relay.round().await.unwrap();
    // More, acknowledged by the hub only; then its disk dies.
    collect_donations(&a, 2);
    collect_donations(&b, 2);
    a.replicator(&old.url()).sync_once().await.unwrap();
    b.replicator(&old.url()).sync_once().await.unwrap();
    assert!(station.storage.entries(a.id).await.unwrap().len() < a.last_seq() as usize);
    drop(relay);
    drop(old);
    station
        .storage
        .revoke_device("BUS-07-HUB", Utc::now())
        .await
        .unwrap()
        .unwrap();

    let (new, relay) = linked_hub(&station, "BUS-07-HUB-2").await;
    for t in [&mut a, &mut b] {
        // What the app does with a new code: the same store, enrolled anew.
        let code = new_code(&new.storage, &t.name).await;
        let client = lifebridge_sync::client::StationClient::new(
            &new.url(),
            lifebridge_sync::client::Trust::LoopbackHttp,
            Duration::from_secs(10),
        )
        .unwrap();
        t.token = lifebridge_sync::replicator::enroll(&t.store, &client, &code, &t.name)
            .await
            .unwrap();
    }
    // The drive goes on with the numbers the tablets still hold.
    collect_donations(&a, 1);
    for t in [&a, &b] {
        t.replicator(&new.url()).sync_once().await.unwrap();
        assert_station_holds_exactly(&new, t).await;
    }
    relay.round().await.unwrap();
    for t in [&a, &b] {
        assert_station_holds_exactly(&station, t).await;
        t.replicator(&new.url()).sync_once().await.unwrap();
        assert_eq!(t.store.lock().unwrap().pending_changes().unwrap(), 0);
    }
    let counts = station.storage.counts().await.unwrap();
    assert_eq!(counts.change_entries, a.last_seq() + b.last_seq());
    assert_each_holds_all(&[&a, &b]);
    assert_dins_distinct(&[&a, &b]);
}

both_backends! {
    a_tablet_synced_at_the_yard_then_through_the_hub_is_stored_once => super::synced_at_the_yard_then_through_the_hub;
    a_hub_whose_disk_is_lost_is_replaced_and_nothing_is_lost => super::a_hub_whose_disk_is_lost_is_replaced;
}
