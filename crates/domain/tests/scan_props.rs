//! Fuzzing of what reaches a scan field (a scanner's keyboard wedge, the keyboard, a
//! desk's hand scanner): arbitrary text or bytes never panic any reader, and a label's
//! own symbol content reads back as the DIN and piece printed on it.
#![allow(clippy::unwrap_used)]

use lifebridge_domain::Din;
use lifebridge_domain::label_piece::{LabelKind, LabelPiece};
use lifebridge_domain::labels::{EntryMethod, parse_scan, read_entry, read_label_scan};
use proptest::prelude::*;

const FIRST: &str = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789";
const MIDDLE: &str = "ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789";
const DIGITS: &str = "0123456789";

fn pick(alphabet: &'static str) -> impl Strategy<Value = char> {
    let chars: Vec<char> = alphabet.chars().collect();
    proptest::sample::select(chars)
}

fn din() -> impl Strategy<Value = Din> {
    (
        pick(FIRST),
        proptest::collection::vec(pick(MIDDLE), 2),
        proptest::collection::vec(pick(DIGITS), 2),
        0u8..=99,
        0u32..=999_999,
    )
        .prop_map(|(first, middle, last, year, seq)| {
            let facility: String = std::iter::once(first).chain(middle).chain(last).collect();
            Din::new(&facility.parse().unwrap(), year, seq).unwrap()
        })
}

/// Every piece a label set prints: bags, satellites, tubes, the record sheet.
fn piece() -> impl Strategy<Value = LabelPiece> {
    prop_oneof![
        Just(LabelPiece::new(LabelKind::Bag, 1)),
        (2u8..=9).prop_map(|n| LabelPiece::new(LabelKind::Satellite, n)),
        (1u8..=9).prop_map(|n| LabelPiece::new(LabelKind::Tube, n)),
        Just(LabelPiece::new(LabelKind::Record, 1)),
    ]
}

/// Text shaped like scanner output: AIM prefixes, ISBT 128 data identifiers, digits,
/// letters, separators, full-width and control characters, in any order.
fn scan_like() -> impl Strategy<Value = String> {
    let atoms = prop_oneof![
        Just("]C0".to_owned()),
        Just("]d2".to_owned()),
        Just("]Q3".to_owned()),
        Just("=".to_owned()),
        Just("&".to_owned()),
        Just("=+".to_owned()),
        Just("=%".to_owned()),
        Just("=<".to_owned()),
        Just("=>".to_owned()),
        Just("&>".to_owned()),
        Just("=)".to_owned()),
        Just("\r\n".to_owned()),
        Just("\u{3000}".to_owned()),
        Just("－".to_owned()),
        "[0-9]{1,14}",
        "[A-Z*]{1,6}",
        "[０-９Ａ-Ｚ]{1,4}",
        "[\\x00-\\x1f ]{1,2}",
    ];
    proptest::collection::vec(atoms, 0..12).prop_map(|parts| parts.concat())
}

fn read_everything(text: &str) {
    let _ = parse_scan(text);
    let _ = read_entry(text);
    let _ = read_label_scan(text);
    let _ = Din::parse(text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn no_text_panics_a_reader(s in any::<String>()) {
        read_everything(&s);
    }

    #[test]
    fn no_scanner_like_text_panics_a_reader(s in scan_like()) {
        read_everything(&s);
    }

    #[test]
    fn no_bytes_panic_a_reader(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        read_everything(&String::from_utf8_lossy(&bytes));
    }

    /// A label's symbol, as a scanner sends it (AIM identifier, data content, CR LF):
    /// the DIN and the piece its flags name, read as a scan.
    #[test]
    fn a_label_scan_reads_back_its_din_and_piece(d in din(), p in piece(), aim in prop_oneof![Just("]C0"), Just("]d2")]) {
        let flags = p.flags();
        let raw = format!("{aim}={}{flags}\r\n", d.as_str());
        let scanned = read_label_scan(&raw).unwrap();
        prop_assert_eq!(&scanned.din, &d);
        prop_assert_eq!(scanned.piece, Some(p));
        let entry = read_entry(&raw).unwrap();
        prop_assert_eq!(entry.method, EntryMethod::Scanned);
        prop_assert_eq!(entry.flags.as_deref(), Some(flags.as_str()));
    }

    /// The check-value flags (60 + check) are verified on a scan.
    #[test]
    fn a_scan_with_the_check_flag_is_verified(d in din()) {
        let entry = read_entry(&format!("]C0{}", d.barcode_data_with_check_flag())).unwrap();
        prop_assert_eq!(&entry.din, &d);
        prop_assert!(entry.check_character_verified);
    }

    /// The eye-readable DIN typed with its check character is a typed entry of the same
    /// DIN, which packing and the desk refuse as a scan.
    #[test]
    fn a_typed_din_reads_back_and_is_no_scan(d in din()) {
        let entry = read_entry(&d.eye_readable()).unwrap();
        prop_assert_eq!(entry.method, EntryMethod::Typed);
        prop_assert_eq!(&entry.din, &d);
        prop_assert!(read_label_scan(&d.eye_readable()).is_err());
    }
}
