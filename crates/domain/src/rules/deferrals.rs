//! The deferral catalogue: kinds, their periods and scopes (whole donor or some products).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::messages::Message;
use crate::product::ProductClass;

use super::*;

/// How long a deferral lasts, counted from its start (the day of the procedure, the end
/// of the illness, the last vaccination…, as the entry's text says).
///
/// JSON: `{"days": 14}`, `{"months": 6}`, `"permanent"`, `"station_set"` (the station
/// records an explicit end date for each donor, e.g. after a transfusion) or
/// `"until_eligible"` (until the day the rules themselves name: an interval, an age, a
/// yearly limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DeferralPeriod {
    Days(u32),
    Months(u32),
    Permanent,
    StationSet,
    UntilEligible,
}

impl DeferralPeriod {
    /// The period in words (`deferral_period.*`): "deferred 14 days", "永久不能献血".
    pub fn message(self) -> Message {
        let deferred =
            |period: Period| Message::new("deferral_period.for").with("period", period.message());
        match self {
            DeferralPeriod::Days(n) => deferred(Period::Days(n)),
            DeferralPeriod::Months(n) => deferred(Period::Months(n)),
            DeferralPeriod::Permanent => Message::new("deferral_period.permanent"),
            DeferralPeriod::StationSet => Message::new("deferral_period.station_set"),
            DeferralPeriod::UntilEligible => Message::new("deferral_period.until_eligible"),
        }
    }
}

/// What a deferral rules out: every donation (the default), or only the listed product
/// classes (antiplatelet drugs within 5 days rule out platelets, not whole blood).
///
/// JSON: `"all"` or `{"products": ["platelet_whole_blood", "apheresis_platelets"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DeferralScope {
    #[default]
    All,
    Products(Vec<ProductClass>),
}

impl DeferralScope {
    pub fn is_all(&self) -> bool {
        *self == DeferralScope::All
    }

    /// The product classes excluded; empty for [`DeferralScope::All`] (which excludes
    /// the donation itself).
    pub fn products(&self) -> &[ProductClass] {
        match self {
            DeferralScope::All => &[],
            DeferralScope::Products(p) => p,
        }
    }
}

/// One entry of the deferral catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeferralKind {
    /// Stable UPPER_SNAKE code stored on deferral records.
    pub code: String,
    pub zh: String,
    pub en: String,
    pub period: DeferralPeriod,
    /// Which donations or products it rules out; absent means every donation.
    #[serde(default, skip_serializing_if = "DeferralScope::is_all")]
    pub scope: DeferralScope,
    /// Whether a physician may waive it (reason and PIN, audited). Absent means no: a
    /// hard stop. A permanent deferral can never be waivable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub waivable: bool,
    /// The failing eligibility rules this deferral answers: the physician is offered it
    /// (pre-selected) when one of them fails, and a deferral for them must be at least
    /// as long as the one named here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<crate::reason::ReasonCode>,
}

impl DeferralKind {
    /// Day the donor may donate again when the deferral started on `start`: deferred
    /// while `date < until`, eligible on `until` itself.
    ///
    /// `None` when no date follows from the catalogue: permanent deferrals, and
    /// station-set ones, whose end date the screener must record explicitly (check
    /// [`DeferralKind::period`] to tell the two apart).
    pub fn until(&self, start: NaiveDate) -> Option<NaiveDate> {
        match self.period {
            DeferralPeriod::Days(n) => Period::Days(n).after(start),
            DeferralPeriod::Months(n) => Period::Months(n).after(start),
            DeferralPeriod::Permanent
            | DeferralPeriod::StationSet
            | DeferralPeriod::UntilEligible => None,
        }
    }

    pub fn is_permanent(&self) -> bool {
        self.period == DeferralPeriod::Permanent
    }

    /// The end date is not in the catalogue: the physician (station-set) or the rules
    /// (until eligible) give it for each donor.
    pub fn needs_end_date(&self) -> bool {
        matches!(
            self.period,
            DeferralPeriod::StationSet | DeferralPeriod::UntilEligible
        )
    }
}

/// The station's list of deferral reasons, looked up by code.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeferralCatalogue(Vec<DeferralKind>);

impl DeferralCatalogue {
    pub fn new(kinds: Vec<DeferralKind>) -> DeferralCatalogue {
        DeferralCatalogue(kinds)
    }

    /// Codes are matched ignoring case and surrounding blanks, as they may be typed.
    pub fn deferral(&self, code: &str) -> Option<&DeferralKind> {
        let code = code.trim();
        self.0.iter().find(|k| k.code.eq_ignore_ascii_case(code))
    }

    pub fn iter(&self) -> impl Iterator<Item = &DeferralKind> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
