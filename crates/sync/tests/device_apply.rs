//! Applying pulled records to a device store: merges, skips, idempotence, and that
//! nothing received enters this device's change log.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use lifebridge_domain::din::DinRange;
use lifebridge_domain::entities::{DinRangeRecord, DinRangeSource, Donor};
use lifebridge_domain::hlc::Hlc;
use lifebridge_protocol::records::{RemoteKind, RemoteRecord};
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

fn hlc(wall_ms: u64, node: Uuid) -> Hlc {
    Hlc {
        wall_ms,
        counter: 0,
        node,
    }
}

fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis() as u64
}

fn first_donor(s: &Store) -> Donor {
    let body: String = s
        .connection()
        .query_row("SELECT body FROM donor LIMIT 1", [], |r| r.get(0))
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

fn record(kind: RemoteKind, id: Uuid, origin: Uuid, hlc: Hlc, body: String) -> RemoteRecord {
    RemoteRecord {
        kind,
        id,
        origin_device: origin,
        hlc,
        body,
        field_clocks: None,
        target_device: None,
    }
}

#[test]
fn remote_donors_merge_per_field_and_never_enter_the_change_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path(), "BUS-01");
    lifebridge_store::demo::seed(&mut s, 1, |_| Ok(())).unwrap();
    let local = first_donor(&s);
    let seq_before = s.last_change_seq().unwrap();
    let other = Uuid::now_v7();

    // Another vehicle changed the phone later, and the name earlier than this device
    // registered the donor: only the phone is taken.
    let mut remote = serde_json::to_value(&local).unwrap();
    remote["phone"] = "13900000000".into();
    remote["name"] = "旧名字".into();
    let mut clocks = BTreeMap::new();
    clocks.insert("phone".to_owned(), hlc(now_ms() + 1000, other));
    clocks.insert("name".to_owned(), hlc(1, other));
    let mut r = record(
        RemoteKind::Donor,
        local.id,
        other,
        hlc(now_ms() + 1000, other),
        remote.to_string(),
    );
    r.field_clocks = Some(clocks);
    let report = s.apply_remote(&[r.clone()], 7).unwrap();
    assert_eq!((report.applied, report.unchanged), (1, 0), "{report:?}");
    let merged = s.donor(local.id).unwrap().unwrap();
    assert_eq!(merged.phone.as_deref(), Some("13900000000"));
    assert_eq!(merged.name, local.name);
    assert_eq!(s.pull_cursor().unwrap(), 7);

    // The same page again changes nothing.
    let report = s.apply_remote(&[r], 7).unwrap();
    assert_eq!((report.applied, report.unchanged), (0, 1));
    assert_eq!(
        s.last_change_seq().unwrap(),
        seq_before,
        "received records are not this device's changes"
    );
    let pages: i64 = s
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'replication.pull'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pages, 2, "every applied page is audited");
    assert!(s.check().unwrap().audit_fault.is_none());
}

#[test]
fn records_this_device_cannot_use_are_skipped_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path(), "BUS-02");
    lifebridge_store::demo::seed(&mut s, 1, |_| Ok(())).unwrap();
    let local = first_donor(&s);
    let donation_body: String = s
        .connection()
        .query_row("SELECT body FROM donation LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let other = Uuid::now_v7();
    let t = hlc(now_ms(), other);

    // The same person registered on another vehicle under another id.
    let mut twin = serde_json::to_value(&local).unwrap();
    let twin_id = Uuid::now_v7();
    twin["id"] = twin_id.to_string().into();
    // A donation for a donor this device does not hold.
    let mut orphan: serde_json::Value = serde_json::from_str(&donation_body).unwrap();
    let orphan_id = Uuid::now_v7();
    orphan["id"] = orphan_id.to_string().into();
    orphan["donor_id"] = Uuid::now_v7().to_string().into();
    // A range leased to someone else, and one to this device.
    let lease = |device: Uuid, first: u32| DinRangeRecord {
        id: Uuid::now_v7(),
        range: DinRange::new("W1234".parse().unwrap(), 26, first, first + 9).unwrap(),
        source: DinRangeSource::Leased,
        device_id: device,
        granted_at: chrono::Utc::now(),
    };
    let theirs = lease(other, 1);
    let mine = lease(s.device_id(), 11);
    let overlapping = lease(s.device_id(), 15);
    let records = vec![
        record(RemoteKind::Donor, twin_id, other, t, twin.to_string()),
        record(
            RemoteKind::Donation,
            orphan_id,
            other,
            t,
            orphan.to_string(),
        ),
        record(
            RemoteKind::DinRange,
            theirs.id,
            other,
            t,
            serde_json::to_string(&theirs).unwrap(),
        ),
        record(
            RemoteKind::DinRange,
            mine.id,
            other,
            t,
            serde_json::to_string(&mine).unwrap(),
        ),
        record(
            RemoteKind::DinRange,
            overlapping.id,
            other,
            t,
            serde_json::to_string(&overlapping).unwrap(),
        ),
        record(
            RemoteKind::Deferral,
            Uuid::now_v7(),
            other,
            t,
            "{not json".into(),
        ),
    ];
    let report = s.apply_remote(&records, 3).unwrap();
    assert_eq!(
        report.applied, 2,
        "the twin and this device's lease: {report:?}"
    );
    let reasons = report.skipped.join("\n");
    assert!(reasons.contains("is not on this device"), "{reasons}");
    assert!(reasons.contains("not this one"), "{reasons}");
    assert!(reasons.contains("overlaps range"), "{reasons}");
    assert!(reasons.contains("malformed body"), "{reasons}");
    assert_eq!(s.unused_leased_dins().unwrap(), 10);
    assert_eq!(
        s.pull_cursor().unwrap(),
        3,
        "the cursor moves past skipped records"
    );
}

#[test]
fn a_clock_stamp_from_far_ahead_is_applied_but_not_observed() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path(), "BUS-03");
    lifebridge_store::demo::seed(&mut s, 1, |_| Ok(())).unwrap();
    let local = first_donor(&s);
    let other = Uuid::now_v7();
    let year_2099 = 4_070_908_800_000;
    let mut remote = serde_json::to_value(&local).unwrap();
    remote["address"] = "未来".into();
    let r = record(
        RemoteKind::Donor,
        local.id,
        other,
        hlc(year_2099, other),
        remote.to_string(),
    );
    s.apply_remote(&[r], 1).unwrap();
    assert_eq!(
        s.donor(local.id).unwrap().unwrap().address.as_deref(),
        Some("未来")
    );
    let last: String = s
        .connection()
        .query_row("SELECT last_hlc FROM device", [], |r| r.get(0))
        .unwrap();
    let last: Hlc = last.parse().unwrap();
    assert!(
        last.wall_ms < year_2099,
        "the device clock was dragged to {last}"
    );
}

/// Two vehicles registered one person offline: this device holds them under its own id,
/// the station sends the other registration and what was recorded under it. Both count
/// in the one donor's history and eligibility; nothing enters this device's change log.
#[test]
fn a_donor_registered_twice_offline_keeps_one_history_here() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path(), "BUS-04");
    lifebridge_store::demo::seed(&mut s, 1, |_| Ok(())).unwrap();
    let local = first_donor(&s);
    let donation_body: String = s
        .connection()
        .query_row("SELECT body FROM donation LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let seq_before = s.last_change_seq().unwrap();
    let today = lifebridge_domain::common::china_date(chrono::Utc::now());
    let procedure = lifebridge_domain::common::Procedure::WholeBlood;
    let eligible_before = s
        .next_eligible(local.id, today, procedure)
        .unwrap()
        .unwrap();

    let other = Uuid::now_v7();
    let t = hlc(now_ms() + 1_000, other);
    let twin_id = Uuid::now_v7();
    let mut twin = serde_json::to_value(&local).unwrap();
    twin["id"] = twin_id.to_string().into();
    twin["phone"] = "13900001111".into();
    let mut donation: serde_json::Value = serde_json::from_str(&donation_body).unwrap();
    let donation_id = Uuid::now_v7();
    donation["id"] = donation_id.to_string().into();
    donation["donor_id"] = twin_id.to_string().into();
    donation["supersedes"] = serde_json::Value::Null;
    let long_deferral = lifebridge_domain::entities::Deferral {
        id: Uuid::now_v7(),
        donor_id: twin_id,
        code: "MED-TEST".into(),
        reason: "recorded on the other vehicle".into(),
        start: today,
        until: Some(today + chrono::Days::new(400)),
        screening_id: None,
        recorded_by: Uuid::now_v7(),
        recorded_at: chrono::Utc::now(),
        lifts: None,
    };
    let records = vec![
        record(RemoteKind::Donor, twin_id, other, t, twin.to_string()),
        record(
            RemoteKind::Donation,
            donation_id,
            other,
            t,
            donation.to_string(),
        ),
        record(
            RemoteKind::Deferral,
            long_deferral.id,
            other,
            t,
            serde_json::to_string(&long_deferral).unwrap(),
        ),
    ];
    let report = s.apply_remote(&records, 3).unwrap();
    assert_eq!(report.applied, 3, "{report:?}");
    assert!(report.skipped.is_empty(), "{report:?}");

    let history = s.donor_history(local.id).unwrap().unwrap();
    assert_eq!(
        history.donor.id, local.id,
        "the donor keeps this device's id"
    );
    assert_eq!(
        history.donor.phone.as_deref(),
        Some("13900001111"),
        "the later edit from the other registration is merged in"
    );
    assert!(history.donations.iter().any(|d| d.id == donation_id));
    assert!(history.deferrals.iter().any(|d| d.id == long_deferral.id));
    let eligible_after = s
        .next_eligible(local.id, today, procedure)
        .unwrap()
        .unwrap();
    assert!(
        eligible_after >= today + chrono::Days::new(400) && eligible_after > eligible_before,
        "the other vehicle's deferral decides: {eligible_before} -> {eligible_after}"
    );
    assert!(
        s.donor_history(twin_id).unwrap().is_none(),
        "one person, one donor row"
    );

    let again = s.apply_remote(&records, 3).unwrap();
    assert_eq!(
        again.applied, 0,
        "a re-sent page changes nothing: {again:?}"
    );
    assert_eq!(s.last_change_seq().unwrap(), seq_before);
    let check = s.check().unwrap();
    assert!(check.rows_out_of_step.is_empty(), "{check:?}");
    assert!(check.foreign_key_faults.is_empty(), "{check:?}");
}

/// An account the station issued: the crew member signs in offline with the station's
/// PIN; a PIN reset at the station replaces the hash and lifts a lock-out; records that
/// could forge or break an account are skipped; nothing enters the change log.
#[test]
fn station_issued_accounts_sign_in_offline_and_take_pin_resets() {
    use lifebridge_domain::entities::{Role, Staff};
    use lifebridge_protocol::records::StaffAccount;
    use lifebridge_store::session::SignInError;
    // The station draws a random salt for each hash; any salt serves here.
    let hash_pin = |pin: &str| lifebridge_domain::pin::hash_pin(pin, &[7; 16]);

    let dir = tempfile::tempdir().unwrap();
    let mut s = store(dir.path(), "BUS-05");
    lifebridge_store::demo::seed(&mut s, 1, |_| Ok(())).unwrap();
    let seq_before = s.last_change_seq().unwrap();
    let station = Uuid::now_v7();
    let account = |pin_hash: String| StaffAccount {
        staff: Staff {
            id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0042),
            display_name: "采血护士 周丽".into(),
            roles: vec![Role::Registration, Role::Phlebotomist],
            active: true,
        },
        pin_hash,
    };
    let as_record = |a: &StaffAccount, wall_ms: u64| {
        record(
            RemoteKind::Staff,
            a.staff.id,
            station,
            hlc(wall_ms, station),
            serde_json::to_string(a).unwrap(),
        )
    };
    let issued = account(hash_pin("2580").unwrap());
    let nurse = issued.staff.id;
    let report = s.apply_remote(&[as_record(&issued, now_ms())], 1).unwrap();
    assert_eq!(report.applied, 1, "{report:?}");
    let listed = s.staff_list().unwrap();
    let on_device = listed.iter().find(|m| m.id == nurse).unwrap();
    assert_eq!(on_device.display_name, "采血护士 周丽");
    assert!(on_device.has_role(Role::Phlebotomist) && !on_device.has_role(Role::Physician));
    assert!(s.sign_in(nurse, "2580").unwrap().is_ok());

    let again = s.apply_remote(&[as_record(&issued, now_ms())], 2).unwrap();
    assert_eq!((again.applied, again.unchanged), (0, 1), "{again:?}");

    // Locked out on the bus; the station resets the PIN; the next sync lets her in.
    let mut locked = false;
    for _ in 0..10 {
        if let Err(SignInError::LockedOut { .. }) = s.sign_in(nurse, "0000").unwrap() {
            locked = true;
            break;
        }
    }
    assert!(locked, "repeated wrong PINs lock the account");
    assert!(matches!(
        s.sign_in(nurse, "2580").unwrap(),
        Err(SignInError::LockedOut { .. })
    ));
    let reset = account(hash_pin("1470").unwrap());
    let report = s
        .apply_remote(&[as_record(&reset, now_ms() + 1)], 3)
        .unwrap();
    assert_eq!(report.applied, 1, "{report:?}");
    assert!(
        s.sign_in(nurse, "2580").unwrap().is_err(),
        "the old PIN is gone"
    );
    assert!(s.sign_in(nurse, "1470").unwrap().is_ok());

    // Records that would forge or break an account change nothing.
    let local = s.staff_by_name("司机 刘洋").unwrap().unwrap();
    let mut forged = account(hash_pin("9999").unwrap());
    forged.staff.id = local.id;
    let plain = account("1470".into());
    let mut no_roles = account(hash_pin("1111").unwrap());
    no_roles.staff.roles.clear();
    let report = s
        .apply_remote(
            &[
                as_record(&forged, now_ms() + 2),
                as_record(&plain, now_ms() + 3),
                as_record(&no_roles, now_ms() + 4),
            ],
            6,
        )
        .unwrap();
    assert_eq!(report.applied, 0, "{report:?}");
    let reasons = report.skipped.join("\n");
    assert!(reasons.contains("an account this device made"), "{reasons}");
    assert!(reasons.contains("not an argon2id hash"), "{reasons}");
    assert!(reasons.contains("at least one role"), "{reasons}");
    assert!(
        s.sign_in(local.id, lifebridge_store::demo::DEMO_PIN)
            .unwrap()
            .is_ok()
    );
    assert!(s.sign_in(nurse, "1470").unwrap().is_ok());

    assert_eq!(s.last_change_seq().unwrap(), seq_before);
    let check = s.check().unwrap();
    assert!(check.rows_out_of_step.is_empty(), "{check:?}");
    assert!(check.foreign_key_faults.is_empty(), "{check:?}");
}

/// The station stores a record's kind by `as_str` and sends it by serde: the two names
/// must be one, and read back to the same kind.
#[test]
fn remote_kinds_have_one_name_on_the_wire_and_in_the_feed() {
    for kind in RemoteKind::ALL {
        assert_eq!(RemoteKind::parse(kind.as_str()), Some(kind));
        assert_eq!(
            serde_json::to_value(kind).unwrap(),
            serde_json::Value::String(kind.as_str().into())
        );
    }
    assert_eq!(RemoteKind::parse("Staff"), None);
}
