//! Eligibility computed from the donor's whole history and the rules table in force:
//! live on the screening form, at check-in (history alone) and for product exclusions.

use chrono::NaiveDate;
use lifebridge_domain::eligibility::{self, Decision, EligibilityRequest};
use lifebridge_domain::entities::{RapidTests, RecordId};
use lifebridge_domain::measurements::Vitals;
use lifebridge_domain::questionnaire::{self, Questionnaire, QuestionnaireAnswers};
use lifebridge_domain::{Procedure, china_date};

use crate::queries::DonorHistory;
use crate::{Result, Store, StoreError};

/// The deferral records of `restrictions` (product-scoped catalogue codes) starting on
/// `date`, refused with the field when one is not a product-scoped entry.
pub fn restriction_records(
    rules: &lifebridge_domain::rules::RuleSet,
    restrictions: &[String],
    date: NaiveDate,
) -> Result<Vec<eligibility::DeferralRecord>> {
    let mut out: Vec<eligibility::DeferralRecord> = Vec::new();
    for (i, code) in restrictions.iter().enumerate() {
        let field = format!("restrictions[{i}]");
        let kind = rules.deferrals.deferral(code).ok_or_else(|| {
            StoreError::invalid(
                field.clone(),
                format!(
                    "{code:?} is not in the deferral catalogue of rules table {}",
                    rules.version
                ),
            )
        })?;
        if kind.scope.is_all() {
            return Err(StoreError::invalid(
                field,
                format!(
                    "{} rules out the whole donation: defer the donor instead",
                    kind.code
                ),
            ));
        }
        let until = kind.until(date).ok_or_else(|| {
            StoreError::invalid(field.clone(), format!("{} has no fixed period", kind.code))
        })?;
        if out.iter().any(|r| r.code == kind.code) {
            return Err(StoreError::invalid(
                field,
                format!("{} is listed twice", kind.code),
            ));
        }
        out.push(eligibility::DeferralRecord {
            code: kind.code.clone(),
            until: Some(until),
        });
    }
    Ok(out)
}

/// The eligibility request for `history`'s donor: every current donation from any
/// vehicle, the deferrals in force, and today's measurements.
pub fn eligibility_request(
    history: &DonorHistory,
    date: NaiveDate,
    procedure: Procedure,
    planned_volume_ml: Option<u32>,
    vitals: &Vitals,
    tests: &RapidTests,
    athlete: bool,
) -> Result<EligibilityRequest> {
    let hemoglobin_g_l = tests.hemoglobin_g_l.ok_or_else(|| {
        StoreError::invalid(
            "tests.hemoglobin_g_l",
            "haemoglobin must be measured before a decision",
        )
    })?;
    Ok(EligibilityRequest {
        date,
        donor: eligibility::Donor {
            sex: history.donor.sex,
            birth_date: history.donor.birth_date,
            prior_reaction: history.donations.iter().any(|d| !d.reactions.is_empty()),
        },
        procedure,
        volume_ml: planned_volume_ml.map(f64::from),
        vitals: vitals.clone(),
        tests: lifebridge_domain::measurements::Tests {
            hemoglobin_g_l,
            alt_u_l: tests.alt_u_l,
            hbsag: tests.hbsag,
            hematocrit: tests.hematocrit,
            platelet_count_10e9_l: tests.platelet_count_10e9_l,
        },
        history: history
            .donations
            .iter()
            .map(|d| eligibility::HistoryEntry {
                date: china_date(d.started_at),
                procedure: d.procedure,
                volume_ml: Some(f64::from(
                    d.collected_volume_ml.unwrap_or(d.planned_volume_ml),
                )),
            })
            .collect(),
        deferrals: history
            .active_deferrals(date)
            .into_iter()
            .map(|d| eligibility::DeferralRecord {
                code: d.code.clone(),
                until: d.until,
            })
            .collect(),
        athlete,
        questionnaire: None,
    })
}

/// Keys screenings recorded before the questionnaire hold in `answers`: the old "questionnaire
/// completed, no findings" checkbox and the athlete declaration (kept under
/// [`super::ATHLETE_ANSWER`] to this day).
pub const LEGACY_ANSWER_KEYS: [&str; 2] = ["no_findings", super::ATHLETE_ANSWER];

/// Legacy: a screening whose answers hold nothing but [`LEGACY_ANSWER_KEYS`] was recorded
/// before the questionnaire was data (or deferred before anything was answered) and has no
/// questionnaire answers to evaluate; correcting its measurements judges them without one.
pub fn is_legacy_answers(answers: &std::collections::BTreeMap<String, serde_json::Value>) -> bool {
    answers
        .keys()
        .all(|k| LEGACY_ANSWER_KEYS.contains(&k.as_str()))
}

/// The questionnaire part of a screening's answers for eligibility: everything but the
/// athlete declaration, which is the form's own field, not a question.
pub fn questionnaire_answers(
    version: &str,
    answers: &std::collections::BTreeMap<String, serde_json::Value>,
) -> QuestionnaireAnswers {
    QuestionnaireAnswers {
        version: version.to_owned(),
        answers: answers
            .iter()
            .filter(|(k, _)| k.as_str() != super::ATHLETE_ANSWER)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

impl Store {
    /// Every questionnaire this device can read answers against: each version the station
    /// sent (newest first) and the built-in one, so a screening recorded under an older
    /// version is still judged by the questions it answered.
    pub fn questionnaires(&self) -> Result<Vec<Questionnaire>> {
        let mut stmt = self.conn.prepare(
            "SELECT body FROM reference_document WHERE kind = 'questionnaire'
             ORDER BY adopted_at DESC, rowid DESC",
        )?;
        let bodies = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in bodies {
            out.push(
                Questionnaire::from_json(&json?)
                    .map_err(|e| StoreError::Corrupt(format!("stored questionnaire: {e}")))?,
            );
        }
        let built_in = questionnaire::built_in();
        if !out.iter().any(|q| q.version == built_in.version) {
            out.push(built_in.clone());
        }
        Ok(out)
    }

    /// The questionnaire a new screening is answered against: the newest the station
    /// sent, else the built-in one.
    pub fn questionnaire(&self) -> Result<Questionnaire> {
        let mut all = self.questionnaires()?;
        // Never empty: the built-in one is always there.
        Ok(all.swap_remove(0))
    }

    /// The questionnaire of `version` this device holds (one the station sent, or the
    /// built-in one); `None` when it has no such version.
    pub fn questionnaire_of_version(&self, version: &str) -> Result<Option<Questionnaire>> {
        Ok(self
            .questionnaires()?
            .into_iter()
            .find(|q| q.version == version))
    }

    /// Eligibility for a donor as the screening form stands now, without recording it.
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate_eligibility(
        &self,
        donor_id: RecordId,
        date: NaiveDate,
        procedure: Procedure,
        planned_volume_ml: Option<u32>,
        vitals: &Vitals,
        tests: &RapidTests,
        athlete: bool,
    ) -> Result<Decision> {
        self.evaluate_screening(
            donor_id,
            date,
            procedure,
            planned_volume_ml,
            vitals,
            tests,
            athlete,
            &[],
            None,
        )
    }

    /// Eligibility with the product-scoped `restrictions` the physician is adding at
    /// this screening counted as deferrals in force, and the questionnaire's answers
    /// (read against the version they answer; an answer that does not fit is refused
    /// naming `questionnaire.answers.<question>`).
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate_screening(
        &self,
        donor_id: RecordId,
        date: NaiveDate,
        procedure: Procedure,
        planned_volume_ml: Option<u32>,
        vitals: &Vitals,
        tests: &RapidTests,
        athlete: bool,
        restrictions: &[String],
        questionnaire: Option<&QuestionnaireAnswers>,
    ) -> Result<Decision> {
        let rules = self.rules()?;
        let history = self.donor_history(donor_id)?.ok_or(StoreError::Missing {
            entity: "donor",
            id: donor_id.to_string(),
        })?;
        let mut request = eligibility_request(
            &history,
            date,
            procedure,
            planned_volume_ml,
            vitals,
            tests,
            athlete,
        )?;
        request
            .deferrals
            .extend(restriction_records(&rules, restrictions, date)?);
        request.questionnaire = questionnaire.cloned();
        let known = self.questionnaires()?;
        let known: Vec<&Questionnaire> = known.iter().collect();
        eligibility::evaluate_with(&rules, &known, &request)
            .map_err(|e| StoreError::invalid(e.field.clone(), e.problem.clone()))
    }

    /// The deferral catalogue as offered for `decision`: answering entries first, the
    /// one to pre-select marked, and whether the store accepts each.
    pub fn deferral_choices(
        &self,
        decision: &Decision,
        date: NaiveDate,
    ) -> Result<Vec<eligibility::DeferralChoice>> {
        Ok(eligibility::deferral_choices(
            &self.rules()?,
            decision,
            date,
        ))
    }

    fn deferrals_in_force(
        &self,
        donor_id: RecordId,
        date: NaiveDate,
    ) -> Result<Vec<eligibility::DeferralRecord>> {
        let history = self.donor_history(donor_id)?.ok_or(StoreError::Missing {
            entity: "donor",
            id: donor_id.to_string(),
        })?;
        Ok(history
            .active_deferrals(date)
            .into_iter()
            .map(|d| eligibility::DeferralRecord {
                code: d.code.clone(),
                until: d.until,
            })
            .collect())
    }

    /// The product classes the donor's deferrals in force on `date` exclude.
    pub fn product_exclusions(
        &self,
        donor_id: RecordId,
        date: NaiveDate,
    ) -> Result<Vec<lifebridge_domain::product::ProductClass>> {
        let rules = self.rules()?;
        let records = self.deferrals_in_force(donor_id, date)?;
        Ok(eligibility::excluded_products(&rules, &records, date))
    }

    /// The product classes a donation of `procedure` by this donor on `date` may not
    /// become (the product-scoped deferrals in force); refused when they rule out every
    /// product the procedure yields (apheresis platelets after aspirin).
    pub fn excluded_products(
        &self,
        donor_id: RecordId,
        date: NaiveDate,
        procedure: Procedure,
    ) -> Result<Vec<lifebridge_domain::product::ProductClass>> {
        let rules = self.rules()?;
        let records = self.deferrals_in_force(donor_id, date)?;
        let excluded = eligibility::excluded_products(&rules, &records, date);
        let yields = eligibility::procedure_products(procedure);
        if !yields.is_empty() && yields.iter().all(|p| excluded.contains(p)) {
            let why: Vec<String> = records
                .iter()
                .filter_map(|r| {
                    let kind = rules.deferrals.deferral(&r.code)?;
                    let hits = yields.iter().any(|p| kind.scope.products().contains(p));
                    hits.then(|| match r.until {
                        Some(until) => format!("{} until {until}", kind.code),
                        None => kind.code.clone(),
                    })
                })
                .collect();
            return Err(StoreError::HardStop {
                codes: why.clone(),
                message: format!(
                    "{} cannot be collected from this donor today: {} rules out its products",
                    procedure.as_str(),
                    why.join(", ")
                ),
            });
        }
        Ok(excluded)
    }
}

impl Store {
    /// A deferral of the whole donation in force on `date` that was recorded after
    /// `screening` and not by it (a donor who told the rapid-test corner something, on
    /// another tablet of the bus): the physician's acceptance did not know it, so no
    /// collection may start from it. Product-scoped ones are the bag's exclusions
    /// instead ([`Store::excluded_products`]).
    pub(crate) fn deferred_after_screening(
        &self,
        screening: &lifebridge_domain::entities::Screening,
        date: NaiveDate,
        rules: &lifebridge_domain::rules::RuleSet,
    ) -> Result<Option<lifebridge_domain::messages::Message>> {
        let history = self
            .donor_history(screening.donor_id)?
            .ok_or(StoreError::Missing {
                entity: "donor",
                id: screening.donor_id.to_string(),
            })?;
        Ok(history
            .active_deferrals(date)
            .into_iter()
            .filter(|d| {
                d.recorded_at > screening.recorded_at && d.screening_id != Some(screening.id)
            })
            // A code the table does not know is taken as the whole donation: the safe side.
            .find(|d| {
                rules
                    .deferrals
                    .deferral(&d.code)
                    .is_none_or(|k| k.scope.is_all())
            })
            .map(|d| {
                lifebridge_domain::messages::Message::new("chair.deferred_after_screening")
                    .with("code", d.code.clone())
                    .with("recorded_at", d.recorded_at.to_rfc3339())
            }))
    }

    /// The first day this donor may give `procedure` as far as history, deferrals and age
    /// decide it, assuming the day's measurements pass: what the check-in screen shows
    /// before anyone has taken a blood pressure. `None` when time alone will not do.
    pub fn next_eligible(
        &self,
        donor_id: RecordId,
        date: NaiveDate,
        procedure: Procedure,
    ) -> Result<Option<NaiveDate>> {
        Ok(self
            .history_decision(donor_id, date, procedure)?
            .eligible_from)
    }

    /// The decision history, deferrals and age alone make on `date`, with measurements
    /// that pass every threshold standing in for the day's.
    pub fn history_decision(
        &self,
        donor_id: RecordId,
        date: NaiveDate,
        procedure: Procedure,
    ) -> Result<Decision> {
        let rules = self.rules()?;
        let history = self.donor_history(donor_id)?.ok_or(StoreError::Missing {
            entity: "donor",
            id: donor_id.to_string(),
        })?;
        let sex = history.donor.sex;
        let bp = &rules.blood_pressure;
        let passing_vitals = Vitals {
            weight_kg: rules.weight_min_kg.get(sex) + 10.0,
            systolic_mmhg: (bp.systolic_min_mmhg + bp.systolic_below_mmhg) / 2.0,
            diastolic_mmhg: (bp.diastolic_min_mmhg + bp.diastolic_below_mmhg) / 2.0,
            pulse_bpm: (rules.pulse.min_bpm + rules.pulse.max_bpm) / 2.0,
            temperature_c: (rules.temperature.min_c + rules.temperature.max_c) / 2.0,
        };
        let hematocrit_min = rules
            .apheresis
            .hematocrit_min
            .max(rules.apheresis_plasma.hematocrit_min);
        let passing_tests = RapidTests {
            hemoglobin_g_l: Some(rules.hemoglobin_min_g_l.get(sex) + 20.0),
            hematocrit: Some((hematocrit_min + 0.05).min(0.95)),
            platelet_count_10e9_l: Some(
                (rules.apheresis.platelet_count_min_10e9_l
                    + rules.apheresis.platelet_count_below_10e9_l)
                    / 2.0,
            ),
            ..RapidTests::default()
        };
        let volume = rules.whole_blood_volumes_ml.first().copied();
        let request = eligibility_request(
            &history,
            date,
            procedure,
            if procedure == Procedure::WholeBlood {
                volume
            } else {
                None
            },
            &passing_vitals,
            &passing_tests,
            false,
        )?;
        eligibility::evaluate(&rules, &request)
            .map_err(|e| StoreError::invalid(e.field.clone(), e.problem.clone()))
    }
}
