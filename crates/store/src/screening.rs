//! Screening: the physician's decision, with eligibility computed here from the
//! donor's whole history (every vehicle's donations and deferrals as replicated) and
//! the rules table in force. The UI shows the same computation live.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use lifebridge_domain::eligibility::{self, Decision, EligibilityRequest};
use lifebridge_domain::entities::{
    Deferral, EntityKind, PhysicianDecision, RapidTests, RecordId, Role, Screening,
};
use lifebridge_domain::measurements::Vitals;
use lifebridge_domain::{Procedure, china_date};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::action::ActionCtx;
use crate::queries::DonorHistory;
use crate::records::{actor_staff, require_role, require_text};
use crate::{Actor, Result, Store, StoreError};

/// The answer under which a screening keeps the "endurance athlete" declaration, so a
/// later correction is judged by the same pulse rule.
pub const ATHLETE_ANSWER: &str = "endurance_athlete";

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
}

impl ScreeningForm {
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewDeferral {
    pub donor_id: RecordId,
    pub code: String,
    pub reason: String,
    pub start: NaiveDate,
    /// Only for catalogue entries whose period the station sets case by case
    /// (e.g. after a transfusion); otherwise the catalogue decides.
    pub until: Option<NaiveDate>,
}

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
    })
}

impl Store {
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
        )
    }

    /// Eligibility with the product-scoped `restrictions` the physician is adding at
    /// this screening counted as deferrals in force.
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
        eligibility::evaluate(&rules, &request)
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
        let questionnaire_version =
            require_text("questionnaire_version", &new.questionnaire_version, 64)?;
        if new.tests.hbsag.is_none() {
            // Nothing is recorded that nobody entered: the form has no default result.
            return Err(StoreError::invalid(
                "tests.hbsag",
                "record the HBsAg rapid test as negative, positive or not_done",
            ));
        }
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
        )?;
        let failed: Vec<String> = decision
            .reasons
            .iter()
            .map(|r| r.code.as_str().to_owned())
            .collect();
        let deferral = check_decision(&choice, &decision, &rules, drive.date)?;
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

    /// A deferral outside a screening (e.g. reported by phone, or found at the station).
    pub fn record_deferral(&mut self, actor: Actor, new: NewDeferral) -> Result<Deferral> {
        let staff_id = actor_staff(actor, "recording a deferral")?;
        require_role(&self.conn, staff_id, Role::Physician, "defer donors")?;
        self.donor(new.donor_id)?.ok_or(StoreError::Missing {
            entity: "donor",
            id: new.donor_id.to_string(),
        })?;
        let reason = require_text("reason", &new.reason, 500)?;
        let rules = self.rules()?;
        let until = deferral_until(&rules, &new.code, new.start, new.until)?;
        let deferral = Deferral {
            id: Uuid::now_v7(),
            donor_id: new.donor_id,
            code: new.code,
            reason,
            start: new.start,
            until,
            screening_id: None,
            recorded_by: staff_id,
            recorded_at: crate::now(),
            lifts: None,
        };
        self.act(actor, "deferral.record", serde_json::json!({}), |ctx| {
            insert_deferral(ctx, &deferral)?;
            Ok(deferral.clone())
        })
    }

    /// Lifting a deferral early is a new entry naming the lifted one; nothing is erased.
    pub fn lift_deferral(
        &mut self,
        actor: Actor,
        deferral_id: RecordId,
        reason: &str,
    ) -> Result<Deferral> {
        let staff_id = actor_staff(actor, "lifting a deferral")?;
        require_role(&self.conn, staff_id, Role::Physician, "lift deferrals")?;
        let reason = require_text("reason", reason, 500)?;
        let lifted: Deferral = crate::queries::get_body(&self.conn, "deferral", deferral_id)?
            .ok_or(StoreError::Missing {
                entity: "deferral",
                id: deferral_id.to_string(),
            })?;
        if lifted.lifts.is_some() {
            return Err(StoreError::invalid(
                "deferral_id",
                "names a lifting entry, not a deferral",
            ));
        }
        let today = crate::china_today();
        let lift = Deferral {
            id: Uuid::now_v7(),
            donor_id: lifted.donor_id,
            code: lifted.code.clone(),
            reason,
            start: today,
            until: Some(today),
            screening_id: None,
            recorded_by: staff_id,
            recorded_at: crate::now(),
            lifts: Some(lifted.id),
        };
        self.act(
            actor,
            "deferral.lift",
            serde_json::json!({"lifts": lifted.id}),
            |ctx| {
                insert_deferral(ctx, &lift)?;
                Ok(lift.clone())
            },
        )
    }
}

/// The end date for a deferral of `code` starting on `start`, from the catalogue.
fn deferral_until(
    rules: &lifebridge_domain::rules::RuleSet,
    code: &str,
    start: NaiveDate,
    given: Option<NaiveDate>,
) -> Result<Option<NaiveDate>> {
    let kind = rules.deferrals.deferral(code).ok_or_else(|| {
        StoreError::invalid(
            "code",
            format!(
                "{code:?} is not in the deferral catalogue of rules table {}",
                rules.version
            ),
        )
    })?;
    if kind.is_permanent() {
        return Ok(None);
    }
    match (kind.until(start), given) {
        (Some(until), _) => Ok(Some(until)),
        (None, Some(until)) if until > start => Ok(Some(until)),
        (None, Some(_)) => Err(StoreError::invalid("until", "must be after the start date")),
        (None, None) => Err(StoreError::invalid(
            "until",
            format!("the period of deferral {code} is set case by case: give an end date"),
        )),
    }
}

/// Whether the physician's decision may stand against the rules that failed. Returns
/// the deferral to write, if the decision is to defer.
fn check_decision(
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

fn insert_screening(ctx: &mut ActionCtx<'_>, screening: &Screening) -> Result<()> {
    let body = ctx.log_change(EntityKind::Screening, screening.id, screening)?;
    crate::tables::screening::insert(ctx.tx, screening, &body)
}

fn insert_deferral(ctx: &mut ActionCtx<'_>, deferral: &Deferral) -> Result<()> {
    let body = ctx.log_change(EntityKind::Deferral, deferral.id, deferral)?;
    crate::tables::deferral::insert(ctx.tx, deferral, &deferral.donor_id.to_string(), &body)
}

impl Store {
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

/// What a screening correction may change: the measurements and answers as they really
/// were. The donor, drive and decision stand; a different decision is a new screening.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScreeningCorrection {
    pub vitals: Option<Vitals>,
    pub tests: Option<RapidTests>,
    pub answers: Option<BTreeMap<String, serde_json::Value>>,
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
        if let Some(a) = correction.answers {
            new.answers = a;
        }
        if new.vitals == old.vitals && new.tests == old.tests && new.answers == old.answers {
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
        let decision = self.evaluate_eligibility(
            old.donor_id,
            drive.date,
            old.procedure,
            old.planned_volume_ml,
            &new.vitals,
            &new.tests,
            athlete,
        )?;
        let failed: Vec<String> = decision
            .reasons
            .iter()
            .map(|r| r.code.as_str().to_owned())
            .collect();
        if !matches!(old.decision, PhysicianDecision::Defer { .. }) {
            check_decision(&old.decision, &decision, &rules, drive.date)?;
        }
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
