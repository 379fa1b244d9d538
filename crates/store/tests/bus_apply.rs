//! Applying the records the tablets of a bus share (drive, visit, screening, release,
//! and later versions of a donation): one writer per record, the later version by clock,
//! never an edit of what this device wrote, a malformed record named and skipped.
#![allow(clippy::unwrap_used)]

use lifebridge_domain::entities::{Donation, EntityKind, Outcome, RecordId};
use lifebridge_domain::hlc::Hlc;
use lifebridge_protocol::records::{LocalChange, RemoteKind, RemoteRecord};
use lifebridge_store::drive_day::QueueStatus;
use lifebridge_store::{Store, StoreKey};
use uuid::Uuid;

fn store(dir: &std::path::Path, name: &str) -> Store {
    Store::create(
        &dir.join(format!("{name}.db")),
        &StoreKey::new("correct horse battery").unwrap(),
        name,
    )
    .unwrap()
}

/// What a hub sends of `entry`, written by `origin`.
fn remote(origin: Uuid, entry: &LocalChange) -> Option<RemoteRecord> {
    let kind = match entry.entity {
        EntityKind::Donor => RemoteKind::Donor,
        EntityKind::Drive => RemoteKind::Drive,
        EntityKind::Visit => RemoteKind::Visit,
        EntityKind::Screening => RemoteKind::Screening,
        EntityKind::Donation => RemoteKind::Donation,
        EntityKind::Deferral => RemoteKind::Deferral,
        EntityKind::DonationRelease => RemoteKind::DonationRelease,
        _ => return None,
    };
    Some(RemoteRecord {
        kind,
        id: entry.entity_id,
        origin_device: origin,
        hlc: entry.hlc,
        body: entry.body.clone(),
        field_clocks: entry.field_clocks.clone(),
        target_device: None,
    })
}

/// Tablet A's drive with one donor checked in, screened, collected and released, as
/// the hub sends it to the other tablets.
fn tablet_a(dir: &std::path::Path) -> (Store, Vec<RemoteRecord>) {
    let mut a = store(dir, "TAB-A");
    lifebridge_store::demo::seed(&mut a, 1, |_| Ok(())).unwrap();
    let origin = a.device_id();
    let records = a
        .changes_after(0, u32::MAX)
        .unwrap()
        .iter()
        .filter_map(|e| remote(origin, e))
        .collect();
    (a, records)
}

fn of_kind(records: &[RemoteRecord], kind: RemoteKind) -> RemoteRecord {
    records.iter().find(|r| r.kind == kind).unwrap().clone()
}

fn drive_id(s: &Store) -> RecordId {
    let id: String = s
        .connection()
        .query_row("SELECT id FROM drive", [], |r| r.get(0))
        .unwrap();
    id.parse().unwrap()
}

#[test]
fn another_tablets_drive_visit_screening_and_donation_make_the_same_queue() {
    let dir = tempfile::tempdir().unwrap();
    let (a, records) = tablet_a(dir.path());
    let mut b = store(dir.path(), "TAB-B");
    let report = b.apply_remote(&records, 1).unwrap();
    // Everything applies, the release too, though it names A's own staff account.
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let drive = drive_id(&a);
    assert_eq!(drive_id(&b), drive);
    let states = |s: &Store| -> Vec<(RecordId, QueueStatus, Option<RecordId>)> {
        s.chair_queue(drive)
            .unwrap()
            .into_iter()
            .map(|e| (e.donor.id, e.status, e.screening.map(|s| s.physician_id)))
            .collect()
    };
    assert_eq!(states(&b), states(&a));
    assert_eq!(states(&b)[0].1, QueueStatus::Done);
    assert_eq!(
        b.last_change_seq().unwrap(),
        0,
        "nothing pulled enters the log"
    );
    // Eligibility on B counts the donation A made today.
    let donor = states(&b)[0].0;
    assert!(
        !b.check_in_status(donor, lifebridge_store::china_today())
            .unwrap()
            .eligible_today
    );
    // A page pulled again changes nothing.
    let again = b.apply_remote(&records, 2).unwrap();
    assert_eq!(again.applied, 0);
}

#[test]
fn a_later_version_from_the_writer_replaces_an_earlier_one_never_the_reverse() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, records) = tablet_a(dir.path());
    let finished = of_kind(&records, RemoteKind::Donation);
    let mut started: Donation = serde_json::from_str(&finished.body).unwrap();
    started.outcome = Outcome::InProgress;
    started.ended_at = None;
    started.collected_volume_ml = None;
    let started = RemoteRecord {
        hlc: Hlc {
            wall_ms: finished.hlc.wall_ms - 1,
            ..finished.hlc
        },
        body: serde_json::to_string(&started).unwrap(),
        ..finished.clone()
    };
    let others: Vec<RemoteRecord> = records
        .iter()
        .filter(|r| r.kind != RemoteKind::Donation)
        .cloned()
        .collect();
    let outcome = |s: &Store| s.donation(finished.id).unwrap().unwrap().outcome;

    let mut b = store(dir.path(), "TAB-B");
    b.apply_remote(&others, 1).unwrap();
    b.apply_remote(std::slice::from_ref(&started), 2).unwrap();
    assert_eq!(outcome(&b), Outcome::InProgress);
    let report = b.apply_remote(std::slice::from_ref(&finished), 3).unwrap();
    assert_eq!(report.applied, 1);
    assert_eq!(outcome(&b), Outcome::Complete, "the later version replaced");
    // The earlier one arriving late (a hub and a station both sending it) is older.
    let report = b.apply_remote(std::slice::from_ref(&started), 4).unwrap();
    assert_eq!((report.applied, report.unchanged), (0, 1));
    assert_eq!(
        outcome(&b),
        Outcome::Complete,
        "an older version never replaces"
    );

    // The same record from a device that is not its writer is refused.
    let forged = RemoteRecord {
        origin_device: Uuid::now_v7(),
        hlc: Hlc {
            wall_ms: finished.hlc.wall_ms + 10,
            ..finished.hlc
        },
        body: started.body.clone(),
        ..finished.clone()
    };
    let report = b.apply_remote(&[forged], 5).unwrap();
    assert_eq!(report.skipped.len(), 1);
    assert!(
        report.skipped[0].contains("not its writer"),
        "{:?}",
        report.skipped
    );
    assert_eq!(outcome(&b), Outcome::Complete);
    assert!(b.check().unwrap().is_ok());
}

#[test]
fn what_this_device_wrote_is_never_changed_from_outside() {
    let dir = tempfile::tempdir().unwrap();
    let (mut a, records) = tablet_a(dir.path());
    let drive = drive_id(&a);
    let body: String = a
        .connection()
        .query_row("SELECT body FROM drive", [], |r| r.get(0))
        .unwrap();
    // Its own records sent back by the hub: held, nothing changes.
    let report = a.apply_remote(&records, 1).unwrap();
    assert_eq!(report.applied, 0);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    // Another device claiming a later version of A's drive (ended) is refused.
    let mut ended: lifebridge_domain::entities::Drive =
        serde_json::from_str(&of_kind(&records, RemoteKind::Drive).body).unwrap();
    ended.ended_at = Some(chrono::Utc::now());
    let other = Uuid::now_v7();
    let forged = RemoteRecord {
        origin_device: other,
        hlc: Hlc {
            wall_ms: u64::MAX / 2,
            counter: 0,
            node: other,
        },
        body: serde_json::to_string(&ended).unwrap(),
        ..of_kind(&records, RemoteKind::Drive)
    };
    let report = a.apply_remote(&[forged], 2).unwrap();
    assert_eq!(report.skipped.len(), 1);
    assert!(
        report.skipped[0].contains("this device wrote"),
        "{:?}",
        report.skipped
    );
    let after: String = a
        .connection()
        .query_row(
            "SELECT body FROM drive WHERE id = ?1",
            [drive.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(after, body);
    // A record claiming to come from this device, which does not hold it: skipped.
    let mut visit = of_kind(&records, RemoteKind::Visit);
    visit.id = Uuid::now_v7();
    let mut body: serde_json::Value = serde_json::from_str(&visit.body).unwrap();
    body["id"] = visit.id.to_string().into();
    visit.body = body.to_string();
    let report = a.apply_remote(&[visit], 3).unwrap();
    assert!(
        report.skipped[0].contains("claims to come from this device"),
        "{:?}",
        report.skipped
    );
}

#[test]
fn a_malformed_record_is_skipped_and_named_and_the_page_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, records) = tablet_a(dir.path());
    let mut b = store(dir.path(), "TAB-B");
    let mut page = records.clone();
    let screening = page
        .iter_mut()
        .find(|r| r.kind == RemoteKind::Screening)
        .unwrap();
    let bad_id = screening.id;
    screening.body = r#"{"id": "not a screening"}"#.to_owned();
    let report = b.apply_remote(&page, 1).unwrap();
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.starts_with(&format!("screening {bad_id}: malformed body"))),
        "{:?}",
        report.skipped
    );
    // The visit before it and the drive are applied; the donor waits for a screening.
    let drive = drive_id(&b);
    let queue = b.chair_queue(drive).unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].status, QueueStatus::Waiting);
    // A visit for a drive this device does not hold is named, not applied.
    let mut c = store(dir.path(), "TAB-C");
    let visit = of_kind(&records, RemoteKind::Visit);
    let report = c.apply_remote(&[visit], 1).unwrap();
    assert!(
        report.skipped[0].contains("is not on this device"),
        "{:?}",
        report.skipped
    );
}

#[test]
fn the_answers_a_donor_brought_reach_the_physician_s_tablet_with_the_visit() {
    use lifebridge_domain::resident_id::{IdentityDocument, mod11_2_check_char};
    use lifebridge_protocol::prefill_code::{self, Prefill};
    let dir = tempfile::tempdir().unwrap();
    let mut a = store(dir.path(), "TAB-A");
    lifebridge_store::demo::seed(&mut a, 1, |_| Ok(())).unwrap();
    let drive = drive_id(&a);
    let today = a.drive(drive).unwrap().date;
    let nurse = a.staff_by_name("登记护士 李敏").unwrap().unwrap().id;
    let first17 = "33010619850612004";
    let number = format!("{first17}{}", mod11_2_check_char(first17).unwrap());
    let answers = std::collections::BTreeMap::from([
        ("tattoo".to_owned(), serde_json::json!(true)),
        (
            "tattoo_when".to_owned(),
            serde_json::json!({"ago": 3, "unit": "months"}),
        ),
    ]);
    let code = prefill_code::encode(&Prefill {
        questionnaire_version: "GB18467-2011-Q1".into(),
        valid_on: today,
        document: IdentityDocument::parse("resident_id", &number, today).unwrap(),
        name: "孙丽".into(),
        sex: None,
        birth_date: None,
        phone: None,
        answers: answers.clone(),
    });
    let visit = a
        .check_in_prefilled(
            lifebridge_store::Actor::staff(nurse),
            drive,
            &code,
            today,
            None,
        )
        .unwrap();
    let origin = a.device_id();
    let records: Vec<RemoteRecord> = a
        .changes_after(0, u32::MAX)
        .unwrap()
        .iter()
        .filter_map(|e| remote(origin, e))
        .collect();
    let mut b = store(dir.path(), "TAB-B");
    let report = b.apply_remote(&records, 1).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let kept = b.prefilled_answers(drive, visit.donor_id).unwrap().unwrap();
    assert_eq!(kept.answers, answers);
    let view = b.prefilled_view(drive, visit.donor_id).unwrap().unwrap();
    assert_eq!(
        view.rows
            .iter()
            .map(|r| r.question.as_str())
            .collect::<Vec<_>>(),
        ["tattoo", "tattoo_when"]
    );
}
