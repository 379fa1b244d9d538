//! One function per group of rules (age, vitals, tests, intervals, apheresis year,
//! deferrals), each adding every failing rule it finds.

use chrono::NaiveDate;

use crate::common::Procedure;
use crate::measurements::TestResult;
use crate::messages::{Localized, Message};
use crate::product::ProductClass;
use crate::reason::ReasonCode;
use crate::rules::{DeferralScope, RuleSet};

use super::*;

pub(super) fn check_age(rules: &RuleSet, req: &EligibilityRequest, out: &mut Reasons) {
    let age = age_in_years(req.donor.birth_date, req.date);
    let a = rules.age;
    if i64::from(age) < i64::from(a.min_years) {
        let from = nth_birthday(req.donor.birth_date, a.min_years);
        let when = from.map(|d| {
            Message::new("eligibility.age_below_min.when")
                .with("date", d.to_string())
                .with("min", a.min_years.to_string())
        });
        out.push(
            ReasonCode::AgeBelowMin,
            Message::new("eligibility.age_below_min")
                .with("age", age.to_string())
                .with("min", a.min_years.to_string())
                .with("when", when),
            from,
        );
    }
    let repeat_ok = req.is_repeat_donor() && !req.donor.prior_reaction;
    let (max, who) = if repeat_ok {
        (a.max_years_repeat, "eligibility.who.repeat_no_reaction")
    } else if req.is_repeat_donor() {
        (a.max_years_first_time, "eligibility.who.prior_reaction")
    } else {
        (a.max_years_first_time, "eligibility.who.first_time")
    };
    if i64::from(age) > i64::from(max) {
        out.push(
            ReasonCode::AgeAboveMax,
            Message::new("eligibility.age_above_max")
                .with("age", age.to_string())
                .with("max", max.to_string())
                .with("who", Message::new(who)),
            None,
        );
    }
}

pub(super) fn check_vitals(rules: &RuleSet, req: &EligibilityRequest, out: &mut Reasons) {
    let v = &req.vitals;
    let sex = req.donor.sex;

    let min_weight = rules.weight_min_kg.get(sex);
    if v.weight_kg < min_weight {
        out.push(
            ReasonCode::WeightBelowMin,
            Message::new("eligibility.weight_below_min")
                .with("weight", v.weight_kg.to_string())
                .with("min", min_weight.to_string())
                .with("sex", sex_group(sex)),
            None,
        );
    }

    let bp = rules.blood_pressure;
    let (sys, dia) = (v.systolic_mmhg, v.diastolic_mmhg);
    if sys < bp.systolic_min_mmhg {
        out.push(
            ReasonCode::SystolicLow,
            Message::new("eligibility.systolic_low")
                .with("value", sys.to_string())
                .with("limit", bp.systolic_min_mmhg.to_string()),
            None,
        );
    }
    if sys >= bp.systolic_below_mmhg {
        out.push(
            ReasonCode::SystolicHigh,
            Message::new("eligibility.systolic_high")
                .with("value", sys.to_string())
                .with("limit", bp.systolic_below_mmhg.to_string()),
            None,
        );
    }
    if dia < bp.diastolic_min_mmhg {
        out.push(
            ReasonCode::DiastolicLow,
            Message::new("eligibility.diastolic_low")
                .with("value", dia.to_string())
                .with("limit", bp.diastolic_min_mmhg.to_string()),
            None,
        );
    }
    if dia >= bp.diastolic_below_mmhg {
        out.push(
            ReasonCode::DiastolicHigh,
            Message::new("eligibility.diastolic_high")
                .with("value", dia.to_string())
                .with("limit", bp.diastolic_below_mmhg.to_string()),
            None,
        );
    }
    let pp = sys - dia;
    if pp < bp.pulse_pressure_min_mmhg {
        out.push(
            ReasonCode::PulsePressureLow,
            Message::new("eligibility.pulse_pressure_low")
                .with("value", pp.to_string())
                .with("systolic", sys.to_string())
                .with("diastolic", dia.to_string())
                .with("limit", bp.pulse_pressure_min_mmhg.to_string()),
            None,
        );
    }

    let p = rules.pulse;
    let (min_pulse, who) = if req.athlete {
        (
            p.athlete_min_bpm,
            Some(Message::new("eligibility.pulse_low.athletes")),
        )
    } else {
        (p.min_bpm, None)
    };
    if v.pulse_bpm < min_pulse {
        out.push(
            ReasonCode::PulseLow,
            Message::new("eligibility.pulse_low")
                .with("value", v.pulse_bpm.to_string())
                .with("limit", min_pulse.to_string())
                .with("who", who),
            None,
        );
    }
    if v.pulse_bpm > p.max_bpm {
        out.push(
            ReasonCode::PulseHigh,
            Message::new("eligibility.pulse_high")
                .with("value", v.pulse_bpm.to_string())
                .with("limit", p.max_bpm.to_string()),
            None,
        );
    }

    let t = rules.temperature;
    if v.temperature_c < t.min_c {
        out.push(
            ReasonCode::TemperatureLow,
            Message::new("eligibility.temperature_low")
                .with("value", v.temperature_c.to_string())
                .with("limit", format!("{:.1}", t.min_c)),
            None,
        );
    }
    if v.temperature_c > t.max_c {
        out.push(
            ReasonCode::TemperatureHigh,
            Message::new("eligibility.temperature_high")
                .with("value", v.temperature_c.to_string())
                .with("limit", format!("{:.1}", t.max_c)),
            None,
        );
    }
}

pub(super) fn check_tests(rules: &RuleSet, req: &EligibilityRequest, out: &mut Reasons) {
    let t = &req.tests;
    let sex = req.donor.sex;

    let min_hb = rules.hemoglobin_min_g_l.get(sex);
    if t.hemoglobin_g_l < min_hb {
        out.push(
            ReasonCode::HemoglobinLow,
            Message::new("eligibility.hemoglobin_low")
                .with("value", t.hemoglobin_g_l.to_string())
                .with("min", min_hb.to_string())
                .with("sex", sex_group(sex)),
            None,
        );
    }
    if let Some(alt) = t.alt_u_l
        && alt > rules.alt_max_u_l
    {
        out.push(
            ReasonCode::AltHigh,
            Message::new("eligibility.alt_high")
                .with("value", alt.to_string())
                .with("limit", rules.alt_max_u_l.to_string()),
            None,
        );
    }
    if t.hbsag == Some(TestResult::Positive) {
        out.push(
            ReasonCode::HbsagPositive,
            Message::new("eligibility.hbsag_positive"),
            None,
        );
    }

    match req.procedure {
        Procedure::WholeBlood => {
            if let Some(volume) = req.volume_ml {
                let allowed = &rules.whole_blood_volumes_ml;
                if !allowed.iter().any(|&a| f64::from(a) == volume) {
                    let list: Vec<String> = allowed.iter().map(u32::to_string).collect();
                    out.push(
                        ReasonCode::VolumeNotAllowed,
                        Message::new("eligibility.volume_not_allowed")
                            .with("volume", volume.to_string())
                            .with("allowed", list),
                        None,
                    );
                }
            }
        }
        Procedure::ApheresisPlatelets | Procedure::ApheresisPlasma => {
            let a = rules.apheresis;
            let plasma = req.procedure == Procedure::ApheresisPlasma;
            let hematocrit_min = if plasma {
                rules.apheresis_plasma.hematocrit_min
            } else {
                a.hematocrit_min
            };
            if let Some(hct) = t.hematocrit
                && hct < hematocrit_min
            {
                out.push(
                    ReasonCode::HematocritLow,
                    Message::new("eligibility.hematocrit_low")
                        .with("value", hct.to_string())
                        .with("min", hematocrit_min.to_string()),
                    None,
                );
            }
            // Platelet-count limits are for platelet donors only.
            if let Some(plt) = t.platelet_count_10e9_l.filter(|_| !plasma) {
                if plt < a.platelet_count_min_10e9_l {
                    out.push(
                        ReasonCode::PlateletCountLow,
                        Message::new("eligibility.platelet_count_low")
                            .with("value", plt.to_string())
                            .with("limit", a.platelet_count_min_10e9_l.to_string()),
                        None,
                    );
                }
                if plt >= a.platelet_count_below_10e9_l {
                    out.push(
                        ReasonCode::PlateletCountHigh,
                        Message::new("eligibility.platelet_count_high")
                            .with("value", plt.to_string())
                            .with("limit", a.platelet_count_below_10e9_l.to_string()),
                        None,
                    );
                }
            }
        }
    }
}

pub(super) fn check_intervals(rules: &RuleSet, req: &EligibilityRequest, out: &mut Reasons) {
    // The latest-ending interval per previous procedure kind: one reason per kind keeps the
    // report short while still naming every rule (e.g. both WB→WB and AP→WB) that fails.
    for from in [
        Procedure::WholeBlood,
        Procedure::ApheresisPlatelets,
        Procedure::ApheresisPlasma,
    ] {
        let Some(rule) = rules.interval_rule(from, req.procedure) else {
            continue;
        };
        let period = rule.period;
        let worst = req
            .history
            .iter()
            .filter(|h| h.procedure == from)
            .filter_map(|h| period.after(h.date).map(|next| (h.date, next)))
            .filter(|&(_, next)| req.date < next)
            .max_by_key(|&(_, next)| next);
        if let Some((previous, next)) = worst {
            let to = req.procedure;
            out.push(
                ReasonCode::IntervalNotMet,
                Message::new("eligibility.interval_not_met")
                    .with("from", procedure_name(from))
                    .with("to", procedure_name(to))
                    .with("period", period.message())
                    .with("previous", previous.to_string())
                    .with("next", next.to_string()),
                Some(next),
            );
            // Waivable only when the shorter interval the table allows is itself over.
            let waivable = rule
                .waivable_to
                .and_then(|shorter| shorter.after(previous))
                .is_some_and(|allowed| allowed <= req.date);
            if let Some(r) = out.last_mut() {
                r.waivable = waivable;
            }
        }
    }
}

/// Apheresis donations still inside the rolling window on `date`, with the day each one
/// leaves it, oldest first.
pub(super) fn apheresis_in_window(
    req: &EligibilityRequest,
) -> Vec<(usize, &HistoryEntry, NaiveDate)> {
    let mut inside: Vec<_> = req
        .history
        .iter()
        .enumerate()
        .filter(|(_, h)| h.procedure.is_apheresis())
        .filter_map(|(i, h)| {
            h.date
                .checked_add_months(ROLLING_WINDOW)
                .map(|leaves| (i, h, leaves))
        })
        .filter(|&(_, _, leaves)| req.date < leaves)
        .collect();
    inside.sort_by_key(|&(_, _, leaves)| leaves);
    inside
}

pub(super) fn check_apheresis_year(
    rules: &RuleSet,
    req: &EligibilityRequest,
    out: &mut Reasons,
) -> Result<(), RequestError> {
    let (max_donations, limit) = if req.procedure == Procedure::ApheresisPlasma {
        let p = rules.apheresis_plasma;
        (p.max_donations_per_12_months, p.max_volume_ml_per_12_months)
    } else {
        let a = rules.apheresis;
        (a.max_donations_per_12_months, a.max_volume_ml_per_12_months)
    };
    let inside = apheresis_in_window(req);

    // This donation counts too, so at most max - 1 may already be in the window.
    let max = usize::try_from(max_donations).unwrap_or(usize::MAX);
    let count = inside.len();
    if count >= max {
        let must_leave = count + 1 - max;
        let from = inside.get(must_leave - 1).map(|&(_, _, leaves)| leaves);
        out.push(
            ReasonCode::ApheresisYearlyCount,
            Message::new("eligibility.apheresis_yearly_count")
                .with("count", count.to_string())
                .with("max", max.to_string())
                .with("when", eligible_from_suffix(from)),
            from,
        );
    }

    let mut volumes = Vec::with_capacity(inside.len());
    for &(i, h, leaves) in &inside {
        let volume = h.volume_ml.ok_or_else(|| {
            RequestError::new(
                format!("history[{i}].volume_ml"),
                "required for apheresis donations in the 12 months before date (yearly volume limit)",
            )
        })?;
        volumes.push((volume, leaves));
    }
    // Without a planned volume, any further donation breaks a limit already reached.
    let over = |prior: f64| match req.volume_ml {
        Some(planned) => prior + planned > limit,
        None => prior >= limit,
    };
    let prior: f64 = volumes.iter().map(|&(v, _)| v).sum();
    if over(prior) {
        let mut remaining = prior;
        let mut from = None;
        for &(volume, leaves) in &volumes {
            remaining -= volume;
            if !over(remaining) {
                from = Some(leaves);
                break;
            }
        }
        let planned = req.volume_ml.map(|p| {
            Message::new("eligibility.apheresis_yearly_volume.planned")
                .with("volume", p.to_string())
        });
        out.push(
            ReasonCode::ApheresisYearlyVolume,
            Message::new("eligibility.apheresis_yearly_volume")
                .with("prior", prior.to_string())
                .with("planned", planned)
                .with("limit", limit.to_string())
                .with("when", eligible_from_suffix(from)),
            from,
        );
    }
    Ok(())
}

/// One reason per deferral in force that rules out this procedure; returns the product
/// classes the deferrals in force exclude.
pub(super) fn check_deferrals(
    rules: &RuleSet,
    req: &EligibilityRequest,
    out: &mut Reasons,
) -> Vec<ProductClass> {
    for d in &req.deferrals {
        let code = d.code.trim();
        // Unknown codes still defer: the record may predate the current catalogue or be a
        // station-local code. Its code stands in for the description.
        let kind = rules.deferrals.deferral(code);
        let name = Localized {
            zh: kind.map_or(code, |k| k.zh.as_str()).to_owned(),
            en: kind.map_or(code, |k| k.en.as_str()).to_owned(),
        };
        let scope = kind.map_or(&DeferralScope::All, |k| &k.scope);
        if let DeferralScope::Products(excluded) = scope {
            // Product-scoped: the donation may go ahead unless it can only yield
            // excluded products (antiplatelet drugs stop apheresis platelets, not whole
            // blood). A record kept without an end (none should be) is treated as active.
            let yields = procedure_products(req.procedure);
            let stopped = !yields.is_empty() && yields.iter().all(|p| excluded.contains(p));
            let active = d.until.is_none_or(|until| req.date < until);
            if !(stopped && active) {
                continue;
            }
        }
        let waivable = kind.is_some_and(|k| k.waivable) && d.until.is_some();
        match d.until {
            None => out.push(
                ReasonCode::DeferralPermanent,
                Message::new("eligibility.deferral_permanent")
                    .with("name", name)
                    .with("code", code),
                None,
            ),
            Some(until) if req.date < until => out.push(
                ReasonCode::DeferralActive,
                Message::new("eligibility.deferral_active")
                    .with("until", until.to_string())
                    .with("name", name)
                    .with("code", code),
                Some(until),
            ),
            Some(_) => continue,
        }
        if let Some(r) = out.last_mut() {
            r.waivable = waivable;
            r.deferral_code = Some(code.to_owned());
        }
    }
    excluded_products(rules, &req.deferrals, req.date)
}

/// The questionnaire's answers: each deferral in force of the whole donation is a
/// reason (its own code answers it), unanswered questions are one reason; returns the
/// product-scoped deferrals in force (to count with the deferrals on record) and the
/// answers the physician must review.
pub(super) fn check_questionnaire(
    rules: &RuleSet,
    questionnaires: &[&Questionnaire],
    req: &EligibilityRequest,
    out: &mut Reasons,
) -> Result<(Vec<DeferralRecord>, Vec<ReviewItem>), RequestError> {
    let Some(given) = &req.questionnaire else {
        return Ok((Vec::new(), Vec::new()));
    };
    let doc = questionnaires
        .iter()
        .find(|q| q.version == given.version)
        .ok_or_else(|| {
            RequestError::new(
                "questionnaire.version",
                format!(
                    "unknown questionnaire {:?}; known: {}",
                    given.version,
                    questionnaires
                        .iter()
                        .map(|q| q.version.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
    let outcome = doc
        .evaluate(rules, req.donor.sex, req.date, &given.answers)
        .map_err(|e| {
            RequestError::new(format!("questionnaire.answers.{}", e.question), e.problem)
        })?;
    if !outcome.unanswered.is_empty() {
        out.push(
            ReasonCode::QuestionnaireIncomplete,
            Message::new("eligibility.questionnaire_incomplete")
                .with("count", outcome.unanswered.len().to_string())
                .with(
                    "first",
                    doc.question(&outcome.unanswered[0])
                        .map(|q| q.text.localized()),
                ),
            None,
        );
    }
    let mut restrictions = Vec::new();
    for d in outcome.deferrals.iter().filter(|d| d.in_force(req.date)) {
        if !d.scope.is_all() {
            restrictions.push(DeferralRecord {
                code: d.code.clone(),
                until: d.until,
            });
            continue;
        }
        let name = rules
            .deferrals
            .deferral(&d.code)
            .map(|k| Localized {
                zh: k.zh.clone(),
                en: k.en.clone(),
            })
            .unwrap_or_else(|| Localized {
                zh: d.code.clone(),
                en: d.code.clone(),
            });
        let message = match (d.until, d.period) {
            (Some(until), _) => {
                Message::new("eligibility.questionnaire_deferral").with("until", until.to_string())
            }
            (None, crate::rules::DeferralPeriod::Permanent) => {
                Message::new("eligibility.questionnaire_permanent")
            }
            (None, _) => Message::new("eligibility.questionnaire_station_set"),
        };
        out.0.push(Reason {
            code: ReasonCode::QuestionnaireDeferral,
            message: message.with("name", name).with("code", d.code.clone()),
            eligible_from: d.until,
            waivable: d.waivable && d.until.is_some(),
            deferral_code: Some(d.code.clone()),
        });
    }
    Ok((restrictions, outcome.review))
}
