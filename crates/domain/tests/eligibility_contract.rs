//! The JSON contract of `lifebridge eligibility`: request in, decision out.
#![allow(clippy::unwrap_used)]

use lifebridge_domain::eligibility::{Decision, EligibilityRequest, evaluate};
use lifebridge_domain::messages::Lang;
use lifebridge_domain::rules::RuleSet;
use serde_json::{Value, json};

fn request_json() -> Value {
    json!({
        "date": "2026-05-01",
        "donor": {"sex": "female", "birth_date": "1990-01-15", "nickname": "ignored"},
        "procedure": "whole_blood",
        "volume_ml": 400,
        "vitals": {"weight_kg": 44, "systolic_mmhg": 120, "diastolic_mmhg": 80,
                   "pulse_bpm": 72, "temperature_c": 36.6},
        "tests": {"hemoglobin_g_l": 114, "alt_u_l": 20, "hbsag": "negative"},
        "history": [{"date": "2026-01-10", "procedure": "apheresis_platelets", "volume_ml": 250}],
        "deferrals": [{"code": "COMMON_COLD", "until": "2026-05-05"}],
        "station": "bus 3"
    })
}

#[test]
fn contract_shape_in_both_languages() {
    let req: EligibilityRequest = serde_json::from_value(request_json()).unwrap();
    let decision = evaluate(&RuleSet::gb18467_2011(), &req).unwrap();

    let zh = decision.to_contract_json(Lang::default());
    assert_eq!(zh["eligible"], json!(false));
    assert_eq!(zh["eligible_from"], Value::Null);
    assert_eq!(zh["rules_version"], json!("GB18467-2011/2"));
    let reasons = zh["reasons"].as_array().unwrap();
    let codes: Vec<&str> = reasons
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["WEIGHT_BELOW_MIN", "HEMOGLOBIN_LOW", "DEFERRAL_ACTIVE"]
    );
    assert_eq!(
        reasons[1]["message"],
        json!("血红蛋白 114 g/L，低于女性最低要求 115 g/L")
    );
    assert_eq!(reasons[2]["eligible_from"], json!("2026-05-05"));
    assert_eq!(reasons[1]["eligible_from"], Value::Null);
    // Every reason says whether a physician may waive it; none of these may.
    for r in reasons {
        assert_eq!(r["waivable"], json!(false), "{r}");
    }
    assert_eq!(zh["excluded_products"], json!([]));

    let en = decision.to_contract_json(Lang::En);
    assert_eq!(
        en["reasons"][1]["message"],
        json!("Haemoglobin 114 g/L is below the 115 g/L minimum for women")
    );
    assert_eq!(en["reasons"][1]["message_zh"], zh["reasons"][1]["message"]);
}

#[test]
fn eligible_decision_json() {
    let mut v = request_json();
    v["vitals"]["weight_kg"] = json!(60);
    v["tests"]["hemoglobin_g_l"] = json!(130);
    v["deferrals"] = json!([{"code": "COMMON_COLD", "until": "2026-05-01"}]);
    let req: EligibilityRequest = serde_json::from_value(v).unwrap();
    let decision = evaluate(&RuleSet::gb18467_2011(), &req).unwrap();
    let out = decision.to_contract_json(Lang::ZhCn);
    assert_eq!(out["eligible"], json!(true));
    assert_eq!(out["reasons"], json!([]));
    assert_eq!(out["eligible_from"], json!("2026-05-01"));
    assert_eq!(out["excluded_products"], json!([]));
}

#[test]
fn optional_fields_default() {
    let mut v = request_json();
    let obj = v.as_object_mut().unwrap();
    obj.remove("history");
    obj.remove("deferrals");
    v["tests"] = json!({"hemoglobin_g_l": 130});
    v["vitals"]["weight_kg"] = json!(60);
    let req: EligibilityRequest = serde_json::from_value(v).unwrap();
    assert!(req.history.is_empty() && req.deferrals.is_empty());
    assert!(!req.athlete && !req.donor.prior_reaction);
    let decision = evaluate(&RuleSet::gb18467_2011(), &req).unwrap();
    assert!(decision.eligible);
}

#[test]
fn apheresis_plasma_and_null_until_deserialise() {
    let mut v = request_json();
    v["procedure"] = json!("apheresis_plasma");
    v["tests"] = json!({"hemoglobin_g_l": 130, "hematocrit": 0.42, "platelet_count_10e9_l": 200});
    v["vitals"]["weight_kg"] = json!(60);
    v["history"] = json!([]);
    v["deferrals"] = json!([{"code": "HIV_RISK", "until": null}]);
    let req: EligibilityRequest = serde_json::from_value(v).unwrap();
    let decision = evaluate(&RuleSet::gb18467_2011(), &req).unwrap();
    let out = decision.to_contract_json(Lang::En);
    assert_eq!(out["reasons"][0]["code"], json!("DEFERRAL_PERMANENT"));
    assert_eq!(out["eligible_from"], Value::Null);
}

#[test]
fn decision_and_request_round_trip_through_serde() {
    let req: EligibilityRequest = serde_json::from_value(request_json()).unwrap();
    let again: EligibilityRequest =
        serde_json::from_value(serde_json::to_value(&req).unwrap()).unwrap();
    assert_eq!(again, req);
    let decision = evaluate(&RuleSet::gb18467_2011(), &req).unwrap();
    let back: Decision = serde_json::from_value(serde_json::to_value(&decision).unwrap()).unwrap();
    assert_eq!(back, decision);
}
