//! Live updates on a bus: a record committed on one tablet is in another tablet's store
//! within 2 s (the p99), moved only by the waker (the push) and the station's
//! event stream (the other tablet's pull): every replicator's periodic sync is 60 s.
#![allow(clippy::unwrap_used)]

#[path = "live/bus.rs"]
mod bus;

use std::time::{Duration, Instant};

use bus::{Bus, percentile, replicator_config};

const LIMIT: Duration = Duration::from_secs(2);
const PERIODIC: Duration = Duration::from_secs(60);

/// Until `tablet`'s replicator has synced once (enrolled and leased) and opened its stream.
async fn settled(tablet: &bus::Tablet) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while tablet.status.borrow().last_success.is_none() {
        assert!(Instant::now() < deadline, "{} never synced", tablet.name);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// 30 donors registered on `a`, each in `b`'s store within [`LIMIT`] (and in every tablet
/// of `also`); prints p50, p99 and the slowest, `over` naming the path.
async fn thirty_donors(a: &bus::Tablet, b: &bus::Tablet, also: &[&bus::Tablet], over: &str) {
    let mut to_b = Vec::new();
    for round in 0..30 {
        let since = Instant::now();
        let donor = a.register().await;
        let took = b.wait_for(donor, since, Duration::from_secs(10)).await;
        let took = took.unwrap_or_else(|| panic!("round {round}: the donor never reached B"));
        assert!(took < LIMIT, "round {round}: {took:?} from A to B {over}");
        // The other screens of the bus see it too.
        for t in also {
            assert!(
                t.wait_for(donor, since, LIMIT).await.is_some(),
                "round {round}: {}",
                t.name
            );
        }
        to_b.push(took);
    }
    println!(
        "tablet A -> tablet B {over}, 30 donors: p50 {:?}, p99 {:?}, max {:?}",
        percentile(&to_b, 50.0),
        percentile(&to_b, 99.0),
        percentile(&to_b, 100.0),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_donor_registered_on_one_tablet_is_on_the_other_within_two_seconds_30_times() {
    let bus = Bus::start().await;
    let a = bus.tablet("BUS-A", replicator_config(PERIODIC, true)).await;
    let b = bus.tablet("BUS-B", replicator_config(PERIODIC, true)).await;
    let c = bus.tablet("BUS-C", replicator_config(PERIODIC, true)).await;
    for t in [&a, &b, &c] {
        settled(t).await;
    }
    thirty_donors(&a, &b, &[&c], "over the station's events").await;
    for t in [a, b, c] {
        t.stop().await;
    }
}

/// The same on a bus hub with no station reachable: the tablets have only the hub.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_an_offline_hub_a_donor_is_on_the_other_tablet_within_two_seconds_30_times() {
    let hub = Bus::start_offline_hub().await;
    let a = hub.tablet("BUS-A", replicator_config(PERIODIC, true)).await;
    let b = hub.tablet("BUS-B", replicator_config(PERIODIC, true)).await;
    for t in [&a, &b] {
        settled(t).await;
    }
    thirty_donors(&a, &b, &[], "over an offline hub").await;
    for t in [a, b] {
        t.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_station_off_tablets_keep_working_say_since_when_and_catch_up() {
    let mut bus = Bus::start().await;
    let a = bus.tablet("BUS-A", replicator_config(PERIODIC, true)).await;
    let b = bus.tablet("BUS-B", replicator_config(PERIODIC, true)).await;
    for t in [&a, &b] {
        settled(t).await;
        assert_eq!(t.status.borrow().unreachable_since, None);
    }
    let off = chrono::Utc::now();
    bus.stop().await;
    // Nothing the crew does waits on the network.
    let started = Instant::now();
    let donor = a.register().await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "registering took {:?} with the station off",
        started.elapsed()
    );
    // The broken event stream tells both tablets, without waiting for their 60 s sync.
    let deadline = Instant::now() + Duration::from_secs(10);
    for t in [&a, &b] {
        loop {
            let since = t.status.borrow().unreachable_since;
            if let Some(since) = since {
                assert!(
                    since >= off,
                    "{}: unreachable since {since}, before {off}",
                    t.name
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} never said unreachable",
                t.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert!(!b.holds(donor));
    bus.restart().await;
    // Back: A's stream reconnects after its backoff, so do its pushes; B's stream opens
    // with a head past its cursor and B pulls.
    let since = Instant::now();
    a.wake.notify_one();
    assert!(
        b.wait_for(donor, since, Duration::from_secs(15))
            .await
            .is_some(),
        "B never caught up with what A registered while the station was off"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.status.borrow().unreachable_since.is_some()
        || b.status.borrow().unreachable_since.is_some()
    {
        assert!(
            Instant::now() < deadline,
            "still unreachable after the station came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for t in [a, b] {
        t.stop().await;
    }
    bus.stop().await;
}
