//! The station checks a pushed screening's questionnaire answers as the tablet does
//! (docs/security.md): an unknown version, an answer that does not fit its question, an
//! acceptance with unanswered questions or of a donor the answers defer is refused with
//! 422 naming the entry, and nothing of the batch is written; legacy screenings (the old
//! checkbox) and deferrals pass.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Months, Utc};
use common::records::*;
use common::{Backend, enroll, start};
use lifebridge_domain::entities::EntityKind;
use lifebridge_domain::questionnaire::{self, QuestionKind};
use serde_json::{Value, json};
use uuid::Uuid;

/// What a woman with nothing to declare answers to the built-in questionnaire.
fn nothing_to_declare() -> serde_json::Map<String, Value> {
    let doc = questionnaire::built_in();
    let mut a = serde_json::Map::new();
    for q in doc.questions().filter(|q| q.when.is_none()) {
        let v = match &q.kind {
            QuestionKind::YesNo { yes, no } => json!(yes.is_none() && no.is_some()),
            _ => continue,
        };
        a.insert(q.id.clone(), v);
    }
    a
}

/// A screening of donor `d` as a tablet would push it, with `answers` and `decision`.
fn screening(d: Uuid, answers: Value, decision: Value) -> (Uuid, Value) {
    let id = Uuid::now_v7();
    (
        id,
        json!({
            "id": id, "donor_id": d, "drive_id": Uuid::now_v7(),
            "procedure": "whole_blood", "planned_volume_ml": 400,
            "questionnaire_version": "GB18467-2011-Q1", "answers": answers,
            "vitals": {"weight_kg": 60.0, "systolic_mmhg": 120.0, "diastolic_mmhg": 80.0,
                       "pulse_bpm": 72.0, "temperature_c": 36.6},
            "tests": {"hemoglobin_g_l": 130.0, "alt_u_l": null, "hbsag": "negative",
                      "abo_rh": null, "hematocrit": null, "platelet_count_10e9_l": null},
            "rules_version": "GB18467-2011/2", "failed_rules": [],
            "decision": decision, "physician_id": Uuid::now_v7(),
            "recorded_at": Utc::now(), "supersedes": null, "correction_reason": null,
            // The donor signed: an acceptance without consent is refused before its
            // answers are looked at.
            "consent": lifebridge_store::demo::signed_consent(&questionnaire::built_in().consent.version)
        }),
    )
}

async fn answers_are_checked_on_push(backend: Backend) {
    let Some(ts) = start(backend, None).await else {
        return;
    };
    let bus = enroll(&ts, &ts.url(), "BUS-Q").await;
    let d = Uuid::now_v7();
    push_one(&ts, &bus, 1, EntityKind::Donor, d, &donor(d))
        .await
        .unwrap();
    let accept = json!({"kind": "accept"});
    let three_months_ago = Utc::now()
        .date_naive()
        .checked_sub_months(Months::new(3))
        .unwrap()
        .to_string();

    let mut tattoo = nothing_to_declare();
    tattoo.insert("tattoo".into(), json!(true));
    tattoo.insert("tattoo_when".into(), json!(three_months_ago));
    let mut unknown = nothing_to_declare();
    unknown.insert("favourite_colour".into(), json!("red"));
    let mut incomplete = nothing_to_declare();
    incomplete.remove("feel_well");
    let cases = [
        (
            Value::Object(tattoo.clone()),
            "push_refused.questionnaire_deferred",
        ),
        (Value::Object(unknown), "push_refused.questionnaire_answer"),
        (
            Value::Object(incomplete),
            "push_refused.questionnaire_incomplete",
        ),
    ];
    for (answers, code) in cases {
        let (id, body) = screening(d, answers, accept.clone());
        let before = ts.storage.counts().await.unwrap();
        let why = refused(push_one(&ts, &bus, 2, EntityKind::Screening, id, &body).await);
        assert_eq!((why.seq, why.entity_id), (2, id));
        assert_eq!(why.reason.code, code, "{:?}", why.reason);
        assert_eq!(
            ts.storage.counts().await.unwrap(),
            before,
            "nothing was written"
        );
    }
    let (id, mut body) = screening(d, Value::Object(nothing_to_declare()), accept.clone());
    body["questionnaire_version"] = json!("NO-SUCH-1");
    let why = refused(push_one(&ts, &bus, 2, EntityKind::Screening, id, &body).await);
    assert_eq!(why.reason.code, "push_refused.questionnaire_unknown");

    // Deferring the tattooed donor is what the answers call for.
    let (id, body) = screening(
        d,
        Value::Object(tattoo),
        json!({"kind": "defer", "code": "TATTOO", "until": null}),
    );
    push_one(&ts, &bus, 2, EntityKind::Screening, id, &body)
        .await
        .unwrap();
    // A screening of the old checkbox carries nothing to check.
    let (id, body) = screening(
        d,
        json!({"no_findings": true, "endurance_athlete": false}),
        accept.clone(),
    );
    push_one(&ts, &bus, 3, EntityKind::Screening, id, &body)
        .await
        .unwrap();
    // An answer under review needs the physician's finding with the acceptance.
    let mut unwell = nothing_to_declare();
    unwell.insert("feel_well".into(), json!(false));
    let (id, mut body) = screening(d, Value::Object(unwell), accept.clone());
    let why = refused(push_one(&ts, &bus, 4, EntityKind::Screening, id, &body).await);
    assert_eq!(why.reason.code, "push_refused.questionnaire_review_missing");
    assert_eq!(why.reason.params["question"], "feel_well".into());
    body["review_findings"] = json!({"feel_well": "昨晚睡眠不足，休息后复测正常"});
    push_one(&ts, &bus, 4, EntityKind::Screening, id, &body)
        .await
        .unwrap();
    // Nothing to declare, accepted.
    let (id, body) = screening(d, Value::Object(nothing_to_declare()), accept);
    push_one(&ts, &bus, 5, EntityKind::Screening, id, &body)
        .await
        .unwrap();
}

both_backends! {
    answers_are_checked_on_push => super::answers_are_checked_on_push;
}
