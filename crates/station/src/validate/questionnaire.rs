//! A pushed screening's questionnaire answers, checked as the tablet checked them: the
//! version is one the station knows (the built-in questionnaire or one it published),
//! every answer fits its question for the donor's sex, and a donor the answers defer is
//! not accepted (a waiver stands only for deferrals the rules table marks waivable),
//! and an acceptance or waiver carries the physician's finding for every answer under
//! review.
//! Screenings recorded with the old "no findings" checkbox carry no answers to check.

use std::collections::{BTreeMap, BTreeSet};

use lifebridge_domain::china_date;
use lifebridge_domain::common::Sex;
use lifebridge_domain::entities::{Donor, EntityKind, PhysicianDecision, Screening};
use lifebridge_domain::questionnaire::{
    self, Questionnaire, QuestionnaireAnswers, screening_answers,
};
use uuid::Uuid;

use super::{Checked, about, refuse, rows_for};
use crate::params;
use crate::storage::Result;
use crate::storage::sql::Tx;

pub async fn answers(tx: &mut dyn Tx, checked: &[Checked<'_>]) -> Result<()> {
    let screenings: Vec<(&Checked<'_>, &Screening, QuestionnaireAnswers)> = checked
        .iter()
        .filter_map(|c| {
            let s = c.screening()?;
            Some((
                c,
                s,
                screening_answers(&s.questionnaire_version, &s.answers)?,
            ))
        })
        .collect();
    if screenings.is_empty() {
        return Ok(());
    }
    let rules = crate::feed::rules_in_force(crate::feed::latest_reference(tx, "rules").await?);
    let sexes = donor_sexes(tx, checked, &screenings).await?;
    let mut documents: BTreeMap<String, Option<Questionnaire>> = BTreeMap::new();
    for (c, s, given) in screenings {
        if !documents.contains_key(&given.version) {
            let doc = document(tx, &given.version).await?;
            documents.insert(given.version.clone(), doc);
        }
        let Some(Some(doc)) = documents.get(&given.version) else {
            return Err(refuse(
                c.entry,
                about("push_refused.questionnaire_unknown", c.entry)
                    .with("version", given.version.clone()),
            ));
        };
        // The donor is known (references::donors_known ran first); a body the
        // station cannot read has no sex to go by, and the check is then skipped.
        let Some(sex) = sexes.get(&s.donor_id).copied() else {
            continue;
        };
        let day = china_date(s.recorded_at);
        let outcome = match doc.evaluate(&rules, sex, day, &given.answers) {
            Ok(outcome) => outcome,
            Err(e) => {
                return Err(refuse(
                    c.entry,
                    about("push_refused.questionnaire_answer", c.entry)
                        .with("question", e.question)
                        .with("problem", e.problem),
                ));
            }
        };
        let accepted = match &s.decision {
            PhysicianDecision::Accept => true,
            PhysicianDecision::Override { .. } => false,
            PhysicianDecision::Defer { .. } => continue,
        };
        if !outcome.unanswered.is_empty() {
            return Err(refuse(
                c.entry,
                about("push_refused.questionnaire_incomplete", c.entry)
                    .with("count", outcome.unanswered.len().to_string()),
            ));
        }
        let blocking = outcome
            .deferrals
            .iter()
            .filter(|d| d.in_force(day) && d.scope.is_all())
            .find(|d| accepted || !(d.waivable && d.until.is_some()));
        if let Some(d) = blocking {
            return Err(refuse(
                c.entry,
                about("push_refused.questionnaire_deferred", c.entry)
                    .with("question", d.question.clone())
                    .with("code", d.code.clone())
                    .with(
                        "until",
                        d.until.map_or_else(|| "-".to_owned(), |u| u.to_string()),
                    ),
            ));
        }
        // Every answer the physician had to review carries what they found.
        if let Some(item) = outcome.review.iter().find(|r| {
            s.review_findings
                .get(&r.question)
                .is_none_or(|f| f.trim().is_empty())
        }) {
            return Err(refuse(
                c.entry,
                about("push_refused.questionnaire_review_missing", c.entry)
                    .with("question", item.question.clone()),
            ));
        }
    }
    Ok(())
}

/// The questionnaire of `version`: the built-in one, or one this station published.
async fn document(tx: &mut dyn Tx, version: &str) -> Result<Option<Questionnaire>> {
    if version == questionnaire::built_in().version {
        return Ok(Some(questionnaire::built_in().clone()));
    }
    let body = tx
        .query_opt(
            "SELECT body FROM reference_document WHERE kind = 'questionnaire' AND version = ?1",
            params![version],
        )
        .await?
        .map(|mut r| r.text(0))
        .transpose()?;
    // A published document was checked when it was published.
    Ok(body.and_then(|b| Questionnaire::from_json(&b).ok()))
}

/// The sex of each screened donor: from a donor record in the same batch, else the
/// station's donor state.
async fn donor_sexes(
    tx: &mut dyn Tx,
    checked: &[Checked<'_>],
    screenings: &[(&Checked<'_>, &Screening, QuestionnaireAnswers)],
) -> Result<BTreeMap<Uuid, Sex>> {
    let mut out: BTreeMap<Uuid, Sex> = checked
        .iter()
        .filter(|c| c.entry.entity == EntityKind::Donor)
        .filter_map(|c| serde_json::from_str::<Donor>(&c.entry.body).ok())
        .map(|d| (d.id, d.sex))
        .collect();
    let wanted: BTreeSet<Uuid> = screenings
        .iter()
        .map(|(_, s, _)| s.donor_id)
        .filter(|d| !out.contains_key(d))
        .collect();
    if !wanted.is_empty() {
        let sql = "SELECT body FROM donor_state WHERE donor_id IN ({ids})";
        for r in rows_for(tx, sql, &wanted).await? {
            if let Ok(d) = serde_json::from_str::<Donor>(r.str(0)?) {
                out.insert(d.id, d.sex);
            }
        }
    }
    Ok(out)
}
