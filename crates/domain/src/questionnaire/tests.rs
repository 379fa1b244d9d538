use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::common::{Procedure, Sex};
use crate::eligibility::{self, DeferralRecord, EligibilityRequest};
use crate::measurements::{Tests, Vitals};
use crate::product::ProductClass;
use crate::reason::ReasonCode;
use crate::rules::RuleSet;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn today() -> NaiveDate {
    day(2026, 12, 2)
}

fn healthy(doc: &Questionnaire, sex: Sex) -> BTreeMap<String, Value> {
    doc.nothing_to_declare(sex)
}

fn request(sex: Sex, answers: BTreeMap<String, Value>) -> EligibilityRequest {
    EligibilityRequest {
        date: today(),
        donor: eligibility::Donor {
            sex,
            birth_date: day(1990, 5, 1),
            prior_reaction: false,
        },
        procedure: Procedure::WholeBlood,
        volume_ml: Some(400.0),
        vitals: Vitals {
            weight_kg: 70.0,
            systolic_mmhg: 120.0,
            diastolic_mmhg: 80.0,
            pulse_bpm: 72.0,
            temperature_c: 36.6,
        },
        tests: Tests {
            hemoglobin_g_l: 140.0,
            alt_u_l: None,
            hbsag: None,
            hematocrit: None,
            platelet_count_10e9_l: None,
        },
        history: Vec::new(),
        deferrals: Vec::<DeferralRecord>::new(),
        athlete: false,
        questionnaire: Some(QuestionnaireAnswers {
            version: built_in().version.clone(),
            answers,
        }),
    }
}

#[test]
fn the_built_in_questionnaire_is_valid_and_its_codes_are_in_the_catalogue() {
    let doc = built_in();
    assert_eq!(doc.version, "GB18467-2011-Q1");
    assert!(doc.questions().count() >= 30);
    assert_eq!(doc.check_against(&RuleSet::gb18467_2011()), Vec::new());
}

#[test]
fn a_healthy_donor_is_eligible_with_a_complete_questionnaire() {
    let rules = RuleSet::gb18467_2011();
    for sex in [Sex::Male, Sex::Female] {
        let answers = healthy(built_in(), sex);
        let outcome = built_in().evaluate(&rules, sex, today(), &answers).unwrap();
        assert_eq!(outcome, Outcome::default(), "{sex:?}: {answers:?}");
        let d = eligibility::evaluate(&rules, &request(sex, answers)).unwrap();
        assert!(d.eligible, "{:?}", d.reasons);
    }
}

/// Answers that make `q` apply (its `when` chain met) on top of a healthy donor's.
fn reach(doc: &Questionnaire, q: &Question, sex: Sex) -> BTreeMap<String, Value> {
    let mut a = healthy(doc, sex);
    let mut chain = Vec::new();
    let mut cur = q.when.clone();
    while let Some(cond) = cur {
        chain.push(cond.clone());
        cur = doc.question(&cond.question).and_then(|p| p.when.clone());
    }
    for cond in chain.into_iter().rev() {
        a.insert(cond.question.clone(), cond.is.clone());
    }
    // Every follow-up that now applies gets a neutral answer.
    for f in doc.questions() {
        if doc.applies(f, sex, &a) && !a.contains_key(&f.id) {
            let v = match &f.kind {
                QuestionKind::YesNo { .. } => json!(false),
                QuestionKind::Choice { options } => json!(options[0].id),
                QuestionKind::Date => json!(today().to_string()),
                QuestionKind::Number { min, .. } => json!(min),
                QuestionKind::Text { .. } => json!("aspirin"),
            };
            a.insert(f.id.clone(), v);
        }
    }
    a
}

#[test]
fn every_answer_that_defers_gives_its_deferral_from_the_date_given_and_the_other_answer_none() {
    let rules = RuleSet::gb18467_2011();
    let doc = built_in();
    let when = day(2026, 9, 1);
    let mut checked = 0;
    for q in doc.questions() {
        let sex = q.sex.unwrap_or(Sex::Female);
        let answer_values: Vec<(Value, &Meaning)> = match &q.kind {
            QuestionKind::YesNo { yes, no } => yes
                .iter()
                .map(|m| (json!(true), m))
                .chain(no.iter().map(|m| (json!(false), m)))
                .collect(),
            QuestionKind::Choice { options } => options
                .iter()
                .filter_map(|o| o.means.as_ref().map(|m| (json!(o.id), m)))
                .collect(),
            _ => Vec::new(),
        };
        for (value, meaning) in answer_values {
            let Some(code) = &meaning.defer else { continue };
            let mut a = reach(doc, q, sex);
            a.insert(q.id.clone(), value.clone());
            // The follow-ups this answer opens (its date first).
            for f in doc.questions() {
                if doc.applies(f, sex, &a) && !a.contains_key(&f.id) {
                    let v = match &f.kind {
                        QuestionKind::Date => json!(when.to_string()),
                        QuestionKind::Choice { options } => json!(options[0].id),
                        QuestionKind::Text { .. } => json!("aspirin"),
                        QuestionKind::YesNo { .. } => json!(false),
                        QuestionKind::Number { min, .. } => json!(min),
                    };
                    a.insert(f.id.clone(), v);
                }
            }
            if let Some(from) = &meaning.from {
                a.insert(from.clone(), json!(when.to_string()));
            }
            let outcome = doc.evaluate(&rules, sex, today(), &a).unwrap();
            assert!(
                outcome.unanswered.is_empty(),
                "{}: {:?}",
                q.id,
                outcome.unanswered
            );
            let d = outcome
                .deferrals
                .iter()
                .find(|d| &d.code == code && d.question == q.id)
                .unwrap_or_else(|| panic!("{} = {value} gives no {code}", q.id));
            let kind = rules.deferrals.deferral(code).unwrap();
            let start = if meaning.from.is_some() {
                when
            } else {
                today()
            };
            assert_eq!(d.start, start, "{}", q.id);
            assert_eq!(d.until, kind.until(start), "{}", q.id);
            checked += 1;

            // The answer that means nothing gives no deferral from this question.
            let mut none = reach(doc, q, sex);
            if let Some(other) = match &q.kind {
                QuestionKind::YesNo {
                    yes: Some(_),
                    no: None,
                } => Some(json!(false)),
                QuestionKind::YesNo {
                    yes: None,
                    no: Some(_),
                } => Some(json!(true)),
                QuestionKind::Choice { options } => options
                    .iter()
                    .find(|o| o.means.is_none())
                    .map(|o| json!(o.id)),
                _ => None,
            } {
                none.insert(q.id.clone(), other);
                let outcome = doc.evaluate(&rules, sex, today(), &none).unwrap();
                assert!(
                    outcome.deferrals.iter().all(|d| d.question != q.id),
                    "{} answered otherwise still defers",
                    q.id
                );
            }
        }
    }
    assert!(checked >= 30, "only {checked} deferring answers checked");
}

#[test]
fn a_tattoo_three_months_ago_defers_until_a_year_after_it() {
    let rules = RuleSet::gb18467_2011();
    let mut a = healthy(built_in(), Sex::Male);
    a.insert("tattoo".into(), json!(true));
    a.insert("tattoo_when".into(), json!({"ago": 3, "unit": "months"}));
    let d = eligibility::evaluate(&rules, &request(Sex::Male, a)).unwrap();
    let tattoo_day = today().checked_sub_months(Months::new(3)).unwrap();
    let until = tattoo_day.checked_add_months(Months::new(12)).unwrap();
    assert!(!d.eligible);
    assert_eq!(d.codes(), vec![ReasonCode::QuestionnaireDeferral]);
    assert_eq!(d.reasons[0].deferral_code.as_deref(), Some("TATTOO"));
    assert_eq!(d.reasons[0].eligible_from, Some(until));
    assert_eq!(d.eligible_from, Some(until));
    // Deferring for it is offered and recorded to that day, not a year from today.
    let choices = eligibility::deferral_choices(&rules, &d, today());
    let tattoo = choices.iter().find(|c| c.code == "TATTOO").unwrap();
    assert!(tattoo.preselected && tattoo.allowed);
    assert_eq!(tattoo.until, Some(until));
    assert_eq!(
        eligibility::check_deferral(&rules, &d, today(), "TATTOO", None),
        Ok(Some(until))
    );
    // A cold's week is not enough.
    assert!(eligibility::check_deferral(&rules, &d, today(), "COMMON_COLD", None).is_err());
}

#[test]
fn a_deferral_that_has_ended_is_not_a_reason() {
    let rules = RuleSet::gb18467_2011();
    let mut a = healthy(built_in(), Sex::Male);
    a.insert("tattoo".into(), json!(true));
    a.insert("tattoo_when".into(), json!("2025-11-01"));
    let d = eligibility::evaluate(&rules, &request(Sex::Male, a)).unwrap();
    assert!(d.eligible, "{:?}", d.reasons);
}

#[test]
fn follow_ups_apply_only_when_their_answer_is_given() {
    let rules = RuleSet::gb18467_2011();
    let doc = built_in();
    let mut a = healthy(doc, Sex::Male);
    assert!(
        !doc.applicable(Sex::Male, &a)
            .contains(&"tattoo_when".to_owned())
    );
    a.insert("tattoo_when".into(), json!("2026-10-01"));
    let e = doc.evaluate(&rules, Sex::Male, today(), &a).unwrap_err();
    assert_eq!(e.question, "tattoo_when");
    assert!(e.problem.contains("tattoo"), "{e}");

    a.remove("tattoo_when");
    a.insert("tattoo".into(), json!(true));
    let outcome = doc.evaluate(&rules, Sex::Male, today(), &a).unwrap();
    assert_eq!(outcome.unanswered, vec!["tattoo_when".to_owned()]);
    let d = eligibility::evaluate(&rules, &request(Sex::Male, a)).unwrap();
    assert!(d.codes().contains(&ReasonCode::QuestionnaireIncomplete));
    assert_eq!(d.eligible_from, None);
}

#[test]
fn questions_for_women_are_not_asked_of_men() {
    let rules = RuleSet::gb18467_2011();
    let doc = built_in();
    let men = doc.applicable(Sex::Male, &BTreeMap::new());
    let women = doc.applicable(Sex::Female, &BTreeMap::new());
    assert!(!men.contains(&"pregnant".to_owned()));
    assert!(women.contains(&"pregnant".to_owned()));
    let mut a = healthy(doc, Sex::Male);
    a.insert("pregnant".into(), json!(false));
    let e = doc.evaluate(&rules, Sex::Male, today(), &a).unwrap_err();
    assert_eq!(e.question, "pregnant");
    assert!(e.problem.contains("female"), "{e}");
    // Pregnancy has no fixed end: a reason without a date, the physician sets it.
    let mut a = healthy(doc, Sex::Female);
    a.insert("pregnant".into(), json!(true));
    let d = eligibility::evaluate(&rules, &request(Sex::Female, a)).unwrap();
    assert_eq!(d.reasons.len(), 1);
    assert_eq!(d.reasons[0].deferral_code.as_deref(), Some("PREGNANCY"));
    assert_eq!(d.reasons[0].eligible_from, None);
}

#[test]
fn unknown_questions_and_wrong_types_are_request_errors_naming_the_question() {
    let rules = RuleSet::gb18467_2011();
    let mut a = healthy(built_in(), Sex::Male);
    a.insert("favourite_colour".into(), json!("red"));
    let e = eligibility::evaluate(&rules, &request(Sex::Male, a)).unwrap_err();
    assert_eq!(e.field, "questionnaire.answers.favourite_colour");

    for (q, v) in [
        ("tattoo", json!("yes")),
        ("feel_well", json!(1)),
        ("had_procedure", json!(null)),
    ] {
        let mut a = healthy(built_in(), Sex::Male);
        a.insert(q.into(), v.clone());
        let e = eligibility::evaluate(&rules, &request(Sex::Male, a)).unwrap_err();
        assert_eq!(e.field, format!("questionnaire.answers.{q}"), "{v}");
        assert!(e.problem.contains("true or false"), "{}", e.problem);
    }
    let mut a = healthy(built_in(), Sex::Male);
    a.insert("tattoo".into(), json!(true));
    for bad in [
        json!("2026-13-01"),
        json!("2027-01-01"),
        json!({"ago": 3}),
        json!({"ago": 2, "unit": "fortnights"}),
    ] {
        a.insert("tattoo_when".into(), bad.clone());
        let e = eligibility::evaluate(&rules, &request(Sex::Male, a.clone())).unwrap_err();
        assert_eq!(e.field, "questionnaire.answers.tattoo_when", "{bad}");
    }
    let mut a = healthy(built_in(), Sex::Male);
    a.insert("ill_recently".into(), json!(true));
    a.insert("illness".into(), json!("flu_of_the_century"));
    a.insert("illness_recovered".into(), json!("2026-11-30"));
    let e = eligibility::evaluate(&rules, &request(Sex::Male, a)).unwrap_err();
    assert_eq!(e.field, "questionnaire.answers.illness");
    assert!(e.problem.contains("cold"), "{}", e.problem);

    let mut r = request(Sex::Male, healthy(built_in(), Sex::Male));
    r.questionnaire.as_mut().unwrap().version = "NOPE-9".into();
    let e = eligibility::evaluate(&rules, &r).unwrap_err();
    assert_eq!(e.field, "questionnaire.version");
    assert!(e.problem.contains("GB18467-2011-Q1"), "{}", e.problem);
}

#[test]
fn aspirin_excludes_platelets_and_stops_apheresis_platelets_only() {
    let rules = RuleSet::gb18467_2011();
    let mut a = healthy(built_in(), Sex::Male);
    a.insert("antiplatelet".into(), json!(true));
    a.insert(
        "antiplatelet_when".into(),
        json!({"ago": 2, "unit": "days"}),
    );
    let d = eligibility::evaluate(&rules, &request(Sex::Male, a.clone())).unwrap();
    assert!(d.eligible, "{:?}", d.reasons);
    assert!(
        d.excluded_products
            .contains(&ProductClass::PlateletWholeBlood)
    );
    let mut r = request(Sex::Male, a);
    r.procedure = Procedure::ApheresisPlatelets;
    r.volume_ml = None;
    r.tests.hematocrit = Some(0.42);
    r.tests.platelet_count_10e9_l = Some(250.0);
    let d = eligibility::evaluate(&rules, &r).unwrap();
    assert!(!d.eligible);
    assert_eq!(
        d.reasons[0].deferral_code.as_deref(),
        Some("ANTIPLATELET_DRUG")
    );
}

#[test]
fn answers_for_review_are_listed_with_the_answer_in_words() {
    let rules = RuleSet::gb18467_2011();
    let mut a = healthy(built_in(), Sex::Male);
    a.insert("takes_medicines".into(), json!(true));
    a.insert("medicines".into(), json!("二甲双胍"));
    let d = eligibility::evaluate(&rules, &request(Sex::Male, a)).unwrap();
    assert!(d.eligible);
    assert_eq!(d.review.len(), 1);
    assert_eq!(d.review[0].question, "takes_medicines");
    assert_eq!(d.review[0].answer.zh, "是");
}

const OLD: &str = r#"{
  "version": "OLD-1",
  "title": {"zh": "旧表", "en": "Old form"},
  "consent": {"version": "OLD-C1", "title": {"zh": "同意", "en": "Consent"}, "text": {"zh": "同意", "en": "I agree"}},
  "sections": [{"id": "all", "title": {"zh": "全部", "en": "All"}, "questions": [
    {"id": "tattoo", "type": "yes_no", "text": {"zh": "文身？", "en": "Tattoo?"}, "yes": {"defer": "TATTOO", "from": "tattoo_when"}},
    {"id": "tattoo_when", "type": "date", "when": {"question": "tattoo", "is": true}, "text": {"zh": "何时？", "en": "When?"}},
    {"id": "hours_slept", "type": "number", "min": 0, "max": 24, "text": {"zh": "睡了几小时？", "en": "Hours slept?"}}
  ]}]
}"#;

#[test]
fn an_old_questionnaire_version_still_evaluates_the_answers_it_has() {
    let rules = RuleSet::gb18467_2011();
    let old = Questionnaire::from_json(OLD).unwrap();
    let mut r = request(Sex::Male, BTreeMap::new());
    r.questionnaire = Some(QuestionnaireAnswers {
        version: "OLD-1".into(),
        answers: [
            ("tattoo".to_owned(), json!(true)),
            ("tattoo_when".to_owned(), json!("2026-06-01")),
            ("hours_slept".to_owned(), json!(7)),
        ]
        .into(),
    });
    let d = eligibility::evaluate_with(&rules, &[built_in(), &old], &r).unwrap();
    assert_eq!(d.eligible_from, Some(day(2027, 6, 1)));
    // The built-in alone does not know it.
    assert!(eligibility::evaluate(&rules, &r).is_err());
    // A number out of its bounds names the bounds.
    r.questionnaire
        .as_mut()
        .unwrap()
        .answers
        .insert("hours_slept".into(), json!(30));
    let e = eligibility::evaluate_with(&rules, &[&old], &r).unwrap_err();
    assert!(e.problem.contains("0 to 24"), "{}", e.problem);
}

#[test]
fn broken_documents_are_refused_naming_the_place() {
    let cases = [
        (
            OLD.replace(
                "\"tattoo_when\", \"type\": \"date\", \"when\": {\"question\": \"tattoo\"",
                "\"tattoo_when\", \"type\": \"date\", \"when\": {\"question\": \"nothing\"",
            ),
            "when.question",
        ),
        (OLD.replace("\"is\": true", "\"is\": \"maybe\""), "when.is"),
        (
            OLD.replace("\"id\": \"hours_slept\"", "\"id\": \"tattoo\""),
            "used twice",
        ),
        (
            OLD.replace("\"from\": \"tattoo_when\"", "\"from\": \"hours_slept\""),
            "not a date question",
        ),
        (
            OLD.replace("\"id\": \"hours_slept\"", "\"id\": \"Hours Slept\""),
            "lower_snake_case",
        ),
        (
            OLD.replace("\"min\": 0, \"max\": 24", "\"min\": 24, \"max\": 0"),
            "min < max",
        ),
    ];
    for (json, expect) in cases {
        let e = Questionnaire::from_json(&json).unwrap_err();
        assert!(e.to_string().contains(expect), "{e} (wanted {expect})");
    }
    let mut bad_code = Questionnaire::from_json(OLD).unwrap();
    if let QuestionKind::YesNo { yes: Some(m), .. } = &mut bad_code.sections[0].questions[0].kind {
        m.defer = Some("NO_SUCH_CODE".into());
    }
    let problems = bad_code.check_against(&RuleSet::gb18467_2011());
    assert_eq!(problems.len(), 1);
    assert!(problems[0].to_string().contains("NO_SUCH_CODE"));
}

proptest! {
    /// Any yes/no answers to the built-in questionnaire, with any past dates for the
    /// follow-ups, evaluate without error; every deferral ends after it starts; and a
    /// donor answering "no" to everything that defers on "yes" has no deferral.
    #[test]
    fn any_consistent_answers_evaluate(
        yes in proptest::collection::vec(any::<bool>(), 64),
        days_ago in proptest::collection::vec(0u32..3_000, 64),
        female in any::<bool>(),
    ) {
        let rules = RuleSet::gb18467_2011();
        let doc = built_in();
        let sex = if female { Sex::Female } else { Sex::Male };
        let mut a = BTreeMap::new();
        for (i, q) in doc.questions().enumerate() {
            if !doc.applies(q, sex, &a) { continue; }
            let v = match &q.kind {
                QuestionKind::YesNo { .. } => json!(yes[i]),
                QuestionKind::Choice { options } => json!(options[days_ago[i] as usize % options.len()].id),
                QuestionKind::Date => json!({"ago": days_ago[i], "unit": "days"}),
                QuestionKind::Number { min, .. } => json!(min),
                QuestionKind::Text { .. } => json!("x"),
            };
            a.insert(q.id.clone(), v);
        }
        let outcome = doc.evaluate(&rules, sex, today(), &a).unwrap();
        prop_assert!(outcome.unanswered.is_empty());
        for d in &outcome.deferrals {
            prop_assert!(d.until.is_none_or(|u| u > d.start));
            prop_assert!(d.start <= today());
        }
        let d = eligibility::evaluate(&rules, &request(sex, a)).unwrap();
        let in_force = outcome.deferrals.iter().filter(|d| d.in_force(today()) && d.scope.is_all()).count();
        prop_assert_eq!(
            d.reasons.iter().filter(|r| r.code == ReasonCode::QuestionnaireDeferral).count(),
            in_force
        );
    }

    /// Arbitrary JSON values never panic the evaluation: they fit or are refused.
    #[test]
    fn arbitrary_answers_never_panic(
        id_index in 0usize..64,
        value in prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            ".{0,12}".prop_map(Value::String),
            (any::<i64>(), "[a-z]{0,8}").prop_map(|(n, u)| json!({"ago": n, "unit": u})),
        ],
    ) {
        let rules = RuleSet::gb18467_2011();
        let doc = built_in();
        let ids: Vec<String> = doc.questions().map(|q| q.id.clone()).collect();
        let mut a = healthy(doc, Sex::Female);
        a.insert(ids[id_index % ids.len()].clone(), value);
        let _ = doc.evaluate(&rules, Sex::Female, today(), &a);
    }
}

#[test]
fn a_screening_s_answers_without_the_athlete_declaration_and_legacy_ones_as_none() {
    let a: BTreeMap<String, Value> = [
        (ATHLETE_ANSWER.to_owned(), json!(true)),
        ("tattoo".to_owned(), json!(false)),
    ]
    .into();
    let q = screening_answers("V1", &a).unwrap();
    assert_eq!(q.version, "V1");
    assert_eq!(q.answers.keys().collect::<Vec<_>>(), vec!["tattoo"]);
    let legacy: BTreeMap<String, Value> = [
        (ATHLETE_ANSWER.to_owned(), json!(false)),
        (LEGACY_NO_FINDINGS.to_owned(), json!(true)),
    ]
    .into();
    assert_eq!(screening_answers("V1", &legacy), None);
    // No answers at all is an unanswered questionnaire, not a legacy one.
    assert!(
        screening_answers("V1", &BTreeMap::new())
            .unwrap()
            .answers
            .is_empty()
    );
}
