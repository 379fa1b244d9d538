use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::din::{Din, DinFlag};
use crate::entities::{AboRh, BagSetKind, ScanResult};
use crate::label_piece::DEFAULT_TUBE_COUNT;

use super::*;
use crate::din::FacilityId;

fn din(seq: u32) -> Din {
    let f: FacilityId = "G1234".parse().unwrap();
    Din::new(&f, 26, seq).unwrap()
}

fn scan(d: &Din, piece: LabelPiece) -> String {
    format!("]C0={}{}\r\n", d.as_str(), piece.flags())
}

#[test]
fn triple_set_has_three_bags_default_tubes_and_the_record() {
    let set = label_set(BagSetKind::Triple, DEFAULT_TUBE_COUNT).unwrap();
    let flags: Vec<String> = set.iter().map(|p| p.flags()).collect();
    // ST-001 Table 3: containers 01-03, test tube 07, NAT tube 09, donor record 08.
    assert_eq!(flags, ["01", "02", "03", "07", "09", "08"]);
    assert_eq!(set[1].kind, LabelKind::Satellite);
    assert!(label_set(BagSetKind::Single, 0).is_err());
    assert!(label_set(BagSetKind::Single, 10).is_err());
    assert_eq!(label_set(BagSetKind::ApheresisKit, 1).unwrap().len(), 3);
    let nine = label_set(BagSetKind::Single, 9).unwrap();
    let tubes: Vec<String> = nine[1..10].iter().map(|p| p.flags()).collect();
    assert_eq!(
        tubes,
        ["07", "09", "23", "24", "25", "26", "27", "28", "29"]
    );
}

#[test]
fn flags_round_trip_and_other_flags_name_no_piece() {
    for p in label_set(BagSetKind::Quadruple, 9).unwrap() {
        assert_eq!(LabelPiece::from_flags(&p.flags()), Some(p));
    }
    for f in [
        "00", "05", "06", "10", "20", "22", "30", "59", "60", "96", "T1", "R1", "0", "011",
    ] {
        assert_eq!(LabelPiece::from_flags(f), None, "{f}");
    }
    assert_eq!(
        LabelPiece::from_flags("17"),
        Some(LabelPiece::new(LabelKind::Satellite, 7))
    );
}

#[test]
fn reserved_flags_are_refused_with_what_is_allowed() {
    let d = din(3);
    for flags in ["T1", "R1", "11", "97", "99", "A0"] {
        let e = read_entry(&format!("]C0={}{flags}", d.as_str())).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("{flags:?}"))
                && msg.contains("reserved")
                && msg.contains("08 (donor record)"),
            "{msg}"
        );
    }
}

#[test]
fn scanner_prefixes_and_suffixes_are_stripped() {
    let d = din(12345);
    for raw in [
        format!("]C0{}\r\n", d.barcode_data()),
        format!("]d2{}\t", d.barcode_data()),
        format!("\u{2}]C0{}\u{3}", d.barcode_data()),
        format!("  ]C0{}\n", d.barcode_data()),
    ] {
        let e = read_entry(&raw).unwrap();
        assert_eq!(e.din, d);
        assert_eq!(e.piece, None);
        assert_eq!(e.method, EntryMethod::Scanned, "{raw:?}");
    }
}

#[test]
fn full_width_ime_input_is_folded_not_refused() {
    let d = din(3);
    let ascii = format!("]C0={}07", d.as_str());
    let wide: String = ascii
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
        .collect();
    assert!(wide.starts_with('］') && wide.contains('＝'));
    let e = read_entry(&wide).unwrap();
    assert_eq!(e.method, EntryMethod::Scanned);
    assert_eq!(e.piece, Some(LabelPiece::new(LabelKind::Tube, 1)));
    let typed = format!("{}\u{3000}{}", d.eye_readable().replace(' ', "　"), "");
    let typed: String = typed
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                char::from_u32(c as u32 + 0xFEE0).unwrap()
            } else {
                c
            }
        })
        .collect();
    assert_eq!(read_entry(&typed).unwrap().method, EntryMethod::Typed);
}

#[test]
fn typed_din_needs_its_check_character_which_must_match() {
    // Worked example: G123498654321 has check character H.
    let ok = read_entry("G1234 98 654321 H").unwrap();
    assert_eq!(ok.din.as_str(), "G123498654321");
    assert_eq!(ok.method, EntryMethod::Typed);
    assert!(ok.check_character_verified);
    let msg = read_entry("G1234 98 654321 J").unwrap_err().to_string();
    assert!(msg.contains("'J'") && !msg.contains("'H'"), "{msg}");
    let msg = read_entry("G123498654321").unwrap_err().to_string();
    assert!(msg.contains("without its check character"), "{msg}");
    assert_eq!(
        read_typed("=G12349865432101"),
        Err(ScanError::TypedDataContent)
    );
    let unprefixed = read_entry("=G12349865432101").unwrap();
    assert_eq!(unprefixed.method, EntryMethod::Unprefixed);
    assert!(!unprefixed.check_character_verified);
    let with_check = read_scanned(&din(1).barcode_data_with_check_flag()).unwrap();
    assert!(with_check.check_character_verified);
    assert!(matches!(
        read_entry("]C0BOX-R1"),
        Err(ScanError::NotIsbt128 { .. })
    ));
}

#[test]
fn datamatrix_data_has_a_compound_header_and_parses_into_each_structure() {
    let content = LabelContent {
        din: din(7),
        piece: LabelPiece::new(LabelKind::Bag, 1),
        facility_name: "某市中心血站".into(),
        abo_rh: Some(AboRh::BNeg),
        collected_at: NaiveDate::from_ymd_opt(2026, 2, 1)
            .unwrap()
            .and_hms_opt(9, 30, 0),
        volume_ml: Some(400),
        product: Some(ProductCode::new("E0398", 'V', "00").unwrap()),
        expiry: NaiveDate::from_ymd_opt(2026, 3, 8)
            .unwrap()
            .and_hms_opt(23, 59, 0),
    };
    let data = content.datamatrix_data();
    assert_eq!(
        data,
        format!(
            "=+05000={}01&*0260320930=<E0398V00=%1700&>0260672359",
            din(7).as_str()
        )
    );
    let parsed = parse_scan(&format!("]d2{data}\r")).unwrap();
    assert_eq!(parsed.len(), 6);
    assert_eq!(
        parsed[0],
        DataStructure::Compound {
            count: 5,
            reference: 0
        }
    );
    assert_eq!(parsed[1], content.din_structure());
    assert_eq!(
        parsed[3],
        DataStructure::Product(ProductCode::new("E0398", 'V', "00").unwrap())
    );
    assert_eq!(
        parsed[4],
        DataStructure::AboRh {
            group: AboRh::BNeg,
            rest: "00".into()
        }
    );
    assert_eq!(
        parsed[5],
        DataStructure::ExpiryTime(content.expiry.unwrap())
    );
    let reencoded: String = parsed.iter().map(DataStructure::data_content).collect();
    assert_eq!(reencoded, data);
    assert!(content.quadrants().bottom_right[0].contains("2026-03-08 23:59"));
    // The piece is printed in both languages, English first, as it always was.
    assert_eq!(content.quadrants().top_left[1], "primary bag / 主袋");
    // A header that miscounts is refused.
    let e = parse_scan(&format!("=+04000={}01", din(7).as_str())).unwrap_err();
    assert_eq!(
        e,
        ScanError::CompoundCount {
            announced: 4,
            found: 1
        }
    );
    // A tube carries the DIN alone: no header.
    let tube = LabelContent::blank(din(7), LabelPiece::new(LabelKind::Tube, 1), "血站");
    assert_eq!(tube.datamatrix_data(), format!("={}07", din(7).as_str()));
}

#[test]
fn blood_group_special_messages_mean_stop() {
    for m in BloodGroupMessage::ALL {
        let raw = format!("]d2={}01=%{}00", din(2).as_str(), m.code());
        let e = read_entry(&raw).unwrap();
        assert_eq!(e.stop(), Some(m), "{raw}");
        assert!(m.meaning().starts_with("STOP"));
        let parsed = parse_scan(&raw).unwrap();
        assert_eq!(
            parsed
                .iter()
                .map(DataStructure::data_content)
                .collect::<String>(),
            strip_scanner_noise(&raw)
        );
    }
    assert_eq!(
        read_entry(&scan(&din(2), LabelPiece::new(LabelKind::Bag, 1)))
            .unwrap()
            .stop(),
        None
    );
}

#[test]
fn unknown_group_leaves_abo_blank_never_guessed() {
    let content = LabelContent::blank(din(1), LabelPiece::new(LabelKind::Bag, 1), "血站");
    assert!(content.quadrants().top_right.is_empty());
    assert!(!content.datamatrix_data().contains("=%"));
    assert_eq!(DataStructure::abo_rh(None), None);
}

#[test]
fn malformed_and_unknown_structures_say_what_is_allowed() {
    let e = parse_scan("=%9900").unwrap_err().to_string();
    assert!(
        e.contains("ABO/RhD") && e.contains("95 51") && e.contains("Md"),
        "{e}"
    );
    let e = parse_scan("=>02").unwrap_err().to_string();
    assert!(e.contains("cut short"), "{e}");
    let e = parse_scan("=#123").unwrap_err().to_string();
    assert!(e.contains("unrecognised"), "{e}");
    let e = parse_scan("]C0\r\n").unwrap_err();
    assert_eq!(e, ScanError::Empty);
    let e = read_label_scan("=<E0398V00").unwrap_err().to_string();
    assert!(e.contains("DIN barcode"), "{e}");
    let e = read_label_scan("]C0=)1FW0123456\r")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("DIN barcode"),
        "a bag maker's barcode is not a label: {e}"
    );
    assert_eq!(
        parse_scan("&)0000LOT123").unwrap(),
        vec![DataStructure::Container {
            identifier: "&)".into(),
            data: "0000LOT123".into()
        }]
    );
    // Flags 60+check must agree with the DIN.
    let wrong = 60 + (din(1).check_value() + 1) % 37;
    let e = read_label_scan(&format!("]C0={}{wrong}", din(1).as_str())).unwrap_err();
    assert!(e.to_string().contains("misread or misprinted"), "{e}");
}

#[test]
fn verification_needs_a_scan_of_each_pieces_own_symbol() {
    let expected = din(10);
    let set = label_set(BagSetKind::Double, 2).unwrap();
    let mut verified = BTreeSet::new();
    let entry = |raw: &str| read_entry(raw).unwrap();
    let bag = entry(&scan(&expected, set[0]));
    assert_eq!(
        verify_entry(&expected, &set, &verified, &bag, true),
        Verdict::Matched(set[0])
    );
    verified.insert(set[0]);
    assert_eq!(
        verify_entry(&expected, &set, &verified, &bag, true),
        Verdict::Duplicate { piece: set[0] }
    );
    let third = entry(&scan(&expected, LabelPiece::new(LabelKind::Satellite, 3)));
    assert!(matches!(
        verify_entry(&expected, &set, &verified, &third, true),
        Verdict::NotInSet { .. }
    ));
    let other = entry(&scan(&din(11), set[0]));
    assert_eq!(
        verify_entry(&expected, &set, &verified, &other, true).scan_result(),
        ScanResult::OtherDonation
    );
    assert_eq!(
        verify_entry(&expected, &set, &verified, &other, false).scan_result(),
        ScanResult::UnknownDin
    );
    // The DIN shown on the screen, typed with its check character, verifies nothing,
    // however often it is typed; so does data content without a symbology identifier.
    let typed = entry(&expected.eye_readable());
    let unprefixed = entry(&format!("={}02", expected.as_str()));
    for e in [&typed, &unprefixed] {
        for _ in 0..5 {
            assert_eq!(
                verify_entry(&expected, &set, &verified, e, true).scan_result(),
                ScanResult::NotScanned
            );
        }
    }
    // A scan whose flags name no piece identifies the DIN only.
    let no_piece = entry(&format!("]C0{}", expected.barcode_data()));
    assert_eq!(
        verify_entry(&expected, &set, &verified, &no_piece, true),
        Verdict::NoPiece { flags: "00".into() }
    );
}

proptest::proptest! {
    /// No label of any set ever carries a reserved flag value, and every flag
    /// printed reads back as its own piece.
    #[test]
    fn no_reserved_flag_is_ever_printed(kind in 0usize..5, tubes in 1u8..=MAX_TUBE_COUNT, seq in 0u32..=999_999) {
        let kinds = [BagSetKind::Single, BagSetKind::Double, BagSetKind::Triple, BagSetKind::Quadruple, BagSetKind::ApheresisKit];
        let d = din(seq);
        let set = label_set(kinds[kind], tubes).unwrap();
        let mut seen = BTreeSet::new();
        for p in &set {
            let flags = p.flags();
            proptest::prop_assert!(DinFlag::parse(&flags).is_ok(), "{flags} is reserved");
            proptest::prop_assert!(flags.bytes().all(|b| b.is_ascii_digit()));
            proptest::prop_assert!(seen.insert(flags.clone()), "{flags} printed twice in one set");
            let content = LabelContent::blank(d.clone(), *p, "血站");
            let e = read_entry(&format!("]C0{}", content.code128_data())).unwrap();
            proptest::prop_assert_eq!(e.piece, Some(*p));
            let e = read_entry(&format!("]d2{}", content.datamatrix_data())).unwrap();
            proptest::prop_assert_eq!(e.piece, Some(*p));
        }
    }

    /// A typed DIN without its check character is never accepted as a
    /// verification, whatever its separators, case or width.
    #[test]
    fn a_typed_din_without_check_character_never_verifies(seq in 0u32..=999_999, sep in "[ \\-\u{3000}]{0,2}", lower in proptest::bool::ANY, wide in proptest::bool::ANY) {
        let d = din(seq);
        let mut typed = format!("{}{sep}{:02}{sep}{:06}", d.facility(), d.year(), d.sequence());
        if lower { typed = typed.to_lowercase(); }
        if wide {
            typed = typed.chars().map(|c| if c.is_ascii_alphanumeric() { char::from_u32(c as u32 + 0xFEE0).unwrap_or(c) } else { c }).collect();
        }
        let set = label_set(BagSetKind::Quadruple, MAX_TUBE_COUNT).unwrap();
        proptest::prop_assert!(read_entry(&typed).is_err(), "{typed:?} was accepted");
        proptest::prop_assert!(read_typed(&typed).is_err());
        // With the check character it is read, and still verifies no piece.
        let with_check = format!("{typed} {}", d.check_char());
        let e = read_entry(&with_check).unwrap();
        proptest::prop_assert_eq!(e.method, EntryMethod::Typed);
        let v = verify_entry(&d, &set, &BTreeSet::new(), &e, true);
        proptest::prop_assert!(!v.is_match(), "{v:?}");
    }
}

#[test]
fn julian_dates_match_isbt_examples() {
    assert_eq!(
        cyyjjj(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
        "026365"
    );
    assert_eq!(
        cyyjjj(NaiveDate::from_ymd_opt(2028, 12, 31).unwrap()),
        "028366"
    );
    assert_eq!(parse_cyyjjj("026001"), NaiveDate::from_ymd_opt(2026, 1, 1));
    assert_eq!(parse_cyyjjj("026400"), None);
}

/// The names a person reads for a piece, a flag and a product class are catalogue
/// messages; the printed label keeps both languages, drawn from the same entries.
#[test]
fn names_and_scan_mistakes_come_from_the_catalogue() {
    use crate::messages::{Lang, Message, bilingual};
    use crate::product::ProductClass;

    let sat = LabelPiece::new(LabelKind::Satellite, 3);
    assert_eq!(sat.name(), Message::new("piece.satellite").with("n", "3"));
    assert_eq!(
        bilingual(&sat.name(), Lang::En),
        "satellite bag 3 / 转移袋 3"
    );
    assert_eq!(
        bilingual(&LabelPiece::new(LabelKind::Bag, 1).name(), Lang::En),
        "primary bag / 主袋"
    );
    // Logs and the CLI say it in English.
    assert_eq!(sat.to_string(), "satellite bag 3");
    let nat = DinFlag::parse("09").unwrap();
    assert_eq!(nat.meaning(), Message::new("din_flag.nat_tube"));
    assert_eq!(nat.meaning().render(Lang::En), "NAT sample tube");
    assert_eq!(
        DinFlag::parse("03").unwrap().meaning().render(Lang::ZhCn),
        "同组第 3 袋"
    );
    assert_eq!(
        ProductClass::PlateletWholeBlood.name().code,
        "product_class.platelet_whole_blood"
    );
    assert_eq!(
        ProductClass::PlateletWholeBlood.name().render(Lang::ZhCn),
        "全血（制备血小板）"
    );
    assert_eq!(
        ProductClass::ApheresisPlasma.name().render(Lang::En),
        "apheresis plasma"
    );

    // What a hand gets wrong at a scan field, in a nurse's words.
    let d = din(7);
    let e = read_entry(d.as_str()).unwrap_err();
    assert_eq!(
        e.message(),
        Message::new("scan.check_character_missing").with("din", d.as_str())
    );
    assert!(
        e.message()
            .render(Lang::En)
            .contains("without its check character")
    );
    let typed = format!(
        "{} {}",
        d.as_str(),
        if d.check_char() == 'A' { 'B' } else { 'A' }
    );
    let e = read_entry(&typed).unwrap_err();
    assert_eq!(e.message().code, "scan.check_character_mismatch");
    assert!(e.message().render(Lang::ZhCn).contains("不符"));
    assert_eq!(
        read_entry("  ").unwrap_err().message(),
        Message::new("scan.empty")
    );
    assert_eq!(
        read_typed(&format!("={}01", d.as_str()))
            .unwrap_err()
            .message(),
        Message::new("scan.typed_data_content")
    );
    // Anything else keeps the parser's English detail for the English text.
    let e = read_entry(&format!("]C0={}T1", d.as_str())).unwrap_err();
    let m = e.message();
    assert_eq!(m.code, "scan.unreadable");
    assert!(m.render(Lang::En).contains("reserved"));
}
