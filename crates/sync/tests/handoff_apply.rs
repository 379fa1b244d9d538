//! A hand-off the station signed, applied on the bus: stored once, listed under each
//! manifest it covers, never in the device's change log; a record whose body names
//! another id is skipped, not stored.
#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use lifebridge_domain::cold_chain::Signatory;
use lifebridge_domain::handoff::{HandoffRecord, Tally};
use lifebridge_domain::hlc::Hlc;
use lifebridge_protocol::records::{RemoteKind, RemoteRecord};
use lifebridge_store::{Store, StoreKey};
use uuid::Uuid;

fn record(manifests: Vec<Uuid>, device: Uuid, minute: u32) -> HandoffRecord {
    HandoffRecord {
        id: Uuid::now_v7(),
        manifest_ids: manifests,
        device_ids: vec![device],
        site_name: "人民广场".into(),
        receiver: Signatory {
            staff_id: Uuid::now_v7(),
            name: "赵敏".into(),
        },
        driver: Signatory {
            staff_id: Uuid::now_v7(),
            name: "李司机".into(),
        },
        signed_at: Utc.with_ymd_and_hms(2026, 5, 1, 9, minute, 0).unwrap(),
        tally: Tally {
            expected: 2,
            received: 2,
            ..Tally::default()
        },
        received: vec![],
        discrepancies: vec![],
        box_decisions: vec![],
        units: vec![],
        manual_labels: vec![],
    }
}

fn remote(r: &HandoffRecord, id: Uuid, station: Uuid) -> RemoteRecord {
    RemoteRecord {
        kind: RemoteKind::Handoff,
        id,
        origin_device: station,
        hlc: Hlc {
            wall_ms: 1,
            counter: 0,
            node: station,
        },
        body: serde_json::to_string(r).unwrap(),
        field_clocks: None,
        target_device: None,
    }
}

#[test]
fn handoffs_are_stored_once_per_record_and_listed_by_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(
        &dir.path().join("bus.db"),
        &StoreKey::new("correct horse battery").unwrap(),
        "BUS",
    )
    .unwrap();
    let station = Uuid::now_v7();
    let (m1, m2) = (Uuid::now_v7(), Uuid::now_v7());
    let early = record(vec![m1], store.device_id(), 0);
    let late = record(vec![m1, m2], store.device_id(), 30);
    let seq_before = store.last_change_seq().unwrap();
    let page = vec![
        remote(&early, early.id, station),
        remote(&late, late.id, station),
    ];
    let report = store.apply_remote(&page, 2).unwrap();
    assert_eq!(report.applied, 2);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    // The same page again changes nothing.
    let again = store.apply_remote(&page, 2).unwrap();
    assert_eq!((again.applied, again.unchanged), (0, 2));
    assert_eq!(store.last_change_seq().unwrap(), seq_before);

    let for_m1 = store.manifest_handoffs(m1).unwrap();
    assert_eq!(for_m1, vec![late.clone(), early.clone()], "latest first");
    assert_eq!(store.manifest_handoffs(m2).unwrap(), vec![late.clone()]);
    assert!(store.manifest_handoffs(Uuid::now_v7()).unwrap().is_empty());
    assert_eq!(store.recent_handoffs(1).unwrap(), vec![late]);

    let stray = record(vec![m2], store.device_id(), 45);
    let report = store
        .apply_remote(&[remote(&stray, Uuid::now_v7(), station)], 3)
        .unwrap();
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(store.manifest_handoffs(m2).unwrap().len(), 1);
}
