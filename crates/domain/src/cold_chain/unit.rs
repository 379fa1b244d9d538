//! What a unit may still become: its findings (slow draw, exclusions, excursion, time
//! limits, missing tubes) and the status that follows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::*;
use crate::label_piece::{LabelKind, LabelPiece};
use crate::messages::{Localized, Message};
use crate::rules::{RuleSet, UnitAction};

/// Where a unit stands: usable as collected, usable for less (downgraded), or held
/// until someone decides (quarantined).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum UnitStatus {
    #[default]
    Suitable,
    Downgraded,
    Quarantined,
}

impl UnitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitStatus::Suitable => "suitable",
            UnitStatus::Downgraded => "downgraded",
            UnitStatus::Quarantined => "quarantined",
        }
    }

    /// The status's name (合格, 降级, 隔离).
    pub fn message(self) -> Message {
        Message::new(match self {
            UnitStatus::Suitable => "unit.status.suitable",
            UnitStatus::Downgraded => "unit.status.downgraded",
            UnitStatus::Quarantined => "unit.status.quarantined",
        })
    }
}

/// One fact that changes what a unit may become.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum UnitFinding {
    /// The draw took longer than the limit for its volume: no platelets.
    SlowDraw {
        volume_ml: u32,
        seconds: i64,
        limit_minutes: f64,
    },
    /// Classes excluded at screening (a product-scoped deferral).
    Excluded { classes: Vec<ProductClass> },
    /// The unit's box left its range in transit.
    Excursion {
        box_code: String,
        range: TemperatureRange,
        extreme_c: f64,
    },
    /// Reached (or not yet reached) processing after its class's limit.
    OverTimeLimit {
        class: ProductClass,
        limit_hours: u32,
        elapsed_minutes: i64,
        action: UnitAction,
        zh: String,
        en: String,
    },
    /// Past the time within which its plasma could be fresh frozen plasma.
    FfpWindowMissed {
        limit_hours: u32,
        elapsed_minutes: i64,
    },
    /// Sample tubes listed on the manifest were not received with the bag: it cannot be
    /// tested.
    TubesMissing { pieces: Vec<LabelPiece> },
}

fn hours_minutes(minutes: i64) -> (i64, i64) {
    (minutes.div_euclid(60), minutes.rem_euclid(60))
}

fn minutes_seconds(seconds: i64) -> String {
    format!("{}:{:02}", seconds.div_euclid(60), seconds.rem_euclid(60))
}

impl UnitFinding {
    pub fn action(&self) -> UnitAction {
        match self {
            UnitFinding::SlowDraw { .. }
            | UnitFinding::Excluded { .. }
            | UnitFinding::FfpWindowMissed { .. } => UnitAction::Downgrade,
            UnitFinding::Excursion { .. } | UnitFinding::TubesMissing { .. } => {
                UnitAction::Quarantine
            }
            UnitFinding::OverTimeLimit { action, .. } => *action,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            UnitFinding::SlowDraw { .. } => "slow_draw",
            UnitFinding::Excluded { .. } => "excluded",
            UnitFinding::Excursion { .. } => "excursion",
            UnitFinding::OverTimeLimit { .. } => "over_time_limit",
            UnitFinding::FfpWindowMissed { .. } => "ffp_window_missed",
            UnitFinding::TubesMissing { .. } => "tubes_missing",
        }
    }

    /// The finding as the desk, the driver and the manifest say it (`unit.*`).
    pub fn message(&self) -> Message {
        let classes = |classes: &[ProductClass]| -> Vec<Message> {
            classes.iter().map(|c| c.name()).collect()
        };
        let elapsed = |m: Message, elapsed_minutes: i64, limit_hours: u32| {
            let (h, min) = hours_minutes(elapsed_minutes);
            m.with("hours", h.to_string())
                .with("minutes", min.to_string())
                .with("minutes_padded", format!("{min:02}"))
                .with("limit_hours", limit_hours.to_string())
        };
        match self {
            UnitFinding::SlowDraw {
                volume_ml,
                seconds,
                limit_minutes,
            } => Message::new("unit.slow_draw")
                .with("volume_ml", volume_ml.to_string())
                .with("took", minutes_seconds(*seconds))
                .with("limit_minutes", limit_minutes.to_string()),
            UnitFinding::Excluded { classes: excluded } => {
                Message::new("unit.excluded").with("classes", classes(excluded))
            }
            UnitFinding::Excursion {
                box_code,
                range,
                extreme_c,
            } => Message::new("unit.excursion")
                .with("box_code", box_code.as_str())
                .with("range", range.to_string())
                .with("extreme_c", extreme_c.to_string()),
            UnitFinding::OverTimeLimit {
                limit_hours,
                elapsed_minutes,
                zh,
                en,
                ..
            } => elapsed(
                Message::new("unit.over_time_limit"),
                *elapsed_minutes,
                *limit_hours,
            )
            // What the unit becomes, in the rules table's own words.
            .with(
                "outcome",
                Localized {
                    zh: zh.clone(),
                    en: en.clone(),
                },
            ),
            UnitFinding::FfpWindowMissed {
                limit_hours,
                elapsed_minutes,
            } => elapsed(
                Message::new("unit.ffp_window_missed"),
                *elapsed_minutes,
                *limit_hours,
            ),
            UnitFinding::TubesMissing { pieces } => Message::new("unit.tubes_missing").with(
                "pieces",
                pieces.iter().map(|p| p.name()).collect::<Vec<_>>(),
            ),
        }
    }
}

/// A unit's status with every finding behind it. The status is the worst action of its
/// findings; no finding, suitable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnitAssessment {
    pub status: UnitStatus,
    pub findings: Vec<UnitFinding>,
}

impl UnitAssessment {
    pub fn new(findings: Vec<UnitFinding>) -> UnitAssessment {
        let status = match findings.iter().map(UnitFinding::action).max() {
            None => UnitStatus::Suitable,
            Some(UnitAction::Downgrade) => UnitStatus::Downgraded,
            Some(UnitAction::Quarantine) => UnitStatus::Quarantined,
        };
        UnitAssessment { status, findings }
    }

    pub fn is_suitable(&self) -> bool {
        self.status == UnitStatus::Suitable && self.findings.is_empty()
    }

    /// The status with every finding behind it (`unit.assessment`), or the status alone.
    pub fn message(&self) -> Message {
        let status = self.status.message();
        if self.findings.is_empty() {
            return status;
        }
        Message::new("unit.assessment").with("status", status).with(
            "findings",
            self.findings
                .iter()
                .map(UnitFinding::message)
                .collect::<Vec<_>>(),
        )
    }
}

/// What the collection itself says about a unit, known on the bus: a slow draw, and the
/// classes excluded at screening (those a slow draw explains are not repeated).
pub fn collection_findings(
    donation: &crate::entities::Donation,
    rules: &RuleSet,
) -> Vec<UnitFinding> {
    let mut out = Vec::new();
    let slow = slow_draw(donation, rules);
    if let Some(s) = slow {
        out.push(UnitFinding::SlowDraw {
            volume_ml: s.volume_ml,
            seconds: s.seconds,
            limit_minutes: s.limit_minutes,
        });
    }
    let mut classes = donation.excluded_products.clone();
    classes.sort();
    classes.dedup();
    // A slow draw names its own exclusion of platelets; the rest came from screening.
    if slow.is_some() {
        classes.retain(|c| *c != ProductClass::PlateletWholeBlood);
    }
    if !classes.is_empty() {
        out.push(UnitFinding::Excluded { classes });
    }
    out
}

/// Time limits of a unit of `class` collected at `collected_at`, as they stand at `at`:
/// over the processing limit (by the class's rule), past the FFP separation window.
/// Each limit is inclusive: exactly on it is still within.
pub fn time_findings(
    class: ProductClass,
    collected_at: DateTime<Utc>,
    at: DateTime<Utc>,
    rules: &RuleSet,
) -> Vec<UnitFinding> {
    let mut out = Vec::new();
    let Some(rule) = rules.cold_chain.class(class) else {
        return out;
    };
    let elapsed = (at - collected_at).num_minutes();
    if elapsed > i64::from(rule.processing_limit_hours) * 60 {
        out.push(UnitFinding::OverTimeLimit {
            class,
            limit_hours: rule.processing_limit_hours,
            elapsed_minutes: elapsed,
            action: rule.over_limit.action,
            zh: rule.over_limit.zh.clone(),
            en: rule.over_limit.en.clone(),
        });
    }
    if let Some(hours) = rule.ffp_separation_hours
        && elapsed > i64::from(hours) * 60
    {
        out.push(UnitFinding::FfpWindowMissed {
            limit_hours: hours,
            elapsed_minutes: elapsed,
        });
    }
    out
}

/// The box's worst excursion, as a finding for each unit in it.
pub fn excursion_finding(bx: &ManifestBox) -> Option<UnitFinding> {
    bx.excursions
        .iter()
        .max_by(|a, b| {
            bx.range
                .distance_outside(a.extreme_c)
                .total_cmp(&bx.range.distance_outside(b.extreme_c))
        })
        .map(|worst| UnitFinding::Excursion {
            box_code: bx.code.clone(),
            range: bx.range,
            extreme_c: worst.extreme_c,
        })
}

/// Whether a label piece is a sample tube (not a container, not the record sheet).
pub fn is_sample_tube(piece: LabelPiece) -> bool {
    !matches!(
        piece.kind,
        LabelKind::Bag | LabelKind::Satellite | LabelKind::Record
    )
}
