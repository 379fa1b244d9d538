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

use std::fmt;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::common::{Procedure, Sex};
pub use crate::measurements::{TestResult, Tests, Vitals};
use crate::messages::{Localized, Message, Param};
use crate::product::ProductClass;
pub use crate::reason::ReasonCode;
use crate::rules::{DeferralPeriod, DeferralScope, RuleSet};

/// Length of the rolling window for the apheresis count and volume limits.
const ROLLING_WINDOW: Months = Months::new(12);

/// Language of the contract's `message` field (the catalogue's).
pub use crate::messages::{Lang, UnknownLang};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Donor {
    pub sex: Sex,
    pub birth_date: NaiveDate,
    /// Adverse reaction at a previous donation; absent means none recorded.
    #[serde(default)]
    pub prior_reaction: bool,
}

/// A previous donation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub date: NaiveDate,
    pub procedure: Procedure,
    /// Needed for apheresis donations inside the rolling 12 months of an apheresis
    /// request (yearly volume limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_ml: Option<f64>,
}

/// A recorded deferral; `until: null` (or absent) is permanent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeferralRecord {
    pub code: String,
    #[serde(default)]
    pub until: Option<NaiveDate>,
}

/// Input of `lifebridge eligibility`. Unknown fields are tolerated so callers can send
/// richer records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EligibilityRequest {
    /// The day of the intended donation ("today").
    pub date: NaiveDate,
    pub donor: Donor,
    pub procedure: Procedure,
    /// Planned volume; required for whole blood, counted towards the yearly apheresis
    /// volume when given for apheresis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_ml: Option<f64>,
    pub vitals: Vitals,
    pub tests: Tests,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    #[serde(default)]
    pub deferrals: Vec<DeferralRecord>,
    /// Endurance athlete: lower pulse minimum.
    #[serde(default)]
    pub athlete: bool,
}

/// The request cannot describe a real donor; `field` is the JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {field}: {problem}")]
pub struct RequestError {
    pub field: String,
    pub problem: String,
}

impl RequestError {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> RequestError {
        RequestError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Earliest date accepted anywhere in a request.
fn earliest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Latest date accepted anywhere in a request, far enough below chrono's limit that
/// adding intervals can never overflow.
fn latest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

fn in_range(
    field: &str,
    value: f64,
    min: f64,
    max: f64,
    hint: Option<&str>,
) -> Result<(), RequestError> {
    if value.is_finite() && (min..=max).contains(&value) {
        return Ok(());
    }
    let hint = hint.map(|h| format!("; {h}")).unwrap_or_default();
    Err(RequestError::new(
        field,
        format!("must be a number between {min} and {max} (got {value}){hint}"),
    ))
}

impl EligibilityRequest {
    /// Rejects input that cannot be a real measurement or is incomplete for the
    /// procedure. Values that are real but outside donation limits are not errors: they
    /// become reasons in the decision.
    pub fn validate(&self) -> Result<(), RequestError> {
        let (earliest, latest) = (earliest_date(), latest_date());
        if !(earliest..=latest).contains(&self.date) {
            return Err(RequestError::new(
                "date",
                format!(
                    "must be between {earliest} and {latest} (got {})",
                    self.date
                ),
            ));
        }
        let birth = self.donor.birth_date;
        if birth > self.date {
            return Err(RequestError::new(
                "donor.birth_date",
                format!("must not be after date {} (got {birth})", self.date),
            ));
        }
        if birth < earliest {
            return Err(RequestError::new(
                "donor.birth_date",
                format!("must not be before {earliest} (got {birth})"),
            ));
        }

        let v = &self.vitals;
        in_range("vitals.weight_kg", v.weight_kg, 1.0, 400.0, None)?;
        in_range("vitals.systolic_mmhg", v.systolic_mmhg, 30.0, 300.0, None)?;
        in_range("vitals.diastolic_mmhg", v.diastolic_mmhg, 10.0, 250.0, None)?;
        if v.diastolic_mmhg >= v.systolic_mmhg {
            return Err(RequestError::new(
                "vitals.diastolic_mmhg",
                format!(
                    "must be below vitals.systolic_mmhg (got {}/{}); were the two swapped?",
                    v.systolic_mmhg, v.diastolic_mmhg
                ),
            ));
        }
        in_range("vitals.pulse_bpm", v.pulse_bpm, 20.0, 300.0, None)?;
        in_range(
            "vitals.temperature_c",
            v.temperature_c,
            25.0,
            45.0,
            Some("degrees Celsius"),
        )?;

        let t = &self.tests;
        in_range(
            "tests.hemoglobin_g_l",
            t.hemoglobin_g_l,
            20.0,
            250.0,
            Some("in g/L; a value like 12.5 is g/dL, multiply by 10"),
        )?;
        if let Some(alt) = t.alt_u_l {
            in_range("tests.alt_u_l", alt, 0.0, 10_000.0, None)?;
        }
        if let Some(hct) = t.hematocrit {
            in_range(
                "tests.hematocrit",
                hct,
                0.01,
                0.99,
                Some("a fraction, e.g. 0.42 for 42 %"),
            )?;
        }
        if let Some(plt) = t.platelet_count_10e9_l {
            in_range("tests.platelet_count_10e9_l", plt, 1.0, 5_000.0, None)?;
        }

        match self.procedure {
            Procedure::WholeBlood => {
                if self.volume_ml.is_none() {
                    return Err(RequestError::new(
                        "volume_ml",
                        "required for whole_blood (planned volume in mL)",
                    ));
                }
            }
            Procedure::ApheresisPlatelets | Procedure::ApheresisPlasma => {
                let name = self.procedure.as_str();
                if t.hematocrit.is_none() {
                    return Err(RequestError::new(
                        "tests.hematocrit",
                        format!("required for {name}"),
                    ));
                }
                if self.procedure == Procedure::ApheresisPlatelets
                    && t.platelet_count_10e9_l.is_none()
                {
                    return Err(RequestError::new(
                        "tests.platelet_count_10e9_l",
                        format!("required for {name}"),
                    ));
                }
            }
        }
        if let Some(volume) = self.volume_ml {
            in_range("volume_ml", volume, 1.0, 2_000.0, None)?;
        }

        for (i, h) in self.history.iter().enumerate() {
            if h.date > self.date {
                return Err(RequestError::new(
                    format!("history[{i}].date"),
                    format!("must not be after date {} (got {})", self.date, h.date),
                ));
            }
            if h.date < birth {
                return Err(RequestError::new(
                    format!("history[{i}].date"),
                    format!(
                        "must not be before donor.birth_date {birth} (got {})",
                        h.date
                    ),
                ));
            }
            if let Some(volume) = h.volume_ml {
                in_range(
                    &format!("history[{i}].volume_ml"),
                    volume,
                    1.0,
                    2_000.0,
                    None,
                )?;
            }
        }
        for (i, d) in self.deferrals.iter().enumerate() {
            if d.code.trim().is_empty() {
                return Err(RequestError::new(
                    format!("deferrals[{i}].code"),
                    "must not be empty",
                ));
            }
            if let Some(until) = d.until
                && until > latest
            {
                return Err(RequestError::new(
                    format!("deferrals[{i}].until"),
                    format!("must not be after {latest} (got {until}); use null for permanent"),
                ));
            }
        }
        Ok(())
    }

    /// At least one previous donation.
    pub fn is_repeat_donor(&self) -> bool {
        !self.history.is_empty()
    }
}

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

/// Checks `req` against `rules` and reports every failing rule.
///
/// `rules` is assumed consistent ([`RuleSet::from_json`] validates it). Errors only for
/// input that cannot be real (see [`EligibilityRequest::validate`]) or is incomplete.
pub fn evaluate(rules: &RuleSet, req: &EligibilityRequest) -> Result<Decision, RequestError> {
    req.validate()?;
    let mut reasons = Reasons(Vec::new());
    check_age(rules, req, &mut reasons);
    check_vitals(rules, req, &mut reasons);
    check_tests(rules, req, &mut reasons);
    check_intervals(rules, req, &mut reasons);
    if req.procedure.is_apheresis() {
        check_apheresis_year(rules, req, &mut reasons)?;
    }
    let excluded_products = check_deferrals(rules, req, &mut reasons);
    let mut decision = Decision::from_reasons(req.date, reasons.0, rules.version.clone());
    decision.excluded_products = excluded_products;
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

fn check_age(rules: &RuleSet, req: &EligibilityRequest, out: &mut Reasons) {
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

fn check_vitals(rules: &RuleSet, req: &EligibilityRequest, out: &mut Reasons) {
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

fn check_tests(rules: &RuleSet, req: &EligibilityRequest, out: &mut Reasons) {
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

fn check_intervals(rules: &RuleSet, req: &EligibilityRequest, out: &mut Reasons) {
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
                    .with(
                        "period",
                        Localized {
                            zh: period.describe_zh(),
                            en: period.describe_en(),
                        },
                    )
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
fn apheresis_in_window(req: &EligibilityRequest) -> Vec<(usize, &HistoryEntry, NaiveDate)> {
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

fn check_apheresis_year(
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
fn check_deferrals(
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
        DeferralPeriod::Days(_) | DeferralPeriod::Months(_) => {
            kind.until(date).map(DeferralEnd::Until)
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn age_counts_completed_years() {
        let b = day(2000, 5, 10);
        assert_eq!(age_in_years(b, day(2018, 5, 9)), 17);
        assert_eq!(age_in_years(b, day(2018, 5, 10)), 18);
        let leap = day(2008, 2, 29);
        assert_eq!(age_in_years(leap, day(2026, 2, 28)), 17);
        assert_eq!(age_in_years(leap, day(2026, 3, 1)), 18);
        assert_eq!(age_in_years(leap, day(2028, 2, 29)), 20);
        assert_eq!(nth_birthday(leap, 18), Some(day(2026, 3, 1)));
        assert_eq!(nth_birthday(leap, 20), Some(day(2028, 2, 29)));
        assert_eq!(nth_birthday(b, 18), Some(day(2018, 5, 10)));
    }

    #[test]
    fn reason_codes_serialise_as_their_stable_names() {
        for code in ReasonCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, Value::String(code.as_str().to_owned()));
            let back: ReasonCode = serde_json::from_value(json).unwrap();
            assert_eq!(back, code);
        }
    }

    #[test]
    fn lang_parsing() {
        assert_eq!("zh-CN".parse::<Lang>().unwrap(), Lang::ZhCn);
        assert_eq!("zh_cn".parse::<Lang>().unwrap(), Lang::ZhCn);
        assert_eq!("EN".parse::<Lang>().unwrap(), Lang::En);
        assert!("fr".parse::<Lang>().is_err());
        assert_eq!(Lang::default(), Lang::ZhCn);
    }

    #[test]
    fn request_error_display() {
        let e = RequestError::new(
            "vitals.weight_kg",
            "must be a number between 1 and 400 (got -3)",
        );
        assert_eq!(
            e.to_string(),
            "field vitals.weight_kg: must be a number between 1 and 400 (got -3)"
        );
    }
}
