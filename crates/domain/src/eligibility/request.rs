//! The request: the donor, the day's measurements and the donor's history, checked whole
//! before anything is decided ([`RequestError`] names the field).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::common::{Procedure, Sex};
use crate::measurements::{Tests, Vitals};

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
    /// The health questionnaire's answers, `{"version", "answers": {question id: answer}}`:
    /// the deferrals they call for are reasons like any other, the answers the physician
    /// must review are listed in [`super::Decision::review`]. Absent: not evaluated here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questionnaire: Option<crate::questionnaire::QuestionnaireAnswers>,
}

/// The request cannot describe a real donor; `field` is the JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {field}: {problem}")]
pub struct RequestError {
    pub field: String,
    pub problem: String,
}

impl RequestError {
    pub(super) fn new(field: impl Into<String>, problem: impl Into<String>) -> RequestError {
        RequestError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Earliest date accepted anywhere in a request.
pub(super) fn earliest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Latest date accepted anywhere in a request, far enough below chrono's limit that
/// adding intervals can never overflow.
pub(super) fn latest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

pub(super) fn in_range(
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
