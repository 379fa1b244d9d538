use chrono::NaiveDate;

use crate::common::Procedure;
use crate::messages::Lang;
use crate::product::ProductClass;

use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn embedded_rules_are_valid() {
    let rules = RuleSet::from_json(GB18467_2011_JSON).unwrap();
    assert_eq!(rules, RuleSet::gb18467_2011());
    assert_eq!(rules.version, "GB18467-2011/2");
}

#[test]
fn embedded_rules_hold_the_standard_values() {
    let r = RuleSet::gb18467_2011();
    assert_eq!(
        r.age,
        AgeRules {
            min_years: 18,
            max_years_first_time: 55,
            max_years_repeat: 60
        }
    );
    assert_eq!((r.weight_min_kg.male, r.weight_min_kg.female), (50.0, 45.0));
    assert_eq!(
        r.blood_pressure,
        BloodPressureRules {
            systolic_min_mmhg: 90.0,
            systolic_below_mmhg: 140.0,
            diastolic_min_mmhg: 60.0,
            diastolic_below_mmhg: 90.0,
            pulse_pressure_min_mmhg: 30.0
        }
    );
    assert_eq!(
        (r.pulse.min_bpm, r.pulse.max_bpm, r.pulse.athlete_min_bpm),
        (60.0, 100.0, 50.0)
    );
    assert_eq!((r.temperature.min_c, r.temperature.max_c), (36.0, 37.3));
    assert_eq!(
        (r.hemoglobin_min_g_l.male, r.hemoglobin_min_g_l.female),
        (120.0, 115.0)
    );
    assert_eq!(r.whole_blood_volumes_ml, vec![200, 300, 400]);
    assert_eq!(r.alt_max_u_l, 50.0);
    assert_eq!(r.apheresis.hematocrit_min, 0.36);
    assert_eq!(r.apheresis.platelet_count_min_10e9_l, 150.0);
    assert_eq!(r.apheresis.platelet_count_below_10e9_l, 450.0);
    assert_eq!(r.apheresis.max_donations_per_12_months, 24);
    assert_eq!(r.apheresis.max_volume_ml_per_12_months, 10_000.0);
    use Procedure::*;
    assert_eq!(r.interval(WholeBlood, WholeBlood), Some(Period::Months(6)));
    assert_eq!(
        r.interval(ApheresisPlatelets, ApheresisPlatelets),
        Some(Period::Days(14))
    );
    assert_eq!(
        r.interval(ApheresisPlatelets, WholeBlood),
        Some(Period::Days(28))
    );
    assert_eq!(
        r.interval(WholeBlood, ApheresisPlatelets),
        Some(Period::Months(3))
    );
    assert_eq!(
        r.interval(ApheresisPlasma, ApheresisPlasma),
        Some(Period::Days(14))
    );
    assert_eq!(
        r.interval(WholeBlood, ApheresisPlasma),
        Some(Period::Months(3))
    );
    assert_eq!(
        r.interval(ApheresisPlasma, WholeBlood),
        Some(Period::Days(28))
    );
}

#[test]
fn catalogue_covers_the_common_deferrals() {
    let r = RuleSet::gb18467_2011();
    let expect = [
        ("TOOTH_EXTRACTION", DeferralPeriod::Days(14)),
        ("MINOR_SURGERY", DeferralPeriod::Days(14)),
        ("MAJOR_SURGERY", DeferralPeriod::Months(6)),
        ("COMMON_COLD", DeferralPeriod::Days(7)),
        ("ACUTE_GASTROENTERITIS", DeferralPeriod::Days(7)),
        ("URINARY_TRACT_INFECTION", DeferralPeriod::Months(1)),
        ("PNEUMONIA", DeferralPeriod::Months(3)),
        ("MENSTRUATION", DeferralPeriod::Days(3)),
        ("MISCARRIAGE", DeferralPeriod::Months(6)),
        ("CHILDBIRTH_BREASTFEEDING", DeferralPeriod::Months(12)),
        ("LIVE_VACCINE", DeferralPeriod::Days(14)),
        ("RABIES_VACCINE_AFTER_BITE", DeferralPeriod::Months(12)),
        ("TRANSFUSION", DeferralPeriod::StationSet),
        ("TATTOO", DeferralPeriod::Months(12)),
        ("HBSAG_POSITIVE", DeferralPeriod::Permanent),
        ("HIV_RISK", DeferralPeriod::Permanent),
    ];
    for (code, period) in expect {
        let kind = r
            .deferrals
            .deferral(code)
            .unwrap_or_else(|| panic!("{code} missing"));
        assert_eq!(kind.period, period, "{code}");
    }
    assert!(r.deferrals.deferral(" tooth_extraction ").is_some());
    assert!(r.deferrals.deferral("NOPE").is_none());
}

#[test]
fn deferral_until() {
    let r = RuleSet::gb18467_2011();
    let get = |c: &str| r.deferrals.deferral(c).unwrap().clone();
    assert_eq!(
        get("TOOTH_EXTRACTION").until(day(2026, 5, 1)),
        Some(day(2026, 5, 15))
    );
    assert_eq!(
        get("MAJOR_SURGERY").until(day(2025, 8, 31)),
        Some(day(2026, 2, 28))
    );
    assert_eq!(
        get("TATTOO").until(day(2024, 2, 29)),
        Some(day(2025, 2, 28))
    );
    assert_eq!(get("HBSAG_POSITIVE").until(day(2026, 1, 1)), None);
    assert!(get("HBSAG_POSITIVE").is_permanent());
    assert_eq!(get("TRANSFUSION").until(day(2026, 1, 1)), None);
    assert!(!get("TRANSFUSION").is_permanent());
}

fn mutated(edit: impl FnOnce(&mut serde_json::Value)) -> Result<RuleSet, RulesError> {
    let mut v: serde_json::Value = serde_json::from_str(GB18467_2011_JSON).unwrap();
    edit(&mut v);
    RuleSet::from_json(&v.to_string())
}

fn invalid_field(result: Result<RuleSet, RulesError>) -> String {
    match result {
        Err(RulesError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn inconsistent_rules_are_refused_with_the_field() {
    assert_eq!(
        invalid_field(mutated(|v| v["age"]["max_years_first_time"] = 17.into())),
        "age.max_years_first_time"
    );
    assert_eq!(
        invalid_field(mutated(|v| v["age"]["max_years_repeat"] = 50.into())),
        "age.max_years_repeat"
    );
    assert_eq!(
        invalid_field(mutated(
            |v| v["blood_pressure"]["systolic_min_mmhg"] = 140.into()
        )),
        "blood_pressure.systolic_min_mmhg"
    );
    assert_eq!(
        invalid_field(mutated(|v| v["temperature"]["max_c"] = 99.5.into())),
        "temperature"
    );
    assert_eq!(
        invalid_field(mutated(|v| v["apheresis"]["hematocrit_min"] = 36.into())),
        "apheresis.hematocrit_min"
    );
    assert_eq!(
        invalid_field(mutated(|v| v["pulse"]["athlete_min_bpm"] = 70.into())),
        "pulse.athlete_min_bpm"
    );
    assert_eq!(
        invalid_field(mutated(|v| v["weight_min_kg"]["female"] = (-1).into())),
        "weight_min_kg.female"
    );
    assert_eq!(
        invalid_field(mutated(
            |v| v["whole_blood_volumes_ml"] = serde_json::json!([])
        )),
        "whole_blood_volumes_ml"
    );
    assert_eq!(
        invalid_field(mutated(|v| {
            v["intervals"].as_array_mut().unwrap().remove(0);
        })),
        "intervals"
    );
    assert_eq!(
        invalid_field(mutated(|v| {
            let arr = v["intervals"].as_array_mut().unwrap();
            let first = arr[0].clone();
            arr.push(first);
        })),
        "intervals[9]"
    );
    assert_eq!(
        invalid_field(mutated(|v| {
            let arr = v["deferrals"].as_array_mut().unwrap();
            let first = arr[0].clone();
            arr.push(first);
        })),
        format!(
            "deferrals[{}].code",
            RuleSet::gb18467_2011().deferrals.len()
        )
    );
    assert_eq!(
        invalid_field(mutated(|v| v["deferrals"][0]["code"] = "bad code".into())),
        "deferrals[0].code"
    );
    assert_eq!(
        invalid_field(mutated(
            |v| v["deferrals"][0]["period"] = serde_json::json!({"days": 0})
        )),
        "deferrals[0].period"
    );
    assert_eq!(
        invalid_field(mutated(|v| v["version"] = " ".into())),
        "version"
    );
}

#[test]
fn unknown_or_missing_fields_are_refused() {
    assert!(matches!(
        mutated(|v| v["age"]["max_years_with_consent"] = 70.into()),
        Err(RulesError::Json(_))
    ));
    assert!(matches!(
        mutated(|v| {
            v.as_object_mut().unwrap().remove("alt_max_u_l");
        }),
        Err(RulesError::Json(_))
    ));
    let err = RuleSet::from_json("{").unwrap_err().to_string();
    assert!(err.starts_with("rules file does not match"), "{err}");
}

#[test]
fn a_station_can_change_a_threshold_without_a_build() {
    let r = mutated(|v| v["alt_max_u_l"] = 40.into()).unwrap();
    assert_eq!(r.alt_max_u_l, 40.0);
}

#[test]
fn collection_and_cold_chain_sections_are_checked() {
    let r = RuleSet::gb18467_2011();
    let steps: Vec<(u32, f64)> = r
        .collection
        .slow_draw
        .iter()
        .map(|l| (l.volume_ml, l.max_minutes))
        .collect();
    assert_eq!(steps, vec![(200, 5.0), (300, 7.5), (400, 10.0)]);
    let class = |c| r.cold_chain.class(c).unwrap();
    assert_eq!(
        class(ProductClass::PlateletWholeBlood).processing_limit_hours,
        8
    );
    assert_eq!(
        class(ProductClass::PlateletWholeBlood).over_limit.action,
        UnitAction::Downgrade
    );
    assert_eq!(
        class(ProductClass::RedCellWholeBlood).ffp_separation_hours,
        Some(8)
    );
    assert_eq!(
        class(ProductClass::ApheresisPlasma).processing_limit_hours,
        6
    );
    assert!(!r.cold_chain.notes.is_empty() && !r.collection.notes.is_empty());
    assert_eq!(ColdChainRules::default(), r.cold_chain);
    assert_eq!(
        invalid_field(mutated(
            |v| v["collection"]["slow_draw"] = serde_json::json!([])
        )),
        "collection.slow_draw"
    );
    assert_eq!(
        invalid_field(mutated(
            |v| v["collection"]["slow_draw"] = serde_json::json!([
                {"volume_ml": 400, "max_minutes": 10},
                {"volume_ml": 200, "max_minutes": 5}
            ])
        )),
        "collection.slow_draw[1]"
    );
    assert_eq!(
        invalid_field(mutated(
            |v| v["collection"]["slow_draw"][0]["max_minutes"] = 0.into()
        )),
        "collection.slow_draw[0].max_minutes"
    );
    // A table written before apheresis plasma had a class keeps its own values and
    // gains the embedded entry for it.
    let older = mutated(|v| {
        v["cold_chain"]["classes"].as_array_mut().unwrap().pop();
        v["cold_chain"]["classes"][1]["processing_limit_hours"] = 6.into();
    })
    .unwrap();
    assert_eq!(
        older
            .cold_chain
            .class(ProductClass::PlateletWholeBlood)
            .unwrap()
            .processing_limit_hours,
        6
    );
    assert_eq!(
        older.cold_chain.class(ProductClass::ApheresisPlasma),
        r.cold_chain.class(ProductClass::ApheresisPlasma)
    );
    assert_eq!(
        invalid_field(mutated(|v| {
            let arr = v["cold_chain"]["classes"].as_array_mut().unwrap();
            let first = arr[0].clone();
            arr.push(first);
        })),
        "cold_chain.classes[red_cell_whole_blood]"
    );
    assert_eq!(
        invalid_field(mutated(
            |v| v["cold_chain"]["classes"][0]["ffp_separation_hours"] = 0.into()
        )),
        "cold_chain.classes[red_cell_whole_blood].ffp_separation_hours"
    );
    assert!(matches!(
        mutated(|v| v["collection"]["slow_draws"] = serde_json::json!([])),
        Err(RulesError::Json(_))
    ));
}

#[test]
fn period_descriptions() {
    assert_eq!(Period::Months(6).message().render(Lang::En), "6 months");
    assert_eq!(Period::Days(1).message().render(Lang::En), "1 day");
    assert_eq!(Period::Months(6).message().render(Lang::ZhCn), "6个月");
    assert_eq!(Period::Days(14).message().render(Lang::ZhCn), "14天");
    // A deferral's period, as `rules show` and the screens say it.
    let said = |p: DeferralPeriod| (p.message().render(Lang::ZhCn), p.message().to_string());
    assert_eq!(
        said(DeferralPeriod::Days(14)),
        ("暂缓14天".into(), "deferred 14 days".into())
    );
    assert_eq!(
        said(DeferralPeriod::Months(1)),
        ("暂缓1个月".into(), "deferred 1 month".into())
    );
    assert_eq!(
        said(DeferralPeriod::Permanent),
        ("永久不能献血".into(), "permanent exclusion".into())
    );
    assert_eq!(
        said(DeferralPeriod::StationSet),
        (
            "暂缓，期限由血站确定".into(),
            "deferred, period set by the station".into()
        )
    );
    assert_eq!(
        said(DeferralPeriod::UntilEligible),
        (
            "暂缓至规则计算的可献血日期".into(),
            "deferred until the date the rules compute".into()
        )
    );
}
