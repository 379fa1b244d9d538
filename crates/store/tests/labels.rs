//! Label interlocks against a real store: print, scan back, refuse, re-print, release.
#![allow(clippy::unwrap_used)]

use lifebridge_domain::din::DinRange;
use lifebridge_domain::entities::{AboRh, DinRangeSource, Donation, ScanResult};
use lifebridge_domain::label_piece::{LabelKind, LabelPiece};
use lifebridge_domain::labels::LabelContent;
use lifebridge_store::labels::{LabelError, ManualLabelEntry};
use lifebridge_store::{Actor, Store, StoreKey, demo};

struct Bus {
    _dir: tempfile::TempDir,
    store: Store,
    phleb: Actor,
    donations: Vec<Donation>,
}

fn bus(donations: u32, pre_printed: bool) -> Bus {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::new("correct horse battery").unwrap();
    let mut store = Store::create(&dir.path().join("device.db"), &key, "BUS-07").unwrap();
    if pre_printed {
        let range = DinRange::new("W1234".parse().unwrap(), 26, 500, 599).unwrap();
        store
            .register_din_range(Actor::system(), range, DinRangeSource::PrePrinted)
            .unwrap();
    }
    let mut ids = Vec::new();
    demo::seed_collected(&mut store, donations, |id| {
        ids.push(id);
        Ok(())
    })
    .unwrap();
    let phleb = Actor::staff(store.staff_by_name("采血护士 张静").unwrap().unwrap().id);
    let donations = ids
        .iter()
        .map(|id| store.donation(*id).unwrap().unwrap())
        .collect();
    Bus {
        _dir: dir,
        store,
        phleb,
        donations,
    }
}

/// What the hand-held scanner sends for a label: AIM prefix, data, CR LF.
fn scan_text(d: &Donation, piece: LabelPiece) -> String {
    let content = LabelContent::blank(d.din.clone(), piece, "血站");
    format!("]C0{}\r\n", content.code128_data())
}

fn refused(e: LabelError) -> (ScanResult, String) {
    match e {
        LabelError::ScanRefused {
            result, message, ..
        } => (result, message.to_string()),
        other => panic!("expected a refused scan, got {other}"),
    }
}

fn count(store: &Store, sql: &str) -> i64 {
    store.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn donation_is_released_only_after_every_label_of_its_set_is_scanned() {
    let mut b = bus(1, false);
    let d = b.donations[0].clone();
    let prints = b.store.print_label_set(b.phleb, d.id, 2).unwrap();
    // Triple bag set: primary, two satellites, two tubes, the record sheet.
    assert_eq!(prints.len(), 6);
    assert!(prints.iter().all(|p| p.din == d.din));
    let set: Vec<LabelPiece> = prints
        .iter()
        .map(|p| LabelPiece::new(p.kind, p.piece))
        .collect();

    let err = b.store.release_donation(b.phleb, d.id).unwrap_err();
    assert!(matches!(&err, LabelError::NotVerified { missing, .. } if missing.len() == 6));
    assert!(
        err.to_string()
            .contains("6 of its labels were not scanned back")
    );

    for (i, piece) in set.iter().enumerate() {
        assert!(!b.store.is_label_set_verified(d.id).unwrap());
        let matched = b
            .store
            .record_label_scan(b.phleb, d.id, &scan_text(&d, *piece))
            .unwrap();
        assert_eq!(matched, *piece);
        if i == 3 {
            let err = b.store.release_donation(b.phleb, d.id).unwrap_err();
            assert!(err.to_string().contains("sample tube 2"), "{err}");
        }
    }
    assert!(b.store.is_label_set_verified(d.id).unwrap());
    let status = b.store.release_donation(b.phleb, d.id).unwrap();
    // The release replicates like every other record, and the store stays whole.
    let logged: String = b
        .store
        .connection()
        .query_row(
            "SELECT body FROM change_log WHERE entity = 'donation_release' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let release: lifebridge_domain::entities::DonationRelease =
        serde_json::from_str(&logged).unwrap();
    assert_eq!(
        (release.donation_id, release.din.clone()),
        (d.id, d.din.clone())
    );
    assert!(b.store.check().unwrap().is_ok());
    assert!(status.released);
    assert!(matches!(
        b.store.release_donation(b.phleb, d.id),
        Err(LabelError::AlreadyReleased { .. })
    ));
    assert_eq!(
        count(
            &b.store,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'donation.release'"
        ),
        1
    );
    assert!(b.store.check().unwrap().is_ok());
}

#[test]
fn wrong_other_unknown_and_duplicate_scans_are_refused_and_recorded() {
    let mut b = bus(2, false);
    let (d, other) = (b.donations[0].clone(), b.donations[1].clone());
    b.store.print_label_set(b.phleb, d.id, 1).unwrap();
    b.store.print_label_set(b.phleb, other.id, 1).unwrap();
    let bag = LabelPiece::new(LabelKind::Bag, 1);

    // A mistyped check character: wrong label text.
    let typed = format!(
        "{} {:02} {:06} *",
        d.din.facility(),
        d.din.year(),
        d.din.sequence()
    );
    let wrong_check = if d.din.check_char() == '*' {
        typed.replace('*', "0")
    } else {
        typed
    };
    let (result, message) = refused(
        b.store
            .record_label_scan(b.phleb, d.id, &wrong_check)
            .unwrap_err(),
    );
    assert_eq!(result, ScanResult::Unreadable);
    assert!(message.contains("does not match DIN"), "{message}");

    let (result, message) = refused(
        b.store
            .record_label_scan(b.phleb, d.id, &scan_text(&other, bag))
            .unwrap_err(),
    );
    assert_eq!(result, ScanResult::OtherDonation);
    assert!(message.contains("ANOTHER DONATION") && message.contains(other.din.as_str()));

    let stranger = lifebridge_domain::Din::new(&"G1234".parse().unwrap(), 26, 42).unwrap();
    let (result, message) = refused(
        b.store
            .record_label_scan(b.phleb, d.id, &format!("={}01", stranger.as_str()))
            .unwrap_err(),
    );
    assert_eq!(result, ScanResult::UnknownDin);
    assert!(message.contains("UNKNOWN DIN"));

    // A satellite label on a set printed for a single bag: not this set.
    let sat3 = LabelPiece::new(LabelKind::Satellite, 4);
    let (result, message) = refused(
        b.store
            .record_label_scan(b.phleb, d.id, &scan_text(&d, sat3))
            .unwrap_err(),
    );
    assert_eq!(result, ScanResult::OtherDonation);
    assert!(message.contains("not part of the label set"), "{message}");

    b.store
        .record_label_scan(b.phleb, d.id, &scan_text(&d, bag))
        .unwrap();
    let (result, message) = refused(
        b.store
            .record_label_scan(b.phleb, d.id, &scan_text(&d, bag))
            .unwrap_err(),
    );
    assert_eq!(result, ScanResult::Duplicate);
    assert!(message.contains("DUPLICATE"));

    // Every attempt is a row, replicated and audited; only one matched.
    assert_eq!(count(&b.store, "SELECT COUNT(*) FROM label_scan"), 6);
    assert_eq!(
        count(
            &b.store,
            "SELECT COUNT(*) FROM label_scan WHERE result = 'matched'"
        ),
        1
    );
    assert_eq!(
        count(
            &b.store,
            "SELECT COUNT(*) FROM change_log WHERE entity = 'label_scan'"
        ),
        6
    );
    assert_eq!(
        count(
            &b.store,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'label.scan'"
        ),
        6
    );
    let status = b.store.label_status(d.id).unwrap();
    assert_eq!(status.refused_scans, 5);
    assert_eq!(status.verified, vec![bag]);
    assert!(b.store.check().unwrap().is_ok());
}

#[test]
fn reprint_keeps_the_din_supersedes_the_earlier_print_and_needs_a_new_scan() {
    let mut b = bus(1, false);
    let d = b.donations[0].clone();
    let prints = b.store.print_label_set(b.phleb, d.id, 2).unwrap();
    assert!(matches!(
        b.store.print_label_set(b.phleb, d.id, 2),
        Err(LabelError::AlreadyPrinted { .. })
    ));
    let tube = LabelPiece::new(LabelKind::Tube, 1);
    b.store
        .record_label_scan(b.phleb, d.id, &scan_text(&d, tube))
        .unwrap();
    assert!(b.store.label_status(d.id).unwrap().verified.contains(&tube));

    let err = b
        .store
        .reprint_label(b.phleb, d.id, tube, "  ")
        .unwrap_err();
    assert!(err.to_string().contains("reason"), "{err}");
    let reprint = b
        .store
        .reprint_label(b.phleb, d.id, tube, "tube label smudged")
        .unwrap();
    let earlier = prints
        .iter()
        .find(|p| p.kind == LabelKind::Tube && p.piece == 1)
        .unwrap();
    assert_eq!(reprint.supersedes, Some(earlier.id));
    assert_eq!(reprint.din, d.din);

    // The earlier scan may have been of the damaged label: scan the new one.
    let status = b.store.label_status(d.id).unwrap();
    assert!(status.missing.contains(&tube));
    assert_eq!(status.prints.len(), 6);
    b.store
        .record_label_scan(b.phleb, d.id, &scan_text(&d, tube))
        .unwrap();
    assert!(b.store.label_status(d.id).unwrap().verified.contains(&tube));

    let not_in_set = LabelPiece::new(LabelKind::Tube, 5);
    assert!(matches!(
        b.store.reprint_label(b.phleb, d.id, not_in_set, "lost"),
        Err(LabelError::PieceNotInSet { .. })
    ));
    assert_eq!(
        count(
            &b.store,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'label.reprint'"
        ),
        1
    );
    assert!(b.store.check().unwrap().is_ok());
}

#[test]
fn unused_and_superseded_labels_and_unissued_dins_are_accounted_for_at_the_end_of_a_drive() {
    let mut b = bus(2, false);
    let (d, other) = (b.donations[0].clone(), b.donations[1].clone());
    let set = b.store.print_label_set(b.phleb, d.id, 1).unwrap();
    b.store.print_label_set(b.phleb, other.id, 1).unwrap();
    for p in &set {
        b.store
            .record_label_scan(
                b.phleb,
                d.id,
                &scan_text(&d, LabelPiece::new(p.kind, p.piece)),
            )
            .unwrap();
    }
    b.store.release_donation(b.phleb, d.id).unwrap();
    let bag = LabelPiece::new(LabelKind::Bag, 1);
    b.store
        .reprint_label(b.phleb, other.id, bag, "torn")
        .unwrap();
    let _ = b.store.record_label_scan(b.phleb, other.id, "garbage");

    let account = b.store.drive_label_account(d.drive_id).unwrap();
    assert_eq!(account.unverified.len(), 1);
    assert_eq!(account.unverified[0].din, other.din);
    // Triple set + 1 tube + record = 5 current prints of `other`, none scanned.
    assert_eq!(account.unused_prints.len(), 5);
    assert!(account.unused_prints.iter().all(|p| p.din == other.din));
    assert_eq!(account.superseded_prints.len(), 1);
    assert_eq!(account.superseded_prints[0].din, other.din);
    assert_eq!(account.refused_scans.len(), 1);
    assert_eq!(account.refused_scans[0].result, ScanResult::Unreadable);
    let unissued: u32 = account.unissued_dins.iter().map(|r| r.unused).sum();
    assert_eq!(unissued, 100_000 - 2);
}

#[test]
fn a_pre_printed_roll_is_verified_against_the_set_for_its_bag_type() {
    let mut b = bus(1, true);
    let d = b.donations[0].clone();
    assert_eq!(d.din.facility().as_str(), "W1234");
    let status = b.store.label_status(d.id).unwrap();
    assert_eq!(status.set.len(), 6, "triple set, default two tubes, record");
    for piece in status.set.clone() {
        b.store
            .record_label_scan(b.phleb, d.id, &scan_text(&d, piece))
            .unwrap();
    }
    b.store.release_donation(b.phleb, d.id).unwrap();
}

#[test]
fn a_donation_without_printed_labels_cannot_be_scanned_or_released() {
    let mut b = bus(1, false);
    let d = b.donations[0].clone();
    assert!(matches!(
        b.store.release_donation(b.phleb, d.id),
        Err(LabelError::NothingPrinted { .. })
    ));
    assert!(matches!(
        b.store.record_label_scan(
            b.phleb,
            d.id,
            &scan_text(&d, LabelPiece::new(LabelKind::Bag, 1))
        ),
        Err(LabelError::NothingPrinted { .. })
    ));
    let nurse = Actor::staff(b.store.staff_by_name("登记护士 李敏").unwrap().unwrap().id);
    let err = b.store.print_label_set(nurse, d.id, 2).unwrap_err();
    assert!(err.to_string().contains("phlebotomist"), "{err}");
}

#[test]
fn label_contents_leave_the_group_blank_until_the_station_has_typed_the_donor() {
    let mut b = bus(1, false);
    let d = b.donations[0].clone();
    let contents = b.store.donation_label_contents(d.id, "血站", None).unwrap();
    assert_eq!(
        contents.len(),
        6,
        "before printing: the set the bag type needs"
    );
    for c in &contents {
        assert_eq!(c.din, d.din);
        assert_eq!(c.abo_rh, None);
        assert!(c.quadrants().top_right.is_empty());
        assert!(!c.datamatrix_data().contains("=%"));
        assert_eq!(c.volume_ml, d.collected_volume_ml);
        assert!(c.collected_at.is_some());
    }
    b.store.print_label_set(b.phleb, d.id, 1).unwrap();
    assert_eq!(
        b.store
            .donation_label_contents(d.id, "血站", None)
            .unwrap()
            .len(),
        5,
        "after printing: the printed set"
    );
    // A group confirmed at the station (arrives by replication) is printed.
    b.store
        .raw_write_for_tests(|c| {
            c.execute(
                "UPDATE donor SET body = json_set(body, '$.abo_rh', 'B-') WHERE id = ?1",
                [d.donor_id.to_string()],
            )
        })
        .unwrap();
    let contents = b.store.donation_label_contents(d.id, "血站", None).unwrap();
    assert!(contents.iter().all(|c| c.abo_rh == Some(AboRh::BNeg)));
    assert!(contents[0].datamatrix_data().contains("=%1700"));
}

#[test]
fn a_donation_still_on_the_needle_cannot_be_released() {
    let mut b = bus(1, false);
    let d = b.donations[0].clone();
    let prints = b.store.print_label_set(b.phleb, d.id, 1).unwrap();
    for p in &prints {
        b.store
            .record_label_scan(
                b.phleb,
                d.id,
                &scan_text(&d, LabelPiece::new(p.kind, p.piece)),
            )
            .unwrap();
    }
    // As start_collection leaves it: on the chair, not finished.
    b.store
        .raw_write_for_tests(|c| {
            c.execute(
            "UPDATE donation SET body = json_set(body, '$.outcome', 'in_progress') WHERE id = ?1",
            [d.id.to_string()],
        )
        })
        .unwrap();
    let err = b.store.release_donation(b.phleb, d.id).unwrap_err();
    assert!(
        matches!(err, LabelError::CollectionInProgress { .. }),
        "{err}"
    );
    assert!(b.store.is_label_set_verified(d.id).unwrap());
}

#[test]
fn typing_the_din_shown_on_the_screen_verifies_nothing_however_often() {
    let mut b = bus(1, false);
    let d = b.donations[0].clone();
    b.store.print_label_set(b.phleb, d.id, 2).unwrap();
    // The DIN as the screen shows it, with its check character, five times.
    for _ in 0..5 {
        let (result, message) = refused(
            b.store
                .record_label_scan(b.phleb, d.id, &d.din.eye_readable())
                .unwrap_err(),
        );
        assert_eq!(result, ScanResult::NotScanned);
        assert!(message.contains("TYPED, NOT SCANNED"), "{message}");
    }
    // The bare 13 characters: no check character, not even read.
    let (result, message) = refused(
        b.store
            .record_label_scan(b.phleb, d.id, d.din.as_str())
            .unwrap_err(),
    );
    assert_eq!(result, ScanResult::Unreadable);
    assert!(message.contains("without its check character"), "{message}");
    // The data content with a piece's flags but no symbology identifier: could be typed.
    let (result, _) = refused(
        b.store
            .record_label_scan(b.phleb, d.id, &format!("={}01", d.din.as_str()))
            .unwrap_err(),
    );
    assert_eq!(result, ScanResult::NotScanned);
    // Full-width characters from a Chinese IME: folded, still typed.
    let wide: String = d
        .din
        .eye_readable()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                char::from_u32(c as u32 + 0xFEE0).unwrap()
            } else {
                c
            }
        })
        .collect();
    let (result, _) = refused(b.store.record_label_scan(b.phleb, d.id, &wide).unwrap_err());
    assert_eq!(result, ScanResult::NotScanned);
    // A scan whose flags name no piece (the default 00) identifies only the DIN.
    let (result, _) = refused(
        b.store
            .record_label_scan(b.phleb, d.id, &format!("]C0{}", d.din.barcode_data()))
            .unwrap_err(),
    );
    assert_eq!(result, ScanResult::NoPiece);
    // And an old-style reserved flag is unreadable, naming the value.
    let (result, message) = refused(
        b.store
            .record_label_scan(b.phleb, d.id, &format!("]C0={}T1", d.din.as_str()))
            .unwrap_err(),
    );
    assert_eq!(result, ScanResult::Unreadable);
    assert!(
        message.contains("\"T1\"") && message.contains("reserved"),
        "{message}"
    );

    let status = b.store.label_status(d.id).unwrap();
    assert!(status.verified.is_empty(), "{:?}", status.verified);
    assert_eq!(status.refused_scans, 10);
    assert!(matches!(
        b.store.release_donation(b.phleb, d.id),
        Err(LabelError::NotVerified { missing, .. }) if missing.len() == 6
    ));
    // Full-width scanner output (an IME left on) is a scan, and verifies its piece.
    let scan = scan_text(&d, LabelPiece::new(LabelKind::Bag, 1));
    let wide_scan: String = scan
        .trim()
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
        .collect();
    assert_eq!(
        b.store
            .record_label_scan(b.phleb, d.id, &wide_scan)
            .unwrap(),
        LabelPiece::new(LabelKind::Bag, 1)
    );
    assert!(b.store.check().unwrap().is_ok());
}

#[test]
fn manual_entry_needs_the_check_character_a_reason_and_a_second_crew_members_pin() {
    let mut b = bus(1, false);
    let d = b.donations[0].clone();
    let prints = b.store.print_label_set(b.phleb, d.id, 2).unwrap();
    let set: Vec<LabelPiece> = prints
        .iter()
        .map(|p| LabelPiece::new(p.kind, p.piece))
        .collect();
    let phleb_id = b.store.staff_by_name("采血护士 张静").unwrap().unwrap().id;
    let witness = b.store.staff_by_name("登记护士 李敏").unwrap().unwrap().id;
    let tube = LabelPiece::new(LabelKind::Tube, 2);
    let entry = |typed: &str, reason: &str, who, pin: &str| ManualLabelEntry {
        piece: tube,
        typed: typed.to_owned(),
        reason: reason.to_owned(),
        witness: who,
        witness_pin: pin.to_owned(),
    };
    let good = entry(
        &d.din.eye_readable(),
        "tube label wet, unreadable",
        witness,
        demo::DEMO_PIN,
    );
    let before = count(&b.store, "SELECT COUNT(*) FROM label_scan");
    for (bad, why) in [
        (
            entry(d.din.as_str(), "wet", witness, demo::DEMO_PIN),
            "without its check character",
        ),
        (
            entry(
                &format!("={}09", d.din.as_str()),
                "wet",
                witness,
                demo::DEMO_PIN,
            ),
            "typed entry must be",
        ),
        (
            entry(&d.din.eye_readable(), "wet", phleb_id, demo::DEMO_PIN),
            "someone other",
        ),
        (
            entry(&d.din.eye_readable(), "wet", witness, "9999"),
            "wrong PIN",
        ),
        (
            entry(&d.din.eye_readable(), "  ", witness, demo::DEMO_PIN),
            "reason",
        ),
    ] {
        let err = b
            .store
            .record_manual_label_entry(b.phleb, d.id, &bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{why}: {err}");
    }
    let other_din =
        lifebridge_domain::Din::new(d.din.facility(), d.din.year(), d.din.sequence() ^ 1).unwrap();
    let err = b
        .store
        .record_manual_label_entry(
            b.phleb,
            d.id,
            &entry(&other_din.eye_readable(), "wet", witness, demo::DEMO_PIN),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("not the DIN of the donation"), "{err}");
    // A refusal writes no scan record.
    assert_eq!(count(&b.store, "SELECT COUNT(*) FROM label_scan"), before);

    assert_eq!(
        b.store
            .record_manual_label_entry(b.phleb, d.id, &good)
            .unwrap(),
        tube
    );
    let err = b
        .store
        .record_manual_label_entry(b.phleb, d.id, &good)
        .unwrap_err()
        .to_string();
    assert!(err.contains("already verified"), "{err}");
    for p in set.iter().filter(|p| **p != tube) {
        b.store
            .record_label_scan(b.phleb, d.id, &scan_text(&d, *p))
            .unwrap();
    }
    let status = b.store.release_donation(b.phleb, d.id).unwrap();
    assert_eq!(status.manual, vec![tube]);
    let release: lifebridge_domain::entities::DonationRelease = serde_json::from_str(
        &b.store
            .connection()
            .query_row(
                "SELECT body FROM donation_release WHERE din = ?1",
                [d.din.as_str()],
                |r| r.get::<_, String>(0),
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(release.manual_pieces, vec![tube]);
    // The end of the drive lists it as manual, with its reason and who authorised it.
    let account = b.store.drive_label_account(d.drive_id).unwrap();
    assert_eq!(account.manual_entries.len(), 1);
    let m = &account.manual_entries[0];
    assert_eq!(m.piece, Some(tube));
    let manual = m.manual.as_ref().unwrap();
    assert_eq!(manual.authorised_by, witness);
    assert_eq!(manual.reason, "tube label wet, unreadable");
    assert_eq!(
        count(
            &b.store,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'label.manual_entry'"
        ),
        1
    );
    assert!(b.store.check().unwrap().is_ok());
}

#[test]
fn scans_recorded_before_the_st001_flags_stay_readable_and_verify_nothing() {
    let mut b = bus(1, false);
    let d = b.donations[0].clone();
    b.store.print_label_set(b.phleb, d.id, 2).unwrap();
    let tube = LabelPiece::new(LabelKind::Tube, 1);
    let record = LabelPiece::new(LabelKind::Record, 1);
    for p in [tube, record] {
        b.store
            .record_label_scan(b.phleb, d.id, &scan_text(&d, p))
            .unwrap();
    }
    // As an earlier version stored them: matched scans of `T1` / `R1` labels and of a
    // typed DIN, without the piece field.
    let old = [
        format!("={}T1", d.din.as_str()),
        format!("={}R1", d.din.as_str()),
    ];
    let ids: Vec<String> = {
        let mut stmt = b
            .store
            .connection()
            .prepare("SELECT id FROM label_scan ORDER BY rowid")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for (id, text) in ids.iter().zip(&old) {
        b.store
            .raw_write_for_tests(|c| {
            c.execute(
                "UPDATE label_scan SET body = json_remove(json_set(body, '$.scanned_text', ?2), '$.piece') WHERE id = ?1",
                [id, text],
            )
            })
            .unwrap();
    }
    // The store still reads: status, the drive's account, the label contents.
    let status = b.store.label_status(d.id).unwrap();
    assert!(status.verified.is_empty(), "{:?}", status.verified);
    assert_eq!(status.missing.len(), 6);
    b.store.drive_label_account(d.drive_id).unwrap();
    b.store.donation_label_contents(d.id, "血站", None).unwrap();
    // Re-printed with the ST-001 flags and scanned, the pieces verify again.
    b.store
        .reprint_label(b.phleb, d.id, tube, "old T1 flag")
        .unwrap();
    b.store
        .record_label_scan(b.phleb, d.id, &scan_text(&d, tube))
        .unwrap();
    assert_eq!(b.store.label_status(d.id).unwrap().verified, vec![tube]);
}

/// What the phlebotomist reads at the chair is a catalogue message (code and
/// parameters), rendered in the screen's language; `Display` stays English for logs.
#[test]
fn chair_refusals_are_catalogue_messages() {
    use lifebridge_domain::messages::{Lang, Message, Param};

    let mut b = bus(2, false);
    let (d, other) = (b.donations[0].clone(), b.donations[1].clone());
    b.store.print_label_set(b.phleb, d.id, 1).unwrap();
    b.store.print_label_set(b.phleb, other.id, 1).unwrap();
    let bag = LabelPiece::new(LabelKind::Bag, 1);
    let text = |e: LabelError| match e {
        LabelError::ScanRefused { message, .. } => message,
        other => panic!("expected a refused scan, got {other}"),
    };

    let err = b
        .store
        .record_label_scan(b.phleb, d.id, &scan_text(&other, bag))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("SCAN REFUSED: this label belongs to ANOTHER DONATION")
    );
    let m = text(err);
    assert_eq!(
        m,
        Message::new("chair.other_donation")
            .with("din", other.din.to_string())
            .with("expected", d.din.to_string())
    );
    assert_eq!(
        m.render(Lang::ZhCn),
        format!(
            "此标签属于其他献血者（{}），不是本次采血 {} 的：请取下，找到正确的标签",
            other.din, d.din
        )
    );

    b.store
        .record_label_scan(b.phleb, d.id, &scan_text(&d, bag))
        .unwrap();
    let m = text(
        b.store
            .record_label_scan(b.phleb, d.id, &scan_text(&d, bag))
            .unwrap_err(),
    );
    assert_eq!(m.code, "chair.duplicate");
    assert_eq!(m.params.get("piece"), Some(&Param::Message(bag.name())));
    assert!(
        m.render(Lang::ZhCn).contains("主袋已经扫描过"),
        "{}",
        m.render(Lang::ZhCn)
    );

    // Typed: no English in the zh-CN text a nurse reads.
    let m = text(
        b.store
            .record_label_scan(b.phleb, d.id, d.din.as_str())
            .unwrap_err(),
    );
    assert_eq!(
        m,
        Message::new("scan.check_character_missing").with("din", d.din.as_str())
    );
    let zh = m.render(Lang::ZhCn);
    assert!(
        zh.contains("缺少校验字符") && !zh.contains("check character"),
        "{zh}"
    );

    // A manual entry refused: its reason, in the catalogue's words.
    let witness = b.store.staff_by_name("登记护士 李敏").unwrap().unwrap().id;
    let err = b
        .store
        .record_manual_label_entry(
            b.phleb,
            d.id,
            &ManualLabelEntry {
                piece: LabelPiece::new(LabelKind::Record, 1),
                typed: d.din.eye_readable(),
                reason: "wet".into(),
                witness,
                witness_pin: "9999".into(),
            },
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("manual entry refused: second crew member's PIN: wrong PIN"),
        "{err}"
    );
    let m = err.message();
    assert_eq!(m.code, "chair.manual_witness_pin");
    assert!(
        m.render(Lang::ZhCn)
            .starts_with("第二名工作人员 PIN：PIN 错误，还可尝试"),
        "{}",
        m.render(Lang::ZhCn)
    );

    // Not yet released: the missing pieces by name, in either language.
    let m = b
        .store
        .release_donation(b.phleb, d.id)
        .unwrap_err()
        .message();
    assert_eq!(m.code, "chair.not_verified");
    assert!(
        m.render(Lang::En).contains("sample tube 1"),
        "{}",
        m.render(Lang::En)
    );
    assert!(
        m.render(Lang::ZhCn).contains("标本管 1"),
        "{}",
        m.render(Lang::ZhCn)
    );
}
