//! Backups restored: a station restored from a backup of its database (SQLite or
//! PostgreSQL), and a tablet restored from an old copy of its store (docs/security.md).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

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

/// A backup of a live station database, as an administrator makes it: a consistent copy
/// of the SQLite file, or a `pg_dump` of the PostgreSQL database.
enum Backup {
    Sqlite(PathBuf),
    Postgres { dump: PathBuf, pgbin: PathBuf },
}

/// The PostgreSQL client programs (`pg_dump`, `pg_restore`) of the server the tests run
/// on; `None` (with a notice) when scripts/with-postgres.sh did not say where they are.
fn pgbin() -> Option<PathBuf> {
    match std::env::var_os("LIFEBRIDGE_TEST_PGBIN") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            eprintln!(
                "NOTICE: LIFEBRIDGE_TEST_PGBIN is not set (scripts/with-postgres.sh sets it); \
                 skipping the PostgreSQL backup and restore"
            );
            None
        }
    }
}

/// The database a PostgreSQL URL names, and the URL with the server's maintenance
/// database instead (to drop and create it from).
fn pg_database_of(url: &str) -> (String, String) {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (server, name) = base.rsplit_once('/').unwrap();
    let admin = if query.is_empty() {
        format!("{server}/postgres")
    } else {
        format!("{server}/postgres?{query}")
    };
    (name.to_owned(), admin)
}

fn run(program: &Path, args: &[&str]) {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Backs the live station up.
fn back_up(ts: &TestStation, pgbin: Option<&Path>) -> Backup {
    match (&ts.config.database_url, pgbin) {
        (Some(url), Some(pgbin)) => {
            let dump = ts.dir.path().join("backup.dump");
            run(
                &pgbin.join("pg_dump"),
                &["--format=custom", "--file", dump.to_str().unwrap(), url],
            );
            Backup::Postgres {
                dump,
                pgbin: pgbin.to_owned(),
            }
        }
        _ => {
            let to = ts.dir.path().join("backup.db");
            let conn = rusqlite::Connection::open(ts.config.data_dir.join("station.db")).unwrap();
            conn.execute("VACUUM INTO ?1", [to.to_str().unwrap()])
                .unwrap();
            Backup::Sqlite(to)
        }
    }
}

/// Stops the station, puts `backup` in place of its database and starts it again.
async fn restore_station(ts: TestStation, backup: &Backup) -> TestStation {
    let TestStation {
        station,
        storage,
        config,
        dir,
    } = ts;
    station.unwrap().stop().await.unwrap();
    drop(storage);
    match backup {
        Backup::Sqlite(file) => {
            let db = config.data_dir.join("station.db");
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            std::fs::copy(file, &db).unwrap();
        }
        Backup::Postgres { dump, pgbin } => {
            let url = config.database_url.as_deref().unwrap();
            let (name, admin) = pg_database_of(url);
            let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            // The restored database replaces the live one whole, as an administrator
            // restores a dump: into a new, empty database of the same name.
            for sql in [
                format!("DROP DATABASE {name} WITH (FORCE)"),
                format!("CREATE DATABASE {name}"),
            ] {
                client.batch_execute(&sql).await.unwrap();
            }
            run(
                &pgbin.join("pg_restore"),
                &["--no-owner", "--dbname", url, dump.to_str().unwrap()],
            );
        }
    }
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

type LeaseRow = (String, i64, i64, i64, String);

/// The station's lease table, read from its database directly.
async fn lease_rows(ts: &TestStation) -> Vec<LeaseRow> {
    let sql = "SELECT facility, year, first_seq, last_seq, device_id FROM din_lease";
    match &ts.config.database_url {
        Some(url) => {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .query(sql, &[])
                .await
                .unwrap()
                .into_iter()
                .map(|r| {
                    let year: i32 = r.get(1);
                    (r.get(0), i64::from(year), r.get(2), r.get(3), r.get(4))
                })
                .collect()
        }
        None => {
            let conn = rusqlite::Connection::open(ts.config.data_dir.join("station.db")).unwrap();
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
        }
    }
}

/// Every DIN range the devices hold and the station's lease table: no number twice.
async fn assert_no_number_leased_twice(ts: &TestStation, devices: &[&Device]) {
    let mut ranges = lease_rows(ts).await;
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
    let pgbin = match backend {
        Backend::Postgres => match pgbin() {
            Some(dir) => Some(dir),
            None => return,
        },
        Backend::Sqlite => None,
    };
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
    let backup = back_up(&ts, pgbin.as_deref());

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
    assert_no_number_leased_twice(&ts, &[&a, &b]).await;
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
    let code = |result: Result<_, lifebridge_sync::client::ClientError>| match result {
        Err(lifebridge_sync::client::ClientError::Station { status: 422, body }) => {
            body.refused.unwrap().reason.code
        }
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

// A SQLite station is backed up by copying its file (`VACUUM INTO`), a PostgreSQL one
// with `pg_dump` while it runs and restored with `pg_restore` into a new database of the
// same name; the same code repairs the fleet after either (docs/security.md).
backend_pair! {
    restored_station =>
        a_restored_station_loses_nothing_and_leases_nothing_twice_sqlite,
        a_restored_station_loses_nothing_and_leases_nothing_twice_postgres;
}

both_backends! {
    a_restored_tablet_is_told_to_re_enroll_and_the_station_loses_nothing =>
        super::restored_tablet;
    an_audit_chain_that_shrinks_or_forks_is_refused =>
        super::an_audit_chain_that_shrinks_or_forks_is_refused;
}
