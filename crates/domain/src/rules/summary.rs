//! The rules table as `lifebridge rules show` prints it.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

use crate::common::Procedure;
use crate::messages::Message;

use super::*;

/// One deferral code as `lifebridge rules show` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeferralSummary {
    pub code: String,
    /// `temporary` or `permanent`: told apart everywhere.
    pub kind: &'static str,
    pub period: DeferralPeriod,
    /// `period` in words, for the reader's language (`deferral_period.*`).
    pub period_text: Message,
    /// `"all"` or the product classes it rules out.
    pub scope: DeferralScope,
    pub waivable: bool,
    pub zh: String,
    pub en: String,
    /// The failing eligibility rules it answers.
    pub reasons: Vec<crate::reason::ReasonCode>,
}

/// A waivable interval as `lifebridge rules show` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaivableInterval {
    pub from_procedure: Procedure,
    pub to_procedure: Procedure,
    pub period: Period,
    pub waivable_to: Period,
}

/// The active rules table as `lifebridge rules show --json` prints it: identity, every
/// deferral code with its period, scope and whether it is waivable, and the intervals a
/// physician may shorten.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulesSummary {
    pub version: String,
    pub standard: String,
    pub region: String,
    pub effective_from: Option<NaiveDate>,
    pub deferrals: Vec<DeferralSummary>,
    pub waivable_intervals: Vec<WaivableInterval>,
}

impl RuleSet {
    pub fn summary(&self) -> RulesSummary {
        RulesSummary {
            version: self.version.clone(),
            standard: self.standard.clone(),
            region: self.region.clone(),
            effective_from: self.effective_from,
            deferrals: self
                .deferrals
                .iter()
                .map(|k| DeferralSummary {
                    code: k.code.clone(),
                    kind: if k.is_permanent() {
                        "permanent"
                    } else {
                        "temporary"
                    },
                    period: k.period,
                    period_text: k.period.message(),
                    scope: k.scope.clone(),
                    waivable: k.waivable,
                    zh: k.zh.clone(),
                    en: k.en.clone(),
                    reasons: k.reasons.clone(),
                })
                .collect(),
            waivable_intervals: self
                .intervals
                .iter()
                .filter_map(|r| {
                    r.waivable_to.map(|w| WaivableInterval {
                        from_procedure: r.from_procedure,
                        to_procedure: r.to_procedure,
                        period: r.period,
                        waivable_to: w,
                    })
                })
                .collect(),
        }
    }
}

impl fmt::Display for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.version, self.standard)
    }
}
