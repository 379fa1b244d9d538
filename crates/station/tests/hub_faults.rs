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
use common::bin::{admin, station_cmd};
use common::proxy::{self, Rng, seed_value};
use common::{
    Backend, Device, TestStation, assert_station_holds_exactly, collect_donations,
    enroll_with_code, linked_hub, new_code, start,
};
use lifebridge_station::config::DinConfig;
use lifebridge_station::hub::relay::Relay;

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
    let (hub, relay) = linked_hub(&station, "BUS-07-HUB", Some(bus_din())).await;
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
    let (old, relay) = linked_hub(&station, "BUS-07-HUB", Some(bus_din())).await;
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

    let (new, relay) = linked_hub(&station, "BUS-07-HUB-2", Some(bus_din())).await;
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

/// A loopback address free now: the station and the hub keep theirs across restarts,
/// since the proxies in front of them and the hub's link point at them.
fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// The binary on `data`, logging only errors (the faults make warnings by the hundred).
fn quiet_cmd(data: &Path, db: Option<&str>) -> Command {
    let mut cmd = station_cmd(data, db);
    cmd.env("RUST_LOG", "error");
    cmd
}

/// An admin command's one line of output (an enrollment code).
fn admin_line(data: &Path, db: Option<&str>, args: &[&str]) -> String {
    admin(data, db, args).trim().to_owned()
}

/// A `lifebridge-station` process (`serve` or `hub`) on a fixed address, SIGKILLed and
/// started again on the same address and data.
struct Process {
    name: &'static str,
    child: Child,
    restart: Box<dyn Fn() -> Command + Send>,
}

impl Process {
    /// Starts with `first` (a hub's first start enrolls it); when that does not come to
    /// listen, tries again with `restart`. A hub enrolls before it binds its address, so a
    /// first start that lost its address to another process has enrolled already, and
    /// repeating `--upstream --code` would be refused for good.
    fn start(
        name: &'static str,
        mut first: Command,
        restart: Box<dyn Fn() -> Command + Send>,
    ) -> Self {
        let child = listening_once(&mut first).unwrap_or_else(|| listening(restart()));
        Process {
            name,
            child,
            restart,
        }
    }

    fn kill_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        eprintln!("SIGKILLed the {}; starting it again", self.name);
        self.child = listening((self.restart)());
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `cmd` and waits for its "listening on" line; again while the address is still
/// held by the process just killed.
fn listening(mut cmd: Command) -> Child {
    for _ in 0..50 {
        if let Some(child) = listening_once(&mut cmd) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{cmd:?} did not start listening");
}

/// One try of [`listening`]: the child once it says "listening on", else `None` (killed).
fn listening_once(cmd: &mut Command) -> Option<Child> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
    if line.starts_with("listening on ") {
        return Some(child);
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Takes DIN numbers from the hub until it has some: the hub's first round with the
/// station brings it its pool.
async fn wait_for_lease(tablet: &Device, url: &str) {
    let until = Instant::now() + Duration::from_secs(30);
    while !has_lease(tablet) {
        assert!(Instant::now() < until, "{} got no DINs", tablet.name);
        tokio::time::sleep(Duration::from_millis(300)).await;
        tablet.take_lease(url).await;
    }
}

/// The DINs the station recorded as used, with the device that used each.
async fn station_din_used(data: &Path, db: Option<&str>) -> Vec<(i64, String)> {
    const Q: &str = "SELECT sequence, device_id FROM din_used ORDER BY sequence";
    match db {
        None => {
            let conn = rusqlite::Connection::open(data.join("station.db")).unwrap();
            let mut stmt = conn.prepare(Q).unwrap();
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        }
        Some(url) => {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .query(Q, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect()
        }
    }
}

/// Tablets → fault proxy → hub process → fault proxy → station process, six tablets
/// collecting throughout while both proxies cut, reset, delay, duplicate and truncate,
/// and the hub and the station are each SIGKILLed and restarted. Once the faults stop:
/// the station holds exactly every tablet's change log, every tablet every other
/// tablet's donations, and no DIN was issued twice.
async fn both_hops_faulty_with_kills(backend: Backend) {
    let db = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => match common::pg_database().await {
            Some(url) => Some(url),
            None => return,
        },
    };
    let seed = seed_value();
    eprintln!("fault seed {seed} (replay with LIFEBRIDGE_FAULT_SEED={seed})");
    let mut rng = Rng::new(seed ^ 0x5bd1_e995);
    let station_dir = tempfile::tempdir().unwrap();
    let hub_dir = tempfile::tempdir().unwrap();
    let (station_addr, hub_addr) = (free_addr(), free_addr());

    let serve = {
        let (dir, db) = (station_dir.path().to_owned(), db.clone());
        move || {
            let mut c = quiet_cmd(&dir, db.as_deref());
            c.args(["serve", "--din-facility", "A9999", "--listen"])
                .arg(station_addr.to_string());
            c
        }
    };
    let mut station = Process::start("station", serve(), Box::new(serve));
    // Hub → station, and tablets → hub; calm while the bus is set up.
    let up = proxy::start(station_addr, seed, 25).await;
    let down = proxy::start(hub_addr, seed.rotate_left(17), 15).await;
    up.heal();
    down.heal();

    let code = admin_line(
        station_dir.path(),
        db.as_deref(),
        &["device", "enroll", "--name", "BUS-HUB", "--hub"],
    );
    let hub_config = hub_dir.path().join("hub.toml");
    std::fs::write(
        &hub_config,
        "[din]\nfacility = \"A9999\"\nreserve = 50\nlease_size = 100\n",
    )
    .unwrap();
    let hub_cmd = {
        let (config, dir) = (hub_config.clone(), hub_dir.path().join("data"));
        move || {
            let mut c = quiet_cmd(&dir, None);
            c.arg("--config")
                .arg(&config)
                .args(["hub", "--listen"])
                .arg(hub_addr.to_string());
            c
        }
    };
    let mut first = hub_cmd();
    first
        .args(["--name", "BUS-HUB", "--code", &code, "--upstream"])
        .arg(up.url());
    let mut hub = Process::start("hub", first, Box::new(hub_cmd));
    let hub_url = format!("http://{hub_addr}");

    let mut tablets = Vec::new();
    for i in 0..6 {
        let name = format!("TAB-{i}");
        let code = admin_line(
            &hub_dir.path().join("data"),
            None,
            &["device", "enroll", "--name", &name],
        );
        let t = enroll_with_code(&hub_url, &code, &name).await;
        wait_for_lease(&t, &hub_url).await;
        tablets.push(t);
    }

    up.healed.store(false, Ordering::SeqCst);
    down.healed.store(false, Ordering::SeqCst);
    let started = Instant::now();
    for round in 0..10 {
        for t in &tablets {
            collect_donations(t, rng.below(3) as u32);
        }
        let syncs: Vec<_> = tablets
            .iter()
            .map(|t| {
                let r = t.replicator(&down.url());
                tokio::spawn(async move {
                    for _ in 0..2 {
                        let _ = r.sync_once().await;
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(rng.below(400))).await;
        // Each is killed at least once, at a random moment of the tablets' syncs and
        // the hub's rounds.
        if round == 1 || (round > 2 && rng.below(3) == 0) {
            hub.kill_and_restart();
        }
        if round == 3 || (round > 3 && rng.below(3) == 0) {
            station.kill_and_restart();
        }
        for s in syncs {
            s.await.unwrap();
        }
        // The hub's rounds (every 2 s, after a failure with a backoff) meet the faults
        // upstream meanwhile.
        tokio::time::sleep(Duration::from_millis(500 + rng.below(1500))).await;
        eprintln!("round {round} done at {:?}", started.elapsed());
    }
    for (hop, p) in [("tablets→hub", &down), ("hub→station", &up)] {
        let s = &p.stats;
        eprintln!("{hop}: {}", s.summary());
        assert!(
            s.dropped_mid_response.load(Ordering::Relaxed) > 0,
            "{hop}: the run injected no lost answers"
        );
    }

    // The faults stop; the tablets sync and the hub is woken until everything is where
    // it belongs (or the deadline says it never will be).
    up.heal();
    down.heal();
    let storage = lifebridge_station::open_storage(&lifebridge_station::config::Config {
        data_dir: station_dir.path().to_owned(),
        database_url: db.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let wake = {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    };
    let until = Instant::now() + Duration::from_secs(45);
    loop {
        for t in &tablets {
            let _ = t.replicator(&down.url()).sync_once().await;
        }
        let _ = wake
            .post(format!("{hub_url}/hub/api/link"))
            .json(&serde_json::json!({ "on": true }))
            .send()
            .await;
        let mut done = true;
        for t in &tablets {
            done &= storage.entries(t.id).await.unwrap().len() as u64 == t.last_seq();
        }
        let all: i64 = tablets.iter().map(own_donations).sum();
        done &= tablets.iter().all(|t| t.donation_count() == all);
        if done || Instant::now() > until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("converged at {:?}", started.elapsed());

    let ts = TestStation {
        station: None,
        storage,
        config: Default::default(),
        dir: tempfile::tempdir().unwrap(),
    };
    for t in &tablets {
        assert_station_holds_exactly(&ts, t).await;
        assert_eq!(t.store.lock().unwrap().pending_changes().unwrap(), 0);
    }
    let counts = ts.storage.counts().await.unwrap();
    let total: u64 = tablets.iter().map(Device::last_seq).sum();
    assert_eq!(counts.change_entries, total, "no duplicates at the station");
    let refs: Vec<&Device> = tablets.iter().collect();
    assert_each_holds_all(&refs);
    assert_dins_distinct(&refs);
    // The station recorded each tablet's DINs as that tablet's, each once.
    let used = station_din_used(station_dir.path(), db.as_deref()).await;
    let donations: i64 = tablets.iter().map(own_donations).sum();
    assert_eq!(
        used.len() as i64,
        donations,
        "one din_used row per donation"
    );
    for t in &tablets {
        let mine = used.iter().filter(|(_, d)| *d == t.id.to_string()).count();
        assert_eq!(mine, own_dins(t).len(), "{}'s DINs at the station", t.name);
    }
    drop(hub);
    drop(station);
}

both_backends! {
    a_tablet_synced_at_the_yard_then_through_the_hub_is_stored_once => super::synced_at_the_yard_then_through_the_hub;
    a_hub_whose_disk_is_lost_is_replaced_and_nothing_is_lost => super::a_hub_whose_disk_is_lost_is_replaced;
    both_hops_faulty_with_the_hub_and_the_station_killed => super::both_hops_faulty_with_kills;
}
