//! Correcting a mistyped screening: a new record that supersedes the old one.

use std::collections::BTreeMap;

use lifebridge_domain::entities::{PhysicianDecision, RapidTests, RecordId, Role, Screening};
use lifebridge_domain::measurements::Vitals;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::records::{actor_staff, require_role, require_text};
use crate::{Actor, Result, Store, StoreError};

use super::*;

/// What a screening correction may change: the measurements and answers as they really
/// were. The donor, drive and decision stand; a different decision is a new screening.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScreeningCorrection {
    pub vitals: Option<Vitals>,
    pub tests: Option<RapidTests>,
    pub answers: Option<BTreeMap<String, serde_json::Value>>,
    /// The physician's findings for the answers under review, when corrected answers
    /// call for new ones (absent: the screening's own stand).
    #[serde(default)]
    pub review_findings: Option<BTreeMap<String, String>>,
    /// The physician's note on a rapid ABO/RhD that, corrected, differs from the
    /// group on the donor's record (required then, as when recording).
    #[serde(default)]
    pub abo_rh_note: Option<String>,
}

impl Store {
    /// Corrects a mistyped screening: a new screening record that supersedes the old one,
    /// with the reason, eligibility recomputed from the corrected figures. The physician's
    /// decision must still stand against them (an accepted donor who now fails a rule is
    /// refused: defer or override in a new screening instead).
    pub fn correct_screening(
        &mut self,
        actor: Actor,
        screening_id: RecordId,
        correction: ScreeningCorrection,
        reason: &str,
    ) -> Result<Screening> {
        let physician_id = actor_staff(actor, "correcting a screening")?;
        require_role(
            &self.conn,
            physician_id,
            Role::Physician,
            "correct screenings",
        )?;
        let reason = require_text("reason", reason, 500)?;
        let old = crate::queries::get_screening(&self.conn, screening_id)?.ok_or(
            StoreError::Missing {
                entity: "screening",
                id: screening_id.to_string(),
            },
        )?;
        if crate::queries::is_superseded(&self.conn, "screening", old.id)? {
            return Err(StoreError::invalid(
                "screening_id",
                "this screening was already corrected; correct the latest version",
            ));
        }
        let mut new = old.clone();
        if let Some(v) = correction.vitals {
            new.vitals = v;
        }
        if let Some(t) = correction.tests {
            new.tests = t;
        }
        if let Some(mut a) = correction.answers {
            // The athlete declaration is the screening's, not an answer to correct.
            match old.answers.get(ATHLETE_ANSWER) {
                Some(v) => a.insert(ATHLETE_ANSWER.to_owned(), v.clone()),
                None => a.remove(ATHLETE_ANSWER),
            };
            new.answers = a;
        }
        if let Some(note) = self.check_abo_rh_note(
            old.donor_id,
            new.tests.abo_rh,
            &old.decision,
            correction
                .abo_rh_note
                .as_deref()
                .or(old.abo_rh_note.as_deref()),
        )? {
            new.abo_rh_note = Some(note);
        }
        if new.vitals == old.vitals
            && new.tests == old.tests
            && new.answers == old.answers
            && correction
                .review_findings
                .as_ref()
                .is_none_or(|f| *f == old.review_findings)
            && new.abo_rh_note == old.abo_rh_note
        {
            return Err(StoreError::invalid("correction", "changes nothing"));
        }
        let drive: lifebridge_domain::entities::Drive =
            crate::queries::get_body(&self.conn, "drive", old.drive_id)?.ok_or(
                StoreError::Missing {
                    entity: "drive",
                    id: old.drive_id.to_string(),
                },
            )?;
        let rules = self.rules()?;
        let athlete = old
            .answers
            .get(ATHLETE_ANSWER)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        // A screening recorded before the questionnaire was data holds no answers to
        // judge (see `is_legacy_answers`); its corrected measurements are judged alone.
        let questionnaire = (!is_legacy_answers(&new.answers))
            .then(|| questionnaire_answers(&new.questionnaire_version, &new.answers));
        let decision = self.evaluate_screening(
            old.donor_id,
            drive.date,
            old.procedure,
            old.planned_volume_ml,
            &new.vitals,
            &new.tests,
            athlete,
            &[],
            questionnaire.as_ref(),
        )?;
        let failed: Vec<String> = decision
            .reasons
            .iter()
            .map(|r| r.code.as_str().to_owned())
            .collect();
        if !matches!(old.decision, PhysicianDecision::Defer { .. }) {
            check_decision(&old.decision, &decision, &rules, drive.date)?;
        }
        let findings = correction
            .review_findings
            .unwrap_or_else(|| old.review_findings.clone());
        new.review_findings = check_findings(&old.decision, &decision, &findings)?;
        new.id = Uuid::now_v7();
        new.failed_rules = failed;
        new.rules_version = rules.version.clone();
        new.physician_id = physician_id;
        new.supersedes = Some(old.id);
        new.correction_reason = Some(reason.clone());
        self.act(
            actor,
            "screening.correct",
            serde_json::json!({"supersedes": old.id, "reason": reason}),
            |ctx| {
                new.recorded_at = ctx.now;
                insert_screening(ctx, &new)?;
                Ok(new.clone())
            },
        )
    }
}
