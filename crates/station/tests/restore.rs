//! Backups restored: a station restored from a backup of its SQLite file, and a tablet
//! restored from an old copy of its store (docs/security.md).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{
    Backend, Device, TestStation, assert_station_holds_exactly, collect_donations, enroll, key,
    start_with, test_din,
};
use lifebridge_station::config::DinConfig;
use lifebridge_station::{open_storage, server};
use lifebridge_store::Store;
use lifebridge_sync::SyncError;

/// Small leases, so collecting a few donations makes the station lease more.
fn small_leases() -> DinConfig {
    DinConfig {
        reserve: 4,
        lease_size: 5,
        ..test_din()
    }
}

/// A consistent copy of a live SQLite database (what an administrator's backup is).
fn back_up(db: &Path, to: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("VACUUM INTO ?1", [to.to_str().unwrap()])
        .unwrap();
}

/// Stops the station, puts `backup` in place of its database and starts it again.
async fn restore_station(ts: TestStation, backup: &Path) -> TestStation {
    let TestStation {
        station,
        storage,
        config,
        dir,
    } = ts;
    station.unwrap().stop().await.unwrap();
    drop(storage);
    let db = config.data_dir.join("station.db");
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::copy(backup, &db).unwrap();
    let storage = open_storage(&config).await.unwrap();
    let station = server::start(config.clone(), storage.clone())
        .await
        .unwrap();
    TestStation {
        station: Some(station),
        storage,
        config,
        dir,
    }
}

async fn sync(d: &Device, ts: &TestStation) -> Result<(), SyncError> {
    d.replicator(&ts.url()).sync_once().await.map(drop)
}

/// Every DIN range the devices hold and the station's lease table: no number twice.
fn assert_no_number_leased_twice(ts: &TestStation, devices: &[&Device]) {
    let conn = rusqlite::Connection::open(ts.config.data_dir.join("station.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT facility, year, first_seq, last_seq, device_id FROM din_lease")
        .unwrap();
    let mut ranges: Vec<(String, i64, i64, i64, String)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for d in devices {
        for lease in d.store.lock().unwrap().held_leases(400).unwrap() {
            let r = &lease.range;
            let at_station = ranges.iter().any(|s| {
                (s.0.as_str(), s.1, s.2, s.3, s.4.as_str())
                    == (
                        r.facility().as_str(),
                        i64::from(r.year()),
                        i64::from(r.first()),
                        i64::from(r.last()),
                        d.id.to_string().as_str(),
                    )
            });
            assert!(
                at_station,
                "{}'s lease {}..={} is known to the station",
                d.name,
                r.first(),
                r.last()
            );
        }
    }
    ranges.sort();
    for pair in ranges.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            a.0 != b.0 || a.1 != b.1 || a.3 < b.2,
            "numbers leased twice: {a:?} and {b:?}"
        );
    }
}

async fn restored_station(backend: Backend) {
    let Some(ts) = start_with(backend, |c| c.din = Some(small_leases())).await else {
        return;
    };
    let a = enroll(&ts, &ts.url(), "BUS-A").await;
    let b = enroll(&ts, &ts.url(), "BUS-B").await;
    collect_donations(&a, 2);
    collect_donations(&b, 2);
    for _ in 0..2 {
        sync(&a, &ts).await.unwrap();
        sync(&b, &ts).await.unwrap();
    }
    let backup = ts.dir.path().join("backup.db");
    back_up(&ts.config.data_dir.join("station.db"), &backup);

    // After the backup: donations, a lease (A runs low), donations numbered from it.
    let leases_before = a.store.lock().unwrap().held_leases(400).unwrap().len();
    collect_donations(&a, 5);
    sync(&a, &ts).await.unwrap();
    collect_donations(&a, 4);
    collect_donations(&b, 2);
    for _ in 0..2 {
        sync(&a, &ts).await.unwrap();
        sync(&b, &ts).await.unwrap();
    }
    let leases_after = a.store.lock().unwrap().held_leases(400).unwrap();
    assert!(
        leases_after.len() > leases_before,
        "A was leased more numbers after the backup"
    );

    let ts = restore_station(ts, &backup).await;
    // The restored station lost A's lease and what both pushed after the backup.
    for _ in 0..2 {
        sync(&a, &ts).await.unwrap();
        sync(&b, &ts).await.unwrap();
    }
    // Both keep working: more donations, more leases, all from fresh numbers.
    collect_donations(&a, 4);
    collect_donations(&b, 5);
    for _ in 0..3 {
        sync(&a, &ts).await.unwrap();
        sync(&b, &ts).await.unwrap();
    }

    let total = 2 + 5 + 4 + 4 + 2 + 2 + 5;
    for d in [&a, &b] {
        assert_station_holds_exactly(&ts, d).await;
        assert_eq!(d.store.lock().unwrap().pending_changes().unwrap(), 0);
        assert_eq!(
            d.donation_count(),
            total,
            "{} holds every donation of the fleet",
            d.name
        );
    }
    assert_no_number_leased_twice(&ts, &[&a, &b]);
}

/// Replaces the device's open store by a copy of `from` (its files as they were).
fn restore_tablet(d: &Device, from: &Path) {
    let path = d.dir.path().join("device.db");
    let mut guard = d.store.lock().unwrap();
    let spare = tempfile::tempdir().unwrap();
    let placeholder = Store::create(&spare.path().join("spare.db"), &key(), "spare").unwrap();
    drop(std::mem::replace(&mut *guard, placeholder));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        let copy = format!("{}{suffix}", from.display());
        if Path::new(&copy).exists() {
            std::fs::copy(&copy, format!("{}{suffix}", path.display())).unwrap();
        }
    }
    *guard = Store::open(&path, &key()).unwrap();
}

/// Copies the device's store files while it is closed, then opens it again.
fn back_up_tablet(d: &Device, to: &Path) {
    let path = d.dir.path().join("device.db");
    let mut guard = d.store.lock().unwrap();
    let spare = tempfile::tempdir().unwrap();
    let placeholder = Store::create(&spare.path().join("spare.db"), &key(), "spare").unwrap();
    drop(std::mem::replace(&mut *guard, placeholder));
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        if Path::new(&file).exists() {
            std::fs::copy(&file, format!("{}{suffix}", to.display())).unwrap();
        }
    }
    *guard = Store::open(&path, &key()).unwrap();
}

fn refusal_code(result: Result<(), SyncError>) -> String {
    match result {
        Err(SyncError::Refused(entry)) => entry.reason.code,
        other => panic!("expected a refusal the crew sees, got {other:?}"),
    }
}

async fn restored_tablet(backend: Backend) {
    let Some(ts) = start_with(backend, |c| c.din = Some(small_leases())).await else {
        return;
    };
    let a = enroll(&ts, &ts.url(), "BUS-A").await;
    let b = enroll(&ts, &ts.url(), "BUS-B").await;
    collect_donations(&a, 2);
    sync(&a, &ts).await.unwrap();
    let backup = a.dir.path().join("backup.db");
    back_up_tablet(&a, &backup);
    collect_donations(&a, 2);
    sync(&a, &ts).await.unwrap();
    let held = ts.storage.entries(a.id).await.unwrap();

    // Restored, and nothing written since: the station is ahead of the tablet.
    restore_tablet(&a, &backup);
    assert_eq!(
        refusal_code(sync(&a, &ts).await),
        "sync.tablet_behind_station"
    );

    // It records more anyway: its numbers are reused with other content.
    collect_donations(&a, 1);
    collect_donations(&b, 1);
    sync(&b, &ts).await.unwrap();
    let replicator = a.replicator(&ts.url());
    let status = replicator.status();
    let result = replicator.sync_once().await.map(drop);
    assert_eq!(refusal_code(result), "sync.tablet_restored");
    let shown = status.borrow().refused.clone().expect("the crew sees it");
    assert_eq!(shown.reason.code, "sync.tablet_restored");
    assert!(
        lifebridge_domain::messages::render(&shown.reason, lifebridge_domain::messages::Lang::En)
            .contains("Re-enroll this tablet as a new device")
    );
    // The pull went on: B's donation reached the restored tablet.
    assert_eq!(a.donation_count(), 2 + 1 + 1);
    // Nothing the station held was lost or overwritten.
    assert_eq!(ts.storage.entries(a.id).await.unwrap(), held);
}

async fn an_audit_chain_that_shrinks_or_forks_is_refused(backend: Backend) {
    let Some(ts) = start_with(backend, |c| c.din = Some(small_leases())).await else {
        return;
    };
    let a = enroll(&ts, &ts.url(), "BUS-A").await;
    collect_donations(&a, 2);
    // The replicator sends the head with every batch and keeps what was acknowledged.
    sync(&a, &ts).await.unwrap();
    let acked = a.store.lock().unwrap().acked_audit_head().unwrap().unwrap();
    assert_eq!(
        a.store
            .lock()
            .unwrap()
            .audit_head()
            .unwrap()
            .map(|h| h.seq >= acked.seq),
        Some(true)
    );

    collect_donations(&a, 1);
    let client = a.client(&ts.url());
    let batch = |store: &Device| {
        let s = store.store.lock().unwrap();
        s.changes_after(s.push_cursor().unwrap(), 1000).unwrap()
    };
    let head = |seq: u64, hash: &str| {
        Some(lifebridge_protocol::wire::AuditHead {
            seq,
            hash: hash.to_owned(),
        })
    };
    let code = |result: Result<_, SyncError>| match result {
        Err(SyncError::Station { status: 422, body }) => body.refused.unwrap().reason.code,
        other => panic!("expected 422, got {other:?}"),
    };
    let held = ts.storage.entries(a.id).await.unwrap();
    // Shorter than the acknowledged chain: cut, or restored from a backup.
    assert_eq!(
        code(
            client
                .push_with_head(batch(&a), head(acked.seq - 1, &acked.hash))
                .await
        ),
        "push_refused.audit_chain_shrunk"
    );
    // As long, another last entry: rewritten.
    assert_eq!(
        code(
            client
                .push_with_head(batch(&a), head(acked.seq, &"f".repeat(64)))
                .await
        ),
        "push_refused.audit_chain_forked"
    );
    assert_eq!(
        ts.storage.entries(a.id).await.unwrap(),
        held,
        "nothing of a refused batch is stored"
    );
    // A longer chain is taken, and becomes the one later heads are held to.
    let longer = a.store.lock().unwrap().audit_head().unwrap().unwrap();
    client
        .push_with_head(batch(&a), Some(longer.clone()))
        .await
        .unwrap();
    assert_eq!(
        code(
            client
                .push_with_head(batch(&a), head(acked.seq, &acked.hash))
                .await
        ),
        "push_refused.audit_chain_shrunk"
    );
    // The replicator shows such a refusal to the crew like any other.
    a.store
        .lock()
        .unwrap()
        .raw_write_for_tests(|c| c.execute("DELETE FROM audit_log WHERE seq > ?1", [3]))
        .unwrap();
    collect_donations(&a, 1);
    let cut = a.store.lock().unwrap().audit_head().unwrap().unwrap();
    assert!(cut.seq < longer.seq, "the chain was cut below the head");
    match sync(&a, &ts).await {
        Err(SyncError::Refused(entry)) => {
            assert_eq!(entry.reason.code, "push_refused.audit_chain_shrunk")
        }
        other => panic!("expected the refusal, got {other:?}"),
    }
}

/// The station restore copies a SQLite file, which is how a SQLite station is backed up;
/// a PostgreSQL station is backed up and restored with PostgreSQL's own tools, and the
/// same code runs after either (docs/security.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_station_loses_nothing_and_leases_nothing_twice_sqlite() {
    restored_station(Backend::Sqlite).await;
}

both_backends! {
    a_restored_tablet_is_told_to_re_enroll_and_the_station_loses_nothing =>
        super::restored_tablet;
    an_audit_chain_that_shrinks_or_forks_is_refused =>
        super::an_audit_chain_that_shrinks_or_forks_is_refused;
}
