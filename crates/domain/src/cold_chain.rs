//! Cold chain on the vehicle: transport boxes, what may be packed in them, their
//! temperature logs, and the manifest the driver signs at dispatch.
//!
//! Ranges and time limits are data (`RuleSet::cold_chain`), like every other threshold.
//! The manifest is a snapshot: once signed it is never edited, and it is the one document
//! the station's receiving desk works from, whether it arrived by replication or by QR.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::common::Procedure;
use crate::din::Din;
use crate::entities::{AboRh, LabelKind, RecordId};
use crate::labels::LabelPiece;
use crate::rules::{RuleSet, UnitAction};

/// What a transport box carries, which decides the temperature it must stay in
/// (domain.md section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ProductClass {
    /// Whole blood for red cells: cooled towards 2–10 °C.
    RedCellWholeBlood,
    /// Whole blood intended for platelets: 20–24 °C, processed within the station's limit.
    PlateletWholeBlood,
    /// Apheresis platelets: 20–24 °C.
    ApheresisPlatelets,
    /// Apheresis plasma: frozen or cold, as the station's rules table says.
    ApheresisPlasma,
}

impl ProductClass {
    pub const ALL: [ProductClass; 4] = [
        ProductClass::RedCellWholeBlood,
        ProductClass::PlateletWholeBlood,
        ProductClass::ApheresisPlatelets,
        ProductClass::ApheresisPlasma,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProductClass::RedCellWholeBlood => "red_cell_whole_blood",
            ProductClass::PlateletWholeBlood => "platelet_whole_blood",
            ProductClass::ApheresisPlatelets => "apheresis_platelets",
            ProductClass::ApheresisPlasma => "apheresis_plasma",
        }
    }

    pub fn parse(text: &str) -> Option<ProductClass> {
        ProductClass::ALL.into_iter().find(|c| c.as_str() == text)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            ProductClass::RedCellWholeBlood => "全血（制备红细胞）",
            ProductClass::PlateletWholeBlood => "全血（制备血小板）",
            ProductClass::ApheresisPlatelets => "单采血小板",
            ProductClass::ApheresisPlasma => "单采血浆",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            ProductClass::RedCellWholeBlood => "whole blood for red cells",
            ProductClass::PlateletWholeBlood => "whole blood for platelets",
            ProductClass::ApheresisPlatelets => "apheresis platelets",
            ProductClass::ApheresisPlasma => "apheresis plasma",
        }
    }
}

impl fmt::Display for ProductClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An inclusive temperature band in degrees Celsius.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct TemperatureRange {
    pub min_c: f64,
    pub max_c: f64,
}

impl TemperatureRange {
    pub fn contains(&self, celsius: f64) -> bool {
        celsius >= self.min_c && celsius <= self.max_c
    }

    /// How far `celsius` lies outside the band, in degrees (negative inside it): what
    /// makes one excursion reading worse than another.
    pub fn distance_outside(&self, celsius: f64) -> f64 {
        if celsius < self.min_c {
            self.min_c - celsius
        } else {
            celsius - self.max_c
        }
    }
}

impl fmt::Display for TemperatureRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{} °C", self.min_c, self.max_c)
    }
}

/// A transport box, identified by the code printed on it (scanned when packing and at
/// the receiving desk). One writer: the device that opened it for a drive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TransportBox {
    pub id: RecordId,
    /// The scannable code on the box (e.g. `BOX-0007`), unique among the drive's boxes.
    pub code: String,
    pub class: ProductClass,
    /// The band in force when the box was opened (copied from the rules table, so the
    /// record explains itself later).
    pub range: TemperatureRange,
    pub drive_id: RecordId,
    pub opened_by: RecordId,
    pub opened_at: DateTime<Utc>,
}

/// A bag packed into a box, or taken out again before dispatch (`removes` names the
/// packing it undoes; nothing is deleted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BoxPacking {
    pub id: RecordId,
    pub box_id: RecordId,
    pub donation_id: RecordId,
    pub din: Din,
    pub packed_by: RecordId,
    pub packed_at: DateTime<Utc>,
    pub removes: Option<RecordId>,
    /// Set when the bag's DIN was typed (with its check character) instead of scanned:
    /// the exception path, with the reason and the second crew member who confirmed it.
    /// Absent on scanned packings, so bodies written before it keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<crate::entities::ManualVerification>,
}

/// Where a temperature reading came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ReadingSource {
    /// Read off the box's thermometer and typed in.
    Manual,
    /// Imported from a data logger's CSV file.
    Logger { file_name: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TemperatureReading {
    pub id: RecordId,
    pub box_id: RecordId,
    /// When the temperature was measured (the logger's timestamp for imports).
    pub measured_at: DateTime<Utc>,
    pub celsius: f64,
    pub source: ReadingSource,
    pub recorded_by: RecordId,
    pub recorded_at: DateTime<Utc>,
}

/// A stretch of readings outside the box's range: from the first reading outside to the
/// last one before it came back (or the last reading, if it never did).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Excursion {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The reading furthest outside the range.
    pub extreme_c: f64,
    pub readings: u32,
}

/// Who signed, by name as well as id: the station may not hold the device's staff list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Signatory {
    pub staff_id: RecordId,
    pub name: String,
}

/// One bag as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManifestBag {
    pub din: Din,
    pub donation_id: RecordId,
    pub procedure: Procedure,
    pub collected_volume_ml: Option<u32>,
    /// Known only when typed at registration or from a bedside rapid test.
    pub abo_rh: Option<AboRh>,
    /// End of collection (start, if the end was never recorded): the time limits to
    /// processing run from here.
    pub collected_at: DateTime<Utc>,
    /// The sample tubes released with the bag, which travel with it and are scanned at
    /// the desk. Empty on manifests written before tubes were listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tubes: Vec<LabelPiece>,
    /// What the unit may still become at dispatch, and why (slow draw, products excluded
    /// at screening, the box's excursion, a time limit already missed). Omitted when
    /// suitable, so manifests written before it keep their bytes.
    #[serde(default, skip_serializing_if = "UnitAssessment::is_suitable")]
    pub unit: UnitAssessment,
    /// Labels of this unit verified by manual entry (DIN typed with its check character,
    /// a reason and a second crew member's PIN) instead of a scan: at the chair, or the
    /// bag's own label at packing. Omitted when every label was scanned, so manifests
    /// written before it keep their bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manual_labels: Vec<LabelPiece>,
}

/// One measured temperature, as the manifest carries it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManifestReading {
    pub at: DateTime<Utc>,
    pub celsius: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManifestBox {
    pub box_id: RecordId,
    pub code: String,
    pub class: ProductClass,
    pub range: TemperatureRange,
    /// In DIN order.
    pub bags: Vec<ManifestBag>,
    /// The earliest `collected_at` of its bags.
    pub first_collection_at: Option<DateTime<Utc>>,
    /// In time order.
    pub readings: Vec<ManifestReading>,
    pub excursions: Vec<Excursion>,
}

/// The transport manifest the driver signs at dispatch. Read-only once written; the
/// same record replicates to the station and is encoded into the manifest QR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Manifest {
    pub id: RecordId,
    pub drive_id: RecordId,
    /// The device that wrote it, so the hand-off result can be sent back to it.
    pub device_id: Uuid,
    pub site_name: String,
    pub vehicle: Option<String>,
    pub drive_date: chrono::NaiveDate,
    pub driver: Signatory,
    pub dispatched_at: DateTime<Utc>,
    /// In box-code order.
    pub boxes: Vec<ManifestBox>,
    /// The rules table version whose ranges and limits applied.
    pub rules_version: String,
}

// ---------------------------------------------------------------------------------------
// What may go into which box.

/// Why a bag may not go into a box. Each names the DIN, the box's class, why, and what
/// would be allowed, so the driver knows what to do with the bag in their hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackingRefusal {
    #[error(
        "{din} 仍在采血中，不能装箱 / is still on the chair: finish the collection and release the bag first"
    )]
    StillOnChair { din: String },
    #[error("{din} 采血已中止，不能装箱 / was aborted: an aborted collection is not transported")]
    Aborted { din: String },
    #[error(
        "{din} 不能装入{}箱：{why_zh} / cannot go into a box of {box_class}: {why_en}; allowed: {}",
        box_class.name_zh(),
        if allowed.is_empty() { "none (hand it to the station as it directs)".to_owned() } else { class_list(allowed) }
    )]
    Excluded {
        din: String,
        box_class: ProductClass,
        why_zh: String,
        why_en: String,
        allowed: Vec<ProductClass>,
    },
    #[error(
        "{din} 不能装入{}箱 / cannot go into a box of {box_class}: {why}; allowed: {}",
        box_class.name_zh(),
        class_list(allowed)
    )]
    WrongClass {
        din: String,
        box_class: ProductClass,
        why: String,
        allowed: Vec<ProductClass>,
    },
}

fn class_list(classes: &[ProductClass]) -> String {
    classes
        .iter()
        .map(|c| format!("{} ({})", c.name_zh(), c.name_en()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A whole-blood draw that took longer than the rules table allows for its volume.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlowDraw {
    /// The bag's planned (nominal) volume, which chooses the limit.
    pub volume_ml: u32,
    pub seconds: i64,
    pub limit_minutes: f64,
}

/// Whether this donation was a slow draw (`collection.slow_draw`): whole blood whose
/// draw took longer than the limit for its volume. `None` for apheresis, for a draw
/// with no recorded end, and for a draw within the limit (the limit itself included).
pub fn slow_draw(donation: &crate::entities::Donation, rules: &RuleSet) -> Option<SlowDraw> {
    if donation.procedure != Procedure::WholeBlood {
        return None;
    }
    let end = donation.ended_at?;
    let seconds = (end - donation.started_at).num_seconds();
    let limit = rules
        .collection
        .slow_draw_limit(donation.planned_volume_ml)?;
    (seconds as f64 > limit.max_minutes * 60.0).then_some(SlowDraw {
        volume_ml: donation.planned_volume_ml,
        seconds,
        limit_minutes: limit.max_minutes,
    })
}

/// The product classes a donation may never become: those excluded at screening
/// (`Donation::excluded_products`) and, for a slow draw, platelets. What the store
/// writes into `excluded_products` when a collection is recorded or finished.
pub fn excluded_products(
    donation: &crate::entities::Donation,
    rules: &RuleSet,
) -> Vec<ProductClass> {
    let mut out = donation.excluded_products.clone();
    if slow_draw(donation, rules).is_some() {
        out.push(ProductClass::PlateletWholeBlood);
    }
    out.sort();
    out.dedup();
    out
}

/// The box classes this donation may travel in, or why it may travel in none.
///
/// Whole blood goes cold (red cells) unless it can still make platelets: collected in a
/// triple or quadruple set (the satellites the station separates platelets into),
/// complete, and not a slow draw (`collection.slow_draw`: a slow draw activates
/// platelets). Apheresis products travel in their own class. A class in the donation's
/// excluded products is never allowed.
pub fn allowed_classes(
    donation: &crate::entities::Donation,
    rules: &RuleSet,
) -> Result<Vec<ProductClass>, PackingRefusal> {
    use crate::entities::{BagSetKind, Outcome};
    let din = donation.din.to_string();
    match donation.outcome {
        Outcome::InProgress => return Err(PackingRefusal::StillOnChair { din }),
        Outcome::Aborted => return Err(PackingRefusal::Aborted { din }),
        Outcome::Complete | Outcome::Partial => {}
    }
    let by_procedure = match donation.procedure {
        Procedure::ApheresisPlatelets => vec![ProductClass::ApheresisPlatelets],
        Procedure::ApheresisPlasma => vec![ProductClass::ApheresisPlasma],
        Procedure::WholeBlood => {
            let platelet_set = matches!(
                donation.bag_set.kind,
                BagSetKind::Triple | BagSetKind::Quadruple
            );
            let timed = donation.ended_at.is_some();
            if platelet_set
                && donation.outcome == Outcome::Complete
                && timed
                && slow_draw(donation, rules).is_none()
            {
                vec![
                    ProductClass::RedCellWholeBlood,
                    ProductClass::PlateletWholeBlood,
                ]
            } else {
                vec![ProductClass::RedCellWholeBlood]
            }
        }
    };
    let excluded = excluded_products(donation, rules);
    Ok(by_procedure
        .into_iter()
        .filter(|c| !excluded.contains(c))
        .collect())
}

/// Refuses `donation` for a box of `class` with the specific reason, or accepts it.
pub fn check_packing(
    donation: &crate::entities::Donation,
    class: ProductClass,
    rules: &RuleSet,
) -> Result<(), PackingRefusal> {
    use crate::entities::{BagSetKind, Outcome};
    let allowed = allowed_classes(donation, rules)?;
    if allowed.contains(&class) {
        return Ok(());
    }
    let din = donation.din.to_string();
    if excluded_products(donation, rules).contains(&class) {
        let (why_zh, why_en) = match slow_draw(donation, rules) {
            Some(slow) if class == ProductClass::PlateletWholeBlood => {
                let finding = UnitFinding::SlowDraw {
                    volume_ml: slow.volume_ml,
                    seconds: slow.seconds,
                    limit_minutes: slow.limit_minutes,
                };
                (finding.describe_zh(), finding.describe_en())
            }
            _ => (
                "体检时已排除此成分（按成分的暂缓，如服用抗血小板药物）".to_owned(),
                "this product was excluded at screening (a product-scoped deferral, such as antiplatelet drugs)".to_owned(),
            ),
        };
        return Err(PackingRefusal::Excluded {
            din,
            box_class: class,
            why_zh,
            why_en,
            allowed,
        });
    }
    let why = match (donation.procedure, class) {
        (Procedure::ApheresisPlatelets, _) => {
            "单采血小板只能装入单采血小板箱 / apheresis platelets travel only in apheresis platelet boxes (20–24 °C)".to_owned()
        }
        (Procedure::ApheresisPlasma, _) => {
            "单采血浆只能装入单采血浆箱 / apheresis plasma travels only in apheresis plasma boxes".to_owned()
        }
        (Procedure::WholeBlood, ProductClass::ApheresisPlatelets) => {
            "全血不能装入单采血小板箱 / whole blood never goes into an apheresis platelet box".to_owned()
        }
        (Procedure::WholeBlood, ProductClass::ApheresisPlasma) => {
            "全血不能装入单采血浆箱 / whole blood never goes into an apheresis plasma box".to_owned()
        }
        (Procedure::WholeBlood, _) => {
            if !matches!(
                donation.bag_set.kind,
                BagSetKind::Triple | BagSetKind::Quadruple
            ) {
                let kind = match donation.bag_set.kind {
                    BagSetKind::Single => "single",
                    BagSetKind::Double => "double",
                    BagSetKind::Triple => "triple",
                    BagSetKind::Quadruple => "quadruple",
                    BagSetKind::ApheresisKit => "apheresis kit",
                };
                format!(
                    "制备血小板需三联或四联袋 / platelets need a triple or quadruple bag set, this is a {kind} set"
                )
            } else if donation.outcome != Outcome::Complete {
                "采血量不足的全血不能制备血小板 / a partial (under-volume) collection cannot make platelets".to_owned()
            } else {
                "未记录采血结束时间 / the end of collection was not recorded, so the draw cannot be shown to be quick enough for platelets".to_owned()
            }
        }
    };
    Err(PackingRefusal::WrongClass {
        din,
        box_class: class,
        why,
        allowed,
    })
}

// ---------------------------------------------------------------------------------------
// What a unit may still become.

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

// ---------------------------------------------------------------------------------------
// Temperatures.

/// The widest value a box thermometer or logger can sensibly report; anything beyond is
/// a typing or file error, not a temperature.
pub const PLAUSIBLE_CELSIUS: TemperatureRange = TemperatureRange {
    min_c: -50.0,
    max_c: 80.0,
};

/// Checks a typed or imported temperature: a finite number a thermometer could show.
pub fn check_celsius(celsius: f64) -> Result<f64, String> {
    if !celsius.is_finite() || !PLAUSIBLE_CELSIUS.contains(celsius) {
        return Err(format!(
            "{celsius} °C is not a temperature a box thermometer reads; expected a number between {} and {} °C",
            PLAUSIBLE_CELSIUS.min_c, PLAUSIBLE_CELSIUS.max_c
        ));
    }
    Ok(celsius)
}

/// Stretches of readings outside `range`, in time order. Readings need not be sorted.
pub fn excursions(readings: &[ManifestReading], range: TemperatureRange) -> Vec<Excursion> {
    let mut sorted = readings.to_vec();
    sorted.sort_by(|a, b| a.at.cmp(&b.at).then(a.celsius.total_cmp(&b.celsius)));
    let mut out: Vec<Excursion> = Vec::new();
    let mut open = false;
    for r in sorted {
        if range.contains(r.celsius) {
            open = false;
            continue;
        }
        match out.last_mut() {
            Some(current) if open => {
                current.to = r.at;
                current.readings += 1;
                if range.distance_outside(r.celsius) > range.distance_outside(current.extreme_c) {
                    current.extreme_c = r.celsius;
                }
            }
            _ => {
                out.push(Excursion {
                    from: r.at,
                    to: r.at,
                    extreme_c: r.celsius,
                    readings: 1,
                });
                open = true;
            }
        }
    }
    out
}

/// One row of a data logger's file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoggerRow {
    /// The file's line number (1-based, header included), for messages.
    pub line: u64,
    pub at: DateTime<Utc>,
    pub celsius: f64,
}

/// A logger file that cannot be read, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{problem}", location(*line, column.as_deref()))]
pub struct LoggerCsvError {
    pub line: Option<u64>,
    pub column: Option<String>,
    pub problem: String,
}

fn location(line: Option<u64>, column: Option<&str>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("第 {l} 行 {c} 列 / line {l}, column {c:?}: "),
        (Some(l), None) => format!("第 {l} 行 / line {l}: "),
        (None, Some(c)) => format!("{c} 列 / column {c:?}: "),
        (None, None) => String::new(),
    }
}

/// Header names loggers use for the time column (compared after [`normalise_header`]).
pub const TIME_HEADERS: [&str; 12] = [
    "time",
    "timestamp",
    "datetime",
    "date time",
    "date/time",
    "measured at",
    "measured_at",
    "时间",
    "日期时间",
    "记录时间",
    "采集时间",
    "测量时间",
];

/// Header names for the temperature column.
pub const TEMPERATURE_HEADERS: [&str; 8] = [
    "temperature",
    "temp",
    "celsius",
    "temperature_c",
    "temp_c",
    "温度",
    "温度值",
    "摄氏度",
];

/// Lower-cases and drops a unit in brackets, so `Temperature (°C)`, `温度（℃）` and
/// `temp[C]` all read as their bare name.
fn normalise_header(raw: &str) -> String {
    let mut text = raw.trim().trim_start_matches('\u{feff}').to_lowercase();
    for open in ['(', '（', '['] {
        if let Some(i) = text.find(open) {
            text.truncate(i);
        }
    }
    for unit in ["°c", "℃"] {
        if let Some(stripped) = text.strip_suffix(unit) {
            text = stripped.to_owned();
        }
    }
    text.trim().trim_end_matches(['_', '-', ' ']).to_owned()
}

/// Reads a time as loggers write it: RFC 3339 / ISO 8601 with an offset, or a local
/// `YYYY-MM-DD HH:MM[:SS]` (also with `/` or `T`), which means China Standard Time.
pub fn parse_logger_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%:z",
        "%Y-%m-%dT%H:%M:%S%:z",
        "%Y-%m-%d %H:%M%:z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let local = text.replace('/', "-").replace('T', " ");
    let naive = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(&local, f).ok())?;
    naive
        .and_local_timezone(crate::common::CHINA_STANDARD_TIME)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Parses a data logger's CSV export: a header row naming a time and a temperature
/// column (English or Chinese; other columns are ignored), then one reading per row.
/// Comma, semicolon or tab separated. All or nothing: the first bad row is the error.
pub fn parse_logger_csv(text: &str) -> Result<Vec<LoggerRow>, LoggerCsvError> {
    let text = text.trim_start_matches('\u{feff}');
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .find(|d| first_line.as_bytes().contains(d))
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let err = |line: Option<u64>, column: Option<&str>, problem: String| LoggerCsvError {
        line,
        column: column.map(str::to_owned),
        problem,
    };
    let headers = reader
        .headers()
        .map_err(|e| err(Some(1), None, format!("the header row cannot be read: {e}")))?
        .clone();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&normalise_header(h).as_str()))
    };
    let (Some(time_col), Some(temp_col)) = (find(&TIME_HEADERS), find(&TEMPERATURE_HEADERS)) else {
        return Err(err(
            Some(1),
            None,
            format!(
                "表头需含时间列和温度列 / the header row must name a time column ({}) and a temperature column ({}); found: {}",
                TIME_HEADERS.join(", "),
                TEMPERATURE_HEADERS.join(", "),
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let time_name = headers.get(time_col).unwrap_or("time").to_owned();
    let temp_name = headers.get(temp_col).unwrap_or("temperature").to_owned();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line());
            err(line, None, format!("the row cannot be read: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let time_text = record.get(time_col).unwrap_or("");
        let at = parse_logger_time(time_text).ok_or_else(|| {
            err(
                Some(line),
                Some(&time_name),
                format!(
                    "{time_text:?} is not a time: expected ISO 8601 with an offset (2026-05-01T09:30:00+08:00) or YYYY-MM-DD HH:MM[:SS] in China Standard Time"
                ),
            )
        })?;
        let temp_text = record.get(temp_col).unwrap_or("");
        let celsius = temp_text
            .trim_end_matches(['℃', 'C', 'c'])
            .trim_end_matches('°')
            .trim()
            .parse::<f64>()
            .map_err(|_| {
                err(
                    Some(line),
                    Some(&temp_name),
                    format!("{temp_text:?} is not a number of degrees Celsius"),
                )
            })
            .and_then(|c| check_celsius(c).map_err(|p| err(Some(line), Some(&temp_name), p)))?;
        rows.push(LoggerRow { line, at, celsius });
    }
    if rows.is_empty() {
        return Err(err(
            None,
            None,
            "文件中没有温度记录 / the file holds no readings under its header row".to_owned(),
        ));
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------
// The manifest.

/// One box with what is in it, for [`build_manifest`].
#[derive(Debug, Clone)]
pub struct BoxContents {
    pub transport_box: TransportBox,
    pub bags: Vec<PackedUnit>,
    pub readings: Vec<TemperatureReading>,
}

/// A packed bag for [`build_manifest`]: its current donation record, the donor's ABO/RhD
/// if known, and the label pieces released with it (its sample tubes travel with it).
#[derive(Debug, Clone)]
pub struct PackedUnit {
    pub donation: crate::entities::Donation,
    pub abo_rh: Option<AboRh>,
    pub released_pieces: Vec<LabelPiece>,
    /// Pieces verified by manual entry instead of a scan: the release's `manual_pieces`
    /// and, when the bag was packed by typing its DIN, its primary bag label.
    pub manual_pieces: Vec<LabelPiece>,
}

/// Who, when and where, for [`build_manifest`].
#[derive(Debug, Clone)]
pub struct ManifestHeader {
    pub id: RecordId,
    pub drive: crate::entities::Drive,
    pub device_id: Uuid,
    pub driver: Signatory,
    pub dispatched_at: DateTime<Utc>,
    pub rules_version: String,
}

/// The snapshot the driver signs: boxes in code order, bags in DIN order, readings in
/// time order, excursions against each box's own range, and each unit's status at
/// dispatch (collection findings, the box's excursion, time limits already missed).
pub fn build_manifest(
    header: ManifestHeader,
    boxes: Vec<BoxContents>,
    rules: &RuleSet,
) -> Manifest {
    let dispatched_at = header.dispatched_at;
    let mut out: Vec<ManifestBox> = boxes
        .into_iter()
        .map(|b| {
            let class = b.transport_box.class;
            let mut bags: Vec<ManifestBag> = b
                .bags
                .into_iter()
                .map(|u| {
                    let d = u.donation;
                    let collected_at = d.ended_at.unwrap_or(d.started_at);
                    let mut findings = collection_findings(&d, rules);
                    findings.extend(time_findings(class, collected_at, dispatched_at, rules));
                    let mut tubes: Vec<LabelPiece> = u
                        .released_pieces
                        .into_iter()
                        .filter(|p| is_sample_tube(*p))
                        .collect();
                    tubes.sort();
                    tubes.dedup();
                    let mut manual_labels = u.manual_pieces;
                    manual_labels.sort();
                    manual_labels.dedup();
                    ManifestBag {
                        manual_labels,
                        collected_at,
                        din: d.din,
                        donation_id: d.id,
                        procedure: d.procedure,
                        collected_volume_ml: d.collected_volume_ml,
                        abo_rh: u.abo_rh,
                        tubes,
                        unit: UnitAssessment::new(findings),
                    }
                })
                .collect();
            bags.sort_by(|a, b| a.din.cmp(&b.din));
            let mut readings: Vec<ManifestReading> = b
                .readings
                .iter()
                .map(|r| ManifestReading {
                    at: r.measured_at,
                    celsius: r.celsius,
                })
                .collect();
            readings.sort_by_key(|r| r.at);
            let range = b.transport_box.range;
            let mut bx = ManifestBox {
                box_id: b.transport_box.id,
                code: b.transport_box.code,
                class,
                range,
                first_collection_at: bags.iter().map(|g| g.collected_at).min(),
                bags: Vec::new(),
                excursions: excursions(&readings, range),
                readings,
            };
            if let Some(finding) = excursion_finding(&bx) {
                for bag in &mut bags {
                    let mut findings = std::mem::take(&mut bag.unit.findings);
                    findings.push(finding.clone());
                    bag.unit = UnitAssessment::new(findings);
                }
            }
            bx.bags = bags;
            bx
        })
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Manifest {
        id: header.id,
        drive_id: header.drive.id,
        device_id: header.device_id,
        site_name: header.drive.site_name,
        vehicle: header.drive.vehicle,
        drive_date: header.drive.date,
        driver: header.driver,
        dispatched_at: header.dispatched_at,
        boxes: out,
        rules_version: header.rules_version,
    }
}

/// ABO/RhD as printed (`A+`…`O-`), or `None` for unknown.
pub fn abo_rh_label(abo_rh: Option<AboRh>) -> &'static str {
    match abo_rh {
        Some(AboRh::APos) => "A+",
        Some(AboRh::ANeg) => "A-",
        Some(AboRh::BPos) => "B+",
        Some(AboRh::BNeg) => "B-",
        Some(AboRh::AbPos) => "AB+",
        Some(AboRh::AbNeg) => "AB-",
        Some(AboRh::OPos) => "O+",
        Some(AboRh::ONeg) => "O-",
        None => "unknown",
    }
}

const ABO_RH_ORDER: [Option<AboRh>; 9] = [
    Some(AboRh::APos),
    Some(AboRh::ANeg),
    Some(AboRh::BPos),
    Some(AboRh::BNeg),
    Some(AboRh::AbPos),
    Some(AboRh::AbNeg),
    Some(AboRh::OPos),
    Some(AboRh::ONeg),
    None,
];

/// How many bags of each kind a manifest carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManifestCounts {
    pub bags: u32,
    pub boxes: u32,
    /// Classes with at least one bag, in [`ProductClass::ALL`] order.
    pub by_class: Vec<ClassCount>,
    /// Groups with at least one bag, A+ … O-, then `unknown`.
    pub by_abo_rh: Vec<GroupCount>,
    /// Boxes with at least one reading outside their range.
    pub boxes_with_excursions: u32,
    /// Units downgraded or quarantined at dispatch.
    pub downgraded: u32,
    pub quarantined: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClassCount {
    pub class: ProductClass,
    pub bags: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GroupCount {
    /// `A+` … `O-`, or `unknown`.
    pub abo_rh: String,
    pub bags: u32,
}

impl Manifest {
    /// Counts by product class and by ABO/RhD (unknown counted as unknown): what the
    /// driver's screen, the printed manifest and the receiving desk all show.
    pub fn counts(&self) -> ManifestCounts {
        let bags_of = |class: ProductClass| -> u32 {
            self.boxes
                .iter()
                .filter(|b| b.class == class)
                .map(|b| b.bags.len() as u32)
                .sum()
        };
        let all_bags = || self.boxes.iter().flat_map(|b| b.bags.iter());
        ManifestCounts {
            bags: all_bags().count() as u32,
            boxes: self.boxes.len() as u32,
            by_class: ProductClass::ALL
                .into_iter()
                .map(|class| ClassCount {
                    class,
                    bags: bags_of(class),
                })
                .filter(|c| c.bags > 0)
                .collect(),
            by_abo_rh: ABO_RH_ORDER
                .into_iter()
                .map(|group| GroupCount {
                    abo_rh: abo_rh_label(group).to_owned(),
                    bags: all_bags().filter(|b| b.abo_rh == group).count() as u32,
                })
                .filter(|g| g.bags > 0)
                .collect(),
            boxes_with_excursions: self
                .boxes
                .iter()
                .filter(|b| !b.excursions.is_empty())
                .count() as u32,
            downgraded: all_bags()
                .filter(|b| b.unit.status == UnitStatus::Downgraded)
                .count() as u32,
            quarantined: all_bags()
                .filter(|b| b.unit.status == UnitStatus::Quarantined)
                .count() as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::{Arm, BagSet, BagSetKind, Donation, Drive, Outcome, SiteKind};
    use crate::rules::RuleSet;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn next_id() -> Uuid {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Uuid::from_u128(u128::from(
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        ))
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 1, 0, 0).unwrap()
    }

    fn donation(procedure: Procedure, kind: BagSetKind, minutes: Option<i64>) -> Donation {
        Donation {
            id: next_id(),
            donor_id: next_id(),
            drive_id: next_id(),
            screening_id: next_id(),
            din: "A999926000017".parse().unwrap(),
            procedure,
            bag_set: BagSet {
                kind,
                lot: "L1".into(),
            },
            planned_volume_ml: 400,
            collected_volume_ml: Some(400),
            started_at: t0(),
            ended_at: minutes.map(|m| t0() + Duration::minutes(m)),
            phlebotomist_id: next_id(),
            arm: Arm::Left,
            reactions: vec![],
            outcome: Outcome::Complete,
            recorded_at: t0(),
            supersedes: None,
            correction_reason: None,
            excluded_products: Vec::new(),
        }
    }

    fn rules() -> RuleSet {
        RuleSet::gb18467_2011()
    }

    #[test]
    fn whole_blood_goes_to_red_cell_boxes() {
        let d = donation(Procedure::WholeBlood, BagSetKind::Double, Some(8));
        assert_eq!(
            check_packing(&d, ProductClass::RedCellWholeBlood, &rules()),
            Ok(())
        );
        let err = check_packing(&d, ProductClass::PlateletWholeBlood, &rules()).unwrap_err();
        match &err {
            PackingRefusal::WrongClass { allowed, .. } => {
                assert_eq!(allowed, &vec![ProductClass::RedCellWholeBlood])
            }
            other => panic!("unexpected {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("A999926000017"), "{text}");
        assert!(text.contains("triple or quadruple"), "{text}");
        assert!(
            check_packing(&d, ProductClass::ApheresisPlatelets, &rules())
                .unwrap_err()
                .to_string()
                .contains("never goes into an apheresis platelet box")
        );
    }

    fn drawn(volume_ml: u32, seconds: i64) -> Donation {
        let mut d = donation(Procedure::WholeBlood, BagSetKind::Triple, None);
        d.planned_volume_ml = volume_ml;
        d.collected_volume_ml = Some(volume_ml);
        d.ended_at = Some(t0() + Duration::seconds(seconds));
        d
    }

    #[test]
    fn slow_draw_limits_depend_on_volume_at_the_boundary() {
        let r = rules();
        // 200 mL over 5 min, 300 mL over 7.5 min, 400 mL over 10 min.
        for (volume, limit_seconds) in [(200, 300), (300, 450), (400, 600)] {
            let at_limit = drawn(volume, limit_seconds);
            assert_eq!(slow_draw(&at_limit, &r), None, "{volume} mL at the limit");
            assert_eq!(
                check_packing(&at_limit, ProductClass::PlateletWholeBlood, &r),
                Ok(())
            );
            let over = drawn(volume, limit_seconds + 1);
            let slow = slow_draw(&over, &r).unwrap();
            assert_eq!(slow.volume_ml, volume);
            assert_eq!(
                excluded_products(&over, &r),
                vec![ProductClass::PlateletWholeBlood]
            );
            let err = check_packing(&over, ProductClass::PlateletWholeBlood, &r).unwrap_err();
            assert!(matches!(err, PackingRefusal::Excluded { .. }), "{err:?}");
            let text = err.to_string();
            assert!(text.contains("slow draw"), "{text}");
            assert!(text.contains(&format!("{volume} mL")), "{text}");
            // The slow bag still goes cold.
            assert_eq!(
                check_packing(&over, ProductClass::RedCellWholeBlood, &r),
                Ok(())
            );
        }
        // A 400 mL draw of 6 minutes is quick; a 200 mL draw of 6 minutes is slow.
        assert_eq!(slow_draw(&drawn(400, 360), &r), None);
        assert!(slow_draw(&drawn(200, 360), &r).is_some());
        // Between steps the next step up applies; above the table, its largest step.
        assert_eq!(r.collection.slow_draw_limit(250).unwrap().max_minutes, 7.5);
        assert_eq!(r.collection.slow_draw_limit(450).unwrap().max_minutes, 10.0);
        // Apheresis is never a slow draw, nor a draw with no recorded end.
        let mut apheresis = drawn(400, 3600);
        apheresis.procedure = Procedure::ApheresisPlatelets;
        assert_eq!(slow_draw(&apheresis, &r), None);
        let mut open = drawn(400, 3600);
        open.ended_at = None;
        assert_eq!(slow_draw(&open, &r), None);
    }

    #[test]
    fn a_table_with_the_old_single_limit_keeps_its_meaning() {
        let mut v: serde_json::Value =
            serde_json::from_str(crate::rules::GB18467_2011_JSON).unwrap();
        v["collection"] =
            serde_json::json!({"grams_per_ml": 1.05, "whole_blood_platelet_max_minutes": 15});
        let r = RuleSet::from_json(&v.to_string()).unwrap();
        assert_eq!(slow_draw(&drawn(200, 15 * 60), &r), None);
        assert!(slow_draw(&drawn(200, 15 * 60 + 1), &r).is_some());
    }

    #[test]
    fn products_excluded_at_screening_are_never_packed() {
        let r = rules();
        let mut d = drawn(400, 300);
        d.excluded_products = vec![ProductClass::PlateletWholeBlood];
        assert_eq!(
            allowed_classes(&d, &r),
            Ok(vec![ProductClass::RedCellWholeBlood])
        );
        let text = check_packing(&d, ProductClass::PlateletWholeBlood, &r)
            .unwrap_err()
            .to_string();
        assert!(text.contains("excluded at screening"), "{text}");
        assert!(text.contains("A999926000017"), "{text}");
        assert_eq!(
            check_packing(&d, ProductClass::RedCellWholeBlood, &r),
            Ok(())
        );
        let findings = collection_findings(&d, &r);
        assert_eq!(
            findings,
            vec![UnitFinding::Excluded {
                classes: vec![ProductClass::PlateletWholeBlood]
            }]
        );
        assert_eq!(UnitAssessment::new(findings).status, UnitStatus::Downgraded);
        // Everything excluded: no box at all, and the refusal says so.
        d.excluded_products = vec![
            ProductClass::PlateletWholeBlood,
            ProductClass::RedCellWholeBlood,
        ];
        assert_eq!(allowed_classes(&d, &r), Ok(vec![]));
        assert!(
            check_packing(&d, ProductClass::RedCellWholeBlood, &r)
                .unwrap_err()
                .to_string()
                .contains("allowed: none")
        );
    }

    #[test]
    fn unit_status_is_the_worst_finding() {
        let r = rules();
        assert_eq!(UnitAssessment::new(vec![]).status, UnitStatus::Suitable);
        assert!(UnitAssessment::default().is_suitable());
        let slow = collection_findings(&drawn(400, 601), &r);
        assert_eq!(
            UnitAssessment::new(slow.clone()).status,
            UnitStatus::Downgraded
        );
        let mut hot = slow;
        hot.push(UnitFinding::Excursion {
            box_code: "BOX-1".into(),
            range: TemperatureRange {
                min_c: 2.0,
                max_c: 10.0,
            },
            extreme_c: 12.0,
        });
        let a = UnitAssessment::new(hot);
        assert_eq!(a.status, UnitStatus::Quarantined);
        assert!(a.describe().starts_with("隔离"), "{}", a.describe());
        assert!(a.describe().contains("slow draw"), "{}", a.describe());
    }

    #[test]
    fn time_limits_per_class_at_the_boundary() {
        let r = rules();
        let at = |class, minutes| time_findings(class, t0(), t0() + Duration::minutes(minutes), &r);
        // Whole blood for platelets: 8 h to processing (downgrade: no platelets), 8 h FFP.
        assert!(at(ProductClass::PlateletWholeBlood, 8 * 60).is_empty());
        let over = at(ProductClass::PlateletWholeBlood, 8 * 60 + 1);
        assert!(matches!(
            over[..],
            [
                UnitFinding::OverTimeLimit {
                    action: UnitAction::Downgrade,
                    limit_hours: 8,
                    ..
                },
                UnitFinding::FfpWindowMissed { limit_hours: 8, .. }
            ]
        ));
        // Red cells: plasma past FFP after 8 h (downgrade), quarantined after 24 h.
        let red = at(ProductClass::RedCellWholeBlood, 9 * 60);
        assert_eq!(UnitAssessment::new(red).status, UnitStatus::Downgraded);
        let red = at(ProductClass::RedCellWholeBlood, 24 * 60 + 1);
        assert_eq!(UnitAssessment::new(red).status, UnitStatus::Quarantined);
        // Apheresis plasma: frozen within 6 h or it is not FFP.
        assert!(at(ProductClass::ApheresisPlasma, 6 * 60).is_empty());
        let plasma = at(ProductClass::ApheresisPlasma, 6 * 60 + 1);
        assert_eq!(
            UnitAssessment::new(plasma.clone()).status,
            UnitStatus::Downgraded
        );
        assert!(plasma[0].describe().contains("not fresh frozen plasma"));
    }

    #[test]
    fn platelet_whole_blood_needs_a_complete_timed_collection() {
        let mut partial = donation(Procedure::WholeBlood, BagSetKind::Triple, Some(8));
        partial.outcome = Outcome::Partial;
        assert!(
            check_packing(&partial, ProductClass::PlateletWholeBlood, &rules())
                .unwrap_err()
                .to_string()
                .contains("partial")
        );
        assert_eq!(
            check_packing(&partial, ProductClass::RedCellWholeBlood, &rules()),
            Ok(())
        );
        let untimed = donation(Procedure::WholeBlood, BagSetKind::Triple, None);
        assert!(
            check_packing(&untimed, ProductClass::PlateletWholeBlood, &rules())
                .unwrap_err()
                .to_string()
                .contains("end of collection was not recorded")
        );
    }

    #[test]
    fn apheresis_products_only_in_their_own_boxes() {
        let d = donation(
            Procedure::ApheresisPlatelets,
            BagSetKind::ApheresisKit,
            Some(60),
        );
        assert_eq!(
            check_packing(&d, ProductClass::ApheresisPlatelets, &rules()),
            Ok(())
        );
        for class in [
            ProductClass::RedCellWholeBlood,
            ProductClass::PlateletWholeBlood,
            ProductClass::ApheresisPlasma,
        ] {
            assert!(matches!(
                check_packing(&d, class, &rules()),
                Err(PackingRefusal::WrongClass { ref allowed, .. })
                    if allowed == &vec![ProductClass::ApheresisPlatelets]
            ));
        }
        let plasma = donation(
            Procedure::ApheresisPlasma,
            BagSetKind::ApheresisKit,
            Some(40),
        );
        assert_eq!(
            allowed_classes(&plasma, &rules()),
            Ok(vec![ProductClass::ApheresisPlasma])
        );
        for class in ProductClass::ALL {
            let result = check_packing(&plasma, class, &rules());
            if class == ProductClass::ApheresisPlasma {
                assert_eq!(result, Ok(()));
            } else {
                assert!(
                    result
                        .unwrap_err()
                        .to_string()
                        .contains("apheresis plasma boxes"),
                    "{class}"
                );
            }
        }
        // Whole blood never goes into an apheresis plasma box either.
        let wb = donation(Procedure::WholeBlood, BagSetKind::Triple, Some(5));
        assert!(
            check_packing(&wb, ProductClass::ApheresisPlasma, &rules())
                .unwrap_err()
                .to_string()
                .contains("never goes into an apheresis plasma box")
        );
    }

    #[test]
    fn aborted_and_on_chair_are_refused() {
        let mut d = donation(Procedure::WholeBlood, BagSetKind::Triple, Some(5));
        d.outcome = Outcome::Aborted;
        assert!(matches!(
            check_packing(&d, ProductClass::RedCellWholeBlood, &rules()),
            Err(PackingRefusal::Aborted { .. })
        ));
        d.outcome = Outcome::InProgress;
        assert!(matches!(
            check_packing(&d, ProductClass::RedCellWholeBlood, &rules()),
            Err(PackingRefusal::StillOnChair { .. })
        ));
    }

    fn reading(minute: i64, celsius: f64) -> ManifestReading {
        ManifestReading {
            at: t0() + Duration::minutes(minute),
            celsius,
        }
    }

    #[test]
    fn range_bounds_are_inclusive() {
        let red = rules()
            .cold_chain
            .class(ProductClass::RedCellWholeBlood)
            .unwrap()
            .range;
        assert!(red.contains(10.0));
        assert!(!red.contains(10.1));
        assert!(red.contains(2.0));
        assert!(!red.contains(1.9));
        assert!(excursions(&[reading(0, 10.0), reading(5, 2.0)], red).is_empty());
        assert_eq!(excursions(&[reading(0, 10.1)], red).len(), 1);
    }

    #[test]
    fn excursions_group_consecutive_readings_and_keep_the_extreme() {
        let range = TemperatureRange {
            min_c: 2.0,
            max_c: 10.0,
        };
        // Out of order on purpose: a logger import and typed readings interleave.
        let readings = [
            reading(30, 5.0),
            reading(10, 11.0),
            reading(0, 4.0),
            reading(20, 12.5),
            reading(40, 1.0),
        ];
        let found = excursions(&readings, range);
        assert_eq!(
            found,
            vec![
                Excursion {
                    from: t0() + Duration::minutes(10),
                    to: t0() + Duration::minutes(20),
                    extreme_c: 12.5,
                    readings: 2,
                },
                Excursion {
                    from: t0() + Duration::minutes(40),
                    to: t0() + Duration::minutes(40),
                    extreme_c: 1.0,
                    readings: 1,
                },
            ]
        );
    }

    #[test]
    fn logger_csv_english_with_offsets() {
        let rows = parse_logger_csv(
            "Logger,Time,Temperature (°C)\nT1,2026-05-01T09:00:00+08:00,4.5\nT1,2026-05-01T01:05:00Z,10.1\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].at, t0());
        assert_eq!(rows[0].celsius, 4.5);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[1].at, t0() + Duration::minutes(5));
    }

    #[test]
    fn logger_times_with_any_usual_offset_form() {
        for text in [
            "2026-05-01T09:00:00+08:00",
            "2026-05-01T09:00:00+0800",
            "2026-05-01 09:00:00+08:00",
            "2026-05-01T09:00+08:00",
            "2026-05-01T01:00:00Z",
            "2026-05-01T01:00:00.000Z",
            "2026-05-01 09:00",
            "2026-05-01 09:00:00",
            "2026/05/01 09:00:00",
            "2026-05-01T09:00:00",
        ] {
            assert_eq!(parse_logger_time(text), Some(t0()), "{text}");
        }
        for text in ["", "09:00", "2026-05-01", "2026-05-01 25:00", "yesterday"] {
            assert_eq!(parse_logger_time(text), None, "{text}");
        }
    }

    #[test]
    fn logger_csv_chinese_local_time_is_china_standard_time() {
        let rows = parse_logger_csv(
            "\u{feff}序号;记录时间;温度(℃)\n1;2026-05-01 09:00;22.0\n2;2026/05/01 09:10:30;23.5℃\n",
        )
        .unwrap();
        assert_eq!(rows[0].at, t0());
        assert_eq!(rows[1].at, t0() + Duration::seconds(630));
        assert_eq!(rows[1].celsius, 23.5);
    }

    #[test]
    fn logger_csv_errors_name_line_and_column() {
        let e =
            parse_logger_csv("time,temp\n2026-05-01 09:00,4\n2026-13-01 09:00,4\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(e.column.as_deref(), Some("time"));
        let e = parse_logger_csv("time,temp\n2026-05-01 09:00,warm\n").unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (Some(2), Some("temp")));
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = parse_logger_csv("time,temp\n2026-05-01 09:00,400\n").unwrap_err();
        assert!(e.problem.contains("between -50 and 80"), "{e}");
        let e = parse_logger_csv("when,how hot\n1,2\n").unwrap_err();
        assert!(e.problem.contains("time column"), "{e}");
        assert!(parse_logger_csv("time,temp\n").is_err());
        assert!(parse_logger_csv("").is_err());
    }

    proptest! {
        #[test]
        fn logger_csv_never_panics(text in "\\PC*") {
            let _ = parse_logger_csv(&text);
        }

        #[test]
        fn logger_csv_never_panics_on_near_misses(
            rows in proptest::collection::vec(("[0-9 :/T+-]{0,25}", "[-0-9.,℃°C ]{0,8}"), 0..6)
        ) {
            let mut text = "时间,温度\n".to_owned();
            for (t, c) in rows {
                text.push_str(&format!("{t},{c}\n"));
            }
            let _ = parse_logger_csv(&text);
        }
    }

    fn unit(donation: Donation, abo_rh: Option<AboRh>) -> PackedUnit {
        PackedUnit {
            donation,
            abo_rh,
            released_pieces: crate::labels::label_set(BagSetKind::Triple, 2).unwrap(),
            manual_pieces: Vec::new(),
        }
    }

    fn manifest() -> Manifest {
        let drive = Drive {
            id: next_id(),
            site_name: "人民广场".into(),
            site_kind: SiteKind::Vehicle,
            vehicle: Some("BUS-1".into()),
            date: chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
            crew: vec![],
            started_at: t0(),
            ended_at: None,
        };
        let open = |code: &str, class: ProductClass, min_c, max_c| TransportBox {
            id: next_id(),
            code: code.into(),
            class,
            range: TemperatureRange { min_c, max_c },
            drive_id: drive.id,
            opened_by: next_id(),
            opened_at: t0(),
        };
        let mut a = donation(Procedure::WholeBlood, BagSetKind::Triple, Some(8));
        a.din = "A999926000025".parse().unwrap();
        let mut b = donation(Procedure::WholeBlood, BagSetKind::Double, Some(9));
        b.started_at = t0() - Duration::hours(1);
        b.ended_at = None;
        let c = donation(
            Procedure::ApheresisPlatelets,
            BagSetKind::ApheresisKit,
            Some(50),
        );
        let red = open("BOX-2", ProductClass::RedCellWholeBlood, 2.0, 10.0);
        let plt = open("BOX-1", ProductClass::ApheresisPlatelets, 20.0, 24.0);
        let reading = |box_id, minute, celsius| TemperatureReading {
            id: next_id(),
            box_id,
            measured_at: t0() + Duration::minutes(minute),
            celsius,
            source: ReadingSource::Manual,
            recorded_by: next_id(),
            recorded_at: t0(),
        };
        build_manifest(
            ManifestHeader {
                id: next_id(),
                drive,
                device_id: next_id(),
                driver: Signatory {
                    staff_id: next_id(),
                    name: "司机".into(),
                },
                dispatched_at: t0() + Duration::hours(2),
                rules_version: "GB18467-2011/1".into(),
            },
            vec![
                BoxContents {
                    readings: vec![reading(red.id, 20, 11.0), reading(red.id, 10, 6.0)],
                    transport_box: red,
                    bags: vec![unit(a, Some(AboRh::APos)), unit(b, None)],
                },
                BoxContents {
                    readings: vec![reading(plt.id, 10, 22.0)],
                    transport_box: plt,
                    bags: vec![unit(c, Some(AboRh::APos))],
                },
            ],
            &rules(),
        )
    }

    #[test]
    fn manifest_orders_and_derives() {
        let m = manifest();
        assert_eq!(
            m.boxes.iter().map(|b| b.code.as_str()).collect::<Vec<_>>(),
            ["BOX-1", "BOX-2"]
        );
        let red = &m.boxes[1];
        assert_eq!(
            red.bags
                .iter()
                .map(|b| b.din.to_string())
                .collect::<Vec<_>>(),
            ["A999926000017", "A999926000025"]
        );
        // The bag with no recorded end counts from its start.
        assert_eq!(red.first_collection_at, Some(t0() - Duration::hours(1)));
        assert_eq!(red.readings[0].celsius, 6.0);
        assert_eq!(red.excursions.len(), 1);
        assert_eq!(red.excursions[0].extreme_c, 11.0);
        assert!(m.boxes[0].excursions.is_empty());
        // The tubes released with each bag travel on the manifest (not its containers
        // or record sheet).
        assert_eq!(red.bags[0].tubes.len(), 2);
        assert!(red.bags[0].tubes.iter().all(|p| is_sample_tube(*p)));
        // Every bag of the hot box is quarantined at dispatch, with why.
        assert!(
            red.bags
                .iter()
                .all(|b| b.unit.status == UnitStatus::Quarantined)
        );
        assert_eq!(m.boxes[0].bags[0].unit.status, UnitStatus::Suitable);
        let json = serde_json::to_value(&m.boxes[0].bags[0]).unwrap();
        assert!(json.get("unit").is_none(), "{json}");
    }

    #[test]
    fn manifest_counts_by_class_and_group() {
        let counts = manifest().counts();
        assert_eq!(counts.bags, 3);
        assert_eq!(counts.boxes, 2);
        assert_eq!(counts.boxes_with_excursions, 1);
        assert_eq!((counts.quarantined, counts.downgraded), (2, 0));
        assert_eq!(
            counts.by_class,
            vec![
                ClassCount {
                    class: ProductClass::RedCellWholeBlood,
                    bags: 2
                },
                ClassCount {
                    class: ProductClass::ApheresisPlatelets,
                    bags: 1
                },
            ]
        );
        assert_eq!(
            counts.by_abo_rh,
            vec![
                GroupCount {
                    abo_rh: "A+".into(),
                    bags: 2
                },
                GroupCount {
                    abo_rh: "unknown".into(),
                    bags: 1
                },
            ]
        );
    }
}
