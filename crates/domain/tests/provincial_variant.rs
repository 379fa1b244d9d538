//! The worked example of a provincial variant in docs/rules: it validates as a rules
//! table, carries its region and effective date, and changes exactly what it says.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use lifebridge_domain::eligibility::{Donor, EligibilityRequest, HistoryEntry, evaluate};
use lifebridge_domain::measurements::{TestResult, Tests, Vitals};
use lifebridge_domain::reason::ReasonCode;
use lifebridge_domain::rules::RuleSet;
use lifebridge_domain::{Procedure, Sex};

const EXAMPLE: &str = include_str!("../../../docs/rules/provincial-example.json");

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn request(birth: NaiveDate, last_whole_blood: NaiveDate) -> EligibilityRequest {
    EligibilityRequest {
        date: day(2026, 8, 1),
        donor: Donor {
            sex: Sex::Male,
            birth_date: birth,
            prior_reaction: false,
        },
        procedure: Procedure::WholeBlood,
        volume_ml: Some(400.0),
        vitals: Vitals {
            weight_kg: 70.0,
            systolic_mmhg: 120.0,
            diastolic_mmhg: 80.0,
            pulse_bpm: 72.0,
            temperature_c: 36.5,
        },
        tests: Tests {
            hemoglobin_g_l: 140.0,
            alt_u_l: Some(20.0),
            hbsag: Some(TestResult::Negative),
            hematocrit: None,
            platelet_count_10e9_l: None,
        },
        history: vec![HistoryEntry {
            date: last_whole_blood,
            procedure: Procedure::WholeBlood,
            volume_ml: Some(400.0),
        }],
        deferrals: vec![],
        athlete: false,
        questionnaire: None,
    }
}

#[test]
fn the_provincial_example_validates_and_names_its_region_and_date() {
    let variant = RuleSet::from_json(EXAMPLE).unwrap();
    assert_eq!(variant.region, "CN-ZJ");
    assert_eq!(variant.effective_from, Some(day(2026, 7, 1)));
    assert_eq!(variant.version, "CN-ZJ-EXAMPLE-2026/1");
    let national = RuleSet::gb18467_2011();
    assert_eq!(national.region, "CN");
    // The catalogue and hard stops are the national ones.
    assert_eq!(variant.deferrals, national.deferrals);
    assert_eq!(variant.age.max_years_repeat, 65);
}

#[test]
fn a_62_year_old_repeat_donor_passes_only_under_the_variant() {
    let req = request(day(1964, 3, 1), day(2025, 12, 1));
    let national = evaluate(&RuleSet::gb18467_2011(), &req).unwrap();
    assert_eq!(national.codes(), vec![ReasonCode::AgeAboveMax]);
    let variant = evaluate(&RuleSet::from_json(EXAMPLE).unwrap(), &req).unwrap();
    assert!(variant.eligible, "{:?}", variant.reasons);
}

#[test]
fn whole_blood_after_four_months_passes_only_under_the_variant() {
    let req = request(day(1990, 3, 1), day(2026, 4, 1));
    let national = evaluate(&RuleSet::gb18467_2011(), &req).unwrap();
    assert_eq!(national.codes(), vec![ReasonCode::IntervalNotMet]);
    assert_eq!(national.eligible_from, Some(day(2026, 10, 1)));
    let variant = RuleSet::from_json(EXAMPLE).unwrap();
    assert!(evaluate(&variant, &req).unwrap().eligible);
    // One day short of 4 months still fails, with the variant's date.
    let short = request(day(1990, 3, 1), day(2026, 4, 2));
    let d = evaluate(&variant, &short).unwrap();
    assert_eq!(d.eligible_from, Some(day(2026, 8, 2)));
}
