//! What a tablet session rests on in the store: a closed account does nothing more,
//! and the passphrase of an open store can still be checked.
#![allow(clippy::unwrap_used)]

use lifebridge_domain::entities::{Role, Staff};
use lifebridge_domain::hlc::Hlc;
use lifebridge_protocol::records::{RemoteKind, RemoteRecord, StaffAccount};
use lifebridge_store::records::NewStaff;
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
            pin_hash: lifebridge_domain::pin::hash_pin("7531", &[3; 16]).unwrap(),
        })
        .unwrap(),
        field_clocks: None,
    }
}

#[test]
fn a_closed_account_is_refused_at_its_next_action() {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        Store::create(&dir.path().join("device.db"), &key("correct horse"), "BUS").unwrap();
    let (id, station) = (Uuid::now_v7(), Uuid::now_v7());
    let now = chrono::Utc::now().timestamp_millis() as u64;
    store
        .apply_remote(&[issued(id, station, true, now)], 1)
        .unwrap();
    let newcomer = |name: &str| NewStaff {
        display_name: name.into(),
        roles: vec![Role::Registration],
        pin: "2468".into(),
    };
    store.add_staff(Actor::staff(id), newcomer("吴静")).unwrap();
    // Closed at the station while still signed in on the tablet.
    store
        .apply_remote(&[issued(id, station, false, now + 1)], 2)
        .unwrap();
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
