//! The register of pre-printed DIN rolls (docs/security.md "DIN"): a donation numbered
//! from a registered roll is accepted like a leased one, from the device the roll was
//! handed to (or any device, for a roll handed to none); a roll never overlaps a lease
//! or another roll; leases skip every registered roll. Both backends, and the
//! `lifebridge-station rolls` command.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use chrono::{Datelike, Utc};
use common::records::{donation, donor, entry, leased_din, now_ms, pulled_ids, push, refused};
use common::{
    Backend, Device, TestStation, assert_station_holds_exactly, collect_donations, enroll,
    start_with, test_din,
};
use lifebridge_domain::Din;
use lifebridge_domain::din::DinRange;
use lifebridge_domain::entities::{DinRangeSource, EntityKind};
use lifebridge_domain::messages::{Lang, Message, render};
use lifebridge_protocol::records::HeldLease;
use lifebridge_station::config::DinConfig;
use lifebridge_station::leases::{LeaseCaps, LeasePolicy};
use lifebridge_station::rolls::{RollRow, range_text};
use lifebridge_store::Actor;
use uuid::Uuid;

/// Where the rolls of the tests that also lease lie: far from the station's leases,
/// which start at 1.
const ROLLS_FROM: u32 = 500_000;

/// This year's two digits, as the station leases them.
fn year() -> u8 {
    (lifebridge_domain::china_date(Utc::now()).year() % 100) as u8
}

fn roll(first: u32, last: u32) -> DinRange {
    DinRange::new("A9999".parse().unwrap(), year(), first, last).unwrap()
}

fn din(sequence: u32) -> Din {
    Din::new(&"A9999".parse().unwrap(), year(), sequence).unwrap()
}

async fn register(ts: &TestStation, range: &DinRange, device: Option<&str>) -> RollRow {
    ts.storage
        .register_roll(range, device, Utc::now())
        .await
        .unwrap()
        .unwrap_or_else(|why| panic!("refused: {}", render(&why, Lang::En)))
}

async fn refusal(ts: &TestStation, range: &DinRange, device: Option<&str>) -> Message {
    match ts.storage.register_roll(range, device, Utc::now()).await {
        Ok(Err(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn sync(d: &Device, ts: &TestStation) {
    d.replicator(&ts.url()).sync_once().await.unwrap();
}

/// `device` pushes a new donor and a donation numbered `din` as entries `seq` and
/// `seq + 1`; the donation's id.
async fn push_donation(
    ts: &TestStation,
    device: &Device,
    seq: u64,
    din: Din,
) -> (Uuid, Result<u32, lifebridge_sync::SyncError>) {
    let d = Uuid::now_v7();
    let given = donation(d, din);
    let now = now_ms();
    let batch = vec![
        entry(device.id, seq, EntityKind::Donor, d, &donor(d), now),
        entry(
            device.id,
            seq + 1,
            EntityKind::Donation,
            given.id,
            &given,
            now,
        ),
    ];
    (given.id, push(ts, device, batch).await)
}

async fn a_donation_from_a_registered_roll_is_accepted_and_reaches_other_devices(backend: Backend) {
    // A station that leases nothing: the bus numbers its donations from the roll alone.
    let Some(ts) = start_with(backend, |c| c.din = None).await else {
        return;
    };
    let url = ts.url();
    let a = enroll(&ts, &url, "BUS-A").await;
    let b = enroll(&ts, &url, "BUS-B").await;
    let labels = roll(1, 50);
    let registered = register(&ts, &labels, Some("BUS-A")).await;
    assert_eq!(
        (registered.device_id, registered.device_name.as_deref()),
        (Some(a.id), Some("BUS-A"))
    );
    assert_eq!(ts.storage.rolls().await.unwrap(), vec![registered]);
    // The crew loads the roll on the bus, which numbers the next collections from it.
    a.store
        .lock()
        .unwrap()
        .register_din_range(Actor::system(), labels.clone(), DinRangeSource::PrePrinted)
        .unwrap();
    collect_donations(&a, 3);
    sync(&a, &ts).await;
    assert_station_holds_exactly(&ts, &a).await;
    sync(&b, &ts).await;
    assert_eq!(b.donation_count(), 3, "the other bus received them");
    let usage = a.store.lock().unwrap().din_usage().unwrap();
    let from_roll = usage.iter().find(|u| u.record.range == labels).unwrap();
    assert_eq!(
        (from_roll.issued, from_roll.next.clone()),
        (3, Some(din(4)))
    );
}

async fn a_donation_from_an_unregistered_roll_is_refused_naming_the_entry(backend: Backend) {
    let Some(ts) = start_with(backend, |c| c.din = Some(test_din())).await else {
        return;
    };
    let url = ts.url();
    let a = enroll(&ts, &url, "BUS-A").await;
    register(&ts, &roll(ROLLS_FROM + 1, ROLLS_FROM + 50), None).await;
    let before = ts.storage.counts().await.unwrap();
    let (id, result) = push_donation(&ts, &a, 1, din(ROLLS_FROM + 60)).await;
    let why = refused(result);
    assert_eq!(
        (why.seq, why.entity, why.entity_id, why.reason.code.as_str()),
        (2, EntityKind::Donation, id, "push_refused.din_not_leased")
    );
    assert!(
        render(&why.reason, Lang::En).contains("nor in a registered pre-printed roll"),
        "{:?}",
        why.reason
    );
    assert_eq!(
        ts.storage.counts().await.unwrap(),
        before,
        "nothing written"
    );
    // A number of the registered roll next to it is accepted.
    let (id, result) = push_donation(&ts, &a, 1, din(ROLLS_FROM + 50)).await;
    assert_eq!(result.unwrap(), 2);
    let b = enroll(&ts, &url, "BUS-B").await;
    assert!(pulled_ids(&ts, &b).await.contains(&id));
}

async fn a_donation_from_another_devices_roll_is_refused(backend: Backend) {
    let Some(ts) = start_with(backend, |c| c.din = Some(test_din())).await else {
        return;
    };
    let url = ts.url();
    let a = enroll(&ts, &url, "BUS-A").await;
    let b = enroll(&ts, &url, "BUS-B").await;
    let handed = register(
        &ts,
        &roll(ROLLS_FROM + 1, ROLLS_FROM + 50),
        Some(&b.id.to_string()),
    )
    .await;
    assert_eq!(handed.device_name.as_deref(), Some("BUS-B"));
    let before = ts.storage.counts().await.unwrap();
    let (id, result) = push_donation(&ts, &a, 1, din(ROLLS_FROM + 7)).await;
    let why = refused(result);
    assert_eq!(
        (why.seq, why.entity_id, why.reason.code.as_str()),
        (2, id, "push_refused.din_roll_other_device")
    );
    let text = render(&why.reason, Lang::En);
    assert!(
        text.contains("BUS-B")
            && text.contains(&range_text(&roll(ROLLS_FROM + 1, ROLLS_FROM + 50))),
        "{text}"
    );
    assert_eq!(
        ts.storage.counts().await.unwrap(),
        before,
        "nothing written"
    );
    // B itself may; and once the roll is handed to no device in particular, so may A.
    assert_eq!(
        push_donation(&ts, &b, 1, din(ROLLS_FROM + 8))
            .await
            .1
            .unwrap(),
        2
    );
    let any = ts
        .storage
        .assign_roll(handed.roll_id, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(any.device_id, None);
    assert_eq!(
        push_donation(&ts, &a, 1, din(ROLLS_FROM + 7))
            .await
            .1
            .unwrap(),
        2
    );
    // A label is used once: the number B filed a donation under is not A's to use too.
    let before = ts.storage.counts().await.unwrap();
    let (id, result) = push_donation(&ts, &a, 3, din(ROLLS_FROM + 8)).await;
    let why = refused(result);
    assert_eq!(
        (why.seq, why.entity_id, why.reason.code.as_str()),
        (4, id, "push_refused.din_used_elsewhere")
    );
    assert!(
        render(&why.reason, Lang::En).contains(&b.id.to_string()),
        "{:?}",
        why.reason
    );
    assert_eq!(
        ts.storage.counts().await.unwrap(),
        before,
        "nothing written"
    );
    // Handing a roll to a device the station does not know is refused.
    let unknown = ts
        .storage
        .assign_roll(handed.roll_id, Some("BUS-Z"))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(unknown.code, "din_roll.device_unknown");
}

async fn a_roll_overlapping_a_lease_or_another_roll_is_refused(backend: Backend) {
    let Some(ts) = start_with(backend, |c| c.din = Some(test_din())).await else {
        return;
    };
    let a = enroll(&ts, &ts.url(), "BUS-A").await;
    let first_leased = leased_din(&a, 0).sequence();
    let lease = a.store.lock().unwrap().din_usage().unwrap()[0]
        .record
        .range
        .clone();
    // Overlapping A's lease by one number at its start.
    let over_lease = roll(first_leased.saturating_sub(10), first_leased);
    let why = refusal(&ts, &over_lease, None).await;
    assert_eq!(why.code, "din_roll.overlaps_lease");
    let text = render(&why, Lang::En);
    assert!(
        text.contains(&range_text(&over_lease))
            && text.contains(&range_text(&lease))
            && text.contains(&a.id.to_string()),
        "{text}"
    );
    // Clear of the lease: registered; then one overlapping it by a number is refused.
    let clear = roll(lease.last() + 1, lease.last() + 100);
    let registered = register(&ts, &clear, None).await;
    let over_roll = roll(lease.last() + 100, lease.last() + 200);
    let why = refusal(&ts, &over_roll, None).await;
    assert_eq!(why.code, "din_roll.overlaps_roll");
    let text = render(&why, Lang::En);
    assert!(
        text.contains(&range_text(&over_roll))
            && text.contains(&range_text(&clear))
            && text.contains(&registered.roll_id.to_string()),
        "{text}"
    );
    // An unknown device is refused too; nothing of the refused rolls was written.
    let why = refusal(&ts, &roll(900_000, 900_010), Some("BUS-Z")).await;
    assert_eq!(why.code, "din_roll.device_unknown");
    assert_eq!(ts.storage.rolls().await.unwrap(), vec![registered]);
}

async fn a_lease_after_a_roll_skips_it(backend: Backend) {
    let small = DinConfig {
        reserve: 4,
        lease_size: 5,
        start_sequence: 1,
        ..test_din()
    };
    let Some(ts) = start_with(backend, |c| c.din = Some(small)).await else {
        return;
    };
    let url = ts.url();
    let a = enroll(&ts, &url, "BUS-A").await;
    assert_eq!(leased_din(&a, 0), din(1), "A was leased 1-5");
    // Rolls right after A's lease, with a gap of two numbers between them: too few for
    // a lease of five.
    register(&ts, &roll(6, 9), None).await;
    register(&ts, &roll(12, 30), None).await;
    let b = enroll(&ts, &url, "BUS-B").await;
    let leased = b.store.lock().unwrap().din_usage().unwrap()[0]
        .record
        .range
        .clone();
    assert_eq!((leased.first(), leased.last()), (31, 35));
    // Donations A numbers from a roll count against none of its leases: it still holds
    // its five leased numbers as the station counts them, so even when it says it has
    // none left it is leased no more.
    for (seq, n) in [(1, 6), (3, 7), (5, 8), (7, 9)] {
        assert_eq!(push_donation(&ts, &a, seq, din(n)).await.1.unwrap(), 2);
    }
    let leases = ts.storage.counts().await.unwrap().din_leases;
    let page = a.client(&url).pull(0, 2000, Some(0)).await.unwrap();
    assert_eq!(page.lease_refused, None);
    assert_eq!(ts.storage.counts().await.unwrap().din_leases, leases);
}

async fn a_lease_reported_after_a_restore_is_not_registered_over_a_roll(backend: Backend) {
    let Some(ts) = start_with(backend, |c| c.din = Some(test_din())).await else {
        return;
    };
    let url = ts.url();
    let a = enroll(&ts, &url, "BUS-A").await;
    let b = enroll(&ts, &url, "BUS-B").await;
    register(&ts, &roll(ROLLS_FROM + 1, ROLLS_FROM + 100), Some("BUS-B")).await;
    let config = test_din();
    let policy = LeasePolicy {
        facility: config.facility.parse().unwrap(),
        reserve: config.reserve,
        lease_size: config.lease_size,
        start_sequence: config.start_sequence,
        caps: LeaseCaps {
            max_outstanding: config.max_outstanding,
            max_per_day: config.max_per_day,
        },
    };
    let held = |first, last| HeldLease {
        lease_id: Uuid::now_v7(),
        range: roll(first, last),
    };
    let before = ts.storage.counts().await.unwrap().din_leases;
    // A cursor past what this database handed A, as after a restore: A reports a lease
    // over B's roll (a lie, or a lease from before the roll was registered) and one
    // clear of it.
    ts.storage
        .resume_pull(
            a.id,
            1_000_000,
            vec![
                held(ROLLS_FROM + 50, ROLLS_FROM + 60),
                held(ROLLS_FROM + 200, ROLLS_FROM + 210),
            ],
            Some(policy),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(
        ts.storage.counts().await.unwrap().din_leases,
        before + 1,
        "only the lease clear of the roll was registered again"
    );
    let why = refused(push_donation(&ts, &a, 1, din(ROLLS_FROM + 55)).await.1);
    assert_eq!(why.reason.code, "push_refused.din_roll_other_device");
    assert_eq!(
        push_donation(&ts, &a, 1, din(ROLLS_FROM + 205))
            .await
            .1
            .unwrap(),
        2
    );
    assert_eq!(
        push_donation(&ts, &b, 1, din(ROLLS_FROM + 55))
            .await
            .1
            .unwrap(),
        2
    );
}

both_backends! {
    a_lease_reported_after_a_restore_is_not_registered_over_a_roll =>
        super::a_lease_reported_after_a_restore_is_not_registered_over_a_roll;
    a_donation_from_a_registered_roll_is_accepted_and_reaches_other_devices =>
        super::a_donation_from_a_registered_roll_is_accepted_and_reaches_other_devices;
    a_donation_from_an_unregistered_roll_is_refused_naming_the_entry =>
        super::a_donation_from_an_unregistered_roll_is_refused_naming_the_entry;
    a_donation_from_another_devices_roll_is_refused =>
        super::a_donation_from_another_devices_roll_is_refused;
    a_roll_overlapping_a_lease_or_another_roll_is_refused =>
        super::a_roll_overlapping_a_lease_or_another_roll_is_refused;
    a_lease_after_a_roll_skips_it => super::a_lease_after_a_roll_skips_it;
}

/// Runs `lifebridge-station --lang en --data-dir DATA ARGS…`: whether it succeeded, and
/// everything it printed.
fn station(data: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lifebridge-station"))
        .args(["--lang", "en", "--data-dir"])
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn rolls_are_registered_listed_and_refused_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("station");
    let register = |first: &str, last: &str, facility: &str| {
        let args = [
            "rolls",
            "register",
            "--facility",
            facility,
            "--year",
            "26",
            "--first",
            first,
            "--last",
            last,
        ];
        station(&data, &args)
    };
    let (ok, text) = register("1", "100", "A9999");
    assert!(ok, "{text}");
    assert!(
        text.contains("A9999 26 000001–000100 (100 numbers)"),
        "{text}"
    );
    let (ok, text) = register("50", "150", "A9999");
    assert!(!ok);
    assert!(
        text.contains("A9999 26 000050–000150") && text.contains("A9999 26 000001–000100"),
        "{text}"
    );
    let (ok, text) = register("1", "100", "O9999");
    assert!(!ok);
    assert!(text.contains("--facility O9999"), "{text}");
    let (ok, text) = register("100", "1", "A9999");
    assert!(!ok);
    assert!(text.contains("--first and --last"), "{text}");
    let (ok, text) = station(
        &data,
        &[
            "rolls",
            "register",
            "--facility",
            "A9999",
            "--year",
            "26",
            "--first",
            "200",
            "--last",
            "300",
            "--device",
            "BUS-Z",
        ],
    );
    assert!(!ok);
    assert!(text.contains("--device BUS-Z"), "{text}");
    let (ok, text) = station(&data, &["rolls", "list"]);
    assert!(ok, "{text}");
    assert_eq!(text.matches("A9999 26 ").count(), 1, "{text}");
    assert!(text.contains("any"), "{text}");
}
