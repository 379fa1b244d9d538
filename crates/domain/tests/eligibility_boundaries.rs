//! Boundary tests for every eligibility rule: one unit (day, mmHg, g/L, 0.1 °C, kg…)
//! either side of each threshold in the GB 18467-2011 rule set.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use lifebridge_domain::eligibility::{
    Decision, DeferralRecord, Donor, EligibilityRequest, HistoryEntry, RequestError, evaluate,
};
use lifebridge_domain::measurements::{TestResult, Tests, Vitals};
use lifebridge_domain::messages::Lang;
use lifebridge_domain::reason::ReasonCode;
use lifebridge_domain::rules::RuleSet;
use lifebridge_domain::{Procedure, Sex};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

const TODAY: (i32, u32, u32) = (2026, 5, 1);

fn today() -> NaiveDate {
    day(TODAY.0, TODAY.1, TODAY.2)
}

/// A 36-year-old first-time female whole-blood donor who passes everything.
fn base() -> EligibilityRequest {
    EligibilityRequest {
        date: today(),
        donor: Donor {
            sex: Sex::Female,
            birth_date: day(1990, 1, 15),
            prior_reaction: false,
        },
        procedure: Procedure::WholeBlood,
        volume_ml: Some(400.0),
        vitals: Vitals {
            weight_kg: 60.0,
            systolic_mmhg: 120.0,
            diastolic_mmhg: 80.0,
            pulse_bpm: 72.0,
            temperature_c: 36.5,
        },
        tests: Tests {
            hemoglobin_g_l: 130.0,
            alt_u_l: Some(20.0),
            hbsag: Some(TestResult::Negative),
            hematocrit: None,
            platelet_count_10e9_l: None,
        },
        history: vec![],
        deferrals: vec![],
        athlete: false,
        questionnaire: None,
    }
}

fn apheresis() -> EligibilityRequest {
    let mut r = base();
    r.procedure = Procedure::ApheresisPlatelets;
    r.volume_ml = None;
    r.tests.hematocrit = Some(0.40);
    r.tests.platelet_count_10e9_l = Some(250.0);
    r
}

fn eval(req: &EligibilityRequest) -> Decision {
    evaluate(&RuleSet::gb18467_2011(), req).expect("request is valid")
}

fn passes(req: &EligibilityRequest) {
    let d = eval(req);
    assert!(d.eligible, "expected eligible, got {:#?}", d.reasons);
    assert!(d.reasons.is_empty());
    assert_eq!(d.eligible_from, Some(req.date));
}

/// Fails with exactly `expected` codes; returns the decision for further checks.
fn fails(req: &EligibilityRequest, expected: &[ReasonCode]) -> Decision {
    let d = eval(req);
    assert!(!d.eligible);
    let mut got = d.codes();
    got.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(got, want, "reasons: {:#?}", d.reasons);
    d
}

fn request_error(req: &EligibilityRequest) -> RequestError {
    evaluate(&RuleSet::gb18467_2011(), req).expect_err("request should be rejected")
}

fn wb(date: NaiveDate) -> HistoryEntry {
    HistoryEntry {
        date,
        procedure: Procedure::WholeBlood,
        volume_ml: Some(400.0),
    }
}

fn ap(date: NaiveDate, volume: f64) -> HistoryEntry {
    HistoryEntry {
        date,
        procedure: Procedure::ApheresisPlatelets,
        volume_ml: Some(volume),
    }
}

#[test]
fn baseline_passes() {
    passes(&base());
    passes(&apheresis());
}

// ---- age ----

#[test]
fn age_18_boundary() {
    let mut r = base();
    r.donor.birth_date = day(2008, 5, 1); // 18th birthday today
    passes(&r);
    r.donor.birth_date = day(2008, 5, 2); // 17 years 364 days
    let d = fails(&r, &[ReasonCode::AgeBelowMin]);
    assert_eq!(d.reasons[0].eligible_from, Some(day(2026, 5, 2)));
    assert_eq!(d.eligible_from, Some(day(2026, 5, 2)));
}

#[test]
fn age_18_with_29_february_birthday() {
    let mut r = base();
    r.donor.birth_date = day(2008, 2, 29);
    r.date = day(2026, 2, 28);
    let d = fails(&r, &[ReasonCode::AgeBelowMin]);
    assert_eq!(d.eligible_from, Some(day(2026, 3, 1)));
    r.date = day(2026, 3, 1);
    passes(&r);
}

#[test]
fn first_time_donor_max_55_inclusive() {
    let mut r = base();
    r.donor.birth_date = day(1970, 5, 2); // 55, turns 56 tomorrow
    passes(&r);
    r.donor.birth_date = day(1970, 5, 1); // 56 today
    let d = fails(&r, &[ReasonCode::AgeAboveMax]);
    assert_eq!(d.eligible_from, None);
    assert!(d.reasons[0].message(Lang::En).contains("first-time"));
}

#[test]
fn repeat_donor_max_60_inclusive() {
    let mut r = base();
    r.history = vec![wb(day(2025, 1, 1))];
    r.donor.birth_date = day(1965, 5, 2); // 60
    passes(&r);
    r.donor.birth_date = day(1965, 5, 1); // 61
    let d = fails(&r, &[ReasonCode::AgeAboveMax]);
    assert_eq!(d.eligible_from, None);
}

#[test]
fn repeat_donor_with_prior_reaction_max_55() {
    let mut r = base();
    r.history = vec![wb(day(2025, 1, 1))];
    r.donor.prior_reaction = true;
    r.donor.birth_date = day(1970, 5, 2); // 55
    passes(&r);
    r.donor.birth_date = day(1970, 5, 1); // 56
    let d = fails(&r, &[ReasonCode::AgeAboveMax]);
    assert!(d.reasons[0].message(Lang::En).contains("adverse reaction"));
}

// ---- weight ----

#[test]
fn weight_by_sex() {
    let mut r = base();
    r.vitals.weight_kg = 45.0;
    passes(&r);
    r.vitals.weight_kg = 44.0;
    let d = fails(&r, &[ReasonCode::WeightBelowMin]);
    assert_eq!(
        d.reasons[0].message(Lang::En),
        "Weight 44 kg is below the 45 kg minimum for women"
    );
    assert_eq!(
        d.reasons[0].message(Lang::ZhCn),
        "体重 44 kg，低于女性最低要求 45 kg"
    );
    assert_eq!(d.eligible_from, None);
    r.vitals.weight_kg = 44.9;
    fails(&r, &[ReasonCode::WeightBelowMin]);

    r.donor.sex = Sex::Male;
    r.tests.hemoglobin_g_l = 130.0;
    r.vitals.weight_kg = 50.0;
    passes(&r);
    r.vitals.weight_kg = 49.0;
    fails(&r, &[ReasonCode::WeightBelowMin]);
}

// ---- blood pressure ----

#[test]
fn systolic_bounds() {
    let mut r = base();
    r.vitals.diastolic_mmhg = 60.0;
    r.vitals.systolic_mmhg = 90.0;
    passes(&r);
    r.vitals.systolic_mmhg = 89.0;
    // With the lowest allowed diastolic, 89 also narrows the pulse pressure to 29.
    fails(&r, &[ReasonCode::SystolicLow, ReasonCode::PulsePressureLow]);

    let mut r = base();
    r.vitals.systolic_mmhg = 139.0;
    passes(&r);
    r.vitals.systolic_mmhg = 140.0;
    fails(&r, &[ReasonCode::SystolicHigh]);
}

#[test]
fn diastolic_bounds() {
    let mut r = base();
    r.vitals.diastolic_mmhg = 60.0;
    passes(&r);
    r.vitals.diastolic_mmhg = 59.0;
    fails(&r, &[ReasonCode::DiastolicLow]);
    r.vitals.diastolic_mmhg = 89.0;
    passes(&r);
    r.vitals.diastolic_mmhg = 90.0;
    fails(&r, &[ReasonCode::DiastolicHigh]);
}

#[test]
fn pulse_pressure_bound() {
    let mut r = base();
    r.vitals.systolic_mmhg = 110.0;
    r.vitals.diastolic_mmhg = 80.0;
    passes(&r);
    r.vitals.systolic_mmhg = 109.0;
    let d = fails(&r, &[ReasonCode::PulsePressureLow]);
    assert!(d.reasons[0].message(Lang::En).contains("29 mmHg (109/80)"));
}

// ---- pulse ----

#[test]
fn pulse_bounds() {
    let mut r = base();
    for (bpm, ok) in [(60.0, true), (59.0, false), (100.0, true), (101.0, false)] {
        r.vitals.pulse_bpm = bpm;
        if ok {
            passes(&r);
        } else {
            let code = if bpm < 60.0 {
                ReasonCode::PulseLow
            } else {
                ReasonCode::PulseHigh
            };
            fails(&r, &[code]);
        }
    }
}

#[test]
fn athlete_pulse_minimum() {
    let mut r = base();
    r.athlete = true;
    r.vitals.pulse_bpm = 50.0;
    passes(&r);
    r.vitals.pulse_bpm = 49.0;
    let d = fails(&r, &[ReasonCode::PulseLow]);
    assert!(
        d.reasons[0]
            .message(Lang::En)
            .contains("endurance athletes")
    );
    r.vitals.pulse_bpm = 101.0;
    fails(&r, &[ReasonCode::PulseHigh]);
    r.athlete = false;
    r.vitals.pulse_bpm = 55.0;
    fails(&r, &[ReasonCode::PulseLow]);
}

// ---- temperature ----

#[test]
fn temperature_bounds() {
    let mut r = base();
    r.vitals.temperature_c = 36.0;
    passes(&r);
    r.vitals.temperature_c = 35.9;
    fails(&r, &[ReasonCode::TemperatureLow]);
    r.vitals.temperature_c = 37.3;
    passes(&r);
    r.vitals.temperature_c = 37.4;
    let d = fails(&r, &[ReasonCode::TemperatureHigh]);
    assert_eq!(
        d.reasons[0].message(Lang::En),
        "Temperature 37.4 °C is above the 37.3 °C maximum"
    );
}

// ---- laboratory tests ----

#[test]
fn hemoglobin_by_sex() {
    let mut r = base();
    r.tests.hemoglobin_g_l = 115.0;
    passes(&r);
    r.tests.hemoglobin_g_l = 114.0;
    let d = fails(&r, &[ReasonCode::HemoglobinLow]);
    assert_eq!(
        d.reasons[0].message(Lang::En),
        "Haemoglobin 114 g/L is below the 115 g/L minimum for women"
    );
    assert_eq!(
        d.reasons[0].message(Lang::ZhCn),
        "血红蛋白 114 g/L，低于女性最低要求 115 g/L"
    );
    assert_eq!(d.eligible_from, None);

    r.donor.sex = Sex::Male;
    r.tests.hemoglobin_g_l = 120.0;
    passes(&r);
    r.tests.hemoglobin_g_l = 119.0;
    let d = fails(&r, &[ReasonCode::HemoglobinLow]);
    assert!(d.reasons[0].message(Lang::En).ends_with("for men"));
}

#[test]
fn alt_station_limit() {
    let mut r = base();
    r.tests.alt_u_l = Some(50.0);
    passes(&r);
    r.tests.alt_u_l = Some(51.0);
    fails(&r, &[ReasonCode::AltHigh]);
    r.tests.alt_u_l = None;
    passes(&r);
}

#[test]
fn hbsag_positive_is_not_fixed_by_time() {
    let mut r = base();
    r.tests.hbsag = Some(TestResult::Positive);
    let d = fails(&r, &[ReasonCode::HbsagPositive]);
    assert_eq!(d.eligible_from, None);
    r.tests.hbsag = None;
    passes(&r);
}

#[test]
fn whole_blood_volumes() {
    let mut r = base();
    for v in [200.0, 300.0, 400.0] {
        r.volume_ml = Some(v);
        passes(&r);
    }
    for v in [199.0, 201.0, 350.0, 401.0, 450.0] {
        r.volume_ml = Some(v);
        let d = fails(&r, &[ReasonCode::VolumeNotAllowed]);
        assert!(d.reasons[0].message(Lang::En).contains("200, 300, 400 mL"));
    }
}

#[test]
fn apheresis_hematocrit_and_platelets() {
    let mut r = apheresis();
    r.tests.hematocrit = Some(0.36);
    passes(&r);
    r.tests.hematocrit = Some(0.35);
    fails(&r, &[ReasonCode::HematocritLow]);

    let mut r = apheresis();
    r.tests.platelet_count_10e9_l = Some(150.0);
    passes(&r);
    r.tests.platelet_count_10e9_l = Some(149.0);
    fails(&r, &[ReasonCode::PlateletCountLow]);
    r.tests.platelet_count_10e9_l = Some(449.0);
    passes(&r);
    r.tests.platelet_count_10e9_l = Some(450.0);
    fails(&r, &[ReasonCode::PlateletCountHigh]);
}

#[test]
fn apheresis_plasma_has_its_own_rules_and_no_platelet_limits() {
    let mut r = apheresis();
    r.procedure = Procedure::ApheresisPlasma;
    passes(&r);
    r.tests.hematocrit = Some(0.35);
    fails(&r, &[ReasonCode::HematocritLow]);
    // Platelet counts are neither required nor checked for plasma donors.
    let mut r = apheresis();
    r.procedure = Procedure::ApheresisPlasma;
    r.tests.platelet_count_10e9_l = None;
    passes(&r);
    r.tests.platelet_count_10e9_l = Some(100.0);
    passes(&r);
    r.tests.platelet_count_10e9_l = Some(600.0);
    passes(&r);
    // The plasma haematocrit minimum is the table's plasma figure, not the platelet one.
    let mut rules = RuleSet::gb18467_2011();
    rules.apheresis_plasma.hematocrit_min = 0.38;
    let mut r = apheresis();
    r.procedure = Procedure::ApheresisPlasma;
    r.tests.hematocrit = Some(0.38);
    assert!(evaluate(&rules, &r).unwrap().eligible);
    r.tests.hematocrit = Some(0.37);
    assert_eq!(
        evaluate(&rules, &r).unwrap().codes(),
        vec![ReasonCode::HematocritLow]
    );
    r.procedure = Procedure::ApheresisPlatelets;
    assert!(
        evaluate(&rules, &r).unwrap().eligible,
        "platelets keep 0.36"
    );
}

#[test]
fn apheresis_plasma_yearly_count_is_the_plasma_figure() {
    let mut rules = RuleSet::gb18467_2011();
    rules.apheresis_plasma.max_donations_per_12_months = 3;
    let mut r = apheresis();
    r.procedure = Procedure::ApheresisPlasma;
    r.history = vec![ap(day(2026, 1, 1), 400.0), ap(day(2026, 2, 1), 400.0)];
    assert!(evaluate(&rules, &r).unwrap().eligible);
    r.history.push(ap(day(2026, 3, 1), 400.0));
    assert_eq!(
        evaluate(&rules, &r).unwrap().codes(),
        vec![ReasonCode::ApheresisYearlyCount]
    );
}

// ---- hard stops and the one waiver ----

#[test]
fn apheresis_platelet_interval_is_waivable_from_day_7_only() {
    let mut r = apheresis();
    r.history = vec![ap(day(2026, 4, 24), 250.0)]; // 7 days ago
    let d = fails(&r, &[ReasonCode::IntervalNotMet]);
    assert!(d.reasons[0].waivable, "1 week with a physician's approval");
    assert!(d.is_waivable());
    assert!(d.hard_stops().is_empty());
    r.history = vec![ap(day(2026, 4, 25), 250.0)]; // 6 days ago
    let d = fails(&r, &[ReasonCode::IntervalNotMet]);
    assert!(!d.reasons[0].waivable, "before 1 week it is a hard stop");
    assert!(!d.is_waivable());
    r.history = vec![ap(day(2026, 4, 17), 250.0)]; // 14 days ago
    passes(&r);
}

#[test]
fn no_other_failing_rule_is_waivable() {
    // Whole blood after apheresis platelets: the same donation 8 days ago is a hard stop.
    let mut r = base();
    r.history = vec![ap(day(2026, 4, 23), 250.0)];
    let d = fails(&r, &[ReasonCode::IntervalNotMet]);
    assert!(!d.reasons[0].waivable);
    let mut r = base();
    r.tests.hbsag = Some(TestResult::Positive);
    r.vitals.systolic_mmhg = 150.0;
    r.donor.birth_date = day(2009, 1, 1);
    r.deferrals = vec![
        DeferralRecord {
            code: "HIV_RISK".into(),
            until: None,
        },
        DeferralRecord {
            code: "TATTOO".into(),
            until: Some(day(2026, 6, 1)),
        },
    ];
    let d = eval(&r);
    assert_eq!(d.reasons.len(), 5, "{:#?}", d.reasons);
    assert!(d.reasons.iter().all(|x| !x.waivable), "{:#?}", d.reasons);
    assert_eq!(d.hard_stops().len(), 5);
    let json = d.to_contract_json(Lang::En);
    assert!(
        json["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["waivable"] == false)
    );
}

#[test]
fn hbsag_not_done_is_a_recorded_answer_that_does_not_defer() {
    let mut r = base();
    r.tests.hbsag = Some(TestResult::NotDone);
    passes(&r);
}

// ---- product-scoped deferrals ----

fn antiplatelet(until: NaiveDate) -> DeferralRecord {
    DeferralRecord {
        code: "ANTIPLATELET_DRUG".into(),
        until: Some(until),
    }
}

#[test]
fn antiplatelet_drugs_exclude_platelets_not_whole_blood_for_5_days() {
    use lifebridge_domain::product::ProductClass;
    let rules = RuleSet::gb18467_2011();
    let kind = rules.deferrals.deferral("ANTIPLATELET_DRUG").unwrap();
    let last_dose = day(2026, 4, 26);
    let until = kind.until(last_dose).unwrap();
    assert_eq!(until, day(2026, 5, 1), "5 days after the last dose");

    // Day 4 after the last dose: whole blood goes ahead, platelets are excluded.
    let mut r = base();
    r.date = day(2026, 4, 30);
    r.deferrals = vec![antiplatelet(until)];
    let d = eval(&r);
    assert!(d.eligible, "{:#?}", d.reasons);
    assert_eq!(
        d.excluded_products,
        vec![
            ProductClass::PlateletWholeBlood,
            ProductClass::ApheresisPlatelets
        ]
    );
    let json = d.to_contract_json(Lang::En);
    assert_eq!(
        json["excluded_products"],
        serde_json::json!(["platelet_whole_blood", "apheresis_platelets"])
    );
    // Apheresis platelets: a hard stop until day 5.
    let mut a = apheresis();
    a.date = day(2026, 4, 30);
    a.deferrals = vec![antiplatelet(until)];
    let d = fails(&a, &[ReasonCode::DeferralActive]);
    assert!(!d.reasons[0].waivable);
    assert_eq!(
        d.reasons[0].deferral_code.as_deref(),
        Some("ANTIPLATELET_DRUG")
    );
    assert_eq!(d.eligible_from, Some(until));
    // Apheresis plasma is not a platelet product.
    a.procedure = Procedure::ApheresisPlasma;
    assert!(eval(&a).eligible);
    // Day 5: nothing excluded any more.
    let mut r = base();
    r.deferrals = vec![antiplatelet(until)];
    let d = eval(&r);
    assert!(d.excluded_products.is_empty());
    let mut a = apheresis();
    a.deferrals = vec![antiplatelet(until)];
    passes(&a);
}

// ---- the deferral a decision may use ----

fn choice(
    d: &Decision,
    date: NaiveDate,
    code: &str,
) -> lifebridge_domain::eligibility::DeferralChoice {
    lifebridge_domain::eligibility::deferral_choices(&RuleSet::gb18467_2011(), d, date)
        .into_iter()
        .find(|c| c.code == code)
        .unwrap()
}

fn check(d: &Decision, code: &str, until: Option<NaiveDate>) -> Result<Option<NaiveDate>, String> {
    lifebridge_domain::eligibility::check_deferral(
        &RuleSet::gb18467_2011(),
        d,
        today(),
        code,
        until,
    )
    .map_err(|e| e.to_string())
}

#[test]
fn hbsag_positive_is_deferred_only_as_hbsag_positive() {
    let mut r = base();
    r.tests.hbsag = Some(TestResult::Positive);
    let d = fails(&r, &[ReasonCode::HbsagPositive]);
    let offered =
        lifebridge_domain::eligibility::deferral_choices(&RuleSet::gb18467_2011(), &d, today());
    assert_eq!(offered[0].code, "HBSAG_POSITIVE", "answering codes first");
    let preselected: Vec<&str> = offered
        .iter()
        .filter(|c| c.preselected)
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(preselected, ["HBSAG_POSITIVE"]);
    let allowed: Vec<&str> = offered
        .iter()
        .filter(|c| c.allowed)
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(allowed, ["HBSAG_POSITIVE"]);
    assert!(choice(&d, today(), "HBSAG_POSITIVE").permanent);
    assert_eq!(check(&d, "HBSAG_POSITIVE", None), Ok(None));
    let cold = check(&d, "COMMON_COLD", None).unwrap_err();
    assert!(cold.contains("HBSAG_POSITIVE"), "{cold}");
    // Another permanent code is not the finding either.
    assert!(check(&d, "HIV_RISK", None).is_err());
}

#[test]
fn a_deferral_may_not_end_before_the_failing_rule_allows() {
    let mut r = base();
    r.tests.hemoglobin_g_l = 110.0;
    let d = fails(&r, &[ReasonCode::HemoglobinLow]);
    assert!(choice(&d, today(), "EXAMINATION_NOT_PASSED").preselected);
    assert_eq!(
        check(&d, "EXAMINATION_NOT_PASSED", None),
        Ok(Some(day(2026, 5, 2)))
    );
    // The physician's own finding, at least as long, is accepted.
    assert_eq!(check(&d, "TATTOO", None), Ok(Some(day(2027, 5, 1))));
    // The interval: only a deferral lasting until the first eligible day.
    let mut r = base();
    r.history = vec![wb(day(2025, 12, 1))];
    let d = fails(&r, &[ReasonCode::IntervalNotMet]);
    let c = choice(&d, today(), "NOT_YET_ELIGIBLE");
    assert!(c.preselected && c.matches && c.allowed);
    assert_eq!(c.until, Some(day(2026, 6, 1)));
    assert_eq!(
        check(&d, "NOT_YET_ELIGIBLE", None),
        Ok(Some(day(2026, 6, 1)))
    );
    let short = check(&d, "COMMON_COLD", None).unwrap_err();
    assert!(short.contains("2026-06-01"), "{short}");
    assert!(!choice(&d, today(), "COMMON_COLD").allowed);
    assert!(check(&d, "MAJOR_SURGERY", None).is_ok());
    // A station-set period needs a date that is long enough.
    assert!(check(&d, "TRANSFUSION", None).is_err());
    assert!(check(&d, "TRANSFUSION", Some(day(2026, 5, 31))).is_err());
    assert_eq!(
        check(&d, "TRANSFUSION", Some(day(2026, 6, 1))),
        Ok(Some(day(2026, 6, 1)))
    );
}

#[test]
fn a_passing_donor_may_be_deferred_for_the_physicians_own_finding() {
    let d = eval(&base());
    assert_eq!(check(&d, "COMMON_COLD", None), Ok(Some(day(2026, 5, 8))));
    assert_eq!(check(&d, "HIV_RISK", None), Ok(None));
    // Product-scoped entries are restrictions, never a decision to defer.
    assert!(check(&d, "ANTIPLATELET_DRUG", None).is_err());
    assert!(!choice(&d, today(), "ANTIPLATELET_DRUG").allowed);
}

#[test]
fn every_failing_rule_has_a_matching_deferral_in_the_catalogue() {
    let rules = RuleSet::gb18467_2011();
    for code in ReasonCode::ALL {
        if matches!(
            code,
            ReasonCode::DeferralPermanent | ReasonCode::QuestionnaireDeferral
        ) {
            continue; // answered by the deferral's own code
        }
        assert!(
            rules.deferrals.iter().any(|k| k.reasons.contains(&code)),
            "{code} has no deferral that answers it"
        );
    }
}

#[test]
fn catalogue_tells_temporary_from_permanent_and_covers_gb18467() {
    let rules = RuleSet::gb18467_2011();
    let summary = rules.summary();
    for (code, kind) in [
        ("DENTAL_CLEANING", "temporary"),
        ("APPENDIX_HERNIA_TONSIL_SURGERY", "temporary"),
        ("BENIGN_TUMOUR_SURGERY", "temporary"),
        ("BLOOD_CONTAMINATED_INJURY", "temporary"),
        ("MALARIA_AREA_TRAVEL", "temporary"),
        ("MALARIA", "temporary"),
        ("HEPATITIS_A", "temporary"),
        ("DYSENTERY", "temporary"),
        ("TYPHOID", "temporary"),
        ("BRUCELLOSIS", "temporary"),
        ("Q_FEVER", "temporary"),
        ("TOXOPLASMOSIS", "temporary"),
        ("INFECTIOUS_DISEASE_CONTACT", "temporary"),
        ("EYE_DISEASE", "temporary"),
        ("EYE_SURGERY", "temporary"),
        ("PYELONEPHRITIS", "temporary"),
        ("SKIN_INFLAMMATION_LOCAL", "temporary"),
        ("ANTIPLATELET_DRUG", "temporary"),
        ("HBSAG_POSITIVE", "permanent"),
        ("HIV_RISK", "permanent"),
    ] {
        let entry = summary
            .deferrals
            .iter()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("{code} missing"));
        assert_eq!(entry.kind, kind, "{code}");
        assert!(!entry.waivable, "{code}: GB 18467 waives no deferral");
    }
    assert_eq!(summary.waivable_intervals.len(), 1);
    assert_eq!(
        summary.waivable_intervals[0].waivable_to,
        lifebridge_domain::rules::Period::Days(7)
    );
}

// ---- intervals ----

#[test]
fn whole_blood_to_whole_blood_six_months() {
    let mut r = base();
    r.history = vec![wb(day(2025, 11, 1))];
    passes(&r); // exactly 6 months
    r.date = day(2026, 4, 30);
    let d = fails(&r, &[ReasonCode::IntervalNotMet]);
    assert_eq!(d.reasons[0].eligible_from, Some(day(2026, 5, 1)));
    assert_eq!(d.eligible_from, Some(day(2026, 5, 1)));
    assert_eq!(
        d.reasons[0].message(Lang::En),
        "Whole blood → whole blood needs 6 months: last whole blood donation 2025-11-01, eligible from 2026-05-01"
    );
}

#[test]
fn calendar_months_clamp_at_month_end() {
    let mut r = base();
    r.history = vec![wb(day(2025, 8, 31))];
    r.date = day(2026, 2, 28);
    passes(&r);
    r.date = day(2026, 2, 27);
    let d = fails(&r, &[ReasonCode::IntervalNotMet]);
    assert_eq!(d.eligible_from, Some(day(2026, 2, 28)));
}

#[test]
fn apheresis_to_apheresis_two_weeks() {
    let mut r = apheresis();
    r.history = vec![ap(day(2026, 4, 17), 250.0)];
    passes(&r);
    r.history = vec![ap(day(2026, 4, 18), 250.0)];
    let d = fails(&r, &[ReasonCode::IntervalNotMet]);
    assert_eq!(d.eligible_from, Some(day(2026, 5, 2)));
}

#[test]
fn apheresis_to_whole_blood_four_weeks() {
    let mut r = base();
    r.history = vec![ap(day(2026, 4, 3), 250.0)];
    passes(&r);
    r.history = vec![ap(day(2026, 4, 4), 250.0)];
    let d = fails(&r, &[ReasonCode::IntervalNotMet]);
    assert_eq!(d.eligible_from, Some(day(2026, 5, 2)));
}

#[test]
fn whole_blood_to_apheresis_three_months() {
    let mut r = apheresis();
    r.history = vec![wb(day(2026, 2, 1))];
    passes(&r);
    r.history = vec![wb(day(2026, 2, 2))];
    let d = fails(&r, &[ReasonCode::IntervalNotMet]);
    assert_eq!(d.eligible_from, Some(day(2026, 5, 2)));
}

#[test]
fn most_restrictive_history_entry_wins() {
    let mut r = base();
    // Older donation first in the list: order must not matter.
    r.history = vec![
        wb(day(2025, 10, 1)),
        wb(day(2026, 1, 10)),
        wb(day(2025, 3, 1)),
    ];
    let d = fails(&r, &[ReasonCode::IntervalNotMet]);
    assert_eq!(d.eligible_from, Some(day(2026, 7, 10)));
}

#[test]
fn each_failing_interval_kind_is_reported() {
    let mut r = base();
    r.history = vec![wb(day(2026, 1, 1)), ap(day(2026, 4, 20), 250.0)];
    let d = fails(
        &r,
        &[ReasonCode::IntervalNotMet, ReasonCode::IntervalNotMet],
    );
    let froms: Vec<_> = d.reasons.iter().map(|x| x.eligible_from).collect();
    assert!(froms.contains(&Some(day(2026, 7, 1))));
    assert!(froms.contains(&Some(day(2026, 5, 18))));
    assert_eq!(d.eligible_from, Some(day(2026, 7, 1)));
}

// ---- rolling 12 months ----

/// `n` apheresis donations 14 days apart, the latest 14 days before today.
fn fortnightly(n: u64, volume: f64) -> Vec<HistoryEntry> {
    (0..n)
        .map(|k| {
            let date = day(2026, 4, 17)
                .checked_sub_days(chrono::Days::new(14 * k))
                .expect("valid date");
            ap(date, volume)
        })
        .collect()
}

#[test]
fn at_most_24_apheresis_donations_per_12_months() {
    let mut r = apheresis();
    r.history = fortnightly(23, 250.0);
    passes(&r);
    r.history = fortnightly(24, 250.0);
    // Oldest is 2026-04-17 - 322 days = 2025-05-30; it leaves the window 12 months later.
    let d = fails(&r, &[ReasonCode::ApheresisYearlyCount]);
    assert_eq!(d.eligible_from, Some(day(2026, 5, 30)));
}

#[test]
fn rolling_window_edge_is_exactly_12_months() {
    let mut r = apheresis();
    let mut history = fortnightly(23, 250.0);
    history.push(ap(day(2025, 5, 1), 250.0)); // 12 months ago today: out of the window
    r.history = history.clone();
    passes(&r);
    history.pop();
    history.push(ap(day(2025, 5, 2), 250.0)); // one day later: still inside
    r.history = history;
    let d = fails(&r, &[ReasonCode::ApheresisYearlyCount]);
    assert_eq!(d.eligible_from, Some(day(2026, 5, 2)));
}

#[test]
fn yearly_apheresis_volume_limit() {
    let mut r = apheresis();
    // 20 donations of 490 mL = 9,800 mL.
    r.history = fortnightly(20, 490.0);
    r.volume_ml = Some(200.0); // exactly 10,000 mL
    passes(&r);
    r.volume_ml = Some(201.0);
    let d = fails(&r, &[ReasonCode::ApheresisYearlyVolume]);
    // Dropping the oldest (2026-04-17 - 266 days = 2025-07-25) is enough.
    assert_eq!(d.eligible_from, Some(day(2026, 7, 25)));
    assert!(
        d.reasons[0]
            .message(Lang::En)
            .contains("9800 mL + 201 mL planned")
    );
}

#[test]
fn yearly_volume_without_planned_volume() {
    let mut r = apheresis();
    let mut history = fortnightly(19, 500.0); // 9,500
    history.push(ap(day(2025, 6, 1), 499.0)); // 9,999
    r.history = history.clone();
    passes(&r);
    history.pop();
    history.push(ap(day(2025, 6, 1), 500.0)); // 10,000: no room left
    r.history = history;
    let d = fails(&r, &[ReasonCode::ApheresisYearlyVolume]);
    assert_eq!(d.eligible_from, Some(day(2026, 6, 1)));
}

#[test]
fn apheresis_history_in_window_needs_volumes() {
    let mut r = apheresis();
    r.history = fortnightly(3, 250.0);
    r.history[1].volume_ml = None;
    let e = request_error(&r);
    assert_eq!(e.field, "history[1].volume_ml");
    // Outside the window or for whole blood requests, it is not needed.
    let mut r = base();
    r.history = vec![HistoryEntry {
        date: day(2026, 1, 1),
        procedure: Procedure::ApheresisPlatelets,
        volume_ml: None,
    }];
    passes(&r);
}

// ---- deferrals ----

#[test]
fn deferral_until_is_the_first_eligible_day() {
    let mut r = base();
    r.deferrals = vec![DeferralRecord {
        code: "TOOTH_EXTRACTION".into(),
        until: Some(day(2026, 5, 2)),
    }];
    let d = fails(&r, &[ReasonCode::DeferralActive]);
    assert_eq!(d.eligible_from, Some(day(2026, 5, 2)));
    assert_eq!(
        d.reasons[0].message(Lang::En),
        "Deferred until 2026-05-02: Tooth extraction (2 weeks after the extraction) (TOOTH_EXTRACTION)"
    );
    assert!(d.reasons[0].message(Lang::ZhCn).contains("拔牙"));
    r.deferrals[0].until = Some(today());
    passes(&r);
}

#[test]
fn permanent_and_unknown_deferrals() {
    let mut r = base();
    r.deferrals = vec![DeferralRecord {
        code: "HBSAG_POSITIVE".into(),
        until: None,
    }];
    let d = fails(&r, &[ReasonCode::DeferralPermanent]);
    assert_eq!(d.eligible_from, None);

    r.deferrals = vec![DeferralRecord {
        code: "LOCAL_CODE_7".into(),
        until: Some(day(2026, 6, 1)),
    }];
    let d = fails(&r, &[ReasonCode::DeferralActive]);
    assert!(d.reasons[0].message(Lang::En).contains("LOCAL_CODE_7"));
}

// ---- several failures at once ----

#[test]
fn every_time_fixable_failure_is_reported_with_the_latest_date() {
    let mut r = base();
    r.donor.birth_date = day(2008, 6, 1); // 18 on 2026-06-01
    r.history = vec![wb(day(2026, 1, 15))]; // WB→WB from 2026-07-15
    r.deferrals = vec![
        DeferralRecord {
            code: "TATTOO".into(),
            until: Some(day(2026, 9, 1)),
        },
        DeferralRecord {
            code: "COMMON_COLD".into(),
            until: Some(day(2026, 5, 8)),
        },
    ];
    let d = fails(
        &r,
        &[
            ReasonCode::AgeBelowMin,
            ReasonCode::IntervalNotMet,
            ReasonCode::DeferralActive,
            ReasonCode::DeferralActive,
        ],
    );
    assert_eq!(d.eligible_from, Some(day(2026, 9, 1)));
}

#[test]
fn one_failure_not_fixed_by_time_makes_eligible_from_null() {
    let mut r = base();
    r.donor.birth_date = day(2008, 6, 1);
    r.history = vec![wb(day(2026, 1, 15))];
    r.vitals.weight_kg = 44.0;
    r.vitals.systolic_mmhg = 145.0;
    r.vitals.diastolic_mmhg = 95.0;
    r.vitals.pulse_bpm = 110.0;
    r.vitals.temperature_c = 37.8;
    r.tests.hemoglobin_g_l = 100.0;
    r.tests.alt_u_l = Some(80.0);
    r.tests.hbsag = Some(TestResult::Positive);
    r.volume_ml = Some(500.0);
    let d = fails(
        &r,
        &[
            ReasonCode::AgeBelowMin,
            ReasonCode::IntervalNotMet,
            ReasonCode::WeightBelowMin,
            ReasonCode::SystolicHigh,
            ReasonCode::DiastolicHigh,
            ReasonCode::PulseHigh,
            ReasonCode::TemperatureHigh,
            ReasonCode::HemoglobinLow,
            ReasonCode::AltHigh,
            ReasonCode::HbsagPositive,
            ReasonCode::VolumeNotAllowed,
        ],
    );
    assert_eq!(d.eligible_from, None);
    // Time-fixable reasons still carry their own date.
    let age = d
        .reasons
        .iter()
        .find(|x| x.code == ReasonCode::AgeBelowMin)
        .unwrap();
    assert_eq!(age.eligible_from, Some(day(2026, 6, 1)));
}

// ---- request errors ----

#[test]
fn impossible_values_are_request_errors_not_reasons() {
    let mut r = base();
    r.vitals.weight_kg = -3.0;
    assert_eq!(
        request_error(&r).to_string(),
        "field vitals.weight_kg: must be a number between 1 and 400 (got -3)"
    );
    r.vitals.weight_kg = f64::NAN;
    assert_eq!(request_error(&r).field, "vitals.weight_kg");

    let mut r = base();
    r.tests.hemoglobin_g_l = 12.5;
    let e = request_error(&r);
    assert_eq!(e.field, "tests.hemoglobin_g_l");
    assert!(e.problem.contains("g/dL"));

    let mut r = apheresis();
    r.tests.hematocrit = Some(42.0);
    let e = request_error(&r);
    assert_eq!(e.field, "tests.hematocrit");
    assert!(e.problem.contains("fraction"));

    let mut r = base();
    r.vitals.systolic_mmhg = 80.0;
    r.vitals.diastolic_mmhg = 120.0;
    assert_eq!(request_error(&r).field, "vitals.diastolic_mmhg");

    let mut r = base();
    r.vitals.systolic_mmhg = 301.0;
    assert_eq!(request_error(&r).field, "vitals.systolic_mmhg");

    let mut r = base();
    r.vitals.temperature_c = 98.6;
    assert_eq!(request_error(&r).field, "vitals.temperature_c");
}

#[test]
fn missing_procedure_data_is_a_request_error() {
    let mut r = base();
    r.volume_ml = None;
    assert_eq!(request_error(&r).field, "volume_ml");
    let mut r = apheresis();
    r.tests.hematocrit = None;
    assert_eq!(request_error(&r).field, "tests.hematocrit");
    let mut r = apheresis();
    r.tests.platelet_count_10e9_l = None;
    assert_eq!(request_error(&r).field, "tests.platelet_count_10e9_l");
    r.procedure = Procedure::ApheresisPlasma;
    r.tests.hematocrit = None;
    assert_eq!(request_error(&r).field, "tests.hematocrit");
}

#[test]
fn dates_after_today_are_request_errors() {
    let mut r = base();
    r.donor.birth_date = day(2026, 5, 2);
    assert_eq!(request_error(&r).field, "donor.birth_date");
    let mut r = base();
    r.history = vec![wb(day(2025, 1, 1)), wb(day(2026, 5, 2))];
    assert_eq!(request_error(&r).field, "history[1].date");
    // A donation dated today is real (and fails the interval).
    let mut r = base();
    r.history = vec![wb(today())];
    fails(&r, &[ReasonCode::IntervalNotMet]);
}

#[test]
fn merely_out_of_range_values_are_reasons() {
    let mut r = base();
    r.vitals.weight_kg = 44.0;
    r.tests.hemoglobin_g_l = 90.0;
    r.vitals.temperature_c = 38.5;
    fails(
        &r,
        &[
            ReasonCode::WeightBelowMin,
            ReasonCode::HemoglobinLow,
            ReasonCode::TemperatureHigh,
        ],
    );
}
