//! Pushed entries built by hand, as a device's log would carry them, and how a push of
//! them is answered: for the tests of what the station checks on every push.
#![allow(dead_code, clippy::unwrap_used)]

use chrono::{Duration, NaiveDate, Utc};
use lifebridge_domain::entities::{
    Arm, BagSet, BagSetKind, Deferral, Donation, Donor, EntityKind, Outcome,
};
use lifebridge_domain::hlc::Hlc;
use lifebridge_domain::resident_id::IdentityDocument;
use lifebridge_domain::{Din, Procedure, Sex};
use lifebridge_protocol::records::LocalChange;
use lifebridge_protocol::wire::{ErrorCode, RefusedEntry};
use lifebridge_sync::SyncError;
use uuid::Uuid;

use super::{Device, TestStation};

pub fn now_ms() -> u64 {
    u64::try_from(Utc::now().timestamp_millis()).unwrap()
}

pub fn today() -> NaiveDate {
    lifebridge_domain::china_date(Utc::now())
}

/// Entry `seq` of `device`'s log, stamped by its clock at `wall_ms`.
pub fn entry<T: serde::Serialize>(
    device: Uuid,
    seq: u64,
    kind: EntityKind,
    id: Uuid,
    body: &T,
    wall_ms: u64,
) -> LocalChange {
    LocalChange {
        seq,
        hlc: Hlc {
            wall_ms,
            counter: seq as u32,
            node: device,
        },
        entity: kind,
        entity_id: id,
        body: serde_json::to_string(body).unwrap(),
        field_clocks: None,
    }
}

pub fn donor(id: Uuid) -> Donor {
    let tag = &id.simple().to_string()[20..];
    Donor {
        id,
        document: IdentityDocument::parse("passport", &format!("P{}", tag.to_uppercase()), today())
            .unwrap(),
        name: "献血者".into(),
        sex: Sex::Female,
        birth_date: NaiveDate::from_ymd_opt(1990, 5, 17).unwrap(),
        phone: None,
        address: None,
        abo_rh: None,
        rural: Some(true),
        registered_at: Utc::now(),
    }
}

pub fn deferral(donor: Uuid, until: Option<NaiveDate>, lifts: Option<Uuid>, by: Uuid) -> Deferral {
    Deferral {
        id: Uuid::now_v7(),
        donor_id: donor,
        code: "hbsag_positive".into(),
        reason: "HBsAg positive".into(),
        start: today(),
        until,
        screening_id: None,
        recorded_by: by,
        recorded_at: Utc::now(),
        lifts,
    }
}

pub fn donation(donor: Uuid, din: Din) -> Donation {
    let start = Utc::now() - Duration::minutes(10);
    Donation {
        id: Uuid::now_v7(),
        donor_id: donor,
        drive_id: Uuid::now_v7(),
        screening_id: Uuid::now_v7(),
        din,
        procedure: Procedure::WholeBlood,
        bag_set: BagSet {
            kind: BagSetKind::Double,
            lot: "LOT-1".into(),
        },
        planned_volume_ml: 400,
        collected_volume_ml: Some(400),
        started_at: start,
        ended_at: Some(start + Duration::minutes(8)),
        phlebotomist_id: Uuid::now_v7(),
        arm: Arm::Left,
        reactions: vec![],
        outcome: Outcome::Complete,
        recorded_at: Utc::now(),
        supersedes: None,
        correction_reason: None,
        excluded_products: vec![],
    }
}

/// A screening of `donor` with `decision` and `consent`, as a tablet records it.
pub fn screening(
    donor: Uuid,
    decision: lifebridge_domain::entities::PhysicianDecision,
    consent: Option<lifebridge_domain::consent::Consent>,
) -> lifebridge_domain::entities::Screening {
    lifebridge_domain::entities::Screening {
        id: Uuid::now_v7(),
        donor_id: donor,
        drive_id: Uuid::now_v7(),
        procedure: Procedure::WholeBlood,
        planned_volume_ml: Some(400),
        questionnaire_version: lifebridge_domain::questionnaire::built_in().version.clone(),
        // The donor (`donor`: female) has nothing to declare.
        answers: lifebridge_domain::questionnaire::built_in().nothing_to_declare(Sex::Female),
        vitals: lifebridge_domain::measurements::Vitals {
            weight_kg: 60.0,
            systolic_mmhg: 115.0,
            diastolic_mmhg: 75.0,
            pulse_bpm: 72.0,
            temperature_c: 36.6,
        },
        tests: Default::default(),
        rules_version: "GB18467-2011/2".into(),
        failed_rules: vec![],
        decision,
        physician_id: Uuid::now_v7(),
        recorded_at: Utc::now(),
        supersedes: None,
        correction_reason: None,
        consent,
        abo_rh_note: None,
        review_findings: Default::default(),
    }
}

/// The first DIN of the range the station leased to `device` at enrollment.
pub fn leased_din(device: &Device, nth: u32) -> Din {
    let usage = device.store.lock().unwrap().din_usage().unwrap();
    usage[0].record.range.iter().nth(nth as usize).unwrap()
}

pub async fn push(
    ts: &TestStation,
    device: &Device,
    entries: Vec<LocalChange>,
) -> Result<u32, SyncError> {
    device
        .client(&ts.url())
        .push(entries)
        .await
        .map(|(answer, _)| answer.stored)
        .map_err(SyncError::from)
}

/// `device` pushes the single entry `seq`, stamped now.
pub async fn push_one<T: serde::Serialize>(
    ts: &TestStation,
    device: &Device,
    seq: u64,
    kind: EntityKind,
    id: Uuid,
    body: &T,
) -> Result<u32, SyncError> {
    push(
        ts,
        device,
        vec![entry(device.id, seq, kind, id, body, now_ms())],
    )
    .await
}

/// The refusal a push got: 422 `entry_refused` naming the entry.
pub fn refused(result: Result<u32, SyncError>) -> RefusedEntry {
    match result {
        Err(SyncError::Station { status, body }) => {
            assert_eq!(status, 422, "{body:?}");
            assert_eq!(body.error, ErrorCode::EntryRefused);
            *body.refused.expect("the refusal names the entry")
        }
        other => panic!("expected a 422 refusal, got {other:?}"),
    }
}

/// Ids of everything `device` would pull from the start.
pub async fn pulled_ids(ts: &TestStation, device: &Device) -> Vec<Uuid> {
    let page = device.client(&ts.url()).pull(0, 2000, None).await.unwrap();
    assert!(!page.more);
    page.records.into_iter().map(|r| r.id).collect()
}
