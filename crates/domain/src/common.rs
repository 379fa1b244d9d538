//! Small vocabulary types shared by rules, entities and the wire formats.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// What is collected at one sitting. Intervals between donations depend on the pair
/// (previous procedure, next procedure), so this is part of every history entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Procedure {
    WholeBlood,
    ApheresisPlatelets,
    ApheresisPlasma,
}

impl Procedure {
    pub fn as_str(self) -> &'static str {
        match self {
            Procedure::WholeBlood => "whole_blood",
            Procedure::ApheresisPlatelets => "apheresis_platelets",
            Procedure::ApheresisPlasma => "apheresis_plasma",
        }
    }

    pub fn is_apheresis(self) -> bool {
        !matches!(self, Procedure::WholeBlood)
    }
}

/// Every drive works in China Standard Time (UTC+8, no daylight saving). Day-granular
/// rules (intervals, deferrals, age) use the calendar date there, never the UTC date,
/// or a donation at 07:00 in Kunming would count as the previous day.
pub fn china_date(instant: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    const UTC_PLUS_8_SECONDS: i32 = 8 * 3600;
    match chrono::FixedOffset::east_opt(UTC_PLUS_8_SECONDS) {
        Some(offset) => instant.with_timezone(&offset).date_naive(),
        None => instant.date_naive(),
    }
}
