//! What the screener measures: vitals, the rapid tests and their results, as recorded
//! on a screening and as eligibility reads them.

use serde::{Deserialize, Serialize};

/// Result of a rapid qualitative test. `NotDone` is what the screener records when the
/// test was not done on the bus (the station's laboratory tests every donation anyway):
/// a real answer, never a default, and never counted as negative on a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TestResult {
    Negative,
    Positive,
    NotDone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Vitals {
    pub weight_kg: f64,
    pub systolic_mmhg: f64,
    pub diastolic_mmhg: f64,
    pub pulse_bpm: f64,
    pub temperature_c: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tests {
    pub hemoglobin_g_l: f64,
    /// Not tested when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_u_l: Option<f64>,
    /// Not tested when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hbsag: Option<TestResult>,
    /// Fraction (0.42, not 42 %); required for apheresis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hematocrit: Option<f64>,
    /// ×10^9/L; required for apheresis platelets (not checked for plasma donors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platelet_count_10e9_l: Option<f64>,
}
