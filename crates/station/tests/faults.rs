//! Fault injection: several devices sync through a proxy that drops, delays and
//! duplicates; once the network heals, the station holds exactly the union of their
//! records, no duplicates, every device's sequence gap-free.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::Ordering;

use common::proxy::{self, Rng, seed_value};
use common::{Backend, assert_station_holds_exactly, enroll, start};

async fn randomized_runs_through_a_faulty_network(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let seed = seed_value();
    eprintln!("fault seed {seed} (replay with LIFEBRIDGE_FAULT_SEED={seed})");
    let proxy = proxy::start(ts.station.as_ref().unwrap().addr, seed, 25).await;
    let mut rng = Rng::new(seed ^ 0x9e37_79b9);
    let mut devices = Vec::new();
    for i in 0..4 {
        devices.push(enroll(&ts, &ts.url(), &format!("BUS-{i:02}")).await);
    }
    for round in 0..4 {
        for d in &devices {
            common::collect_donations(d, rng.below(4) as u32);
        }
        let mut tasks = Vec::new();
        for d in &devices {
            let r = d.replicator(&proxy.url());
            tasks.push(tokio::spawn(async move {
                for _ in 0..3 {
                    let _ = r.sync_once().await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        eprintln!("round {round} done");
    }
    let stats = &proxy.stats;
    eprintln!("faults: {}", stats.summary());
    assert!(
        stats.dropped_mid_response.load(Ordering::Relaxed) > 0,
        "the run injected no lost answers"
    );

    proxy.heal();
    for _ in 0..2 {
        for d in &devices {
            d.replicator(&proxy.url()).sync_once().await.unwrap();
        }
    }
    let mut donations = 0;
    for d in &devices {
        assert_station_holds_exactly(&ts, d).await;
        assert_eq!(d.store.lock().unwrap().pending_changes().unwrap(), 0);
        let own: i64 = d
            .store
            .lock()
            .unwrap()
            .connection()
            .query_row(
                "SELECT COUNT(*) FROM donation WHERE origin_device = ?1",
                [d.id.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        donations += own;
    }
    // Every device ends with every donation exactly once (its own and the others').
    for d in &devices {
        let all = d.donation_count();
        assert_eq!(all, donations, "device {} donations", d.name);
    }
    let counts = ts.storage.counts().await.unwrap();
    let total: u64 = devices.iter().map(|d| d.last_seq()).sum();
    assert_eq!(counts.change_entries, total, "no duplicates at the station");
}

/// The app may be killed at any point of a sync: whatever was committed stays
/// committed, and the next sync resumes without loss or duplication.
async fn a_replicator_killed_at_any_point_resumes_exactly(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let a = enroll(&ts, &url, "BUS-50").await;
    let b = enroll(&ts, &url, "BUS-51").await;
    common::collect_donations(&a, 12);
    common::collect_donations(&b, 12);
    b.replicator(&url).sync_once().await.unwrap();
    let mut rng = Rng::new(seed_value());
    for _ in 0..25 {
        for d in [&a, &b] {
            let r = d.replicator(&url);
            let task = tokio::spawn(async move { r.sync_once().await });
            tokio::time::sleep(std::time::Duration::from_micros(rng.below(20_000))).await;
            task.abort();
            let _ = task.await;
        }
    }
    a.replicator(&url).sync_once().await.unwrap();
    b.replicator(&url).sync_once().await.unwrap();
    assert_station_holds_exactly(&ts, &a).await;
    assert_station_holds_exactly(&ts, &b).await;
    for d in [&a, &b] {
        let n = d.donation_count();
        assert_eq!(n, 24, "{} holds every donation once", d.name);
    }
}

both_backends! {
    a_replicator_killed_at_any_point_resumes_exactly => super::a_replicator_killed_at_any_point_resumes_exactly;
    randomized_runs_through_a_faulty_network => super::randomized_runs_through_a_faulty_network;
}
