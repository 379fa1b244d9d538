//! HTTPS with rustls: a device that pins the station's certificate syncs; one that
//! pins another certificate cannot even connect; plain http is for loopback only.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use lifebridge_station::config::{Config, TlsConfig};
use lifebridge_station::{open_storage, server};
use lifebridge_sync::client::ClientError as SyncError;
use lifebridge_sync::client::{StationClient, Trust};

/// The command docs/api.md gives administrators, with the test's names.
fn make_cert(dir: &Path, name: &str) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}-key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "30",
        ])
        .args([
            "-subj",
            "/CN=lifebridge-station",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        .args([
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=serverAuth",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .ok()?;
    status.status.success().then_some((cert, key))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_pinned_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let Some((cert, key)) = make_cert(dir.path(), "station") else {
        eprintln!("NOTICE: openssl is not installed; skipping the TLS test");
        return;
    };
    let (other, _) = make_cert(dir.path(), "other").unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("station"),
        tls: Some(TlsConfig {
            cert: cert.clone(),
            key,
        }),
        din: Some(common::test_din()),
        ..Config::default()
    };
    let storage = open_storage(&config).await.unwrap();
    let station = server::start(config.clone(), storage.clone())
        .await
        .unwrap();
    let url = station.base_url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let ts = common::TestStation {
        station: Some(station),
        storage,
        config,
        dir,
    };

    let pem = std::fs::read_to_string(&cert).unwrap();
    let client = StationClient::new(&url, Trust::PinnedPem(pem), Duration::from_secs(10)).unwrap();
    client.probe().await.unwrap();

    let device_dir = tempfile::tempdir().unwrap();
    let store =
        lifebridge_store::Store::create(&device_dir.path().join("d.db"), &common::key(), "BUS-30")
            .unwrap();
    let store = std::sync::Arc::new(std::sync::Mutex::new(store));
    let code = common::new_code(&ts.storage, "BUS-30").await;
    let token = lifebridge_sync::replicator::enroll(&store, &client, &code, "BUS-30")
        .await
        .unwrap();
    let (replicator, _) = lifebridge_sync::replicator::Replicator::new(
        store.clone(),
        client.clone().with_token(token),
        Default::default(),
    );
    // A first sync leases DIN numbers, so the collection is numbered from them.
    replicator.sync_once().await.unwrap();
    lifebridge_store::demo::seed(&mut store.lock().unwrap(), 1, |_| Ok(())).unwrap();
    replicator.sync_once().await.unwrap();
    assert_eq!(store.lock().unwrap().pending_changes().unwrap(), 0);

    let stranger = StationClient::new(
        &url,
        Trust::PinnedPem(std::fs::read_to_string(&other).unwrap()),
        Duration::from_secs(5),
    )
    .unwrap();
    assert!(matches!(
        stranger.probe().await,
        Err(SyncError::Unreachable(_))
    ));

    // Plain http is not for the open network, and https needs a pinned certificate.
    assert!(
        StationClient::new(
            "http://192.0.2.10:8707",
            Trust::LoopbackHttp,
            Duration::from_secs(1)
        )
        .is_err()
    );
    assert!(
        StationClient::new(
            "https://127.0.0.1:8707",
            Trust::LoopbackHttp,
            Duration::from_secs(1)
        )
        .is_err()
    );
    ts.station.unwrap().stop().await.unwrap();
}
