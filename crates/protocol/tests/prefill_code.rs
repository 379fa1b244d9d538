//! The pre-fill code's properties: any pre-fill round-trips, any text is refused or read
//! but never panics, and a code cut short or with a character changed is never read as
//! something it was not.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use lifebridge_domain::Sex;
use lifebridge_domain::resident_id::{IdentityDocument, mod11_2_check_char};
use lifebridge_protocol::prefill_code::{self, Prefill, PrefillCodeError};
use proptest::prelude::*;
use serde_json::{Value, json};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
}

fn resident_id() -> impl Strategy<Value = IdentityDocument> {
    ("[1-6][0-9]{5}", 0u64..20_000, 0u32..1000).prop_map(|(area, age_days, seq)| {
        let birth = NaiveDate::from_ymd_opt(1960, 1, 1).unwrap() + Days::new(age_days);
        let first17 = format!("{area}{}{seq:03}", birth.format("%Y%m%d"));
        let check = mod11_2_check_char(&first17).unwrap();
        IdentityDocument::parse("resident_id", &format!("{first17}{check}"), today()).unwrap()
    })
}

fn other_document() -> impl Strategy<Value = IdentityDocument> {
    (
        prop_oneof![
            Just("passport"),
            Just("hk_macao_permit"),
            Just("taiwan_permit"),
            Just("foreigner_permanent_residence")
        ],
        "[A-Z0-9][A-Z0-9-]{0,31}",
    )
        .prop_map(|(kind, number)| IdentityDocument::parse(kind, &number, today()).unwrap())
}

fn answer() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..100_000).prop_map(|n| json!(n)),
        "\\PC{0,40}".prop_map(Value::String),
        (
            0u32..400,
            prop_oneof![Just("days"), Just("weeks"), Just("months"), Just("years")]
        )
            .prop_map(|(ago, unit)| json!({"ago": ago, "unit": unit})),
        (0u64..20_000).prop_map(|d| json!((today() - Days::new(d)).to_string())),
    ]
}

prop_compose! {
    fn prefill()(
        resident in any::<bool>(),
        rid in resident_id(),
        other in other_document(),
        name in "\\PC{1,30}",
        sex in proptest::option::of(prop_oneof![Just(Sex::Male), Just(Sex::Female)]),
        birth in proptest::option::of(0u64..30_000),
        phone in proptest::option::of("[0-9+ -]{1,20}"),
        answers in proptest::collection::btree_map("[a-z][a-z0-9_]{0,31}", answer(), 0..60),
        version in "[A-Z0-9-]{1,24}",
    ) -> Prefill {
        let birth_date = birth.map(|d| today() - Days::new(d));
        let (document, sex, birth_date) = if resident {
            // The number says both, whatever the donor typed.
            let IdentityDocument::ResidentId(id) = &rid else { unreachable!() };
            (rid.clone(), Some(id.sex()), Some(id.birth_date()))
        } else {
            (other, sex, birth_date)
        };
        Prefill {
            questionnaire_version: version,
            valid_on: today(),
            document,
            name,
            sex,
            birth_date,
            phone,
            answers,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_prefill_round_trips_in_the_qr_alphabet(p in prefill()) {
        let code = prefill_code::encode(&p);
        prop_assert!(code.starts_with(prefill_code::PREFIX));
        prop_assert!(code.bytes().all(|b| lifebridge_protocol::base45::ALPHABET.contains(&b)));
        prop_assert_eq!(prefill_code::decode(&code, today()).unwrap(), p);
    }

    #[test]
    fn any_text_never_panics(text in "\\PC{0,200}", tail in "[0-9A-Z $%*+\\-./:]{0,300}") {
        let _ = prefill_code::decode(&text, today());
        let _ = prefill_code::decode(&format!("LBQ1:{tail}"), today());
    }

    #[test]
    fn a_cut_code_is_refused(p in prefill(), cut in 1usize..200) {
        let code = prefill_code::encode(&p);
        let keep = code.len().saturating_sub(cut).max(prefill_code::PREFIX.len());
        prop_assert!(prefill_code::decode(&code[..keep], today()).is_err());
    }

    /// Raw DEFLATE carries no checksum (the QR symbol's own error correction guards the
    /// scan), so one changed character may still inflate; but it never panics, and what
    /// it reads is still a valid pre-fill for today or a refusal.
    #[test]
    fn a_changed_character_is_refused_or_still_valid(p in prefill(), at in any::<prop::sample::Index>(), to in 0usize..45) {
        let code = prefill_code::encode(&p);
        let mut bytes = code.into_bytes();
        let i = prefill_code::PREFIX.len() + at.index(bytes.len() - prefill_code::PREFIX.len());
        bytes[i] = lifebridge_protocol::base45::ALPHABET[to];
        let text = String::from_utf8(bytes).unwrap();
        match prefill_code::decode(&text, today()) {
            Ok(read) => {
                prop_assert_eq!(read.valid_on, today());
                let kind = read.document.kind().as_str();
                prop_assert!(IdentityDocument::parse(kind, read.document.number(), today()).is_ok());
            }
            Err(e) => prop_assert!(!e.message().code.is_empty()),
        }
    }
}

#[test]
fn a_changed_character_is_mostly_refused() {
    // Measured over every position of a typical code: how often one character changed
    // at random still inflates to a valid pre-fill (no checksum in the format).
    let p = Prefill {
        questionnaire_version: "GB18467-2011-Q1".into(),
        valid_on: today(),
        document: IdentityDocument::parse("resident_id", "11010519491231002X", today()).unwrap(),
        name: "张三".into(),
        sex: Some(Sex::Female),
        birth_date: NaiveDate::from_ymd_opt(1949, 12, 31),
        phone: None,
        answers: BTreeMap::from([
            ("tattoo".to_owned(), json!(true)),
            (
                "tattoo_when".to_owned(),
                json!({"ago": 3, "unit": "months"}),
            ),
            ("feel_well".to_owned(), json!(true)),
        ]),
    };
    let code = prefill_code::encode(&p);
    let mut read_as_other = 0;
    let mut tried = 0;
    for i in prefill_code::PREFIX.len()..code.len() {
        let mut bytes = code.clone().into_bytes();
        bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
        tried += 1;
        match prefill_code::decode(std::str::from_utf8(&bytes).unwrap(), today()) {
            Ok(read) if read != p => read_as_other += 1,
            Ok(_) => {}
            Err(PrefillCodeError::Damaged { .. }) | Err(_) => {}
        }
    }
    assert!(
        read_as_other * 10 < tried,
        "{read_as_other} of {tried} changed codes read as another pre-fill"
    );
}

/// A code the `/prefill` page made in Chromium (its `CompressionStream('deflate-raw')`
/// and its own base45), the whole built-in questionnaire answered at its largest
/// (tests/desk/prefill.test.mjs, 2026-12-02): the Rust decoder reads the page's output.
#[test]
fn a_code_the_page_made_decodes() {
    let text = include_str!("fixtures/prefill-made-by-the-page.txt");
    let made_on = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    let p = prefill_code::decode(text, made_on).unwrap();
    assert_eq!(p.questionnaire_version, "GB18467-2011-Q1");
    assert_eq!(p.document.kind().as_str(), "passport");
    assert_eq!(p.document.number(), "E12345678");
    assert_eq!(p.name, "欧阳明月");
    assert_eq!(p.sex, Some(Sex::Female));
    assert_eq!(p.birth_date, NaiveDate::from_ymd_opt(1990, 5, 1));
    assert_eq!(p.phone.as_deref(), Some("13800138000"));
    assert_eq!(p.answers["tattoo"], json!(true));
    assert_eq!(
        p.answers["tattoo_when"],
        json!({"ago": 11, "unit": "months"})
    );
    assert!(
        p.answers["medicines"]
            .as_str()
            .unwrap()
            .starts_with("高血压")
    );
    // Every question of the built-in questionnaire applies to her and is answered.
    let q: Value = serde_json::from_str(lifebridge_domain::questionnaire::BUILT_IN_JSON).unwrap();
    let ids = q["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["questions"].as_array().unwrap())
        .count();
    assert_eq!(p.answers.len(), ids);
    // Re-encoded by the Rust side it is the same pre-fill.
    assert_eq!(
        prefill_code::decode(&prefill_code::encode(&p), made_on).unwrap(),
        p
    );
}
