//! Shared harness: a real station on a loopback port (SQLite or PostgreSQL), devices
//! with real encrypted stores, and the real replicator.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lifebridge_station::config::{Config, DinConfig};
use lifebridge_station::server::{self, RunningStation};
use lifebridge_station::storage::Storage;
use lifebridge_station::{auth, open_storage};
use lifebridge_store::{Store, StoreKey};
use lifebridge_sync::client::{StationClient, Trust};
use lifebridge_sync::replicator::{self, Replicator, ReplicatorConfig};
use tempfile::TempDir;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestStation {
    pub station: Option<RunningStation>,
    pub storage: Arc<dyn Storage>,
    pub config: Config,
    pub dir: TempDir,
}

impl TestStation {
    pub fn url(&self) -> String {
        self.station.as_ref().unwrap().base_url()
    }
}

/// A fresh PostgreSQL database for one test, or `None` (with a notice) when
/// LIFEBRIDGE_TEST_PG_URL is not set.
pub async fn pg_database() -> Option<String> {
    let Ok(url) = std::env::var("LIFEBRIDGE_TEST_PG_URL") else {
        eprintln!(
            "NOTICE: LIFEBRIDGE_TEST_PG_URL is not set; skipping the PostgreSQL run of this test"
        );
        return None;
    };
    let name = format!("lb_test_{}", Uuid::now_v7().simple());
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    // Replace the database name at the end of the URL's path.
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b.to_owned(), format!("?{q}")),
        None => (url.clone(), String::new()),
    };
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => base[..i].to_owned(),
        _ => base,
    };
    Some(format!("{base}/{name}{query}"))
}

pub async fn start(backend: Backend, din: Option<DinConfig>) -> Option<TestStation> {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("station"),
        max_body_bytes: 256 * 1024,
        max_inflated_bytes: 4 * 1024 * 1024,
        din,
        ..Config::default()
    };
    if backend == Backend::Postgres {
        config.database_url = Some(pg_database().await?);
    }
    let storage = open_storage(&config).await.unwrap();
    let station = server::start(config.clone(), storage.clone())
        .await
        .unwrap();
    Some(TestStation {
        station: Some(station),
        storage,
        config,
        dir,
    })
}

pub fn key() -> StoreKey {
    StoreKey::new("correct horse battery").unwrap()
}

pub struct Device {
    pub store: Arc<Mutex<Store>>,
    pub id: Uuid,
    pub token: String,
    pub dir: TempDir,
    pub name: String,
}

impl Device {
    pub fn client(&self, url: &str) -> StationClient {
        StationClient::new(url, Trust::LoopbackHttp, Duration::from_secs(10))
            .unwrap()
            .with_token(self.token.clone())
    }

    pub fn replicator(&self, url: &str) -> Replicator {
        let config = ReplicatorConfig {
            batch_size: 10,
            page_size: 50,
            interval: Duration::from_millis(200),
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
        };
        Replicator::new(self.store.clone(), self.client(url), config).0
    }

    pub fn seed(&self, donations: u32) {
        let mut store = self.store.lock().unwrap();
        lifebridge_store::demo::seed(&mut store, donations, |_| Ok(())).unwrap();
    }

    pub fn last_seq(&self) -> u64 {
        self.store.lock().unwrap().last_change_seq().unwrap()
    }
}

pub async fn new_code(storage: &Arc<dyn Storage>, name: &str) -> String {
    let code = auth::new_enrollment_code();
    let now = chrono::Utc::now();
    storage
        .create_enrollment(
            name,
            &auth::enrollment_code_hash(&code),
            now,
            now + chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    code
}

/// A device with its own store, enrolled at the station at `url` (which may be a proxy).
pub async fn enroll(ts: &TestStation, url: &str, name: &str) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(&dir.path().join("device.db"), &key(), name).unwrap();
    let id = store.device_id();
    let store = Arc::new(Mutex::new(store));
    let code = new_code(&ts.storage, name).await;
    let client = StationClient::new(url, Trust::LoopbackHttp, Duration::from_secs(10)).unwrap();
    let token = replicator::enroll(&store, &client, &code, name)
        .await
        .unwrap();
    Device {
        store,
        id,
        token,
        dir,
        name: name.to_owned(),
    }
}

/// Asserts the station holds exactly the device's change log: seq 1..=last, same
/// content, nothing else.
pub async fn assert_station_holds_exactly(ts: &TestStation, device: &Device) {
    let held = ts.storage.entries(device.id).await.unwrap();
    let local = device
        .store
        .lock()
        .unwrap()
        .changes_after(0, u32::MAX)
        .unwrap();
    assert_eq!(
        held.len(),
        local.len(),
        "device {} entry count",
        device.name
    );
    for (h, l) in held.iter().zip(&local) {
        assert_eq!(h.seq, l.seq);
        assert_eq!(
            h.digest,
            lifebridge_sync::ingest::entry_digest(l),
            "seq {}",
            l.seq
        );
    }
    for (i, h) in held.iter().enumerate() {
        assert_eq!(
            h.seq,
            i as u64 + 1,
            "station sequence for {} has a gap",
            device.name
        );
    }
}

/// Runs a test body against each backend (PostgreSQL only when configured).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident => $body:path;)*) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $body($crate::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $body($crate::common::Backend::Postgres).await;
                }
            )*
        }
    };
}
