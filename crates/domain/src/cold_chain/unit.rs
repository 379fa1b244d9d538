//! What a unit may still become: its findings (slow draw, exclusions, excursion, time
//! limits, missing tubes) and the status that follows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::*;
use crate::entities::LabelKind;
use crate::labels::LabelPiece;
use crate::rules::{RuleSet, UnitAction};

/// Where a unit stands: usable as collected, usable for less (downgraded), or held
/// until someone decides (quarantined).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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

    pub fn name_zh(self) -> &'static str {
        match self {
            UnitStatus::Suitable => "合格",
            UnitStatus::Downgraded => "降级",
            UnitStatus::Quarantined => "隔离",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            UnitStatus::Suitable => "suitable",
            UnitStatus::Downgraded => "downgraded",
            UnitStatus::Quarantined => "quarantined",
        }
    }
}

/// One fact that changes what a unit may become.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

fn class_names_zh(classes: &[ProductClass]) -> String {
    classes
        .iter()
        .map(|c| c.name_zh())
        .collect::<Vec<_>>()
        .join("、")
}

fn class_names_en(classes: &[ProductClass]) -> String {
    classes
        .iter()
        .map(|c| c.name_en())
        .collect::<Vec<_>>()
        .join(", ")
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

    pub fn describe_zh(&self) -> String {
        match self {
            UnitFinding::SlowDraw {
                volume_ml,
                seconds,
                limit_minutes,
            } => format!(
                "采血慢：{volume_ml} mL 用时 {}，超过 {limit_minutes} 分钟，不能制备血小板",
                minutes_seconds(*seconds)
            ),
            UnitFinding::Excluded { classes } => {
                format!("体检时排除：不得制备{}", class_names_zh(classes))
            }
            UnitFinding::Excursion {
                box_code,
                range,
                extreme_c,
            } => format!("{box_code} 运输中温度超出 {range}（最值 {extreme_c} °C），隔离"),
            UnitFinding::OverTimeLimit {
                limit_hours,
                elapsed_minutes,
                zh,
                ..
            } => {
                let (h, m) = hours_minutes(*elapsed_minutes);
                format!("采集后 {h}小时{m}分，超过 {limit_hours} 小时：{zh}")
            }
            UnitFinding::FfpWindowMissed {
                limit_hours,
                elapsed_minutes,
            } => {
                let (h, m) = hours_minutes(*elapsed_minutes);
                format!(
                    "采集后 {h}小时{m}分，超过 {limit_hours} 小时：血浆为普通冰冻血浆，非新鲜冰冻血浆"
                )
            }
            UnitFinding::TubesMissing { pieces } => format!(
                "缺少{}，无法检测，隔离",
                pieces
                    .iter()
                    .map(|p| p
                        .describe()
                        .split(" / ")
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
        }
    }

    pub fn describe_en(&self) -> String {
        match self {
            UnitFinding::SlowDraw {
                volume_ml,
                seconds,
                limit_minutes,
            } => format!(
                "slow draw: {volume_ml} mL took {}, over {limit_minutes} min, so no platelets",
                minutes_seconds(*seconds)
            ),
            UnitFinding::Excluded { classes } => {
                format!("excluded at screening: never {}", class_names_en(classes))
            }
            UnitFinding::Excursion {
                box_code,
                range,
                extreme_c,
            } => format!(
                "box {box_code} left {range} in transit (extreme {extreme_c} °C): quarantined"
            ),
            UnitFinding::OverTimeLimit {
                limit_hours,
                elapsed_minutes,
                en,
                ..
            } => {
                let (h, m) = hours_minutes(*elapsed_minutes);
                format!("{h}h{m:02}m since collection, over {limit_hours} h: {en}")
            }
            UnitFinding::FfpWindowMissed {
                limit_hours,
                elapsed_minutes,
            } => {
                let (h, m) = hours_minutes(*elapsed_minutes);
                format!(
                    "{h}h{m:02}m since collection, over {limit_hours} h: its plasma is frozen plasma, not fresh frozen plasma"
                )
            }
            UnitFinding::TubesMissing { pieces } => format!(
                "sample tubes missing ({}): the unit cannot be tested, quarantined",
                pieces
                    .iter()
                    .map(|p| p
                        .describe()
                        .split(" / ")
                        .next()
                        .unwrap_or_default()
                        .to_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// `中文 / English`, as the desk and the manifest show it.
    pub fn describe(&self) -> String {
        format!("{} / {}", self.describe_zh(), self.describe_en())
    }
}

/// A unit's status with every finding behind it. The status is the worst action of its
/// findings; no finding, suitable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

    /// `隔离 / quarantined: …; …`, or `合格 / suitable`.
    pub fn describe(&self) -> String {
        if self.findings.is_empty() {
            return format!("{} / {}", self.status.name_zh(), self.status.name_en());
        }
        format!(
            "{}：{} / {}: {}",
            self.status.name_zh(),
            self.findings
                .iter()
                .map(UnitFinding::describe_zh)
                .collect::<Vec<_>>()
                .join("；"),
            self.status.name_en(),
            self.findings
                .iter()
                .map(UnitFinding::describe_en)
                .collect::<Vec<_>>()
                .join("; ")
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
