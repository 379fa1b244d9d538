//! Versioned donor-selection rules: every threshold, interval and deferral period the
//! eligibility check uses, as data.
//!
//! A station adopts a revised standard (or its own stricter ALT limit, or a transfusion
//! deferral period) by loading another rules file, without a new build. The default,
//! GB 18467-2011, is embedded from `rules/gb18467-2011.json`.
//!
//! Unknown fields are rejected on purpose: an older build reading a newer rules file must
//! refuse it rather than silently ignore a rule it does not know how to apply.

use std::collections::HashSet;
use std::fmt;

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::common::{Procedure, Sex};
use crate::product::{ProductClass, TemperatureRange};

/// The embedded GB 18467-2011 rules file.
pub const GB18467_2011_JSON: &str = include_str!("../rules/gb18467-2011.json");

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

    pub fn describe_en(self) -> String {
        match self {
            Period::Days(1) => "1 day".to_owned(),
            Period::Days(n) => format!("{n} days"),
            Period::Months(1) => "1 month".to_owned(),
            Period::Months(n) => format!("{n} months"),
        }
    }

    pub fn describe_zh(self) -> String {
        match self {
            Period::Days(n) => format!("{n}天"),
            Period::Months(n) => format!("{n}个月"),
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
    pub fn describe_zh(self) -> String {
        match self {
            DeferralPeriod::Days(n) => format!("暂缓{}", Period::Days(n).describe_zh()),
            DeferralPeriod::Months(n) => format!("暂缓{}", Period::Months(n).describe_zh()),
            DeferralPeriod::Permanent => "永久不能献血".to_owned(),
            DeferralPeriod::StationSet => "暂缓，期限由血站确定".to_owned(),
            DeferralPeriod::UntilEligible => "暂缓至规则计算的可献血日期".to_owned(),
        }
    }

    pub fn describe_en(self) -> String {
        match self {
            DeferralPeriod::Days(n) => format!("deferred {}", Period::Days(n).describe_en()),
            DeferralPeriod::Months(n) => {
                format!("deferred {}", Period::Months(n).describe_en())
            }
            DeferralPeriod::Permanent => "permanent exclusion".to_owned(),
            DeferralPeriod::StationSet => "deferred, period set by the station".to_owned(),
            DeferralPeriod::UntilEligible => "deferred until the date the rules compute".to_owned(),
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

/// The band a transport box of each product class must stay in, how long a bag of that
/// class may take from the end of collection to processing at the station, and what a
/// unit becomes when it misses that limit.
///
/// A table written before a product class existed (apheresis plasma was added later)
/// gains that class's entry from the embedded table when it is read, so a station's
/// published table keeps loading and keeps its own values for the classes it lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ColdChainRulesWire")]
pub struct ColdChainRules {
    /// Where the figures come from (sources, the station's own decisions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// One entry per product class, each class exactly once.
    pub classes: Vec<ColdChainClassRule>,
}

/// `cold_chain` as rules tables write it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColdChainRulesWire {
    #[serde(default)]
    notes: Vec<String>,
    classes: Vec<ColdChainClassRule>,
}

/// The embedded table's `cold_chain` section as written (no classes filled in).
fn embedded_cold_chain() -> Option<ColdChainRulesWire> {
    let v: serde_json::Value = serde_json::from_str(GB18467_2011_JSON).ok()?;
    serde_json::from_value(v.get("cold_chain")?.clone()).ok()
}

impl From<ColdChainRulesWire> for ColdChainRules {
    fn from(w: ColdChainRulesWire) -> ColdChainRules {
        let mut classes = w.classes;
        let missing: Vec<ProductClass> = ProductClass::ALL
            .into_iter()
            .filter(|class| !classes.iter().any(|c| c.class == *class))
            .collect();
        if !missing.is_empty()
            && let Some(embedded) = embedded_cold_chain()
        {
            classes.extend(
                embedded
                    .classes
                    .into_iter()
                    .filter(|c| missing.contains(&c.class)),
            );
        }
        ColdChainRules {
            notes: w.notes,
            classes,
        }
    }
}

/// What a finding does to a unit: it may still be used for less (downgrade), or it may
/// not be used until someone decides (quarantine). Quarantine is the worse of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum UnitAction {
    Downgrade,
    Quarantine,
}

/// What a unit of a class becomes when it reaches processing after its limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverLimitRule {
    pub action: UnitAction,
    /// What the unit may still become, or why it is held (shown on the manifest and at
    /// the desk).
    pub zh: String,
    pub en: String,
}

impl Default for OverLimitRule {
    fn default() -> OverLimitRule {
        OverLimitRule {
            action: UnitAction::Quarantine,
            zh: "超过处理时限，隔离待评估".into(),
            en: "over its processing limit: quarantined for review".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColdChainClassRule {
    pub class: ProductClass,
    pub range: TemperatureRange,
    /// Hours from the end of collection to processing at the station.
    pub processing_limit_hours: u32,
    /// What a unit that misses `processing_limit_hours` becomes (quarantine when the
    /// table does not say).
    #[serde(default)]
    pub over_limit: OverLimitRule,
    /// Hours from the end of collection within which plasma from this unit must be
    /// separated and frozen to be fresh frozen plasma (GB 18469-2012: 6 h with ACD, 8 h
    /// with CPD or CPDA-1); past it the plasma is frozen plasma, not FFP (a downgrade).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ffp_separation_hours: Option<u32>,
}

impl ColdChainRules {
    pub fn class(&self, class: ProductClass) -> Option<&ColdChainClassRule> {
        self.classes.iter().find(|c| c.class == class)
    }
}

impl Default for ColdChainRules {
    /// The embedded table's section, for rules tables written before the `cold_chain`
    /// section existed.
    fn default() -> ColdChainRules {
        // `embedded_rules_are_valid` proves the embedded section parses; were it not to,
        // every class would be missing and validation would name the first.
        embedded_cold_chain()
            .unwrap_or(ColdChainRulesWire {
                notes: Vec::new(),
                classes: Vec::new(),
            })
            .into()
    }
}

/// One step of the slow-draw table: a whole-blood draw of up to `volume_ml` that takes
/// longer than `max_minutes` is unsuitable for platelets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowDrawLimit {
    pub volume_ml: u32,
    pub max_minutes: f64,
}

/// Figures the collection screen uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "CollectionRulesWire")]
pub struct CollectionRules {
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Density used to turn the scale's net grams into mL (1.05; many stations use 1.053).
    pub grams_per_ml: f64,
    /// Slow-draw limits by bag volume, ascending (the Chinese technical procedures: 200 mL
    /// over 5 min, 400 mL over 10 min). A slow draw excludes platelets from the bag.
    pub slow_draw: Vec<SlowDrawLimit>,
}

/// `collection` as rules tables write it, including the single
/// `whole_blood_platelet_max_minutes` of tables written before `slow_draw` existed:
/// such a table keeps meaning what it said (one limit for every volume).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectionRulesWire {
    #[serde(default)]
    notes: Vec<String>,
    grams_per_ml: f64,
    #[serde(default)]
    slow_draw: Option<Vec<SlowDrawLimit>>,
    #[serde(default)]
    whole_blood_platelet_max_minutes: Option<u32>,
}

impl From<CollectionRulesWire> for CollectionRules {
    fn from(w: CollectionRulesWire) -> CollectionRules {
        let slow_draw = match (w.slow_draw, w.whole_blood_platelet_max_minutes) {
            (Some(table), _) => table,
            (None, Some(minutes)) => vec![SlowDrawLimit {
                volume_ml: u32::MAX,
                max_minutes: f64::from(minutes),
            }],
            (None, None) => CollectionRules::default().slow_draw,
        };
        CollectionRules {
            notes: w.notes,
            grams_per_ml: w.grams_per_ml,
            slow_draw,
        }
    }
}

impl CollectionRules {
    /// The slow-draw limit for a bag of `volume_ml`: the first step at or above it, or
    /// the largest step for a larger bag. `None` only for an empty table (refused by
    /// validation).
    pub fn slow_draw_limit(&self, volume_ml: u32) -> Option<SlowDrawLimit> {
        self.slow_draw
            .iter()
            .find(|l| l.volume_ml >= volume_ml)
            .or(self.slow_draw.last())
            .copied()
    }
}

impl Default for CollectionRules {
    fn default() -> CollectionRules {
        CollectionRules {
            notes: Vec::new(),
            grams_per_ml: 1.05,
            slow_draw: vec![
                SlowDrawLimit {
                    volume_ml: 200,
                    max_minutes: 5.0,
                },
                SlowDrawLimit {
                    volume_ml: 300,
                    max_minutes: 7.5,
                },
                SlowDrawLimit {
                    volume_ml: 400,
                    max_minutes: 10.0,
                },
            ],
        }
    }
}

impl RuleSet {
    /// GB 18467-2011 as shipped.
    pub fn gb18467_2011() -> RuleSet {
        // The embedded file is part of the build; `embedded_rules_are_valid` proves it
        // parses and validates, so this cannot fail at run time.
        RuleSet::from_json(GB18467_2011_JSON).expect("embedded GB 18467-2011 rules are valid")
    }

    /// Parses a rules file and checks it is internally consistent.
    pub fn from_json(json: &str) -> Result<RuleSet, RulesError> {
        let rules: RuleSet =
            serde_json::from_str(json).map_err(|e| RulesError::Json(e.to_string()))?;
        rules.validate()?;
        Ok(rules)
    }

    /// Minimum interval from a `from` donation to a `to` donation.
    pub fn interval(&self, from: Procedure, to: Procedure) -> Option<Period> {
        self.interval_rule(from, to).map(|r| r.period)
    }

    /// The interval rule from a `from` donation to a `to` donation, with its waiver.
    pub fn interval_rule(&self, from: Procedure, to: Procedure) -> Option<&IntervalRule> {
        self.intervals
            .iter()
            .find(|r| r.from_procedure == from && r.to_procedure == to)
    }

    /// Checks that thresholds make sense together (min below max, fractions below 1,
    /// every interval pair present once, deferral codes unique…).
    pub fn validate(&self) -> Result<(), RulesError> {
        if self.version.trim().is_empty() {
            return Err(invalid("version", "must not be empty"));
        }
        if self.standard.trim().is_empty() {
            return Err(invalid("standard", "must not be empty"));
        }
        let region_ok = !self.region.is_empty()
            && self.region.len() <= 16
            && self
                .region
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return Err(invalid(
                "region",
                format!(
                    "must be CN or a province code such as CN-ZJ (A-Z, 0-9, -), got {:?}",
                    self.region
                ),
            ));
        }
        // Blood is a little denser than water; outside this band the figure is a typo.
        if !(1.0..=1.1).contains(&self.collection.grams_per_ml) {
            return Err(invalid(
                "collection.grams_per_ml",
                "must be between 1.0 and 1.1 (whole blood is about 1.05 g/mL)",
            ));
        }
        for class in ProductClass::ALL {
            let field = format!("cold_chain.classes[{class}]");
            let matching = self.cold_chain.classes.iter().filter(|c| c.class == class);
            let rule = match matching.clone().count() {
                1 => matching.into_iter().next(),
                0 => return Err(invalid(field, "missing: every product class needs a range")),
                _ => return Err(invalid(field, "listed more than once")),
            };
            if let Some(rule) = rule {
                let range = rule.range;
                if !(range.min_c.is_finite()
                    && range.max_c.is_finite()
                    && range.min_c < range.max_c)
                {
                    return Err(invalid(
                        format!("{field}.range"),
                        "min_c must be a number below max_c",
                    ));
                }
                if rule.processing_limit_hours == 0 {
                    return Err(invalid(
                        format!("{field}.processing_limit_hours"),
                        "must be a positive number of hours",
                    ));
                }
                if rule.ffp_separation_hours == Some(0) {
                    return Err(invalid(
                        format!("{field}.ffp_separation_hours"),
                        "must be a positive number of hours",
                    ));
                }
                if rule.over_limit.zh.trim().is_empty() || rule.over_limit.en.trim().is_empty() {
                    return Err(invalid(
                        format!("{field}.over_limit"),
                        "must say what the unit becomes, in zh and en",
                    ));
                }
            }
        }
        self.validate_slow_draw()?;
        self.validate_age()?;
        for (sex, field) in [(Sex::Male, "male"), (Sex::Female, "female")] {
            positive(
                &format!("weight_min_kg.{field}"),
                self.weight_min_kg.get(sex),
            )?;
            positive(
                &format!("hemoglobin_min_g_l.{field}"),
                self.hemoglobin_min_g_l.get(sex),
            )?;
        }
        self.validate_vitals()?;
        positive("alt_max_u_l", self.alt_max_u_l)?;
        self.validate_volumes()?;
        self.validate_apheresis()?;
        self.validate_intervals()?;
        self.validate_deferrals()
    }

    fn validate_slow_draw(&self) -> Result<(), RulesError> {
        let table = &self.collection.slow_draw;
        if table.is_empty() {
            return Err(invalid(
                "collection.slow_draw",
                "must list at least one volume with its limit",
            ));
        }
        for (i, step) in table.iter().enumerate() {
            let field = format!("collection.slow_draw[{i}]");
            if step.volume_ml == 0 {
                return Err(invalid(field, "volume_ml must be above 0"));
            }
            if i > 0 && step.volume_ml <= table[i - 1].volume_ml {
                return Err(invalid(
                    field,
                    "volumes must be listed in ascending order, each once",
                ));
            }
            if !(step.max_minutes.is_finite() && step.max_minutes > 0.0) {
                return Err(invalid(
                    format!("{field}.max_minutes"),
                    format!(
                        "must be a number of minutes above 0 (got {})",
                        step.max_minutes
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_age(&self) -> Result<(), RulesError> {
        let a = self.age;
        if a.min_years == 0 {
            return Err(invalid("age.min_years", "must be at least 1"));
        }
        if a.max_years_first_time < a.min_years {
            return Err(invalid(
                "age.max_years_first_time",
                format!(
                    "must not be below age.min_years ({} < {})",
                    a.max_years_first_time, a.min_years
                ),
            ));
        }
        if a.max_years_repeat < a.max_years_first_time {
            return Err(invalid(
                "age.max_years_repeat",
                format!(
                    "must not be below age.max_years_first_time ({} < {})",
                    a.max_years_repeat, a.max_years_first_time
                ),
            ));
        }
        if a.max_years_repeat > 120 {
            return Err(invalid(
                "age.max_years_repeat",
                format!("must be at most 120 (got {})", a.max_years_repeat),
            ));
        }
        Ok(())
    }

    fn validate_vitals(&self) -> Result<(), RulesError> {
        let bp = self.blood_pressure;
        ordered(
            "blood_pressure.systolic_min_mmhg",
            bp.systolic_min_mmhg,
            "blood_pressure.systolic_below_mmhg",
            bp.systolic_below_mmhg,
        )?;
        ordered(
            "blood_pressure.diastolic_min_mmhg",
            bp.diastolic_min_mmhg,
            "blood_pressure.diastolic_below_mmhg",
            bp.diastolic_below_mmhg,
        )?;
        non_negative(
            "blood_pressure.pulse_pressure_min_mmhg",
            bp.pulse_pressure_min_mmhg,
        )?;
        let p = self.pulse;
        ordered("pulse.min_bpm", p.min_bpm, "pulse.max_bpm", p.max_bpm)?;
        positive("pulse.athlete_min_bpm", p.athlete_min_bpm)?;
        if p.athlete_min_bpm > p.min_bpm {
            return Err(invalid(
                "pulse.athlete_min_bpm",
                format!(
                    "must not be above pulse.min_bpm ({} > {})",
                    p.athlete_min_bpm, p.min_bpm
                ),
            ));
        }
        let t = self.temperature;
        ordered("temperature.min_c", t.min_c, "temperature.max_c", t.max_c)?;
        if !(30.0..=45.0).contains(&t.min_c) || !(30.0..=45.0).contains(&t.max_c) {
            return Err(invalid(
                "temperature",
                format!(
                    "must lie within 30-45 °C (got {}-{}); is it in Fahrenheit?",
                    t.min_c, t.max_c
                ),
            ));
        }
        Ok(())
    }

    fn validate_volumes(&self) -> Result<(), RulesError> {
        if self.whole_blood_volumes_ml.is_empty() {
            return Err(invalid(
                "whole_blood_volumes_ml",
                "must list at least one volume",
            ));
        }
        let mut seen = HashSet::new();
        for (i, &v) in self.whole_blood_volumes_ml.iter().enumerate() {
            let field = format!("whole_blood_volumes_ml[{i}]");
            if v == 0 || v > 1000 {
                return Err(invalid(field, format!("must be 1-1000 mL (got {v})")));
            }
            if !seen.insert(v) {
                return Err(invalid(field, format!("{v} mL is listed twice")));
            }
        }
        Ok(())
    }

    fn validate_apheresis(&self) -> Result<(), RulesError> {
        let a = self.apheresis;
        if !(a.hematocrit_min > 0.0 && a.hematocrit_min < 1.0) {
            return Err(invalid(
                "apheresis.hematocrit_min",
                format!(
                    "must be a fraction between 0 and 1, e.g. 0.36 (got {})",
                    a.hematocrit_min
                ),
            ));
        }
        ordered(
            "apheresis.platelet_count_min_10e9_l",
            a.platelet_count_min_10e9_l,
            "apheresis.platelet_count_below_10e9_l",
            a.platelet_count_below_10e9_l,
        )?;
        if a.max_donations_per_12_months == 0 {
            return Err(invalid(
                "apheresis.max_donations_per_12_months",
                "must be at least 1",
            ));
        }
        positive(
            "apheresis.max_volume_ml_per_12_months",
            a.max_volume_ml_per_12_months,
        )?;
        let p = self.apheresis_plasma;
        if !(p.hematocrit_min > 0.0 && p.hematocrit_min < 1.0) {
            return Err(invalid(
                "apheresis_plasma.hematocrit_min",
                format!(
                    "must be a fraction between 0 and 1, e.g. 0.36 (got {})",
                    p.hematocrit_min
                ),
            ));
        }
        if p.max_donations_per_12_months == 0 {
            return Err(invalid(
                "apheresis_plasma.max_donations_per_12_months",
                "must be at least 1",
            ));
        }
        positive(
            "apheresis_plasma.max_volume_ml_per_12_months",
            p.max_volume_ml_per_12_months,
        )
    }

    fn validate_intervals(&self) -> Result<(), RulesError> {
        for (i, rule) in self.intervals.iter().enumerate() {
            let duplicate = self.intervals[..i].iter().any(|r| {
                r.from_procedure == rule.from_procedure && r.to_procedure == rule.to_procedure
            });
            if duplicate {
                return Err(invalid(
                    format!("intervals[{i}]"),
                    format!(
                        "{} → {} is listed more than once",
                        rule.from_procedure.as_str(),
                        rule.to_procedure.as_str()
                    ),
                ));
            }
            if let Some(waived) = rule.waivable_to {
                // Compared on a fixed day: months and days cannot be compared otherwise.
                let probe = NaiveDate::from_ymd_opt(2001, 1, 31).unwrap_or_default();
                if waived.after(probe) >= rule.period.after(probe) {
                    return Err(invalid(
                        format!("intervals[{i}].waivable_to"),
                        "must be shorter than the interval's period",
                    ));
                }
            }
        }
        for from in ALL_PROCEDURES {
            for to in ALL_PROCEDURES {
                if self.interval(from, to).is_none() {
                    // A missing pair would silently allow back-to-back donations.
                    return Err(invalid(
                        "intervals",
                        format!(
                            "no interval from {} to {}: every pair of procedures must be listed",
                            from.as_str(),
                            to.as_str()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_deferrals(&self) -> Result<(), RulesError> {
        let mut seen = HashSet::new();
        for (i, kind) in self.deferrals.iter().enumerate() {
            let field = |name: &str| format!("deferrals[{i}].{name}");
            let well_formed = !kind.code.is_empty()
                && kind
                    .code
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !well_formed {
                return Err(invalid(
                    field("code"),
                    format!(
                        "must be non-empty UPPER_SNAKE_CASE (A-Z, 0-9, _), got {:?}",
                        kind.code
                    ),
                ));
            }
            if !seen.insert(kind.code.as_str()) {
                return Err(invalid(
                    field("code"),
                    format!("{} is listed more than once", kind.code),
                ));
            }
            if kind.zh.trim().is_empty() {
                return Err(invalid(field("zh"), "must not be empty"));
            }
            if kind.en.trim().is_empty() {
                return Err(invalid(field("en"), "must not be empty"));
            }
            if matches!(
                kind.period,
                DeferralPeriod::Days(0) | DeferralPeriod::Months(0)
            ) {
                return Err(invalid(
                    field("period"),
                    "must be at least 1 day or 1 month",
                ));
            }
            if kind.waivable && kind.is_permanent() {
                return Err(invalid(
                    field("waivable"),
                    "a permanent deferral can never be waived",
                ));
            }
            if let DeferralScope::Products(products) = &kind.scope {
                if products.is_empty() {
                    return Err(invalid(
                        field("scope"),
                        "must list at least one product class, or be \"all\"",
                    ));
                }
                if kind.is_permanent() {
                    return Err(invalid(
                        field("scope"),
                        "a permanent deferral rules out every donation: use \"all\"",
                    ));
                }
            }
        }
        Ok(())
    }
}

fn positive(field: &str, value: f64) -> Result<(), RulesError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be a number above 0 (got {value})"),
        ))
    }
}

fn non_negative(field: &str, value: f64) -> Result<(), RulesError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be a number of 0 or more (got {value})"),
        ))
    }
}

fn ordered(low_field: &str, low: f64, high_field: &str, high: f64) -> Result<(), RulesError> {
    positive(low_field, low)?;
    positive(high_field, high)?;
    if low < high {
        Ok(())
    } else {
        Err(invalid(
            low_field,
            format!("must be below {high_field} ({low} >= {high})"),
        ))
    }
}

/// One deferral code as `lifebridge rules show` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeferralSummary {
    pub code: String,
    /// `temporary` or `permanent`: told apart everywhere.
    pub kind: &'static str,
    pub period: DeferralPeriod,
    /// `period` in words, zh-CN and English.
    pub period_zh: String,
    pub period_en: String,
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
                    period_zh: k.period.describe_zh(),
                    period_en: k.period.describe_en(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn embedded_rules_are_valid() {
        let rules = RuleSet::from_json(GB18467_2011_JSON).unwrap();
        assert_eq!(rules, RuleSet::gb18467_2011());
        assert_eq!(rules.version, "GB18467-2011/2");
    }

    #[test]
    fn embedded_rules_hold_the_standard_values() {
        let r = RuleSet::gb18467_2011();
        assert_eq!(
            r.age,
            AgeRules {
                min_years: 18,
                max_years_first_time: 55,
                max_years_repeat: 60
            }
        );
        assert_eq!((r.weight_min_kg.male, r.weight_min_kg.female), (50.0, 45.0));
        assert_eq!(
            r.blood_pressure,
            BloodPressureRules {
                systolic_min_mmhg: 90.0,
                systolic_below_mmhg: 140.0,
                diastolic_min_mmhg: 60.0,
                diastolic_below_mmhg: 90.0,
                pulse_pressure_min_mmhg: 30.0
            }
        );
        assert_eq!(
            (r.pulse.min_bpm, r.pulse.max_bpm, r.pulse.athlete_min_bpm),
            (60.0, 100.0, 50.0)
        );
        assert_eq!((r.temperature.min_c, r.temperature.max_c), (36.0, 37.3));
        assert_eq!(
            (r.hemoglobin_min_g_l.male, r.hemoglobin_min_g_l.female),
            (120.0, 115.0)
        );
        assert_eq!(r.whole_blood_volumes_ml, vec![200, 300, 400]);
        assert_eq!(r.alt_max_u_l, 50.0);
        assert_eq!(r.apheresis.hematocrit_min, 0.36);
        assert_eq!(r.apheresis.platelet_count_min_10e9_l, 150.0);
        assert_eq!(r.apheresis.platelet_count_below_10e9_l, 450.0);
        assert_eq!(r.apheresis.max_donations_per_12_months, 24);
        assert_eq!(r.apheresis.max_volume_ml_per_12_months, 10_000.0);
        use Procedure::*;
        assert_eq!(r.interval(WholeBlood, WholeBlood), Some(Period::Months(6)));
        assert_eq!(
            r.interval(ApheresisPlatelets, ApheresisPlatelets),
            Some(Period::Days(14))
        );
        assert_eq!(
            r.interval(ApheresisPlatelets, WholeBlood),
            Some(Period::Days(28))
        );
        assert_eq!(
            r.interval(WholeBlood, ApheresisPlatelets),
            Some(Period::Months(3))
        );
        assert_eq!(
            r.interval(ApheresisPlasma, ApheresisPlasma),
            Some(Period::Days(14))
        );
        assert_eq!(
            r.interval(WholeBlood, ApheresisPlasma),
            Some(Period::Months(3))
        );
        assert_eq!(
            r.interval(ApheresisPlasma, WholeBlood),
            Some(Period::Days(28))
        );
    }

    #[test]
    fn catalogue_covers_the_common_deferrals() {
        let r = RuleSet::gb18467_2011();
        let expect = [
            ("TOOTH_EXTRACTION", DeferralPeriod::Days(14)),
            ("MINOR_SURGERY", DeferralPeriod::Days(14)),
            ("MAJOR_SURGERY", DeferralPeriod::Months(6)),
            ("COMMON_COLD", DeferralPeriod::Days(7)),
            ("ACUTE_GASTROENTERITIS", DeferralPeriod::Days(7)),
            ("URINARY_TRACT_INFECTION", DeferralPeriod::Months(1)),
            ("PNEUMONIA", DeferralPeriod::Months(3)),
            ("MENSTRUATION", DeferralPeriod::Days(3)),
            ("MISCARRIAGE", DeferralPeriod::Months(6)),
            ("CHILDBIRTH_BREASTFEEDING", DeferralPeriod::Months(12)),
            ("LIVE_VACCINE", DeferralPeriod::Days(14)),
            ("RABIES_VACCINE_AFTER_BITE", DeferralPeriod::Months(12)),
            ("TRANSFUSION", DeferralPeriod::StationSet),
            ("TATTOO", DeferralPeriod::Months(12)),
            ("HBSAG_POSITIVE", DeferralPeriod::Permanent),
            ("HIV_RISK", DeferralPeriod::Permanent),
        ];
        for (code, period) in expect {
            let kind = r
                .deferrals
                .deferral(code)
                .unwrap_or_else(|| panic!("{code} missing"));
            assert_eq!(kind.period, period, "{code}");
        }
        assert!(r.deferrals.deferral(" tooth_extraction ").is_some());
        assert!(r.deferrals.deferral("NOPE").is_none());
    }

    #[test]
    fn deferral_until() {
        let r = RuleSet::gb18467_2011();
        let get = |c: &str| r.deferrals.deferral(c).unwrap().clone();
        assert_eq!(
            get("TOOTH_EXTRACTION").until(day(2026, 5, 1)),
            Some(day(2026, 5, 15))
        );
        assert_eq!(
            get("MAJOR_SURGERY").until(day(2025, 8, 31)),
            Some(day(2026, 2, 28))
        );
        assert_eq!(
            get("TATTOO").until(day(2024, 2, 29)),
            Some(day(2025, 2, 28))
        );
        assert_eq!(get("HBSAG_POSITIVE").until(day(2026, 1, 1)), None);
        assert!(get("HBSAG_POSITIVE").is_permanent());
        assert_eq!(get("TRANSFUSION").until(day(2026, 1, 1)), None);
        assert!(!get("TRANSFUSION").is_permanent());
    }

    fn mutated(edit: impl FnOnce(&mut serde_json::Value)) -> Result<RuleSet, RulesError> {
        let mut v: serde_json::Value = serde_json::from_str(GB18467_2011_JSON).unwrap();
        edit(&mut v);
        RuleSet::from_json(&v.to_string())
    }

    fn invalid_field(result: Result<RuleSet, RulesError>) -> String {
        match result {
            Err(RulesError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn inconsistent_rules_are_refused_with_the_field() {
        assert_eq!(
            invalid_field(mutated(|v| v["age"]["max_years_first_time"] = 17.into())),
            "age.max_years_first_time"
        );
        assert_eq!(
            invalid_field(mutated(|v| v["age"]["max_years_repeat"] = 50.into())),
            "age.max_years_repeat"
        );
        assert_eq!(
            invalid_field(mutated(
                |v| v["blood_pressure"]["systolic_min_mmhg"] = 140.into()
            )),
            "blood_pressure.systolic_min_mmhg"
        );
        assert_eq!(
            invalid_field(mutated(|v| v["temperature"]["max_c"] = 99.5.into())),
            "temperature"
        );
        assert_eq!(
            invalid_field(mutated(|v| v["apheresis"]["hematocrit_min"] = 36.into())),
            "apheresis.hematocrit_min"
        );
        assert_eq!(
            invalid_field(mutated(|v| v["pulse"]["athlete_min_bpm"] = 70.into())),
            "pulse.athlete_min_bpm"
        );
        assert_eq!(
            invalid_field(mutated(|v| v["weight_min_kg"]["female"] = (-1).into())),
            "weight_min_kg.female"
        );
        assert_eq!(
            invalid_field(mutated(
                |v| v["whole_blood_volumes_ml"] = serde_json::json!([])
            )),
            "whole_blood_volumes_ml"
        );
        assert_eq!(
            invalid_field(mutated(|v| {
                v["intervals"].as_array_mut().unwrap().remove(0);
            })),
            "intervals"
        );
        assert_eq!(
            invalid_field(mutated(|v| {
                let arr = v["intervals"].as_array_mut().unwrap();
                let first = arr[0].clone();
                arr.push(first);
            })),
            "intervals[9]"
        );
        assert_eq!(
            invalid_field(mutated(|v| {
                let arr = v["deferrals"].as_array_mut().unwrap();
                let first = arr[0].clone();
                arr.push(first);
            })),
            format!(
                "deferrals[{}].code",
                RuleSet::gb18467_2011().deferrals.len()
            )
        );
        assert_eq!(
            invalid_field(mutated(|v| v["deferrals"][0]["code"] = "bad code".into())),
            "deferrals[0].code"
        );
        assert_eq!(
            invalid_field(mutated(
                |v| v["deferrals"][0]["period"] = serde_json::json!({"days": 0})
            )),
            "deferrals[0].period"
        );
        assert_eq!(
            invalid_field(mutated(|v| v["version"] = " ".into())),
            "version"
        );
    }

    #[test]
    fn unknown_or_missing_fields_are_refused() {
        assert!(matches!(
            mutated(|v| v["age"]["max_years_with_consent"] = 70.into()),
            Err(RulesError::Json(_))
        ));
        assert!(matches!(
            mutated(|v| {
                v.as_object_mut().unwrap().remove("alt_max_u_l");
            }),
            Err(RulesError::Json(_))
        ));
        let err = RuleSet::from_json("{").unwrap_err().to_string();
        assert!(err.starts_with("rules file does not match"), "{err}");
    }

    #[test]
    fn a_station_can_change_a_threshold_without_a_build() {
        let r = mutated(|v| v["alt_max_u_l"] = 40.into()).unwrap();
        assert_eq!(r.alt_max_u_l, 40.0);
    }

    #[test]
    fn collection_and_cold_chain_sections_are_checked() {
        let r = RuleSet::gb18467_2011();
        let steps: Vec<(u32, f64)> = r
            .collection
            .slow_draw
            .iter()
            .map(|l| (l.volume_ml, l.max_minutes))
            .collect();
        assert_eq!(steps, vec![(200, 5.0), (300, 7.5), (400, 10.0)]);
        let class = |c| r.cold_chain.class(c).unwrap();
        assert_eq!(
            class(ProductClass::PlateletWholeBlood).processing_limit_hours,
            8
        );
        assert_eq!(
            class(ProductClass::PlateletWholeBlood).over_limit.action,
            UnitAction::Downgrade
        );
        assert_eq!(
            class(ProductClass::RedCellWholeBlood).ffp_separation_hours,
            Some(8)
        );
        assert_eq!(
            class(ProductClass::ApheresisPlasma).processing_limit_hours,
            6
        );
        assert!(!r.cold_chain.notes.is_empty() && !r.collection.notes.is_empty());
        assert_eq!(ColdChainRules::default(), r.cold_chain);
        assert_eq!(
            invalid_field(mutated(
                |v| v["collection"]["slow_draw"] = serde_json::json!([])
            )),
            "collection.slow_draw"
        );
        assert_eq!(
            invalid_field(mutated(
                |v| v["collection"]["slow_draw"] = serde_json::json!([
                    {"volume_ml": 400, "max_minutes": 10},
                    {"volume_ml": 200, "max_minutes": 5}
                ])
            )),
            "collection.slow_draw[1]"
        );
        assert_eq!(
            invalid_field(mutated(
                |v| v["collection"]["slow_draw"][0]["max_minutes"] = 0.into()
            )),
            "collection.slow_draw[0].max_minutes"
        );
        // A table written before apheresis plasma had a class keeps its own values and
        // gains the embedded entry for it.
        let older = mutated(|v| {
            v["cold_chain"]["classes"].as_array_mut().unwrap().pop();
            v["cold_chain"]["classes"][1]["processing_limit_hours"] = 6.into();
        })
        .unwrap();
        assert_eq!(
            older
                .cold_chain
                .class(ProductClass::PlateletWholeBlood)
                .unwrap()
                .processing_limit_hours,
            6
        );
        assert_eq!(
            older.cold_chain.class(ProductClass::ApheresisPlasma),
            r.cold_chain.class(ProductClass::ApheresisPlasma)
        );
        assert_eq!(
            invalid_field(mutated(|v| {
                let arr = v["cold_chain"]["classes"].as_array_mut().unwrap();
                let first = arr[0].clone();
                arr.push(first);
            })),
            "cold_chain.classes[red_cell_whole_blood]"
        );
        assert_eq!(
            invalid_field(mutated(
                |v| v["cold_chain"]["classes"][0]["ffp_separation_hours"] = 0.into()
            )),
            "cold_chain.classes[red_cell_whole_blood].ffp_separation_hours"
        );
        assert!(matches!(
            mutated(|v| v["collection"]["slow_draws"] = serde_json::json!([])),
            Err(RulesError::Json(_))
        ));
    }

    #[test]
    fn period_descriptions() {
        assert_eq!(Period::Months(6).describe_en(), "6 months");
        assert_eq!(Period::Days(1).describe_en(), "1 day");
        assert_eq!(Period::Months(6).describe_zh(), "6个月");
        assert_eq!(Period::Days(14).describe_zh(), "14天");
    }
}
