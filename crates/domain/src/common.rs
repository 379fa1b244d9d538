//! Small vocabulary types shared by rules, entities and the wire formats.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

/// China Standard Time: UTC+8, no daylight saving; the zone every drive works in.
pub const CHINA_STANDARD_TIME: chrono::FixedOffset = match chrono::FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    // Evaluated at compile time: 8 h is a valid offset, so this arm cannot be reached.
    None => panic!("UTC+8 is a valid offset"),
};

/// Day-granular rules (intervals, deferrals, age) use the calendar date in China
/// Standard Time, never the UTC date, or a donation at 07:00 in Kunming would count as
/// the previous day.
pub fn china_date(instant: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    china_local(instant).date()
}

/// Wall-clock time in China Standard Time, as printed and as crews read it.
pub fn china_local(instant: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    instant.with_timezone(&CHINA_STANDARD_TIME).naive_local()
}
