//! Property tests for GB 11643 resident ID numbers.
#![allow(clippy::unwrap_used)]

use chrono::{Days, NaiveDate};
use lifebridge_domain::resident_id::mod11_2_check_char;
use lifebridge_domain::{IdentityDocument, ResidentId, ResidentIdError, Sex};
use proptest::prelude::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 5, 1).expect("valid date")
}

fn first_allowed_birth() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date")
}

/// (number, birth date, sex) of a valid resident ID.
fn resident_id() -> impl Strategy<Value = (String, NaiveDate, Sex)> {
    let span = today()
        .signed_duration_since(first_allowed_birth())
        .num_days() as u64;
    ("[0-9]{6}", 0..=span, "[0-9]{2}", 0u32..=9).prop_map(|(address, offset, seq, last)| {
        let birth = first_allowed_birth()
            .checked_add_days(Days::new(offset))
            .expect("within range");
        let first17 = format!("{address}{}{seq}{last}", birth.format("%Y%m%d"));
        let check = mod11_2_check_char(&first17).expect("17 digits");
        let sex = if last % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        };
        (format!("{first17}{check}"), birth, sex)
    })
}

proptest! {
    #[test]
    fn valid_ids_round_trip((number, birth, sex) in resident_id()) {
        let id = ResidentId::parse(&number, today()).unwrap();
        prop_assert_eq!(id.as_str(), number.as_str());
        prop_assert_eq!(id.birth_date(), birth);
        prop_assert_eq!(id.sex(), sex);
        prop_assert_eq!(id.address_code(), &number[..6]);
        let lower = ResidentId::parse(&format!(" {} ", number.to_lowercase()), today()).unwrap();
        prop_assert_eq!(&lower, &id);
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<ResidentId>(&json).unwrap(), id.clone());
        let doc = IdentityDocument::parse("resident_id", &number, today()).unwrap();
        prop_assert_eq!(doc, IdentityDocument::ResidentId(id));
    }

    /// MOD 11-2 catches every single substitution; a substituted date digit may be caught
    /// earlier as an impossible or future date, which is just as good.
    #[test]
    fn any_single_substitution_is_detected((number, _, _) in resident_id(), pos in 0usize..18, digit in 0u32..=10) {
        let replacement = if digit == 10 { 'X' } else { char::from_digit(digit, 10).unwrap() };
        let mut chars: Vec<char> = number.chars().collect();
        prop_assume!(chars[pos] != replacement);
        chars[pos] = replacement;
        let typed: String = chars.iter().collect();
        let result = ResidentId::parse(&typed, today());
        prop_assert!(result.is_err(), "{} accepted", typed);
        // Outside the birth date, only the check character can catch it.
        if pos < 6 || (14..17).contains(&pos) {
            let is_mismatch = matches!(result, Err(ResidentIdError::CheckMismatch { .. }));
            prop_assert!(is_mismatch || replacement == 'X');
        }
    }

    #[test]
    fn parse_never_panics(s in any::<String>(), kind in any::<String>()) {
        let _ = ResidentId::parse(&s, today());
        let _ = mod11_2_check_char(&s);
        let _ = IdentityDocument::parse(&kind, &s, today());
        let _ = IdentityDocument::parse("passport", &s, today());
        let _ = serde_json::from_value::<ResidentId>(serde_json::Value::String(s));
    }

    #[test]
    fn parse_never_panics_on_id_like_text(s in "[0-9xX ]{0,20}") {
        let _ = ResidentId::parse(&s, today());
    }
}

#[test]
fn example_from_the_standard() {
    let id = ResidentId::parse("11010519491231002X", today()).unwrap();
    assert_eq!(
        id.birth_date(),
        NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
    );
    assert_eq!(id.sex(), Sex::Female);
}
