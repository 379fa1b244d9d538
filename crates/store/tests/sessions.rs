//! What a tablet session rests on in the store: a closed account does nothing more,
//! and the passphrase of an open store can still be checked.
#![allow(clippy::unwrap_used)]

use lifebridge_domain::entities::SiteKind;
use lifebridge_domain::entities::{Role, Staff};
use lifebridge_domain::hlc::Hlc;
use lifebridge_protocol::records::{RemoteKind, RemoteRecord, StaffAccount};
use lifebridge_store::file_export::FileExport;
use lifebridge_store::records::{NewDrive, NewStaff};
use lifebridge_store::{Actor, Store, StoreError, StoreKey};
use uuid::Uuid;

fn key(passphrase: &str) -> StoreKey {
    StoreKey::new(passphrase).unwrap()
}

/// The station's record of a supervisor account, open or closed, stamped `wall_ms`.
fn issued(id: Uuid, station: Uuid, active: bool, wall_ms: u64) -> RemoteRecord {
    RemoteRecord {
        kind: RemoteKind::Staff,
        id,
        origin_device: station,
        hlc: Hlc {
            wall_ms,
            counter: 0,
            node: station,
        },
        body: serde_json::to_string(&StaffAccount {
            staff: Staff {
                id,
                display_name: "护士长 孙艳".into(),
                roles: vec![Role::Supervisor],
                active,
            },
            pin_hash: lifebridge_domain::pin::hash_pin("753186", &[3; 16]).unwrap(),
        })
        .unwrap(),
        field_clocks: None,
        target_device: None,
    }
}

/// A new store holding one station-issued supervisor account, open or closed.
struct Tablet {
    dir: tempfile::TempDir,
    store: Store,
    id: Uuid,
    station: Uuid,
    now: u64,
}

impl Tablet {
    fn new(active: bool) -> Tablet {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            Store::create(&dir.path().join("device.db"), &key("correct horse"), "BUS").unwrap();
        let (id, station) = (Uuid::now_v7(), Uuid::now_v7());
        let now = chrono::Utc::now().timestamp_millis() as u64;
        store
            .apply_remote(&[issued(id, station, active, now)], 1)
            .unwrap();
        Tablet {
            dir,
            store,
            id,
            station,
            now,
        }
    }

    /// The station closes the account; the tablet pulls it while it is signed in.
    fn close(&mut self) {
        let closed = issued(self.id, self.station, false, self.now + 1);
        self.store.apply_remote(&[closed], 2).unwrap();
    }
}

fn newcomer(name: &str) -> NewStaff {
    NewStaff {
        display_name: name.into(),
        roles: vec![Role::Registration],
        pin: "246813".into(),
    }
}

#[test]
fn a_closed_account_is_refused_at_its_next_action() {
    let mut tablet = Tablet::new(true);
    let id = tablet.id;
    let store = &mut tablet.store;
    store.add_staff(Actor::staff(id), newcomer("吴静")).unwrap();
    tablet.close();
    let store = &mut tablet.store;
    assert!(!store.staff_member(id).unwrap().active);
    let before = store.last_change_seq().unwrap();
    let err = store
        .add_staff(Actor::staff(id), newcomer("赵雷"))
        .unwrap_err();
    assert!(matches!(err, StoreError::AccountClosed { .. }), "{err}");
    assert_eq!(
        store.last_change_seq().unwrap(),
        before,
        "nothing was written"
    );
}

#[test]
fn a_closed_account_starts_no_drive_and_joins_no_crew() {
    // `_dir` keeps the folder until the test ends.
    let Tablet {
        dir: _dir,
        mut store,
        id,
        ..
    } = Tablet::new(false);
    let nurse = store.add_staff(Actor::system(), newcomer("吴静")).unwrap();
    let drive = |crew: Vec<Uuid>| NewDrive {
        site_name: "城关中学".into(),
        site_kind: SiteKind::Vehicle,
        vehicle: Some("BUS-07".into()),
        date: chrono::Utc::now().date_naive(),
        crew,
    };
    let before = store.last_change_seq().unwrap();
    for (starter, crew) in [(id, vec![]), (nurse.id, vec![id])] {
        let err = store
            .start_drive(Actor::staff(starter), drive(crew))
            .unwrap_err();
        assert!(matches!(err, StoreError::AccountClosed { .. }), "{err}");
    }
    assert_eq!(store.last_change_seq().unwrap(), before);
    store
        .start_drive(Actor::staff(nurse.id), drive(vec![]))
        .unwrap();
}

#[test]
fn a_file_export_is_an_audited_action_of_an_open_account() {
    let mut tablet = Tablet::new(true);
    let (id, dir) = (tablet.id, tablet.dir.path().to_owned());
    let store = &mut tablet.store;
    let drive = Uuid::now_v7();
    let file = dir.join("exports").join("drive.json");
    store
        .record_file_export(Actor::staff(id), FileExport::DriveSummary, drive, &file)
        .unwrap();
    let audit = lifebridge_store::audit::entries(store.connection()).unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.action, "file.export");
    assert_eq!(last.staff_id.as_deref(), Some(id.to_string().as_str()));
    assert!(last.detail.contains("drive_summary"), "{}", last.detail);
    assert!(
        last.detail.contains(&file.display().to_string()),
        "{}",
        last.detail
    );
    // The manifest is the driver's to export, not the registration nurse's.
    let nurse = store.add_staff(Actor::system(), newcomer("吴静")).unwrap();
    assert!(matches!(
        store.record_file_export(
            Actor::staff(nurse.id),
            FileExport::ManifestPdf,
            drive,
            &file
        ),
        Err(StoreError::NotPermitted { .. })
    ));
    let audit = lifebridge_store::audit::entries(store.connection()).unwrap();
    tablet.close();
    let store = &mut tablet.store;
    let err = store
        .record_file_export(Actor::staff(id), FileExport::DriveSummary, drive, &file)
        .unwrap_err();
    assert!(matches!(err, StoreError::AccountClosed { .. }), "{err}");
    assert_eq!(
        lifebridge_store::audit::entries(store.connection())
            .unwrap()
            .len(),
        audit.len() + 1,
        "only the pulled page was audited since"
    );
}

#[test]
fn the_key_of_an_open_store_can_be_checked_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    let _open = Store::create(&path, &key("correct horse"), "BUS").unwrap();
    Store::check_key(&path, &key("correct horse")).unwrap();
    assert!(matches!(
        Store::check_key(&path, &key("wrong horse")),
        Err(StoreError::WrongKey(_))
    ));
    let missing = dir.path().join("elsewhere.db");
    assert!(matches!(
        Store::check_key(&missing, &key("correct horse")),
        Err(StoreError::NotFound(_))
    ));
    assert!(!missing.exists(), "checking never creates a store");
}
