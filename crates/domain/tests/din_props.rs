//! Property tests for ISBT 128 DIN parsing and the MOD 37-2 check character.
#![allow(clippy::unwrap_used)]

use lifebridge_domain::din::{DinPart, mod37_2_char, mod37_2_check_value};
use lifebridge_domain::{Din, DinError, DinRange, FacilityId};
use proptest::prelude::*;

const FIRST: &str = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789";
/// Facility positions 2-3 (ST-001: never the letter O); positions 4-5 are digits.
const MIDDLE: &str = "ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789";
const DIGITS: &str = "0123456789";
const MOD37: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";

fn pick(alphabet: &'static str) -> impl Strategy<Value = char> {
    let chars: Vec<char> = alphabet.chars().collect();
    proptest::sample::select(chars)
}

fn facility() -> impl Strategy<Value = FacilityId> {
    (
        pick(FIRST),
        proptest::collection::vec(pick(MIDDLE), 2),
        proptest::collection::vec(pick(DIGITS), 2),
    )
        .prop_map(|(first, middle, last)| {
            let s: String = std::iter::once(first).chain(middle).chain(last).collect();
            s.parse::<FacilityId>()
                .expect("generated facility is valid")
        })
}

fn din() -> impl Strategy<Value = Din> {
    (facility(), 0u8..=99, 0u32..=999_999)
        .prop_map(|(f, y, s)| Din::new(&f, y, s).expect("generated DIN is valid"))
}

proptest! {
    #[test]
    fn eye_readable_round_trips(d in din()) {
        prop_assert_eq!(Din::parse_eye_readable(&d.eye_readable()).unwrap(), d.clone());
        prop_assert_eq!(Din::parse(&d.eye_readable().to_lowercase()).unwrap(), d.clone());
        let compact = format!("{}{}", d.as_str(), d.check_char());
        prop_assert_eq!(Din::parse(&compact).unwrap(), d.clone());
        prop_assert_eq!(Din::parse(d.as_str()).unwrap(), d.clone());
        prop_assert_eq!(d.as_str().len(), 13);
        prop_assert_eq!(Some(d.check_char()), mod37_2_char(d.check_value()));
        prop_assert_eq!(mod37_2_check_value(d.as_str()).unwrap(), d.check_value());
    }

    #[test]
    fn barcode_round_trips(d in din()) {
        let (back, flags) = Din::parse_barcode(&d.barcode_data()).unwrap();
        prop_assert_eq!(&back, &d);
        prop_assert_eq!(flags, "00");
        let (back, flags) = Din::parse_barcode(&d.barcode_data_with_check_flag()).unwrap();
        prop_assert_eq!(&back, &d);
        prop_assert_eq!(flags, format!("{}", 60 + d.check_value()));
        prop_assert_eq!(Din::parse(&d.barcode_data_with_check_flag()).unwrap(), d.clone());
    }

    #[test]
    fn serde_round_trips(d in din()) {
        let json = serde_json::to_string(&d).unwrap();
        prop_assert_eq!(serde_json::from_str::<Din>(&json).unwrap(), d);
    }

    #[test]
    fn wrong_barcode_check_flag_is_detected(d in din(), wrong in 0u8..=36) {
        prop_assume!(wrong != d.check_value());
        let data = format!("={}{}", d.as_str(), 60 + wrong);
        let is_mismatch = matches!(Din::parse_barcode(&data), Err(DinError::FlagCheckMismatch { .. }));
        prop_assert!(is_mismatch);
    }

    /// ISO 7064 MOD 37-2 detects every single substitution, in the DIN or in the check
    /// character itself.
    #[test]
    fn any_single_substitution_is_detected(d in din(), pos in 0usize..14, replacement in pick(MOD37)) {
        let mut chars: Vec<char> = d.as_str().chars().chain([d.check_char()]).collect();
        prop_assume!(chars[pos] != replacement);
        chars[pos] = replacement;
        let typed: String = chars.iter().collect();
        let result = Din::parse_eye_readable(&typed);
        prop_assert!(result.is_err(), "{} accepted as {:?}", typed, result);
        // When the substitution keeps the DIN well-formed, the check character is what
        // catches it.
        let body: String = chars[..13].iter().collect();
        if Din::parse_eye_readable(&body).is_ok() && pos < 13 {
            let is_mismatch = matches!(result, Err(DinError::CheckCharacterMismatch { .. }));
            prop_assert!(is_mismatch);
        }
    }

    #[test]
    fn adjacent_transpositions_are_detected(d in din(), pos in 0usize..13) {
        let mut chars: Vec<char> = d.as_str().chars().chain([d.check_char()]).collect();
        prop_assume!(chars[pos] != chars[pos + 1]);
        chars.swap(pos, pos + 1);
        let typed: String = chars.iter().collect();
        prop_assert!(Din::parse_eye_readable(&typed).is_err(), "{} accepted", typed);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_text(s in any::<String>()) {
        let _ = Din::parse(&s);
        let _ = Din::parse_eye_readable(&s);
        let _ = Din::parse_barcode(&s);
        let _ = s.parse::<FacilityId>();
        let _ = mod37_2_check_value(&s);
        let _ = serde_json::from_value::<Din>(serde_json::Value::String(s));
    }

    #[test]
    fn parse_never_panics_on_din_like_text(s in "[=0-9A-Za-z* \\-]{0,20}") {
        let _ = Din::parse(&s);
        let _ = Din::parse_barcode(&format!("={s}"));
    }

    #[test]
    fn range_iteration_matches_len_and_contains(f in facility(), y in 0u8..=99, first in 0u32..=999_990, span in 0u32..10) {
        let last = first + span;
        let r = DinRange::new(f.clone(), y, first, last).unwrap();
        let all: Vec<Din> = r.iter().collect();
        prop_assert_eq!(all.len() as u32, r.len());
        prop_assert!(all.iter().all(|d| r.contains(d)));
        prop_assert_eq!(r.next_after(None), all.first().cloned());
        prop_assert_eq!(r.next_after(Some(last)), None);
        if first > 0 {
            prop_assert!(!r.contains(&Din::new(&f, y, first - 1).unwrap()));
        }
        prop_assert!(!r.contains(&Din::new(&f, y, last + 1).unwrap()));
    }
}

#[test]
fn invalid_character_errors_name_the_part() {
    let err = Din::parse("G1234 2X 012345").unwrap_err();
    assert_eq!(
        err,
        DinError::InvalidCharacter {
            part: DinPart::Year,
            position: 8,
            found: 'X'
        }
    );
    assert_eq!(
        err.to_string(),
        "invalid character 'X' at position 8 in the nominal year: allowed digits 0-9"
    );
    assert_eq!(
        Din::parse("G12").unwrap_err().to_string(),
        "DIN has 3 characters (separators ignored), expected 13 (5 facility + 2 year + 6 sequence), optionally followed by 1 check character"
    );
}
