//! The station side of a bus hub (issue 10, docs/api.md "Bus hubs"): a hub enrolled as
//! such registers the tablets that enrolled with it and relays their change logs under
//! the tablets' own ids and seqs; the station checks a relayed entry exactly as the
//! tablet's own, lets a tablet number donations from its hub's lease, and sends the hub
//! what is addressed to its tablets. Both backends.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::records::{donation, donor, entry, now_ms, refused};
use common::{
    Backend, Device, TestStation, assert_station_holds_exactly, collect_donations, enroll, key,
    new_code, new_code_as, start,
};
use lifebridge_domain::din::DinRange;
use lifebridge_domain::entities::{DinRangeRecord, DinRangeSource, EntityKind};
use lifebridge_protocol::records::{LocalChange, RemoteKind, RemoteRecord};
use lifebridge_protocol::wire::{ErrorBody, ErrorCode};
use lifebridge_station::config::DinConfig;
use lifebridge_station::devices::DeviceKind;
use lifebridge_station::{auth, open_storage, server};
use lifebridge_store::Store;
use lifebridge_sync::SyncError;
use lifebridge_sync::client::{ClientError, StationClient, Trust};
use uuid::Uuid;

/// A bus hub enrolled at the station: its id and its client (the hub's own token).
struct Hub {
    id: Uuid,
    name: String,
    client: StationClient,
}

fn client(url: &str) -> StationClient {
    StationClient::new(url, Trust::LoopbackHttp, Duration::from_secs(10)).unwrap()
}

/// A hub enrolled with a code made by `device enroll --hub`.
async fn enroll_hub(ts: &TestStation, name: &str) -> Hub {
    let code = new_code_as(&ts.storage, DeviceKind::Hub, name).await;
    let (id, client) = redeem(&ts.url(), &code, name).await;
    Hub {
        id,
        name: name.to_owned(),
        client,
    }
}

/// Enrolls a new device id with `code`: the id and its client.
async fn redeem(url: &str, code: &str, name: &str) -> (Uuid, StationClient) {
    let id = Uuid::now_v7();
    let answer = client(url).enroll(code, id, name).await.unwrap();
    (id, client(url).with_token(answer.token))
}

/// A tablet with its own store that enrolled with a hub only: no token at the station.
fn bus_tablet(name: &str) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(&dir.path().join("device.db"), &key(), name).unwrap();
    let id = store.device_id();
    Device {
        store: Arc::new(Mutex::new(store)),
        id,
        token: String::new(),
        dir,
        name: name.to_owned(),
    }
}

/// The station's refusal of a request: status and body.
fn station_error<T: std::fmt::Debug>(result: Result<T, ClientError>) -> (u16, ErrorBody) {
    match result {
        Err(ClientError::Station { status, body }) => (status, body),
        other => panic!("expected a refusal from the station, got {other:?}"),
    }
}

fn relay_refused<T: std::fmt::Debug>(result: Result<T, ClientError>) -> String {
    let (status, body) = station_error(result);
    assert_eq!(
        (status, body.error),
        (403, ErrorCode::RelayRefused),
        "{body:?}"
    );
    body.message
}

fn entries(device: &Device) -> Vec<LocalChange> {
    device
        .store
        .lock()
        .unwrap()
        .changes_after(0, u32::MAX)
        .unwrap()
}

/// Leases the hub DIN numbers (it reports `unused` left) and returns the new leases.
async fn hub_lease(hub: &Hub, unused: u64) -> Vec<RemoteRecord> {
    let page = hub.client.pull(0, 2000, Some(unused)).await.unwrap();
    assert!(!page.more);
    page.records
        .into_iter()
        .filter(|r| r.kind == RemoteKind::DinRange && r.target_device.is_none())
        .collect()
}

fn range_of(record: &RemoteRecord) -> DinRange {
    serde_json::from_str::<DinRangeRecord>(&record.body)
        .unwrap()
        .range
}

/// What the hub does for a tablet on the bus: hands it `count` numbers of its lease from
/// `skip` on, as a range of the tablet's own store.
fn sub_lease(tablet: &Device, lease: &RemoteRecord, skip: u32, count: u32) {
    let range = range_of(lease);
    let first = range.first() + skip;
    let sub = DinRange::new(
        range.facility().clone(),
        range.year(),
        first,
        first + count - 1,
    )
    .unwrap();
    let record = DinRangeRecord {
        id: Uuid::now_v7(),
        range: sub,
        source: DinRangeSource::Leased,
        device_id: tablet.id,
        granted_at: chrono::Utc::now(),
    };
    let remote = RemoteRecord {
        kind: RemoteKind::DinRange,
        id: record.id,
        origin_device: lease.origin_device,
        hlc: lease.hlc,
        body: serde_json::to_string(&record).unwrap(),
        field_clocks: None,
        target_device: None,
    };
    let mut store = tablet.store.lock().unwrap();
    let cursor = store.pull_cursor().unwrap();
    store.apply_remote(&[remote], cursor).unwrap();
}

async fn a_hub_relays_a_tablets_log_under_its_own_id_and_the_tablet_may_enroll_later(
    backend: Backend,
) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let hub = enroll_hub(&ts, "BUS-07-HUB").await;
    let listed = ts.storage.devices().await.unwrap();
    let row = listed.iter().find(|d| d.device_id == hub.id).unwrap();
    assert_eq!((row.kind, row.via_hub), (DeviceKind::Hub, None));

    let t = bus_tablet("BUS-07-T1");
    let registered = hub.client.register_tablet(t.id, &t.name).await.unwrap();
    assert_eq!((registered.device_id, registered.held_seq), (t.id, 0));
    // Idempotent.
    let again = hub.client.register_tablet(t.id, &t.name).await.unwrap();
    assert_eq!(again.held_seq, 0);

    let lease = hub_lease(&hub, 0).await;
    sub_lease(&t, &lease[0], 0, 50);
    collect_donations(&t, 2);
    let log = entries(&t);
    let relay = hub.client.relaying_for(t.id);
    let (answer, _) = relay.push(log.clone()).await.unwrap();
    assert_eq!(
        (answer.stored as usize, answer.held_seq),
        (log.len(), t.last_seq())
    );
    assert_station_holds_exactly(&ts, &t).await;
    assert!(ts.storage.entries(hub.id).await.unwrap().is_empty());
    let status = relay.status().await.unwrap();
    assert_eq!((status.device_id, status.held_seq), (t.id, t.last_seq()));
    assert_eq!(
        hub.client
            .register_tablet(t.id, &t.name)
            .await
            .unwrap()
            .held_seq,
        t.last_seq()
    );
    let row = ts.storage.device(t.id).await.unwrap().unwrap();
    assert_eq!((row.kind, row.via_hub), (DeviceKind::Tablet, Some(hub.id)));

    // At the yard the tablet enrolls directly with a code: its row, held seq and hub
    // stay, and what it pushes itself is recognised as held.
    let code = new_code(&ts.storage, "BUS-07-T1").await;
    let token = lifebridge_sync::replicator::enroll(&t.store, &client(&ts.url()), &code, &t.name)
        .await
        .unwrap();
    let direct = client(&ts.url()).with_token(token);
    let (answer, _) = direct.push(log).await.unwrap();
    assert_eq!((answer.stored, answer.held_seq), (0, t.last_seq()));
    assert_station_holds_exactly(&ts, &t).await;
    let row = ts.storage.device(t.id).await.unwrap().unwrap();
    assert_eq!(
        (row.held_seq, row.via_hub, row.revoked_at),
        (t.last_seq(), Some(hub.id), None)
    );
    // Still relayed too: the next morning on the bus.
    assert_eq!(relay.status().await.unwrap().held_seq, t.last_seq());
    // Enrolled now, it is not enrolled a second time.
    let code = new_code(&ts.storage, "BUS-07-T1").await;
    assert!(
        lifebridge_sync::replicator::enroll(&t.store, &client(&ts.url()), &code, &t.name)
            .await
            .is_err()
    );
}

async fn a_tablet_that_pushed_directly_is_relayed_afterwards_without_a_duplicate(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let t = enroll(&ts, &url, "BUS-08-T1").await;
    collect_donations(&t, 2);
    let log = entries(&t);
    t.client(&url).push(log.clone()).await.unwrap();
    let hub = enroll_hub(&ts, "BUS-08-HUB").await;
    let registered = hub.client.register_tablet(t.id, &t.name).await.unwrap();
    assert_eq!(registered.held_seq, t.last_seq());
    let relay = hub.client.relaying_for(t.id);
    let (answer, _) = relay.push(log.clone()).await.unwrap();
    assert_eq!((answer.stored, answer.held_seq), (0, t.last_seq()));
    // What the tablet writes next goes through the hub, once.
    collect_donations(&t, 1);
    let next: Vec<LocalChange> = entries(&t).split_off(log.len());
    let (answer, _) = relay.push(next.clone()).await.unwrap();
    assert_eq!(answer.stored as usize, next.len());
    let (answer, _) = t.client(&url).push(next).await.unwrap();
    assert_eq!(answer.stored, 0);
    assert_station_holds_exactly(&ts, &t).await;
}

async fn relays_and_registrations_the_station_does_not_allow_are_refused_and_write_nothing(
    backend: Backend,
) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let (hub1, hub2) = (
        enroll_hub(&ts, "BUS-01-HUB").await,
        enroll_hub(&ts, "BUS-02-HUB").await,
    );
    let plain = enroll(&ts, &url, "BUS-03").await;
    let t = bus_tablet("BUS-01-T1");
    let d = Uuid::now_v7();
    let one = vec![entry(t.id, 1, EntityKind::Donor, d, &donor(d), now_ms())];
    let before = ts.storage.counts().await.unwrap();

    // A tablet the hub never registered.
    let why = relay_refused(hub1.client.relaying_for(t.id).push(one.clone()).await);
    assert!(why.contains(&t.id.to_string()), "{why}");
    // A device that is not a hub: neither relays nor registers.
    let why = relay_refused(
        plain
            .client(&url)
            .relaying_for(t.id)
            .push(one.clone())
            .await,
    );
    assert!(why.contains("BUS-03") && why.contains("--hub"), "{why}");
    relay_refused(plain.client(&url).register_tablet(t.id, &t.name).await);
    // A hub is not a tablet.
    relay_refused(hub1.client.register_tablet(hub2.id, "BUS-02-HUB").await);
    // The header is one device id, and on push and status only.
    let raw = reqwest_client();
    let answer = raw
        .post(format!("{url}/v1/status"))
        .header("authorization", format!("Bearer {}", plain.token))
        .header("lifebridge-relay-for", "BUS-01-T1")
        .json(&lifebridge_protocol::wire::ClientInfo::current())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    let body: ErrorBody = answer.json().await.unwrap();
    assert!(body.message.contains("lifebridge-relay-for"), "{body:?}");
    let (status, body) = station_error(hub1.client.relaying_for(t.id).pull(0, 10, None).await);
    assert_eq!(status, 400);
    assert!(
        body.message.contains("lifebridge-relay-for") && body.message.contains("/v1/pull"),
        "{body:?}"
    );
    assert_eq!(
        ts.storage.counts().await.unwrap(),
        before,
        "nothing written"
    );
    assert!(ts.storage.entries(t.id).await.unwrap().is_empty());

    // Bound to hub 1: hub 2 is told which hub holds it.
    hub1.client.register_tablet(t.id, &t.name).await.unwrap();
    let why = relay_refused(hub2.client.register_tablet(t.id, &t.name).await);
    assert!(
        why.contains(&hub1.name) && why.contains("revoke it first"),
        "{why}"
    );
    relay_refused(hub2.client.relaying_for(t.id).push(one.clone()).await);
    assert!(ts.storage.entries(t.id).await.unwrap().is_empty());

    // Hub 1 revoked: its relays and registrations are refused, the tablet moves.
    ts.storage
        .revoke_device(&hub1.name, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    let why = relay_refused(hub1.client.relaying_for(t.id).push(one.clone()).await);
    assert!(why.contains("revoked"), "{why}");
    relay_refused(hub1.client.register_tablet(Uuid::now_v7(), "X").await);
    assert!(ts.storage.entries(t.id).await.unwrap().is_empty());
    let moved = hub2.client.register_tablet(t.id, &t.name).await.unwrap();
    assert_eq!(moved.held_seq, 0);
    let (answer, _) = hub2
        .client
        .relaying_for(t.id)
        .push(one.clone())
        .await
        .unwrap();
    assert_eq!(answer.stored, 1);
    // Hub 1 is the one revoked; its own requests are those of any revoked device.
    let (status, _) = station_error(hub1.client.status().await);
    assert_eq!(status, 401);

    // A revoked tablet is neither relayed nor registered; its data stays.
    ts.storage
        .revoke_device(&t.id.to_string(), chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    relay_refused(hub2.client.relaying_for(t.id).status().await);
    relay_refused(hub2.client.register_tablet(t.id, &t.name).await);
    assert_eq!(ts.storage.entries(t.id).await.unwrap().len(), 1);
}

fn reqwest_client() -> reqwest::Client {
    // reqwest is built without a default TLS provider; the builder insists on one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn a_relayed_entry_is_checked_exactly_as_the_tablets_own(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    let t = enroll(&ts, &url, "BUS-09-T1").await;
    let hub = enroll_hub(&ts, "BUS-09-HUB").await;
    hub.client.register_tablet(t.id, &t.name).await.unwrap();
    let d = Uuid::now_v7();
    // Stamped by another writer's clock.
    let forged = vec![entry(
        Uuid::now_v7(),
        1,
        EntityKind::Donor,
        d,
        &donor(d),
        now_ms(),
    )];
    let before = ts.storage.counts().await.unwrap();
    let relayed = refused(
        hub.client
            .relaying_for(t.id)
            .push(forged.clone())
            .await
            .map(|(a, _)| a.stored)
            .map_err(SyncError::from),
    );
    assert_eq!(relayed.reason.code, "push_refused.other_writer");
    let direct = refused(
        t.client(&url)
            .push(forged)
            .await
            .map(|(a, _)| a.stored)
            .map_err(SyncError::from),
    );
    assert_eq!(relayed, direct);
    assert_eq!(ts.storage.counts().await.unwrap(), before);
}

async fn a_tablet_numbers_donations_from_its_hubs_lease_and_the_hub_counts_them(backend: Backend) {
    let din = DinConfig {
        facility: "A9999".into(),
        reserve: 10,
        lease_size: 10,
        ..DinConfig::default()
    };
    let Some(ts) = start(backend, Some(din)).await else {
        return;
    };
    let url = ts.url();
    let hub = enroll_hub(&ts, "BUS-10-HUB").await;
    let other = enroll(&ts, &url, "BUS-11").await;
    let (t1, t2) = (bus_tablet("BUS-10-T1"), bus_tablet("BUS-10-T2"));
    hub.client.register_tablet(t1.id, &t1.name).await.unwrap();
    hub.client.register_tablet(t2.id, &t2.name).await.unwrap();
    // Two tablets: the policy's reserve and lease size twice over.
    let lease = hub_lease(&hub, 0).await;
    assert_eq!(lease.len(), 1);
    let range = range_of(&lease[0]);
    assert_eq!(range.len(), 20);

    let (d1, d2) = (Uuid::now_v7(), Uuid::now_v7());
    let first = range.iter().next().unwrap();
    let ok = donation(d1, first.clone());
    let now = now_ms();
    let (answer, _) = hub
        .client
        .relaying_for(t1.id)
        .push(vec![
            entry(t1.id, 1, EntityKind::Donor, d1, &donor(d1), now),
            entry(t1.id, 2, EntityKind::Donation, ok.id, &ok, now),
        ])
        .await
        .unwrap();
    assert_eq!(answer.stored, 2);
    let push = |device: Uuid, entries: Vec<LocalChange>| {
        let relay = hub.client.relaying_for(device);
        async move {
            relay
                .push(entries)
                .await
                .map(|(a, _)| a.stored)
                .map_err(SyncError::from)
        }
    };
    // Another device's lease is not the hub's.
    let foreign = common::records::leased_din(&other, 0);
    let theirs = donation(d1, foreign.clone());
    let why = refused(
        push(
            t1.id,
            vec![entry(
                t1.id,
                3,
                EntityKind::Donation,
                theirs.id,
                &theirs,
                now_ms(),
            )],
        )
        .await,
    );
    assert_eq!(why.reason.code, "push_refused.din_not_leased");
    // A number of the hub's lease is used once, by one of its tablets: T1 is its user.
    let twice = donation(d2, first);
    let now = now_ms();
    let why = refused(
        push(
            t2.id,
            vec![
                entry(t2.id, 1, EntityKind::Donor, d2, &donor(d2), now),
                entry(t2.id, 2, EntityKind::Donation, twice.id, &twice, now),
            ],
        )
        .await,
    );
    assert_eq!(why.reason.code, "push_refused.din_hub_used_elsewhere");
    assert!(
        why.reason
            .render(lifebridge_domain::messages::Lang::En)
            .contains(&t1.id.to_string())
    );
    assert!(ts.storage.entries(t2.id).await.unwrap().is_empty());

    // The station counts T1's number against the hub: reporting 19 left is believed
    // (20 leased, 1 used), so the hub is below its reserve of 20 and gets a new lease.
    let more = hub_lease(&hub, 19).await;
    assert_eq!(more.len(), 2, "the first lease and a new one");
}

async fn a_hubs_pull_carries_what_is_addressed_to_its_tablets_and_no_one_elses_does(
    backend: Backend,
) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let url = ts.url();
    // Enrolled directly, T holds a lease addressed to it.
    let t = enroll(&ts, &url, "BUS-12-T1").await;
    let other = enroll(&ts, &url, "BUS-13").await;
    let hub = enroll_hub(&ts, "BUS-12-HUB").await;
    hub.client.register_tablet(t.id, &t.name).await.unwrap();
    let leases_of = |records: &[RemoteRecord]| -> Vec<(Uuid, Option<Uuid>)> {
        records
            .iter()
            .filter(|r| r.kind == RemoteKind::DinRange)
            .map(|r| {
                let lease: DinRangeRecord = serde_json::from_str(&r.body).unwrap();
                (lease.device_id, r.target_device)
            })
            .collect()
    };
    let hub_page = hub.client.pull(0, 2000, Some(0)).await.unwrap();
    let mut seen = leases_of(&hub_page.records);
    seen.sort();
    let mut expected = vec![(t.id, Some(t.id)), (hub.id, None)];
    expected.sort();
    assert_eq!(
        seen, expected,
        "T's lease named for T; the hub's own unnamed"
    );
    assert!(
        hub_page
            .records
            .iter()
            .filter(|r| r.kind != RemoteKind::DinRange)
            .all(|r| r.target_device.is_none())
    );
    let other_page = other.client(&url).pull(0, 2000, None).await.unwrap();
    assert_eq!(leases_of(&other_page.records), [(other.id, None)]);
    let own_page = t.client(&url).pull(0, 2000, None).await.unwrap();
    assert_eq!(leases_of(&own_page.records), [(t.id, None)]);
}

/// A station written before migration 0012 (its devices, an unused enrollment code)
/// opened by this build: every device keeps working as a tablet.
async fn migration_0012_keeps_every_device_of_a_0011_station_working(backend: Backend) {
    use lifebridge_station::migrations::{MIGRATIONS, checksum, create_table_sql};
    let dir = tempfile::tempdir().unwrap();
    let (id, token, code) = (
        Uuid::now_v7(),
        auth::new_token(),
        auth::new_enrollment_code(),
    );
    let now = chrono::Utc::now();
    let mut statements = vec![create_table_sql().to_owned()];
    for m in MIGRATIONS.iter().filter(|m| m.version < 12) {
        statements.push(m.sql.to_owned());
        statements.push(format!(
            "INSERT INTO station_migration (version, name, sha256, applied_at) VALUES ({}, '{}', '{}', 'then')",
            m.version,
            m.name,
            checksum(m.sql)
        ));
    }
    statements.push(format!(
        "INSERT INTO device (device_id, name, token_hash, enrolled_at) VALUES ('{id}', 'OLD-BUS', '{}', '{}')",
        auth::token_hash(&token),
        now.to_rfc3339()
    ));
    statements.push(format!(
        "INSERT INTO enrollment (code_hash, name, created_at, expires_at) VALUES ('{}', 'OLD-CODE', '{}', '{}')",
        auth::enrollment_code_hash(&code),
        now.to_rfc3339(),
        (now + chrono::Duration::hours(1)).to_rfc3339()
    ));
    let mut config = lifebridge_station::config::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("station"),
        din: Some(common::test_din()),
        ..Default::default()
    };
    match backend {
        Backend::Sqlite => {
            std::fs::create_dir_all(&config.data_dir).unwrap();
            let conn = rusqlite::Connection::open(config.data_dir.join("station.db")).unwrap();
            for s in &statements {
                conn.execute_batch(s).unwrap();
            }
        }
        Backend::Postgres => {
            let Some(url) = common::pg_database().await else {
                return;
            };
            let (pg, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            for s in &statements {
                pg.batch_execute(s).await.unwrap();
            }
            config.database_url = Some(url);
        }
    }
    let storage = open_storage(&config).await.unwrap();
    let station = server::start(config.clone(), storage.clone())
        .await
        .unwrap();
    let ts = TestStation {
        station: Some(station),
        storage,
        config,
        dir,
    };
    let url = ts.url();
    let old = ts.storage.device(id).await.unwrap().unwrap();
    assert_eq!(
        (old.kind, old.via_hub, old.held_seq),
        (DeviceKind::Tablet, None, 0)
    );
    // The old device pushes, pulls and asks its status as before.
    let device = client(&url).with_token(token);
    let d = Uuid::now_v7();
    let (answer, _) = device
        .push(vec![entry(
            id,
            1,
            EntityKind::Donor,
            d,
            &donor(d),
            now_ms(),
        )])
        .await
        .unwrap();
    assert_eq!(answer.held_seq, 1);
    assert_eq!(device.status().await.unwrap().held_seq, 1);
    let page = device.pull(0, 100, Some(0)).await.unwrap();
    assert!(page.records.iter().any(|r| r.kind == RemoteKind::DinRange));
    // A code made before 0012 enrolls a tablet.
    let fresh = Uuid::now_v7();
    client(&url).enroll(&code, fresh, "OLD-CODE").await.unwrap();
    let row = ts.storage.device(fresh).await.unwrap().unwrap();
    assert_eq!(row.kind, DeviceKind::Tablet);
    // And a hub enrolled now relays the old device.
    let hub = enroll_hub(&ts, "NEW-HUB").await;
    assert_eq!(
        hub.client
            .register_tablet(id, "OLD-BUS")
            .await
            .unwrap()
            .held_seq,
        1
    );
}

both_backends! {
    a_hub_relays_a_tablets_log_under_its_own_id_and_the_tablet_may_enroll_later =>
        super::a_hub_relays_a_tablets_log_under_its_own_id_and_the_tablet_may_enroll_later;
    a_tablet_that_pushed_directly_is_relayed_afterwards_without_a_duplicate =>
        super::a_tablet_that_pushed_directly_is_relayed_afterwards_without_a_duplicate;
    relays_and_registrations_the_station_does_not_allow_are_refused_and_write_nothing =>
        super::relays_and_registrations_the_station_does_not_allow_are_refused_and_write_nothing;
    a_relayed_entry_is_checked_exactly_as_the_tablets_own =>
        super::a_relayed_entry_is_checked_exactly_as_the_tablets_own;
    a_tablet_numbers_donations_from_its_hubs_lease_and_the_hub_counts_them =>
        super::a_tablet_numbers_donations_from_its_hubs_lease_and_the_hub_counts_them;
    a_hubs_pull_carries_what_is_addressed_to_its_tablets_and_no_one_elses_does =>
        super::a_hubs_pull_carries_what_is_addressed_to_its_tablets_and_no_one_elses_does;
    migration_0012_keeps_every_device_of_a_0011_station_working =>
        super::migration_0012_keeps_every_device_of_a_0011_station_working;
}

/// `lifebridge-station device enroll --hub` makes a hub code; `device list` shows each
/// device's kind and the hub a tablet is relayed through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_command_enrolls_hubs_and_lists_kinds_and_hubs() {
    let ts = start(Backend::Sqlite, None).await.unwrap();
    let admin = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lifebridge-station"))
            .args(["--lang", "en", "--data-dir"])
            .arg(&ts.config.data_dir)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    // The code is the first line printed.
    let code = |printed: String| printed.lines().next().unwrap().trim().to_owned();
    let printed = admin(&["device", "enroll", "--name", "BUS-07-HUB", "--hub"]);
    let (id, hub) = redeem(&ts.url(), &code(printed), "BUS-07-HUB").await;
    let t = bus_tablet("BUS-07-T1");
    hub.register_tablet(t.id, &t.name).await.unwrap();
    let list = admin(&["device", "list"]);
    let line = |id: Uuid| {
        list.lines()
            .find(|l| l.starts_with(&id.to_string()))
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    let hub_line = line(id);
    assert_eq!(
        (hub_line[2], hub_line.last()),
        ("hub", Some(&"-")),
        "{list}"
    );
    let tablet_line = line(t.id);
    assert_eq!(
        (tablet_line[2], tablet_line.last()),
        ("tablet", Some(&"BUS-07-HUB")),
        "{list}"
    );
    // A tablet code enrolls a tablet, which relays for no one.
    let printed = admin(&["device", "enroll", "--name", "BUS-08"]);
    let (_, plain) = redeem(&ts.url(), &code(printed), "BUS-08").await;
    let why = relay_refused(plain.register_tablet(Uuid::now_v7(), "X").await);
    assert!(why.contains("not enrolled as a hub"), "{why}");
}
