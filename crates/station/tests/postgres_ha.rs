//! PostgreSQL as a real deployment runs it (docs/postgres.md): over TLS with `sslmode`
//! honoured, and a primary with a synchronous streaming standby that the station rides
//! through a failover of, losing no acknowledged push.
#![allow(clippy::unwrap_used)]

mod common;
mod pg_cluster;

use std::time::{Duration, Instant};

use lifebridge_station::storage::postgres::PostgresStorage;
use pg_cluster::{Cluster, give_to_pg, make_ca_and_server_cert, pgbin};

/// A server that takes TLS connections only, with a certificate for `localhost` signed
/// by a test authority; returns it and the authority's certificate.
fn tls_only_server(dir: &std::path::Path) -> Option<(Cluster, std::path::PathBuf)> {
    let bin = pgbin()?;
    if make_ca_and_server_cert(dir, "lifebridge-test-ca", "DNS:localhost").is_none() {
        // CI must prove TLS to PostgreSQL, not skip it (install-deps installs openssl).
        assert!(
            std::env::var_os("CI").is_none(),
            "openssl is not installed: CI cannot make the PostgreSQL TLS test's certificates"
        );
        eprintln!("NOTICE: openssl is not installed; skipping the PostgreSQL TLS test");
        return None;
    }
    let cluster = Cluster::init(
        &bin,
        "ssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server-key.pem'",
    );
    for name in ["server.pem", "server-key.pem"] {
        std::fs::copy(dir.join(name), cluster.file(name)).unwrap();
        give_to_pg(&cluster.file(name));
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        cluster.file("server-key.pem"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    cluster.write(
        "pg_hba.conf",
        "local all all trust\n\
         hostssl all all 127.0.0.1/32 trust\n\
         hostnossl all all 127.0.0.1/32 reject\n",
    );
    cluster.start();
    Some((cluster, dir.join("ca.pem")))
}

async fn connect(url: &str) -> Result<(), String> {
    PostgresStorage::connect(url)
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let Some((db, ca)) = tls_only_server(dir.path()) else {
        return;
    };
    let ca = ca.display().to_string();
    // `localhost` is the name in the certificate; the address keeps to IPv4.
    let at = |host: &str, query: &str| db.url(host, &format!("?hostaddr=127.0.0.1&{query}"));

    // The server refuses plain connections, so a station that connects used TLS.
    let err = connect(&at("localhost", "sslmode=disable"))
        .await
        .unwrap_err();
    assert!(err.contains("no encryption"), "{err}");
    connect(&at("localhost", "sslmode=require")).await.unwrap();
    connect(&at("localhost", "")).await.unwrap();
    connect(&at(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await
    .unwrap();
    // verify-ca checks the chain but not the name.
    connect(&at(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    ))
    .await
    .unwrap();

    // verify-full to a name the certificate does not carry: refused, saying why.
    let err = connect(&at(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .await
    .unwrap_err();
    assert!(
        err.contains("not valid for name") && err.contains("127.0.0.1"),
        "{err}"
    );
    // A certificate authority other than the one that signed the server's certificate.
    let other = tempfile::tempdir().unwrap();
    make_ca_and_server_cert(other.path(), "another-ca", "DNS:localhost").unwrap();
    let other_ca = other.path().join("ca.pem").display().to_string();
    for mode in ["verify-full", "verify-ca", "require"] {
        let err = connect(&at(
            "localhost",
            &format!("sslmode={mode}&sslrootcert={other_ca}"),
        ))
        .await
        .unwrap_err();
        assert!(err.contains("UnknownIssuer"), "{mode}: {err}");
    }
    // verify-full without a certificate authority to check against is a configuration
    // error before any connection.
    let err = connect(&at("localhost", "sslmode=verify-full"))
        .await
        .unwrap_err();
    assert!(err.contains("sslrootcert"), "{err}");
}

/// Waits until the primary confirms a synchronous standby, so a commit it acknowledges
/// is on both servers.
async fn wait_for_sync_standby(primary: &Cluster) {
    let (client, conn) = tokio_postgres::connect(
        &primary.url("127.0.0.1", "?sslmode=disable"),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let started = Instant::now();
    loop {
        let rows = client
            .query(
                "SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'",
                &[],
            )
            .await
            .unwrap();
        if !rows.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the standby never became synchronous"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_station_rides_through_a_failover_and_loses_no_acknowledged_push() {
    let Some(bin) = pgbin() else {
        return;
    };
    let started = Instant::now();
    // Every commit waits for the standby to have it on disk.
    let primary = Cluster::init(
        &bin,
        "wal_level = replica\nmax_wal_senders = 4\nsynchronous_standby_names = '*'",
    );
    primary.start();
    // Once promoted the standby is alone: waiting for a standby of its own would stall
    // every push, so it commits without one (docs/postgres.md: build a new standby).
    let standby = Cluster::standby_of(&primary, "synchronous_standby_names = ''");
    standby.start();
    wait_for_sync_standby(&primary).await;

    let url = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/postgres?target_session_attrs=read-write&connect_timeout=2",
        primary.port, standby.port
    );
    let Some(ts) = common::start_with(common::Backend::Sqlite, |c| {
        c.database_url = Some(url.clone());
    })
    .await
    else {
        return;
    };
    let bus = common::enroll(&ts, &ts.url(), "BUS-01").await;
    common::collect_donations(&bus, 3);
    let replicator = bus.replicator(&ts.url());
    replicator.sync_once().await.unwrap();
    let acknowledged = bus.store.lock().unwrap().pending_changes().unwrap();
    assert_eq!(acknowledged, 0, "the first push was acknowledged whole");
    let before = bus.last_seq();

    // The primary dies as in a power cut; the standby is promoted.
    primary.stop("immediate");
    standby.promote();

    // The same station, the same pool: pushes go on once the new primary answers.
    common::collect_donations(&bus, 3);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match replicator.sync_once().await {
            Ok(_) if bus.store.lock().unwrap().pending_changes().unwrap() == 0 => break,
            outcome => {
                assert!(
                    Instant::now() < deadline,
                    "no push went through after the failover: {outcome:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    assert!(bus.last_seq() > before);
    // Everything acknowledged before the failover is on the new primary, with what
    // came after, exactly once.
    common::assert_station_holds_exactly(&ts, &bus).await;
    eprintln!("failover test took {:?}", started.elapsed());
}
