//! Several workstations, one drive (issue 10): the tablets of a bus share the drive,
//! the queue, the physician's decisions and the chair's collections through their hub,
//! with no station reachable. A city station keeps drives, visits and screenings.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::{Backend, Device, TestStation, enroll, start};
use lifebridge_domain::entities::{
    Arm, BagSet, BagSetKind, Outcome, PhysicianDecision, RecordId, Screening,
};
use lifebridge_station::hub::store::Upstream;
use lifebridge_store::drive_day::{FinishCollection, QueueStatus, StartCollection};
use lifebridge_store::screening::NewDeferral;
use lifebridge_store::{Actor, Store, StoreError};

/// A hub on `backend` whose station is out of reach (its link names a closed port),
/// holding DINs 1..=9999 of A9999 the station leased it, so its tablets can collect.
async fn offline_hub(backend: Backend) -> Option<TestStation> {
    let hub = start(backend, None).await?;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let hub_id = hub.storage.station_id().await.unwrap();
    let link = Upstream {
        url,
        cert_pem: None,
        device_id: hub_id,
        name: "BUS-07-HUB".into(),
        token: "hub-token".into(),
        pull_cursor: 0,
        paused: false,
        enrolled_at: Utc::now().to_rfc3339(),
    };
    assert!(hub.storage.hub_set_upstream(link).await.unwrap());
    let lease = common::station_lease(hub_id, 1, 9999);
    hub.storage
        .hub_import(vec![lease], 1, Utc::now())
        .await
        .unwrap();
    Some(hub)
}

fn staff(s: &Store, name: &str) -> RecordId {
    s.staff_by_name(name).unwrap().unwrap().id
}

const NURSE: &str = "登记护士 李敏";
const PHYSICIAN: &str = "体检医生 王强";
const PHLEBOTOMIST: &str = "采血护士 张静";

/// The demo crew on a tablet, and the open drive of today it works in: the one it
/// holds (pulled from the crew lead's tablet), or a new one when it holds none.
fn crew_and_drive(t: &Device) -> RecordId {
    let mut s = t.store.lock().unwrap();
    lifebridge_store::demo::seed(&mut s, 0, |_| Ok(())).unwrap();
    let open: Vec<RecordId> = s
        .drives_on(lifebridge_store::china_today())
        .unwrap()
        .into_iter()
        .filter(|d| d.ended_at.is_none())
        .map(|d| d.id)
        .collect();
    assert_eq!(open.len(), 1, "{}: one open drive today", t.name);
    open[0]
}

fn register_and_check_in(t: &Device, drive: RecordId) -> RecordId {
    let mut s = t.store.lock().unwrap();
    let nurse = staff(&s, NURSE);
    common::register_and_check_in(&mut s, nurse, drive, "BUS")
}

fn accept(t: &Device, donor: RecordId, drive: RecordId) -> Screening {
    let mut s = t.store.lock().unwrap();
    let physician = staff(&s, PHYSICIAN);
    let form = common::accepted_form(&s, donor, drive);
    s.record_screening(
        Actor::staff(physician),
        form.into_new(PhysicianDecision::Accept, None),
    )
    .unwrap()
}

fn start_collection(t: &Device, screening: RecordId) -> Result<RecordId, StoreError> {
    let mut s = t.store.lock().unwrap();
    let phlebotomist = staff(&s, PHLEBOTOMIST);
    s.start_collection(
        Actor::staff(phlebotomist),
        StartCollection {
            screening_id: screening,
            bag_set: BagSet {
                kind: BagSetKind::Double,
                lot: "LOT-1".into(),
            },
            planned_volume_ml: 400,
            phlebotomist_id: phlebotomist,
            arm: Arm::Left,
        },
    )
    .map(|d| d.id)
}

/// The queue as a tablet shows it: each donor's state and who screened them.
fn queue(t: &Device, drive: RecordId) -> Vec<(RecordId, QueueStatus, Option<RecordId>)> {
    t.store
        .lock()
        .unwrap()
        .chair_queue(drive)
        .unwrap()
        .into_iter()
        .map(|e| (e.donor.id, e.status, e.screening.map(|s| s.physician_id)))
        .collect()
}

async fn sync(hub: &TestStation, tablets: &[&Device]) {
    for t in tablets {
        t.replicator(&hub.url()).sync_once().await.unwrap();
    }
}

/// Registration on A, screening on B, collection on C: one visit, one queue.
async fn registration_screening_and_collection_on_three_tablets(backend: Backend) {
    let Some(hub) = offline_hub(backend).await else {
        return;
    };
    let a = enroll(&hub, &hub.url(), "TAB-A-REGISTRATION").await;
    let b = enroll(&hub, &hub.url(), "TAB-B-PHYSICIAN").await;
    let c = enroll(&hub, &hub.url(), "TAB-C-CHAIR").await;
    // The crew lead opens the drive on A; B and C join it after one pull.
    let drive = crew_and_drive(&a);
    let donor = register_and_check_in(&a, drive);
    sync(&hub, &[&a, &b, &c]).await;
    assert_eq!(crew_and_drive(&b), drive, "B works in A's drive");
    assert_eq!(crew_and_drive(&c), drive, "C works in A's drive");
    assert_eq!(queue(&b, drive), [(donor, QueueStatus::Waiting, None)]);
    {
        let mut s = b.store.lock().unwrap();
        let nurse = staff(&s, NURSE);
        let second = s.start_drive(
            Actor::staff(nurse),
            lifebridge_store::records::NewDrive {
                site_name: "另一个采血点".into(),
                site_kind: lifebridge_domain::entities::SiteKind::Vehicle,
                vehicle: Some("BUS-07".into()),
                date: lifebridge_store::china_today(),
                crew: vec![],
            },
        );
        match second.unwrap_err() {
            StoreError::Refused { message, .. } => {
                assert_eq!(message.code, "sync.drive_open_elsewhere");
            }
            other => panic!("{other:?}"),
        }
    }

    let screening = accept(&b, donor, drive);
    let physician = screening.physician_id;
    sync(&hub, &[&b, &a, &c]).await;
    for t in [&a, &b, &c] {
        assert_eq!(
            queue(t, drive),
            [(donor, QueueStatus::Screened, Some(physician))],
            "{}",
            t.name
        );
    }

    // Each screen says who decided, and that it was decided on another tablet.
    let shown = |t: &Device| {
        let e = t
            .store
            .lock()
            .unwrap()
            .chair_queue(drive)
            .unwrap()
            .remove(0);
        (e.recorded_by, e.recorded_elsewhere)
    };
    assert_eq!(shown(&b), (Some(PHYSICIAN.to_owned()), false));
    assert_eq!(shown(&a), (None, true), "B's own account is not on A");
    let donation = start_collection(&c, screening.id).unwrap();
    sync(&hub, &[&c, &a, &b]).await;
    for t in [&a, &b, &c] {
        assert_eq!(queue(t, drive)[0].1, QueueStatus::OnChair, "{}", t.name);
    }
    // One writer per record: only the chair that started the collection finishes it,
    // only the tablet that opened the drive ends it.
    let finish = |s: &mut Store| {
        let phlebotomist = staff(s, PHLEBOTOMIST);
        s.finish_collection(
            Actor::staff(phlebotomist),
            FinishCollection {
                donation_id: donation,
                ended_at: None,
                collected_volume_ml: 400,
                reactions: vec![],
                outcome: Outcome::Complete,
            },
        )
    };
    let refused = |e: StoreError| match e {
        StoreError::Refused { message, .. } => message.code,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        refused(finish(&mut a.store.lock().unwrap()).unwrap_err()),
        "sync.written_elsewhere"
    );
    {
        let mut s = b.store.lock().unwrap();
        let physician = staff(&s, PHYSICIAN);
        assert_eq!(
            refused(s.end_drive(Actor::staff(physician), drive).unwrap_err()),
            "sync.written_elsewhere"
        );
    }
    finish(&mut c.store.lock().unwrap()).unwrap();
    sync(&hub, &[&c, &a, &b]).await;
    for t in [&a, &b, &c] {
        assert_eq!(
            queue(t, drive),
            [(donor, QueueStatus::Done, Some(physician))],
            "{}: the chair's later version replaced the earlier",
            t.name
        );
        let s = t.store.lock().unwrap();
        assert!(s.check().unwrap().is_ok(), "{}", t.name);
    }

    // A second physician's tablet screening the same visit is told who decided.
    let donor2 = register_and_check_in(&a, drive);
    sync(&hub, &[&a, &b, &c]).await;
    let first = accept(&b, donor2, drive);
    sync(&hub, &[&b, &c]).await;
    let second = {
        let mut s = c.store.lock().unwrap();
        lifebridge_store::demo::seed(&mut s, 0, |_| Ok(())).unwrap();
        let physician = staff(&s, PHYSICIAN);
        let form = common::accepted_form(&s, donor2, drive);
        s.record_screening(
            Actor::staff(physician),
            form.into_new(PhysicianDecision::Accept, None),
        )
        .unwrap_err()
    };
    match second {
        StoreError::Refused { message, .. } => {
            assert_eq!(message.code, "sync.screened_elsewhere");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(queue(&c, drive)[1].2, Some(first.physician_id));
}

/// A deferral recorded on the physician's tablet after accepting the donor stops the
/// chair on another tablet: the store refuses the collection, not only the screen.
async fn a_deferral_on_one_tablet_stops_the_chair_on_another(backend: Backend) {
    let Some(hub) = offline_hub(backend).await else {
        return;
    };
    let a = enroll(&hub, &hub.url(), "TAB-A").await;
    let b = enroll(&hub, &hub.url(), "TAB-B").await;
    let c = enroll(&hub, &hub.url(), "TAB-C").await;
    let drive = crew_and_drive(&a);
    let donor = register_and_check_in(&a, drive);
    sync(&hub, &[&a, &b, &c]).await;
    crew_and_drive(&b);
    crew_and_drive(&c);
    let screening = accept(&b, donor, drive);
    {
        let mut s = b.store.lock().unwrap();
        let physician = staff(&s, PHYSICIAN);
        s.record_deferral(
            Actor::staff(physician),
            NewDeferral {
                donor_id: donor,
                code: "COMMON_COLD".into(),
                reason: "told the rapid-test corner about a fever".into(),
                start: lifebridge_store::china_today(),
                until: None,
            },
        )
        .unwrap();
    }
    sync(&hub, &[&b, &c]).await;
    match start_collection(&c, screening.id).unwrap_err() {
        StoreError::Refused { field, message } => {
            assert_eq!(field, "screening_id");
            assert_eq!(message.code, "chair.deferred_after_screening");
            assert_eq!(
                message.params.get("code"),
                Some(&lifebridge_domain::messages::Param::Text(
                    "COMMON_COLD".into()
                ))
            );
        }
        other => panic!("{other:?}"),
    }
}

/// A city station is not a hub: what the tablets share on a bus stays at the station.
async fn a_city_station_keeps_drives_visits_and_screenings(backend: Backend) {
    let Some(station) = start(backend, None).await else {
        return;
    };
    let a = enroll(&station, &station.url(), "VAN-1").await;
    let b = enroll(&station, &station.url(), "VAN-2").await;
    let drive = crew_and_drive(&a);
    let donor = register_and_check_in(&a, drive);
    accept(&a, donor, drive);
    a.replicator(&station.url()).sync_once().await.unwrap();
    b.replicator(&station.url()).sync_once().await.unwrap();
    let s = b.store.lock().unwrap();
    let count = |table: &str| -> i64 {
        s.connection()
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count("donor"), 1, "the donor travels");
    assert_eq!(
        (count("drive"), count("visit"), count("screening")),
        (0, 0, 0)
    );
}

both_backends! {
    registration_screening_and_collection => crate::registration_screening_and_collection_on_three_tablets;
    deferral_stops_the_chair => crate::a_deferral_on_one_tablet_stops_the_chair_on_another;
    city_station_keeps_the_bus_records => crate::a_city_station_keeps_drives_visits_and_screenings;
}
