//! The rules table's cold-chain and collection sections: each product class's band and
//! processing limit, what a unit that misses it becomes, and the slow-draw limits.

use serde::{Deserialize, Serialize};

use crate::product::{ProductClass, TemperatureRange};

use super::*;

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
