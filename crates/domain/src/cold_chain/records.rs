//! What the driver records: transport boxes, packings, temperature readings, and the
//! excursions found in them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::*;
use crate::din::Din;
use crate::entities::RecordId;
use crate::messages::Message;

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

// Temperatures.

/// The widest value a box thermometer or logger can sensibly report; anything beyond is
/// a typing or file error, not a temperature.
pub const PLAUSIBLE_CELSIUS: TemperatureRange = TemperatureRange {
    min_c: -50.0,
    max_c: 80.0,
};

/// Checks a typed or imported temperature: a finite number a thermometer could show.
/// The refusal is [`implausible_celsius`] in English.
pub fn check_celsius(celsius: f64) -> Result<f64, String> {
    if !celsius.is_finite() || !PLAUSIBLE_CELSIUS.contains(celsius) {
        return Err(implausible_celsius(celsius).to_string());
    }
    Ok(celsius)
}

/// Why `celsius` was refused by [`check_celsius`] (`thermometer.implausible`).
pub fn implausible_celsius(celsius: f64) -> Message {
    Message::new("thermometer.implausible")
        .with("celsius", celsius.to_string())
        .with("min", PLAUSIBLE_CELSIUS.min_c.to_string())
        .with("max", PLAUSIBLE_CELSIUS.max_c.to_string())
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
