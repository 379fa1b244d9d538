//! The stable codes of failing rules: what eligibility reports, what the rules table's
//! deferral kinds answer, and what tools match on.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Stable identifiers of failing rules. The wire form is the UPPER_SNAKE name; never
/// rename a variant's wire form, tools match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReasonCode {
    AgeBelowMin,
    AgeAboveMax,
    WeightBelowMin,
    SystolicLow,
    SystolicHigh,
    DiastolicLow,
    DiastolicHigh,
    PulsePressureLow,
    PulseLow,
    PulseHigh,
    TemperatureLow,
    TemperatureHigh,
    HemoglobinLow,
    AltHigh,
    HbsagPositive,
    VolumeNotAllowed,
    HematocritLow,
    PlateletCountLow,
    PlateletCountHigh,
    /// One reason per previous procedure kind whose interval is not over (most
    /// restrictive donation of that kind).
    IntervalNotMet,
    ApheresisYearlyCount,
    ApheresisYearlyVolume,
    /// One reason per active deferral record.
    DeferralActive,
    /// One reason per permanent deferral record.
    DeferralPermanent,
    /// One reason per deferral the questionnaire's answers call for that is in force
    /// (answered by the deferral's own code, like a deferral on record).
    QuestionnaireDeferral,
    /// Questions that apply to the donor are not answered yet.
    QuestionnaireIncomplete,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 26] = [
        ReasonCode::AgeBelowMin,
        ReasonCode::AgeAboveMax,
        ReasonCode::WeightBelowMin,
        ReasonCode::SystolicLow,
        ReasonCode::SystolicHigh,
        ReasonCode::DiastolicLow,
        ReasonCode::DiastolicHigh,
        ReasonCode::PulsePressureLow,
        ReasonCode::PulseLow,
        ReasonCode::PulseHigh,
        ReasonCode::TemperatureLow,
        ReasonCode::TemperatureHigh,
        ReasonCode::HemoglobinLow,
        ReasonCode::AltHigh,
        ReasonCode::HbsagPositive,
        ReasonCode::VolumeNotAllowed,
        ReasonCode::HematocritLow,
        ReasonCode::PlateletCountLow,
        ReasonCode::PlateletCountHigh,
        ReasonCode::IntervalNotMet,
        ReasonCode::ApheresisYearlyCount,
        ReasonCode::ApheresisYearlyVolume,
        ReasonCode::DeferralActive,
        ReasonCode::DeferralPermanent,
        ReasonCode::QuestionnaireDeferral,
        ReasonCode::QuestionnaireIncomplete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::AgeBelowMin => "AGE_BELOW_MIN",
            ReasonCode::AgeAboveMax => "AGE_ABOVE_MAX",
            ReasonCode::WeightBelowMin => "WEIGHT_BELOW_MIN",
            ReasonCode::SystolicLow => "SYSTOLIC_LOW",
            ReasonCode::SystolicHigh => "SYSTOLIC_HIGH",
            ReasonCode::DiastolicLow => "DIASTOLIC_LOW",
            ReasonCode::DiastolicHigh => "DIASTOLIC_HIGH",
            ReasonCode::PulsePressureLow => "PULSE_PRESSURE_LOW",
            ReasonCode::PulseLow => "PULSE_LOW",
            ReasonCode::PulseHigh => "PULSE_HIGH",
            ReasonCode::TemperatureLow => "TEMPERATURE_LOW",
            ReasonCode::TemperatureHigh => "TEMPERATURE_HIGH",
            ReasonCode::HemoglobinLow => "HEMOGLOBIN_LOW",
            ReasonCode::AltHigh => "ALT_HIGH",
            ReasonCode::HbsagPositive => "HBSAG_POSITIVE",
            ReasonCode::VolumeNotAllowed => "VOLUME_NOT_ALLOWED",
            ReasonCode::HematocritLow => "HEMATOCRIT_LOW",
            ReasonCode::PlateletCountLow => "PLATELET_COUNT_LOW",
            ReasonCode::PlateletCountHigh => "PLATELET_COUNT_HIGH",
            ReasonCode::IntervalNotMet => "INTERVAL_NOT_MET",
            ReasonCode::ApheresisYearlyCount => "APHERESIS_YEARLY_COUNT",
            ReasonCode::ApheresisYearlyVolume => "APHERESIS_YEARLY_VOLUME",
            ReasonCode::DeferralActive => "DEFERRAL_ACTIVE",
            ReasonCode::DeferralPermanent => "DEFERRAL_PERMANENT",
            ReasonCode::QuestionnaireDeferral => "QUESTIONNAIRE_DEFERRAL",
            ReasonCode::QuestionnaireIncomplete => "QUESTIONNAIRE_INCOMPLETE",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
