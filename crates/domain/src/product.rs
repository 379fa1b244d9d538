//! Product classes and the temperature bands they travel in: the vocabulary the rules
//! table, the records and the cold chain share (domain.md section 5).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::messages::Message;

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

    /// The class's name as screens, refusals and printed manifests say it
    /// (`product_class.*`).
    pub fn name(self) -> Message {
        Message::new(match self {
            ProductClass::RedCellWholeBlood => "product_class.red_cell_whole_blood",
            ProductClass::PlateletWholeBlood => "product_class.platelet_whole_blood",
            ProductClass::ApheresisPlatelets => "product_class.apheresis_platelets",
            ProductClass::ApheresisPlasma => "product_class.apheresis_plasma",
        })
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
