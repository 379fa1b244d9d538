//! Donor eligibility on the day of donation, against a [`RuleSet`].
//!
//! The request/decision JSON is a contract: `lifebridge eligibility` reads the request on
//! stdin and other tools read the decision. Field names here must not change.
//!
//! Two kinds of "no":
//! * a [`RequestError`] means the input cannot be a real measurement (NaN, a weight of
//!   -3 kg, a haemoglobin entered in g/dL, a donation dated after today). Nothing is
//!   decided; the input must be corrected.
//! * a [`Reason`] in the [`Decision`] means the donor fails a rule. Every failing rule is
//!   reported, never just the first, with the date it stops failing when time alone fixes
//!   it.
//!
//! Date conventions (all dates are calendar days, no clock is read):
//! * age is in completed years on `date`; someone born on 29 February turns a year older
//!   on 1 March in common years.
//! * intervals: eligible ON the previous donation date plus the interval (calendar months
//!   via `checked_add_months`, so 31 August + 6 months = 28/29 February).
//! * deferrals: a deferral with `until` is active while `date < until`; the donor is
//!   eligible ON `until`. `until: null` is permanent. The record's `until` wins over the
//!   catalogue's period: it is what the screener recorded for this donor.
//! * rolling 12 months: a donation on day D counts until D + 12 months (exclusive).

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::common::{Procedure, Sex};
use crate::messages::{Message, Param};
use crate::product::ProductClass;
use crate::questionnaire::{Questionnaire, ReviewItem};
use crate::reason::ReasonCode;
use crate::rules::RuleSet;

/// Length of the rolling window for the apheresis count and volume limits.
const ROLLING_WINDOW: Months = Months::new(12);

// Language of the contract's `message` field (the catalogue's).
use crate::messages::Lang;

mod checks;
mod deferral_choice;
mod request;

use checks::*;
pub use deferral_choice::*;
pub use request::*;

/// One failing rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Reason {
    pub code: ReasonCode,
    /// What the screen says, from the catalogue (`eligibility.*`).
    pub message: Message,
    /// When this rule stops failing by the passage of time alone; `None` when it needs a
    /// different measurement, test or decision.
    pub eligible_from: Option<NaiveDate>,
    /// A physician may waive this failing rule (reason and PIN, audited) because the
    /// rules table says so; every other failing rule is a hard stop.
    #[serde(default)]
    pub waivable: bool,
    /// The deferral record behind a `DEFERRAL_ACTIVE` / `DEFERRAL_PERMANENT` reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferral_code: Option<String>,
}

impl Reason {
    pub fn message(&self, lang: Lang) -> String {
        self.message.render(lang)
    }
}

/// Outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Decision {
    pub eligible: bool,
    pub reasons: Vec<Reason>,
    /// `date` when eligible; otherwise the latest `eligible_from` of the reasons when all
    /// of them are fixed by time; `None` when any is not.
    pub eligible_from: Option<NaiveDate>,
    /// [`RuleSet::version`] the decision was made with.
    pub rules_version: String,
    /// Product classes this donor's blood may not become today (product-scoped
    /// deferrals such as antiplatelet drugs), whether or not the donation may go ahead.
    #[serde(default)]
    pub excluded_products: Vec<ProductClass>,
    /// Questionnaire answers the physician must review and record a finding for.
    #[serde(default)]
    pub review: Vec<ReviewItem>,
}

impl Decision {
    fn from_reasons(date: NaiveDate, reasons: Vec<Reason>, rules_version: String) -> Decision {
        let eligible = reasons.is_empty();
        let eligible_from = if eligible {
            Some(date)
        } else {
            reasons
                .iter()
                .map(|r| r.eligible_from)
                .collect::<Option<Vec<_>>>()
                .and_then(|dates| dates.into_iter().max())
        };
        Decision {
            eligible,
            reasons,
            eligible_from,
            rules_version,
            excluded_products: Vec::new(),
            review: Vec::new(),
        }
    }

    /// The failing rules no one may waive.
    pub fn hard_stops(&self) -> Vec<&Reason> {
        self.reasons.iter().filter(|r| !r.waivable).collect()
    }

    /// The donor fails at least one rule and a physician may waive every one of them.
    pub fn is_waivable(&self) -> bool {
        !self.reasons.is_empty() && self.reasons.iter().all(|r| r.waivable)
    }

    /// Codes of the failing rules, in report order.
    pub fn codes(&self) -> Vec<ReasonCode> {
        self.reasons.iter().map(|r| r.code).collect()
    }

    /// The contract shape `{"eligible", "reasons": [{"code", "message"}], "eligible_from"}`
    /// with `message` in `lang`; each reason also carries `message_zh`, `message_en`, the
    /// catalogue's `params` and its own `eligible_from`, and the top level `rules_version`.
    pub fn to_contract_json(&self, lang: Lang) -> Value {
        let date = |d: Option<NaiveDate>| d.map_or(Value::Null, |d| Value::String(d.to_string()));
        let reasons = self
            .reasons
            .iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert("code".into(), Value::String(r.code.as_str().into()));
                m.insert("message".into(), Value::String(r.message(lang)));
                m.insert("message_zh".into(), Value::String(r.message(Lang::ZhCn)));
                m.insert("message_en".into(), Value::String(r.message(Lang::En)));
                m.insert("params".into(), json!(r.message.params));
                m.insert("eligible_from".into(), date(r.eligible_from));
                m.insert("waivable".into(), Value::Bool(r.waivable));
                if let Some(code) = &r.deferral_code {
                    m.insert("deferral_code".into(), Value::String(code.clone()));
                }
                Value::Object(m)
            })
            .collect();
        let mut m = Map::new();
        m.insert("eligible".into(), Value::Bool(self.eligible));
        m.insert("reasons".into(), Value::Array(reasons));
        m.insert("eligible_from".into(), date(self.eligible_from));
        m.insert(
            "excluded_products".into(),
            Value::Array(
                self.excluded_products
                    .iter()
                    .map(|p| Value::String(p.as_str().into()))
                    .collect(),
            ),
        );
        m.insert(
            "rules_version".into(),
            Value::String(self.rules_version.clone()),
        );
        m.insert(
            "review".into(),
            Value::Array(
                self.review
                    .iter()
                    .map(|r| {
                        let text = |t: &crate::questionnaire::Text| match lang {
                            Lang::ZhCn => t.zh.clone(),
                            Lang::En => t.en.clone(),
                        };
                        json!({"question": r.question, "text": text(&r.text), "answer": text(&r.answer)})
                    })
                    .collect(),
            ),
        );
        Value::Object(m)
    }
}

/// Completed years on `on`. A 29 February birthday counts as 1 March in common years.
pub fn age_in_years(birth: NaiveDate, on: NaiveDate) -> i32 {
    let before_birthday = (on.month(), on.day()) < (birth.month(), birth.day());
    on.year() - birth.year() - i32::from(before_birthday)
}

/// Day of the `years`-th birthday (1 March for a 29 February birth in a common year).
pub fn nth_birthday(birth: NaiveDate, years: u32) -> Option<NaiveDate> {
    let year = birth.year().checked_add(i32::try_from(years).ok()?)?;
    NaiveDate::from_ymd_opt(year, birth.month(), birth.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
}

fn procedure_name(p: Procedure) -> Message {
    Message::new(match p {
        Procedure::WholeBlood => "procedure.whole_blood",
        Procedure::ApheresisPlatelets => "procedure.apheresis_platelets",
        Procedure::ApheresisPlasma => "procedure.apheresis_plasma",
    })
}

/// "men" / "women" as the limits name them.
fn sex_group(sex: Sex) -> Message {
    Message::new(match sex {
        Sex::Male => "eligibility.men",
        Sex::Female => "eligibility.women",
    })
}

/// ", eligible from {date}" when time alone fixes it.
fn eligible_from_suffix(from: Option<NaiveDate>) -> Param {
    from.map(|d| Message::new("eligibility.eligible_from_suffix").with("date", d.to_string()))
        .into()
}

/// Collects reasons; every check pushes, none returns early.
struct Reasons(Vec<Reason>);

impl Reasons {
    /// A hard stop: the rules table marks nothing about it waivable.
    fn push(&mut self, code: ReasonCode, message: Message, from: Option<NaiveDate>) {
        self.0.push(Reason {
            code,
            message,
            eligible_from: from,
            waivable: false,
            deferral_code: None,
        });
    }

    /// Marks the reason just pushed.
    fn last_mut(&mut self) -> Option<&mut Reason> {
        self.0.last_mut()
    }
}

/// Checks `req` against `rules` and reports every failing rule; questionnaire answers
/// are read against the built-in questionnaire (see [`evaluate_with`]).
///
/// `rules` is assumed consistent ([`RuleSet::from_json`] validates it). Errors only for
/// input that cannot be real (see [`EligibilityRequest::validate`]) or is incomplete.
pub fn evaluate(rules: &RuleSet, req: &EligibilityRequest) -> Result<Decision, RequestError> {
    evaluate_with(rules, &[crate::questionnaire::built_in()], req)
}

/// [`evaluate`] with the questionnaires the caller knows (the built-in one and those a
/// station sent): the request's answers are read against the one of their version, so a
/// screening recorded under an older version is judged by the questions it answered.
pub fn evaluate_with(
    rules: &RuleSet,
    questionnaires: &[&Questionnaire],
    req: &EligibilityRequest,
) -> Result<Decision, RequestError> {
    req.validate()?;
    let mut reasons = Reasons(Vec::new());
    check_age(rules, req, &mut reasons);
    check_vitals(rules, req, &mut reasons);
    check_tests(rules, req, &mut reasons);
    check_intervals(rules, req, &mut reasons);
    if req.procedure.is_apheresis() {
        check_apheresis_year(rules, req, &mut reasons)?;
    }
    let (restrictions, review) = check_questionnaire(rules, questionnaires, req, &mut reasons)?;
    let excluded_products = if restrictions.is_empty() {
        check_deferrals(rules, req, &mut reasons)
    } else {
        // Product-scoped answers (aspirin) count as deferrals in force: they exclude
        // products, and stop a procedure that yields nothing else.
        let mut with = req.clone();
        with.deferrals.extend(restrictions);
        check_deferrals(rules, &with, &mut reasons)
    };
    let mut decision = Decision::from_reasons(req.date, reasons.0, rules.version.clone());
    decision.excluded_products = excluded_products;
    decision.review = review;
    Ok(decision)
}

/// The product classes a donation of `procedure` can yield. A product-scoped deferral
/// stops the procedure only when it excludes all of them.
pub fn procedure_products(procedure: Procedure) -> &'static [ProductClass] {
    match procedure {
        Procedure::WholeBlood => &[
            ProductClass::RedCellWholeBlood,
            ProductClass::PlateletWholeBlood,
        ],
        Procedure::ApheresisPlatelets => &[ProductClass::ApheresisPlatelets],
        Procedure::ApheresisPlasma => &[ProductClass::ApheresisPlasma],
    }
}

/// The product classes the donor's deferrals in force on `date` exclude, in the order
/// of [`ProductClass::ALL`]; what a donation copies into `Donation::excluded_products`.
pub fn excluded_products(
    rules: &RuleSet,
    deferrals: &[DeferralRecord],
    date: NaiveDate,
) -> Vec<ProductClass> {
    let mut excluded: Vec<ProductClass> = Vec::new();
    for d in deferrals {
        let active = d.until.is_none_or(|until| date < until);
        let Some(kind) = rules.deferrals.deferral(&d.code) else {
            continue;
        };
        if active {
            excluded.extend(kind.scope.products());
        }
    }
    ProductClass::ALL
        .into_iter()
        .filter(|c| excluded.contains(c))
        .collect()
}

#[cfg(test)]
mod tests;
