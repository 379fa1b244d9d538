//! Cold chain on the vehicle: transport boxes, what may be packed in them, their
//! temperature logs, and the manifest the driver signs at dispatch.
//!
//! Ranges and time limits are data (`RuleSet::cold_chain`), like every other threshold.
//! The manifest is a snapshot: once signed it is never edited, and it is the one document
//! the station's receiving desk works from, whether it arrived by replication or by QR.

mod logger_csv;
mod manifest;
mod packing;
mod records;
mod unit;

pub use logger_csv::*;
pub use manifest::*;
pub use packing::*;
pub use records::*;
pub use unit::*;

// Product classes and temperature bands live in `crate::product` (the rules table uses
// them too); imported here for the submodules, which speak of them.
use crate::product::{ProductClass, TemperatureRange};

#[cfg(test)]
mod tests;
