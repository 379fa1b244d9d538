//! The deferral that answers the failing rules: what the catalogue offers for a decision
//! and the check that a chosen deferral is at least as long as the rules call for.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::reason::ReasonCode;
use crate::rules::{DeferralPeriod, DeferralScope, RuleSet};

use super::*;

/// How long a deferral lasts, to compare one with another: any date is shorter than
/// permanent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DeferralEnd {
    Until(NaiveDate),
    Permanent,
}

impl fmt::Display for DeferralEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeferralEnd::Until(d) => write!(f, "until {d}"),
            DeferralEnd::Permanent => f.write_str("permanently"),
        }
    }
}

/// One entry of the deferral catalogue as offered to the physician for a decision: the
/// list is the core's, the screen only shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeferralChoice {
    pub code: String,
    pub zh: String,
    pub en: String,
    pub period: DeferralPeriod,
    /// A permanent exclusion rather than a temporary deferral.
    pub permanent: bool,
    pub scope: DeferralScope,
    pub waivable: bool,
    /// The day the donor may come back if deferred with this today; `None` when
    /// permanent or when the physician must give the date.
    pub until: Option<NaiveDate>,
    /// The physician must type the end date (station-set periods).
    pub needs_end_date: bool,
    /// Answers one of the failing rules.
    pub matches: bool,
    /// The one to pre-select: the deferral the most serious failing rule calls for.
    pub preselected: bool,
    /// The store accepts it for this decision. Product-scoped entries are restrictions
    /// recorded with an acceptance, never a decision to defer.
    pub allowed: bool,
}

/// Why a deferral cannot be the physician's decision; `field` names what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct DeferralRefusal {
    pub field: &'static str,
    pub problem: String,
}

fn refuse(field: &'static str, problem: impl Into<String>) -> DeferralRefusal {
    DeferralRefusal {
        field,
        problem: problem.into(),
    }
}

/// Catalogue entries that answer `reason`: those listing its code, and for a deferral
/// already on record, that deferral's own code.
fn answering<'r>(rules: &'r RuleSet, reason: &Reason) -> Vec<&'r crate::rules::DeferralKind> {
    rules
        .deferrals
        .iter()
        .filter(|k| {
            k.reasons.contains(&reason.code)
                || reason
                    .deferral_code
                    .as_deref()
                    .is_some_and(|c| k.code.eq_ignore_ascii_case(c))
        })
        .filter(|k| k.scope.is_all())
        .collect()
}

/// When a deferral of `kind` recorded on `date` would end; `given` is the physician's
/// date for periods the catalogue does not fix. `None`: a date is needed.
fn kind_end(
    kind: &crate::rules::DeferralKind,
    decision: &Decision,
    date: NaiveDate,
    given: Option<NaiveDate>,
) -> Option<DeferralEnd> {
    match kind.period {
        DeferralPeriod::Permanent => Some(DeferralEnd::Permanent),
        // A questionnaire answer dates the start (a tattoo three months ago): the
        // deferral ends when the answer's does, not a full period from today.
        DeferralPeriod::Days(_) | DeferralPeriod::Months(_) => answered_end(kind, decision)
            .or_else(|| kind.until(date))
            .map(DeferralEnd::Until),
        DeferralPeriod::StationSet => given.map(DeferralEnd::Until),
        DeferralPeriod::UntilEligible => given
            .or_else(|| {
                decision
                    .reasons
                    .iter()
                    .filter(|r| kind.reasons.contains(&r.code))
                    .filter_map(|r| r.eligible_from)
                    .max()
            })
            .map(DeferralEnd::Until),
    }
}

/// The end of the questionnaire's deferrals of `kind` in `decision`, the latest if several.
fn answered_end(kind: &crate::rules::DeferralKind, decision: &Decision) -> Option<NaiveDate> {
    decision
        .reasons
        .iter()
        .filter(|r| r.code == ReasonCode::QuestionnaireDeferral)
        .filter(|r| {
            r.deferral_code
                .as_deref()
                .is_some_and(|c| kind.code.eq_ignore_ascii_case(c))
        })
        .filter_map(|r| r.eligible_from)
        .max()
}

/// What the failing rules call for: the longest of the shortest deferral each failing
/// rule needs, and when that is permanent, the codes that may record it.
struct Requirement<'r> {
    end: Option<DeferralEnd>,
    permanent_codes: Vec<&'r str>,
    preselect: Option<&'r str>,
}

fn requirement<'r>(rules: &'r RuleSet, decision: &Decision, date: NaiveDate) -> Requirement<'r> {
    let mut out = Requirement {
        end: None,
        permanent_codes: Vec::new(),
        preselect: None,
    };
    for reason in &decision.reasons {
        let candidates = answering(rules, reason);
        let shortest = candidates
            .iter()
            .filter_map(|k| kind_end(k, decision, date, None).map(|e| (e, k.code.as_str())))
            .min_by_key(|&(e, _)| e);
        let need = match (reason.code, shortest) {
            // A permanent deferral on record stays permanent whatever code records it.
            (ReasonCode::DeferralPermanent, _) => Some((
                DeferralEnd::Permanent,
                candidates.first().map(|k| k.code.as_str()),
            )),
            (_, Some((end, code))) => Some((end, Some(code))),
            (_, None) => reason.eligible_from.map(|d| (DeferralEnd::Until(d), None)),
        };
        let Some((end, code)) = need else { continue };
        if end == DeferralEnd::Permanent {
            out.permanent_codes.extend(
                candidates
                    .iter()
                    .filter(|k| k.is_permanent())
                    .map(|k| k.code.as_str()),
            );
        }
        if out.end.is_none_or(|current| end > current) {
            out.end = Some(end);
            out.preselect = code;
        }
    }
    out
}

/// The deferral catalogue offered to the physician for `decision` on `date`: every entry,
/// marked whether it answers a failing rule, which one to pre-select and whether the
/// store accepts it. Entries that answer a failing rule come first.
pub fn deferral_choices(
    rules: &RuleSet,
    decision: &Decision,
    date: NaiveDate,
) -> Vec<DeferralChoice> {
    let need = requirement(rules, decision, date);
    let matching: Vec<&str> = decision
        .reasons
        .iter()
        .flat_map(|r| answering(rules, r))
        .map(|k| k.code.as_str())
        .collect();
    let mut choices: Vec<DeferralChoice> = rules
        .deferrals
        .iter()
        .map(|k| {
            let end = kind_end(k, decision, date, None);
            let long_enough = match (end, need.end) {
                (_, None) => true,
                // The physician types the date; the store checks it then.
                (None, Some(DeferralEnd::Until(_))) => true,
                (None, Some(DeferralEnd::Permanent)) => false,
                (Some(end), Some(required)) => end >= required,
            };
            let permanent_ok = need.end != Some(DeferralEnd::Permanent)
                || if need.permanent_codes.is_empty() {
                    k.is_permanent()
                } else {
                    need.permanent_codes.contains(&k.code.as_str())
                };
            DeferralChoice {
                code: k.code.clone(),
                zh: k.zh.clone(),
                en: k.en.clone(),
                period: k.period,
                permanent: k.is_permanent(),
                scope: k.scope.clone(),
                waivable: k.waivable,
                until: match end {
                    Some(DeferralEnd::Until(d)) => Some(d),
                    _ => None,
                },
                needs_end_date: end.is_none() && !k.is_permanent(),
                matches: matching.contains(&k.code.as_str()),
                preselected: need.preselect == Some(k.code.as_str()),
                allowed: k.scope.is_all() && long_enough && permanent_ok,
            }
        })
        .collect();
    choices.sort_by_key(|c| !c.matches);
    choices
}

/// Whether deferring with `code` (and the physician's end date `given`, for periods the
/// catalogue does not fix) answers the failing rules of `decision`: no deferral may end
/// before the one the failing rules call for (an HBsAg-positive donor is not deferred as
/// a cold), and a permanent finding of the rules is recorded under its own code. A code
/// for a finding of the physician's own is accepted when it is at least as long. Returns
/// the day the donor may come back, `None` when permanent.
pub fn check_deferral(
    rules: &RuleSet,
    decision: &Decision,
    date: NaiveDate,
    code: &str,
    given: Option<NaiveDate>,
) -> Result<Option<NaiveDate>, DeferralRefusal> {
    let kind = rules.deferrals.deferral(code).ok_or_else(|| {
        refuse(
            "code",
            format!(
                "{code:?} is not in the deferral catalogue of rules table {}",
                rules.version
            ),
        )
    })?;
    if !kind.scope.is_all() {
        return Err(refuse(
            "code",
            format!(
                "{} only rules out some products: record it as a restriction with the acceptance, not as a deferral",
                kind.code
            ),
        ));
    }
    let given = match kind.period {
        DeferralPeriod::StationSet | DeferralPeriod::UntilEligible => given,
        // The catalogue fixes the period; a typed date is ignored.
        _ => None,
    };
    if let Some(until) = given
        && until <= date
    {
        return Err(refuse("until", "must be after the start date"));
    }
    let end = kind_end(kind, decision, date, given).ok_or_else(|| {
        refuse(
            "until",
            format!(
                "the period of deferral {} is set case by case: give an end date",
                kind.code
            ),
        )
    })?;
    let need = requirement(rules, decision, date);
    if let Some(required) = need.end {
        let named = need.preselect.unwrap_or("the failing rules");
        if required == DeferralEnd::Permanent {
            let ok = if need.permanent_codes.is_empty() {
                kind.is_permanent()
            } else {
                need.permanent_codes.contains(&kind.code.as_str())
            };
            if !ok {
                return Err(refuse(
                    "code",
                    format!(
                        "the donor fails a rule that excludes permanently: defer with {}, not {}",
                        if need.permanent_codes.is_empty() {
                            "a permanent deferral".to_owned()
                        } else {
                            need.permanent_codes.join(" or ")
                        },
                        kind.code
                    ),
                ));
            }
        } else if end < required {
            return Err(refuse(
                "code",
                format!(
                    "{} would end {end}, before the failing rules allow ({named}: {required}); choose a matching deferral",
                    kind.code
                ),
            ));
        }
    }
    Ok(match end {
        DeferralEnd::Until(d) => Some(d),
        DeferralEnd::Permanent => None,
    })
}
