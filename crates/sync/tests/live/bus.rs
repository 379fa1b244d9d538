//! A bus in one process: a real station (SQLite, loopback) and tablets with real
//! encrypted stores, each with a running [`Replicator`]. Shared by `tests/live.rs` and the
//! live benchmark (`crates/bench/src/bin/live.rs`, which includes this file by path).
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lifebridge_domain::entities::Role;
use lifebridge_domain::resident_id::IdentityDocument;
use lifebridge_station::config::Config;
use lifebridge_station::db::Storage;
use lifebridge_station::server::{self, RunningStation};
use lifebridge_station::{auth, open_storage};
use lifebridge_store::records::{DonorDetails, NewDonor, NewStaff};
use lifebridge_store::{Actor, Store, StoreKey};
use lifebridge_sync::client::{StationClient, Trust};
use lifebridge_sync::replicator::{self, Replicator, ReplicatorConfig, SyncStatus};
use tempfile::TempDir;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

pub struct Bus {
    pub station: Option<RunningStation>,
    pub storage: Arc<dyn Storage>,
    pub config: Config,
    pub addr: SocketAddr,
    pub dir: TempDir,
}

impl Bus {
    /// A station on a free loopback port with its SQLite database in a fresh folder.
    pub async fn start() -> Bus {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("station"),
            ..Config::default()
        };
        let storage = open_storage(&config).await.unwrap();
        let station = server::start(config.clone(), storage.clone())
            .await
            .unwrap();
        let addr = station.addr;
        Bus {
            station: Some(station),
            storage,
            config,
            addr,
            dir,
        }
    }

    /// A bus hub whose station is out of reach (a village with no internet): the same
    /// server, with a link to a closed port, so the tablets have only the hub.
    pub async fn start_offline_hub() -> Bus {
        let bus = Bus::start().await;
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let link = lifebridge_station::hub::store::Upstream {
            url,
            cert_pem: None,
            device_id: bus.storage.station_id().await.unwrap(),
            name: "BUS-HUB".into(),
            token: "hub-token".into(),
            pull_cursor: 0,
            paused: false,
            enrolled_at: chrono::Utc::now().to_rfc3339(),
        };
        assert!(bus.storage.hub_set_upstream(link).await.unwrap());
        bus
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switched off: nothing answers on its address.
    pub async fn stop(&mut self) {
        if let Some(station) = self.station.take() {
            station.stop().await.unwrap();
        }
    }

    /// Back on the same address with the same database.
    pub async fn restart(&mut self) {
        let config = Config {
            listen: self.addr,
            ..self.config.clone()
        };
        self.station = Some(server::start(config, self.storage.clone()).await.unwrap());
    }

    /// A tablet enrolled here, with a registration nurse and its replicator running.
    pub async fn tablet(&self, name: &str, config: ReplicatorConfig) -> Tablet {
        let code = auth::new_enrollment_code();
        let now = chrono::Utc::now();
        self.storage
            .create_enrollment(
                name,
                &auth::enrollment_code_hash(&code),
                now,
                now + chrono::Duration::hours(1),
            )
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::new("correct horse battery").unwrap();
        let mut store = Store::create(&dir.path().join("device.db"), &key, name).unwrap();
        let nurse = store
            .add_staff(
                Actor::system(),
                NewStaff {
                    display_name: format!("登记护士 {name}"),
                    roles: vec![Role::Registration],
                    pin: "123456".into(),
                },
            )
            .unwrap()
            .id;
        let store = Arc::new(Mutex::new(store));
        let client =
            StationClient::new(&self.url(), Trust::LoopbackHttp, Duration::from_secs(10)).unwrap();
        let token = replicator::enroll(&store, &client, &code, name)
            .await
            .unwrap();
        let (replicator, status) = Replicator::new(store.clone(), client.with_token(token), config);
        let wake = replicator.waker();
        let (shutdown, stop) = watch::channel(false);
        let task = tokio::spawn(replicator.run(stop));
        Tablet {
            name: name.to_owned(),
            store,
            nurse,
            wake,
            status,
            shutdown,
            task,
            registered: Mutex::new(0),
            dir,
        }
    }
}

pub struct Tablet {
    pub name: String,
    pub store: Arc<Mutex<Store>>,
    nurse: Uuid,
    pub wake: Arc<Notify>,
    pub status: watch::Receiver<SyncStatus>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    registered: Mutex<u32>,
    pub dir: TempDir,
}

impl Tablet {
    /// Registers a new donor (a real store action, as the registration screen does),
    /// then wakes the replicator as the app does after every action. Returns the donor.
    pub async fn register(&self) -> Uuid {
        let n = {
            let mut count = self.registered.lock().unwrap();
            *count += 1;
            *count
        };
        let tag: String = self
            .name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let store = self.store.clone();
        let nurse = self.nurse;
        let id = tokio::task::spawn_blocking(move || {
            let today = lifebridge_store::china_today();
            let document =
                IdentityDocument::parse("passport", &format!("P{tag}{n:06}"), today).unwrap();
            let mut store = store.lock().unwrap();
            store
                .register_donor(
                    Actor::staff(nurse),
                    NewDonor {
                        document,
                        details: DonorDetails {
                            name: format!("献血者{n}"),
                            sex: Some(lifebridge_domain::Sex::Female),
                            birth_date: chrono::NaiveDate::from_ymd_opt(1990, 5, 17),
                            phone: None,
                            address: None,
                            rural: Some(true),
                        },
                    },
                )
                .unwrap()
                .id
        })
        .await
        .unwrap();
        self.wake.notify_one();
        id
    }

    pub fn holds(&self, donor: Uuid) -> bool {
        self.store.lock().unwrap().donor(donor).unwrap().is_some()
    }

    /// Waits until this tablet holds `donor`; how long that took from `since`, or `None`
    /// after `within`.
    pub async fn wait_for(
        &self,
        donor: Uuid,
        since: Instant,
        within: Duration,
    ) -> Option<Duration> {
        loop {
            if self.holds(donor) {
                return Some(since.elapsed());
            }
            if since.elapsed() > within {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    pub async fn stop(self) {
        self.shutdown.send_replace(true);
        let _ = self.task.await;
    }
}

/// A replicator whose periodic sync is long (60 s), so within a measurement only the
/// event stream and the waker move records; `live` off gives the polling baseline.
pub fn replicator_config(interval: Duration, live: bool) -> ReplicatorConfig {
    ReplicatorConfig {
        interval,
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
        live,
        ..ReplicatorConfig::default()
    }
}

/// The `p`-th percentile (0–100) of `samples`, nearest rank.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
