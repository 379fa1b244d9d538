//! The physician's decision: the screening form, what a decision may be against the
//! rules that failed (accept, waive with reason and PIN, defer), and recording it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use lifebridge_domain::Procedure;
use lifebridge_domain::consent::Consent;
use lifebridge_domain::eligibility::{self, Decision};
use lifebridge_domain::entities::{
    Deferral, EntityKind, PhysicianDecision, RapidTests, RecordId, Role, Screening,
};
use lifebridge_domain::measurements::Vitals;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::action::ActionCtx;
use crate::records::{actor_staff, require_role, require_text};
use crate::{Actor, Result, Store, StoreError};

use super::*;

pub use lifebridge_domain::questionnaire::ATHLETE_ANSWER;

/// The physician's screening form as the screening screen sends it: evaluated live
/// (`evaluate_screening`) and, with a decision, recorded (`NewScreening`). The UI's
/// TypeScript type is generated from it (feature `ts`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScreeningForm {
    pub donor_id: RecordId,
    pub drive_id: RecordId,
    pub procedure: Procedure,
    pub planned_volume_ml: Option<u32>,
    pub questionnaire_version: String,
    pub answers: BTreeMap<String, serde_json::Value>,
    pub vitals: Vitals,
    pub tests: RapidTests,
    pub athlete: bool,
    /// Product-scoped deferrals found at this screening (antiplatelet drugs): recorded
    /// with the decision as deferral records, they exclude products, not the donor.
    #[serde(default)]
    pub restrictions: Vec<String>,
    /// What the physician found for each answer the decision lists for review (question
    /// id → finding): needed to accept or waive.
    #[serde(default)]
    pub review_findings: BTreeMap<String, String>,
    /// The donor's informed consent, signed on the consent screen before the decision:
    /// required to accept or waive.
    #[serde(default)]
    pub consent: Option<Consent>,
    /// The witness's PIN when the donor could not sign; checked against their account
    /// and never stored.
    #[serde(default)]
    pub witness_pin: Option<String>,
    /// The physician's note on today's rapid ABO/RhD differing from the donor's record:
    /// required to accept with a mismatch, stored with the screening.
    #[serde(default)]
    pub abo_rh_note: Option<String>,
}

/// Longest finding a physician records for a reviewed answer.
pub const MAX_FINDING_LEN: usize = 500;

impl ScreeningForm {
    /// The questionnaire answers this form gives, for eligibility.
    pub fn questionnaire(&self) -> lifebridge_domain::questionnaire::QuestionnaireAnswers {
        questionnaire_answers(&self.questionnaire_version, &self.answers)
    }

    /// The screening to record: this form with the physician's decision.
    pub fn into_new(self, decision: PhysicianDecision, waiver_pin: Option<String>) -> NewScreening {
        NewScreening {
            form: self,
            decision,
            waiver_pin,
        }
    }
}

/// A screening to record: the form (flattened, so the JSON stays one object) and what
/// the physician adds to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewScreening {
    #[serde(flatten)]
    pub form: ScreeningForm,
    pub decision: PhysicianDecision,
    /// The physician's PIN, asked again for a waiver (e-signature); checked against
    /// their account and never stored.
    #[serde(default, skip_serializing)]
    pub waiver_pin: Option<String>,
}

impl Store {
    /// Records a screening and the physician's decision. Accepting a donor who fails a
    /// rule is refused. Waiving is possible only for failing rules the rules table marks
    /// waivable, with a reason and the physician's PIN; every other failing rule is a
    /// hard stop. Deferring needs a code that answers the failing rules and writes the
    /// deferral in the same action, as do the product-scoped restrictions.
    pub fn record_screening(&mut self, actor: Actor, new: NewScreening) -> Result<Screening> {
        let NewScreening {
            form: new,
            decision: choice,
            waiver_pin,
        } = new;
        let physician_id = actor_staff(actor, "recording a screening")?;
        require_role(
            &self.conn,
            physician_id,
            Role::Physician,
            "decide on screenings",
        )?;
        let drive = crate::queries::get_body::<lifebridge_domain::entities::Drive>(
            &self.conn,
            "drive",
            new.drive_id,
        )?
        .ok_or(StoreError::Missing {
            entity: "drive",
            id: new.drive_id.to_string(),
        })?;
        if let Some(message) = self.screened_elsewhere(new.donor_id, new.drive_id)? {
            return Err(StoreError::Refused {
                field: "donor_id".to_owned(),
                message,
            });
        }
        let questionnaire_version =
            require_text("questionnaire_version", &new.questionnaire_version, 64)?;
        if new.tests.hbsag.is_none() {
            // Nothing is recorded that nobody entered: the form has no default result.
            return Err(StoreError::invalid(
                "tests.hbsag",
                "record the HBsAg rapid test as negative, positive or not_done",
            ));
        }
        let consent = self.check_consent(
            &choice,
            new.consent.clone(),
            &questionnaire_version,
            physician_id,
            new.witness_pin.as_deref(),
        )?;
        let abo_rh_note = self.check_abo_rh_note(
            new.donor_id,
            new.tests.abo_rh,
            &choice,
            new.abo_rh_note.as_deref(),
        )?;
        let rules = self.rules()?;
        let restrictions = restriction_records(&rules, &new.restrictions, drive.date)?;
        let decision = self.evaluate_screening(
            new.donor_id,
            drive.date,
            new.procedure,
            new.planned_volume_ml,
            &new.vitals,
            &new.tests,
            new.athlete,
            &new.restrictions,
            Some(&new.questionnaire()),
        )?;
        let failed: Vec<String> = decision
            .reasons
            .iter()
            .map(|r| r.code.as_str().to_owned())
            .collect();
        let deferral = check_decision(&choice, &decision, &rules, drive.date)?;
        let review_findings = check_findings(&choice, &decision, &new.review_findings)?;
        if matches!(choice, PhysicianDecision::Override { .. }) {
            // The e-signature: the physician's own PIN, checked against their account
            // (wrong PINs count towards the lock-out like any sign-in).
            let pin = waiver_pin.as_deref().unwrap_or("");
            if pin.is_empty() {
                return Err(StoreError::invalid(
                    "waiver_pin",
                    "a waiver needs your PIN again (electronic signature)",
                ));
            }
            if let Err(refused) = self.sign_in(physician_id, pin)? {
                return Err(StoreError::invalid(
                    "waiver_pin",
                    format!("the waiver is not signed: {refused}"),
                ));
            }
        }
        let screening = Screening {
            id: Uuid::now_v7(),
            donor_id: new.donor_id,
            drive_id: new.drive_id,
            procedure: new.procedure,
            planned_volume_ml: new.planned_volume_ml,
            questionnaire_version,
            answers: {
                let mut answers = new.answers;
                answers.insert(
                    ATHLETE_ANSWER.to_owned(),
                    serde_json::Value::Bool(new.athlete),
                );
                answers
            },
            vitals: new.vitals,
            tests: new.tests,
            rules_version: rules.version.clone(),
            failed_rules: failed,
            decision: choice,
            physician_id,
            recorded_at: crate::now(),
            supersedes: None,
            correction_reason: None,
            review_findings,
            consent,
            abo_rh_note,
        };
        let detail = match &screening.decision {
            PhysicianDecision::Override {
                reason,
                overridden_codes,
            } => serde_json::json!({
                "waiver": overridden_codes,
                "reason": reason,
                "rules_version": rules.version,
                "signed_with_pin": physician_id,
            }),
            PhysicianDecision::Defer { code, .. } => serde_json::json!({
                "deferral": code,
                "failed": screening.failed_rules,
                "rules_version": rules.version,
            }),
            PhysicianDecision::Accept => serde_json::json!({"rules_version": rules.version}),
        };
        // Who witnessed the consent of a donor who could not sign is part of the audit
        // (their PIN check is audited as their sign-in).
        let mut detail = detail;
        if let Some(c) = &screening.consent {
            detail["consent"] = serde_json::json!({
                "version": c.version,
                "witness": c.witness(),
            });
        }
        let restriction_rows: Vec<(String, String, Option<NaiveDate>)> = restrictions
            .into_iter()
            .map(|r| {
                let zh = rules
                    .deferrals
                    .deferral(&r.code)
                    .map(|k| k.zh.clone())
                    .unwrap_or_else(|| r.code.clone());
                (r.code, zh, r.until)
            })
            .collect();
        self.act(actor, "screening.record", detail, |ctx| {
            insert_screening(ctx, &screening)?;
            for (code, reason, until) in deferral.into_iter().chain(restriction_rows) {
                insert_deferral(
                    ctx,
                    &Deferral {
                        id: Uuid::now_v7(),
                        donor_id: screening.donor_id,
                        code,
                        reason,
                        start: drive.date,
                        until,
                        screening_id: Some(screening.id),
                        recorded_by: physician_id,
                        recorded_at: ctx.now,
                        lifts: None,
                    },
                )?;
            }
            Ok(screening.clone())
        })
    }
}

impl Store {
    /// Two physicians' tablets on one bus deciding on the same visit: the screening
    /// another tablet recorded for the donor's current visit of this drive (pulled from
    /// the hub) stands, and a second one is refused with who decided what, so the crew
    /// sees it; a change is a correction of that screening (one writer per record).
    fn screened_elsewhere(
        &self,
        donor_id: lifebridge_domain::entities::RecordId,
        drive_id: lifebridge_domain::entities::RecordId,
    ) -> Result<Option<lifebridge_domain::messages::Message>> {
        let visit_at: Option<String> = self.conn.query_row(
            "SELECT MAX(checked_in_at) FROM visit WHERE donor_id = ?1 AND drive_id = ?2",
            (donor_id.to_string(), drive_id.to_string()),
            |r| r.get(0),
        )?;
        let Some(visit_at) = visit_at else {
            return Ok(None);
        };
        let Some(screening) = crate::queries::bodies::<Screening>(
            &self.conn,
            "SELECT s.body FROM screening s
             JOIN replicated_version v ON v.kind = 'screening' AND v.id = s.id
             WHERE s.donor_id = ?1 AND s.drive_id = ?2 AND s.recorded_at >= ?3
             AND NOT EXISTS (SELECT 1 FROM screening n WHERE n.supersedes = s.id)
             ORDER BY s.recorded_at DESC LIMIT 1",
            (donor_id.to_string(), drive_id.to_string(), visit_at),
        )?
        .pop() else {
            return Ok(None);
        };
        let physician = crate::queries::get_body::<lifebridge_domain::entities::Staff>(
            &self.conn,
            "staff",
            screening.physician_id,
        )?
        .map_or_else(|| screening.physician_id.to_string(), |s| s.display_name);
        let decision = match &screening.decision {
            PhysicianDecision::Accept => "accept".to_owned(),
            PhysicianDecision::Override { .. } => "override".to_owned(),
            PhysicianDecision::Defer { code, .. } => format!("defer {code}"),
        };
        Ok(Some(
            lifebridge_domain::messages::Message::new("sync.screened_elsewhere")
                .with("physician", physician)
                .with("recorded_at", screening.recorded_at.to_rfc3339())
                .with("decision", decision),
        ))
    }
}

/// Whether the physician's decision may stand against the rules that failed. Returns
/// the deferral to write, if the decision is to defer.
pub(super) fn check_decision(
    physician: &PhysicianDecision,
    decision: &Decision,
    rules: &lifebridge_domain::rules::RuleSet,
    date: NaiveDate,
) -> Result<Option<(String, String, Option<NaiveDate>)>> {
    let failed: Vec<&str> = decision.reasons.iter().map(|r| r.code.as_str()).collect();
    let hard: Vec<String> = decision
        .hard_stops()
        .iter()
        .map(|r| r.code.as_str().to_owned())
        .collect();
    match physician {
        PhysicianDecision::Accept if failed.is_empty() => Ok(None),
        PhysicianDecision::Accept if hard.is_empty() => Err(StoreError::invalid(
            "decision",
            format!(
                "cannot accept: the donor fails {}; defer, or waive it with a reason and your PIN",
                failed.join(", ")
            ),
        )),
        PhysicianDecision::Accept => Err(StoreError::HardStop {
            message: format!(
                "cannot accept: the donor fails {} (hard stop under rules table {}); defer",
                hard.join(", "),
                rules.version
            ),
            codes: hard,
        }),
        PhysicianDecision::Override {
            overridden_codes,
            reason,
        } => {
            if failed.is_empty() {
                return Err(StoreError::invalid(
                    "decision",
                    "nothing to waive: the donor passes every rule; accept instead",
                ));
            }
            if !hard.is_empty() {
                return Err(StoreError::HardStop {
                    message: format!(
                        "{} cannot be waived by anyone (rules table {} marks only some rules waivable); defer the donor",
                        hard.join(", "),
                        rules.version
                    ),
                    codes: hard,
                });
            }
            require_text("decision.reason", reason, 500)?;
            let missing: Vec<&str> = failed
                .iter()
                .copied()
                .filter(|c| !overridden_codes.iter().any(|o| o == c))
                .collect();
            if !missing.is_empty() {
                return Err(StoreError::invalid(
                    "decision.overridden_codes",
                    format!(
                        "a waiver must name every failed rule; missing {}",
                        missing.join(", ")
                    ),
                ));
            }
            Ok(None)
        }
        PhysicianDecision::Defer { code, until } => {
            let until = eligibility::check_deferral(rules, decision, date, code, *until)
                .map_err(|e| StoreError::invalid(e.field, e.problem))?;
            let kind = rules.deferrals.deferral(code);
            let reason = kind.map(|k| k.zh.clone()).unwrap_or_else(|| code.clone());
            let code = kind.map(|k| k.code.clone()).unwrap_or_else(|| code.clone());
            Ok(Some((code, reason, until)))
        }
    }
}

/// The physician's findings for the answers under review: each one the decision lists
/// needs a finding before the donor is accepted or a rule waived (a deferral may be
/// decided without). A finding is for an answer under review, not empty, at most
/// [`MAX_FINDING_LEN`] characters. Returns them trimmed, to store.
pub(super) fn check_findings(
    physician: &PhysicianDecision,
    decision: &Decision,
    findings: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (question, finding) in findings {
        let field = format!("review_findings.{question}");
        if !decision.review.iter().any(|r| &r.question == question) {
            return Err(StoreError::Refused {
                field,
                message: lifebridge_domain::messages::Message::new(
                    "eligibility.review_finding_not_under_review",
                )
                .with("question", question.clone()),
            });
        }
        out.insert(
            question.clone(),
            require_text(&field, finding, MAX_FINDING_LEN)?,
        );
    }
    if !matches!(physician, PhysicianDecision::Defer { .. })
        && let Some(missing) = decision
            .review
            .iter()
            .find(|r| !out.contains_key(&r.question))
    {
        return Err(StoreError::Refused {
            field: format!("review_findings.{}", missing.question),
            message: lifebridge_domain::messages::Message::new(
                "eligibility.review_finding_missing",
            )
            .with("question", missing.text.localized())
            .with("answer", missing.answer.localized()),
        });
    }
    Ok(out)
}

pub(super) fn insert_screening(ctx: &mut ActionCtx<'_>, screening: &Screening) -> Result<()> {
    let body = ctx.log_change(EntityKind::Screening, screening.id, screening)?;
    crate::tables::screening::insert(ctx.tx, screening, &screening.donor_id.to_string(), &body)
}
