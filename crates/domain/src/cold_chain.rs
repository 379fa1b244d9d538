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
use crate::entities::{AboRh, RecordId};

/// What a transport box carries, which decides the temperature it must stay in
/// (domain.md section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductClass {
    /// Whole blood for red cells: cooled towards 2–10 °C.
    RedCellWholeBlood,
    /// Whole blood intended for platelets: 20–24 °C, processed within the station's limit.
    PlateletWholeBlood,
    /// Apheresis platelets: 20–24 °C.
    ApheresisPlatelets,
}

impl ProductClass {
    pub const ALL: [ProductClass; 3] = [
        ProductClass::RedCellWholeBlood,
        ProductClass::PlateletWholeBlood,
        ProductClass::ApheresisPlatelets,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProductClass::RedCellWholeBlood => "red_cell_whole_blood",
            ProductClass::PlateletWholeBlood => "platelet_whole_blood",
            ProductClass::ApheresisPlatelets => "apheresis_platelets",
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
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            ProductClass::RedCellWholeBlood => "whole blood for red cells",
            ProductClass::PlateletWholeBlood => "whole blood for platelets",
            ProductClass::ApheresisPlatelets => "apheresis platelets",
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
#[serde(deny_unknown_fields)]
pub struct TemperatureRange {
    pub min_c: f64,
    pub max_c: f64,
}

impl TemperatureRange {
    pub fn contains(&self, celsius: f64) -> bool {
        celsius >= self.min_c && celsius <= self.max_c
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
pub struct BoxPacking {
    pub id: RecordId,
    pub box_id: RecordId,
    pub donation_id: RecordId,
    pub din: Din,
    pub packed_by: RecordId,
    pub packed_at: DateTime<Utc>,
    pub removes: Option<RecordId>,
}

/// Where a temperature reading came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ReadingSource {
    /// Read off the box's thermometer and typed in.
    Manual,
    /// Imported from a data logger's CSV file.
    Logger { file_name: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct Excursion {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The reading furthest outside the range.
    pub extreme_c: f64,
    pub readings: u32,
}

/// Who signed, by name as well as id: the station may not hold the device's staff list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signatory {
    pub staff_id: RecordId,
    pub name: String,
}

/// One bag as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

/// One measured temperature, as the manifest carries it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ManifestReading {
    pub at: DateTime<Utc>,
    pub celsius: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
