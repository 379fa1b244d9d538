//! Versioned donor-selection rules: every threshold, interval and deferral period the
//! eligibility check uses, as data.
//!
//! A station adopts a revised standard (or its own stricter ALT limit, or a transfusion
//! deferral period) by loading another rules file, without a new build. The default,
//! GB 18467-2011, is embedded from `rules/gb18467-2011.json`.
//!
//! Unknown fields are rejected on purpose: an older build reading a newer rules file must
//! refuse it rather than silently ignore a rule it does not know how to apply.

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::common::{Procedure, Sex};
use crate::messages::Message;

mod cold_chain;
mod deferrals;
mod summary;
mod validate;

pub use cold_chain::*;
pub use deferrals::*;
pub use summary::*;

/// The embedded GB 18467-2011 rules file.
pub const GB18467_2011_JSON: &str = include_str!("../../rules/gb18467-2011.json");

const ALL_PROCEDURES: [Procedure; 3] = [
    Procedure::WholeBlood,
    Procedure::ApheresisPlatelets,
    Procedure::ApheresisPlasma,
];

/// Why a rules file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("rules file does not match the rule set format: {0}")]
    Json(String),
    #[error("rules field {field}: {problem}")]
    Invalid { field: String, problem: String },
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> RulesError {
    RulesError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// A value that differs between men and women.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BySex<T> {
    pub male: T,
    pub female: T,
}

impl<T: Copy> BySex<T> {
    pub fn get(&self, sex: Sex) -> T {
        match sex {
            Sex::Male => self.male,
            Sex::Female => self.female,
        }
    }
}

/// Ages in completed years; both maxima are inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeRules {
    pub min_years: u32,
    pub max_years_first_time: u32,
    /// Applies to repeat donors (at least one previous donation) with no previous adverse
    /// reaction; everyone else has `max_years_first_time`.
    pub max_years_repeat: u32,
}

/// `*_min_*` bounds are inclusive, `*_below_*` bounds exclusive (GB 18467: 90 ≤ systolic
/// < 140, 60 ≤ diastolic < 90, pulse pressure ≥ 30).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BloodPressureRules {
    pub systolic_min_mmhg: f64,
    pub systolic_below_mmhg: f64,
    pub diastolic_min_mmhg: f64,
    pub diastolic_below_mmhg: f64,
    pub pulse_pressure_min_mmhg: f64,
}

/// Inclusive range; endurance athletes have a lower minimum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PulseRules {
    pub min_bpm: f64,
    pub max_bpm: f64,
    pub athlete_min_bpm: f64,
}

/// Inclusive range, axillary °C.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemperatureRules {
    pub min_c: f64,
    pub max_c: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApheresisRules {
    /// Inclusive minimum, as a fraction (0.36, not 36 %).
    pub hematocrit_min: f64,
    /// Inclusive minimum, ×10^9/L.
    pub platelet_count_min_10e9_l: f64,
    /// Exclusive maximum, ×10^9/L.
    pub platelet_count_below_10e9_l: f64,
    /// Apheresis donations allowed in any rolling 12 months, this one included.
    pub max_donations_per_12_months: u32,
    /// Apheresis volume (platelets + plasma) allowed in any rolling 12 months, this one
    /// included.
    pub max_volume_ml_per_12_months: f64,
}

/// Apheresis plasma donors: the station's own rules (GB 18467-2011 does not cover
/// plasmapheresis). Platelet counts are not checked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlasmaRules {
    /// Inclusive minimum, as a fraction.
    pub hematocrit_min: f64,
    /// Apheresis donations of any kind allowed in any rolling 12 months, this one included.
    pub max_donations_per_12_months: u32,
    /// Apheresis volume allowed in any rolling 12 months, this one included.
    pub max_volume_ml_per_12_months: f64,
}

impl Default for PlasmaRules {
    /// The apheresis-platelet figures, which is how tables before this section treated
    /// plasma donors.
    fn default() -> PlasmaRules {
        PlasmaRules {
            hematocrit_min: 0.36,
            max_donations_per_12_months: 24,
            max_volume_ml_per_12_months: 10_000.0,
        }
    }
}

fn national_region() -> String {
    "CN".to_owned()
}

/// A length of time on the calendar. Months are calendar months (a donation on 31 August
/// plus 6 months is 28/29 February).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Days(u32),
    Months(u32),
}

impl Period {
    /// `start` plus this period; `None` only past the calendar's end.
    pub fn after(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Period::Days(n) => start.checked_add_days(Days::new(u64::from(n))),
            Period::Months(n) => start.checked_add_months(Months::new(n)),
        }
    }

    /// The period in words (`period.*`): "14 days", "6个月".
    pub fn message(self) -> Message {
        match self {
            Period::Days(1) => Message::new("period.one_day"),
            Period::Days(n) => Message::new("period.days").with("n", n.to_string()),
            Period::Months(1) => Message::new("period.one_month"),
            Period::Months(n) => Message::new("period.months").with("n", n.to_string()),
        }
    }
}

/// Minimum time from a donation of `from_procedure` to the next donation of
/// `to_procedure`. The donor is eligible again ON the previous date plus `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntervalRule {
    pub from_procedure: Procedure,
    pub to_procedure: Procedure,
    pub period: Period,
    /// The shortest interval a physician may approve instead of `period`, with a reason
    /// and their PIN (GB 18467-2011: apheresis platelets after 1 week instead of 2 for
    /// special matching). Absent: the interval is a hard stop, as every other one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waivable_to: Option<Period>,
}

/// Every threshold the eligibility check applies, with the version that produced a
/// decision (recorded with it so a decision can be explained later).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// e.g. `GB18467-2011/1`: standard plus the revision of this table.
    pub version: String,
    pub standard: String,
    /// Where this table applies: `CN` for the national standard, or a province's code
    /// (GB/T 2260, e.g. `CN-ZJ`) for a provincial variant. Tables written before this
    /// field existed are national.
    #[serde(default = "national_region")]
    pub region: String,
    /// First day (China Standard Time) the table is in force; absent for tables written
    /// before this field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<NaiveDate>,
    /// Free text for whoever maintains the file (sources, local decisions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub age: AgeRules,
    pub weight_min_kg: BySex<f64>,
    pub blood_pressure: BloodPressureRules,
    pub pulse: PulseRules,
    pub temperature: TemperatureRules,
    /// Inclusive minimum, g/L.
    pub hemoglobin_min_g_l: BySex<f64>,
    /// Inclusive maximum, U/L (the station's own limit).
    pub alt_max_u_l: f64,
    pub whole_blood_volumes_ml: Vec<u32>,
    pub apheresis: ApheresisRules,
    /// Apheresis plasma: GB 18467-2011 does not cover it, so these are the station's own
    /// figures (no platelet-count limits). Defaulted for tables written before it existed.
    #[serde(default)]
    pub apheresis_plasma: PlasmaRules,
    /// Must cover every (from, to) pair of procedures exactly once.
    pub intervals: Vec<IntervalRule>,
    pub deferrals: DeferralCatalogue,
    /// Collection-time figures (domain.md section 4). Defaulted so rules tables written
    /// before this section existed still load.
    #[serde(default)]
    pub collection: CollectionRules,
    /// Transport temperature bands and time limits (domain.md section 5). Defaulted so
    /// rules tables written before this section existed still load.
    #[serde(default)]
    pub cold_chain: ColdChainRules,
}

#[cfg(test)]
mod tests;
