//! Shared harness: a real station on a loopback port (SQLite or PostgreSQL), devices
//! with real encrypted stores, and the real replicator.
#![allow(dead_code, clippy::unwrap_used)]

pub mod bin;
pub mod proxy;
pub mod records;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lifebridge_station::config::{Config, DinConfig};
use lifebridge_station::db::Storage;
use lifebridge_station::devices::DeviceKind;
use lifebridge_station::server::{self, RunningStation};
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

/// The DIN leasing every test station does unless a test sets its own: the station
/// accepts a donation only under a DIN it leased to the pushing device.
pub fn test_din() -> DinConfig {
    DinConfig {
        facility: "A9999".into(),
        ..DinConfig::default()
    }
}

pub async fn start(backend: Backend, din: Option<DinConfig>) -> Option<TestStation> {
    let din = Some(din.unwrap_or_else(test_din));
    start_with(backend, |c| c.din = din).await
}

/// A station as [`start`] makes it, with `adjust` applied to its configuration first.
pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestStation> {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("station"),
        max_body_bytes: 256 * 1024,
        max_inflated_bytes: 4 * 1024 * 1024,
        din: Some(test_din()),
        ..Config::default()
    };
    adjust(&mut config);
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
            // Grows under the faults too (10, 20, 40), so retries meet every size.
            max_batch_size: 40,
            page_size: 7,
            interval: Duration::from_millis(200),
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
            // These tests sync on their own schedule (tests/events.rs and the sync
            // crate's tests/live.rs cover the event stream).
            live: false,
        };
        Replicator::new(self.store.clone(), self.client(url), config).0
    }

    pub fn seed(&self, donations: u32) {
        let mut store = self.store.lock().unwrap();
        lifebridge_store::demo::seed(&mut store, donations, |_| Ok(())).unwrap();
    }

    /// Donations the device's store holds (its own and those pulled from others).
    pub fn donation_count(&self) -> i64 {
        self.store
            .lock()
            .unwrap()
            .connection()
            .query_row("SELECT COUNT(*) FROM donation", [], |r| r.get(0))
            .unwrap()
    }

    pub fn last_seq(&self) -> u64 {
        self.store.lock().unwrap().last_change_seq().unwrap()
    }
}

pub async fn new_code(storage: &Arc<dyn Storage>, name: &str) -> String {
    new_code_as(storage, DeviceKind::Tablet, name).await
}

/// An enrollment code for a device of `kind` (`device enroll --hub` for a bus hub).
pub async fn new_code_as(storage: &Arc<dyn Storage>, kind: DeviceKind, name: &str) -> String {
    let code = auth::new_enrollment_code();
    let now = chrono::Utc::now();
    storage
        .create_enrollment_as(
            kind,
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
    let code = new_code(&ts.storage, name).await;
    enroll_with_code(url, &code, name).await
}

/// A device with its own store, enrolled with an enrollment code issued elsewhere (by
/// the station's admin command, say).
pub async fn enroll_with_code(url: &str, code: &str, name: &str) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(&dir.path().join("device.db"), &key(), name).unwrap();
    let id = store.device_id();
    let store = Arc::new(Mutex::new(store));
    let client = StationClient::new(url, Trust::LoopbackHttp, Duration::from_secs(10)).unwrap();
    let token = replicator::enroll(&store, &client, code, name)
        .await
        .unwrap();
    let device = Device {
        store,
        id,
        token,
        dir,
        name: name.to_owned(),
    };
    device.take_lease(url).await;
    device
}

impl Device {
    /// Asks the station for DIN numbers and keeps the ranges it leases, so what the
    /// device collects next is numbered from them (the demo seeder would otherwise
    /// register a training range, which no station accepts). Only the leases are
    /// applied and the pull cursor stays where it was, so the device's next sync pulls
    /// everything else as before.
    pub async fn take_lease(&self, url: &str) {
        let client = self.client(url);
        let unused = self.store.lock().unwrap().unused_leased_dins().unwrap();
        let mut after = 0;
        let mut leases = Vec::new();
        let mut ask = Some(unused);
        loop {
            // Asked once: a later page past the new lease would not count it in flight.
            let page = client.pull(after, 2000, ask.take()).await.unwrap();
            leases.extend(
                page.records
                    .into_iter()
                    .filter(|r| r.kind == lifebridge_protocol::records::RemoteKind::DinRange),
            );
            if !page.more || page.cursor <= after {
                break;
            }
            after = page.cursor;
        }
        let mut store = self.store.lock().unwrap();
        let cursor = store.pull_cursor().unwrap();
        store.apply_remote(&leases, cursor).unwrap();
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
            lifebridge_protocol::ingest::entry_digest(l),
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

/// Like `both_backends!`, for tests whose names end in `_sqlite` / `_postgres` at the
/// top level of their file: the names stay as they were listed (a test's name is how
/// CI history and filters find it), while the body is written once.
#[macro_export]
macro_rules! backend_pair {
    ($($body:ident => $sqlite:ident, $postgres:ident;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $sqlite() {
                $body($crate::common::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $postgres() {
                $body($crate::common::Backend::Postgres).await;
            }
        )*
    };
}

/// Records `n` donations from donors registered on this device with passports unique
/// to it (the demo seeder numbers donors per store, so two devices would register the
/// same synthetic person twice — a real case, but not what these tests are about).
pub fn collect_donations(device: &Device, n: u32) {
    use lifebridge_domain::entities::{Arm, BagSet, BagSetKind, Outcome, PhysicianDecision};
    use lifebridge_store::Actor;
    use lifebridge_store::records::NewDonation;

    let mut s = device.store.lock().unwrap();
    lifebridge_store::demo::seed(&mut s, 0, |_| Ok(())).unwrap();
    let today = lifebridge_store::china_today();
    let staff = |s: &Store, name: &str| s.staff_by_name(name).unwrap().unwrap().id;
    let nurse = staff(&s, "登记护士 李敏");
    let physician = staff(&s, "体检医生 王强");
    let phlebotomist = staff(&s, "采血护士 张静");
    let drive = s
        .drives_on(today)
        .unwrap()
        .into_iter()
        .find(|d| d.ended_at.is_none())
        .unwrap()
        .id;
    let tag: String = device.id.simple().to_string()[24..].to_uppercase();
    for _ in 0..n {
        let donor = register_and_check_in(&mut s, nurse, drive, &tag);
        let form = accepted_form(&s, donor, drive);
        let screening = s
            .record_screening(
                Actor::staff(physician),
                form.into_new(PhysicianDecision::Accept, None),
            )
            .unwrap();
        let start = chrono::Utc::now();
        s.record_donation(
            Actor::staff(phlebotomist),
            NewDonation {
                screening_id: screening.id,
                bag_set: BagSet {
                    kind: BagSetKind::Double,
                    lot: "LOT-1".into(),
                },
                planned_volume_ml: 400,
                collected_volume_ml: Some(400),
                started_at: start,
                ended_at: Some(start + chrono::Duration::minutes(8)),
                phlebotomist_id: phlebotomist,
                arm: Arm::Left,
                reactions: vec![],
                outcome: Outcome::Complete,
            },
        )
        .unwrap();
    }
}

/// The screening form of a donor who passes every rule and has nothing to declare in
/// the questionnaire `store` holds, for whole blood, 400 mL.
pub fn accepted_form(
    store: &lifebridge_store::Store,
    donor_id: uuid::Uuid,
    drive_id: uuid::Uuid,
) -> lifebridge_store::screening::ScreeningForm {
    let questionnaire = store.questionnaire().unwrap();
    let sex = store
        .donor(donor_id)
        .ok()
        .flatten()
        .map_or(lifebridge_domain::Sex::Male, |d| d.sex);
    use lifebridge_domain::entities::RapidTests;
    use lifebridge_domain::measurements::{TestResult, Vitals};
    lifebridge_store::screening::ScreeningForm {
        donor_id,
        drive_id,
        procedure: lifebridge_domain::Procedure::WholeBlood,
        planned_volume_ml: Some(400),
        answers: questionnaire.nothing_to_declare(sex),
        questionnaire_version: questionnaire.version,
        vitals: Vitals {
            weight_kg: 60.0,
            systolic_mmhg: 115.0,
            diastolic_mmhg: 75.0,
            pulse_bpm: 72.0,
            temperature_c: 36.6,
        },
        tests: RapidTests {
            hemoglobin_g_l: Some(130.0),
            alt_u_l: Some(20.0),
            hbsag: Some(TestResult::Negative),
            ..RapidTests::default()
        },
        athlete: false,
        restrictions: Vec::new(),
        review_findings: Default::default(),
        consent: Some(lifebridge_store::demo::signed_consent(
            &lifebridge_domain::questionnaire::built_in().consent.version,
        )),
        witness_pin: None,
        abo_rh_note: None,
    }
}

/// DINs `first..=last` of A9999 for this year, as the station leases them to `device`
/// (a hub importing it from its pull).
pub fn station_lease(
    device: uuid::Uuid,
    first: u32,
    last: u32,
) -> lifebridge_protocol::records::RemoteRecord {
    use lifebridge_domain::din::{DinRange, FacilityId};
    use lifebridge_domain::entities::{DinRangeRecord, DinRangeSource};
    let station = Uuid::now_v7();
    let year = {
        use chrono::Datelike;
        (lifebridge_domain::china_date(chrono::Utc::now()).year() % 100) as u8
    };
    let record = DinRangeRecord {
        id: Uuid::now_v7(),
        range: DinRange::new("A9999".parse::<FacilityId>().unwrap(), year, first, last).unwrap(),
        source: DinRangeSource::Leased,
        device_id: device,
        granted_at: chrono::Utc::now(),
    };
    lifebridge_protocol::records::RemoteRecord {
        kind: lifebridge_protocol::records::RemoteKind::DinRange,
        id: record.id,
        origin_device: station,
        hlc: lifebridge_domain::hlc::Hlc {
            wall_ms: 1,
            counter: 0,
            node: station,
        },
        body: serde_json::to_string(&record).unwrap(),
        field_clocks: None,
        target_device: None,
    }
}

/// Registers a donor whose passport number is unique to `tag` and a random number, and
/// checks them in to `drive`; the donor's id.
pub fn register_and_check_in(s: &mut Store, nurse: Uuid, drive: Uuid, tag: &str) -> Uuid {
    use lifebridge_domain::resident_id::IdentityDocument;
    use lifebridge_store::Actor;
    use lifebridge_store::records::{DonorDetails, NewDonor};
    let today = lifebridge_store::china_today();
    let k: u32 = rand::random();
    let donor = s
        .register_donor(
            Actor::staff(nurse),
            NewDonor {
                document: IdentityDocument::parse("passport", &format!("P{tag}{k:08X}"), today)
                    .unwrap(),
                details: DonorDetails {
                    name: format!("献血者{k}"),
                    sex: Some(lifebridge_domain::Sex::Female),
                    birth_date: Some(chrono::NaiveDate::from_ymd_opt(1990, 5, 17).unwrap()),
                    phone: None,
                    address: None,
                    rural: Some(true),
                },
            },
        )
        .unwrap();
    s.check_in(Actor::staff(nurse), drive, donor.id).unwrap();
    donor.id
}

/// A hub enrolled with `station` by a hub code, as `lifebridge-station hub --upstream
/// --code` does on its first start; its own database is SQLite (a bus's laptop), leasing
/// its tablets by `din` (the test default when `None`). Its first round has brought it
/// its DIN lease from the station.
pub async fn linked_hub(
    station: &TestStation,
    name: &str,
    din: Option<DinConfig>,
) -> (TestStation, lifebridge_station::hub::relay::Relay) {
    let hub = start(Backend::Sqlite, din).await.unwrap();
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
    relay.round().await.unwrap();
    (hub, relay)
}
