//! ISBT 128 data structures on a label (ICCBBA ST-001): ABO/RhD codes, product codes,
//! blood-group special messages, dates, and parsing a barcode's data content.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::din::Din;
use crate::entities::AboRh;

use super::*;

/// ISBT 128 ABO/RhD code (the `gg` of `=%ggre`) for a known group.
pub fn abo_rh_code(group: AboRh) -> &'static str {
    match group {
        AboRh::ONeg => "95",
        AboRh::OPos => "51",
        AboRh::ANeg => "06",
        AboRh::APos => "62",
        AboRh::BNeg => "17",
        AboRh::BPos => "73",
        AboRh::AbNeg => "28",
        AboRh::AbPos => "84",
    }
}

pub(super) fn abo_rh_from_code(code: &str) -> Option<AboRh> {
    [
        AboRh::ONeg,
        AboRh::OPos,
        AboRh::ANeg,
        AboRh::APos,
        AboRh::BNeg,
        AboRh::BPos,
        AboRh::AbNeg,
        AboRh::AbPos,
    ]
    .into_iter()
    .find(|g| abo_rh_code(*g) == code)
}

/// What is printed in the ABO/RhD quadrant: `A RhD+` / `A 阳性`.
pub fn abo_rh_text(group: AboRh) -> (&'static str, &'static str) {
    match group {
        AboRh::APos => ("A", "RhD 阳性 POS"),
        AboRh::ANeg => ("A", "RhD 阴性 NEG"),
        AboRh::BPos => ("B", "RhD 阳性 POS"),
        AboRh::BNeg => ("B", "RhD 阴性 NEG"),
        AboRh::AbPos => ("AB", "RhD 阳性 POS"),
        AboRh::AbNeg => ("AB", "RhD 阴性 NEG"),
        AboRh::OPos => ("O", "RhD 阳性 POS"),
        AboRh::ONeg => ("O", "RhD 阴性 NEG"),
    }
}

/// ISBT 128 product code data content (`=<` + 8 characters): product description code
/// (`E0398`-style: one letter, four digits), type of donation, and a two-character
/// division code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCode {
    pub description: String,
    pub donation_type: char,
    pub division: String,
}

impl ProductCode {
    /// Checks the shape of each part; which codes exist is the station's reference
    /// data, not this crate's business.
    pub fn new(
        description: &str,
        donation_type: char,
        division: &str,
    ) -> Result<ProductCode, ScanError> {
        let d: Vec<char> = description.chars().collect();
        let shape_ok = d.len() == 5
            && d[0].is_ascii_uppercase()
            && d[1..].iter().all(char::is_ascii_digit)
            && (donation_type.is_ascii_uppercase() || donation_type.is_ascii_digit())
            && division.len() == 2
            && division
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c.is_ascii_lowercase());
        if !shape_ok {
            return Err(ScanError::Malformed {
                identifier: "=<",
                name: "product code",
                text: format!("{description}{donation_type}{division}"),
                expected: "a letter and 4 digits (E0398), one type-of-donation character, then a 2-character division code",
            });
        }
        Ok(ProductCode {
            description: description.to_owned(),
            donation_type,
            division: division.to_owned(),
        })
    }

    pub fn data_content(&self) -> String {
        format!(
            "=<{}{}{}",
            self.description, self.donation_type, self.division
        )
    }
}

/// A blood-group special message in the ABO/RhD data structure (`=%` + these two
/// characters): a valid value whose meaning is **stop**, not a parse error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BloodGroupMessage {
    /// `Md`: discard, to be destroyed.
    Discard,
    /// `Mq`: quarantine, hold for further processing.
    Quarantine,
    /// `Mx`: not for transfusion.
    NotForTransfusion,
    /// `00`: no ABO/RhD information; the unit may not be issued on this label.
    NoGroup,
}

impl BloodGroupMessage {
    pub const ALL: [BloodGroupMessage; 4] = [
        BloodGroupMessage::Discard,
        BloodGroupMessage::Quarantine,
        BloodGroupMessage::NotForTransfusion,
        BloodGroupMessage::NoGroup,
    ];

    pub fn code(self) -> &'static str {
        match self {
            BloodGroupMessage::Discard => "Md",
            BloodGroupMessage::Quarantine => "Mq",
            BloodGroupMessage::NotForTransfusion => "Mx",
            BloodGroupMessage::NoGroup => "00",
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            BloodGroupMessage::Discard => "STOP: discard, to be destroyed / 停止：报废销毁",
            BloodGroupMessage::Quarantine => "STOP: quarantine / 停止：隔离待处理",
            BloodGroupMessage::NotForTransfusion => {
                "STOP: not for transfusion / 停止：不得用于临床输血"
            }
            BloodGroupMessage::NoGroup => {
                "STOP: no ABO/RhD information on this label / 停止：标签无血型信息"
            }
        }
    }

    pub(super) fn from_code(code: &str) -> Option<BloodGroupMessage> {
        BloodGroupMessage::ALL
            .into_iter()
            .find(|m| m.code() == code)
    }
}

/// One ISBT 128 data structure, as printed in a symbol or read from a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataStructure {
    /// `=` DIN + flags. `flags` is `None` when the DIN was typed from the eye-readable
    /// text, which carries no flags.
    Din { din: Din, flags: Option<String> },
    /// `=%` ABO/RhD.
    AboRh { group: AboRh, rest: String },
    /// `=%` with a blood-group special message (`Md`, `Mq`, `Mx`, `00`): stop.
    BloodGroupMessage {
        message: BloodGroupMessage,
        rest: String,
    },
    /// `=<` product code.
    Product(ProductCode),
    /// `=>` expiry date.
    Expiry(NaiveDate),
    /// `&>` expiry date and time.
    ExpiryTime(NaiveDateTime),
    /// `=*` collection date.
    Collection(NaiveDate),
    /// `&*` collection date and time.
    CollectionTime(NaiveDateTime),
    /// `=)` container manufacturer and catalogue number, or `&)` container lot: printed
    /// by the bag maker, kept as read (the crew sometimes scans it by mistake).
    Container { identifier: String, data: String },
    /// `=+aabbb` compound message header (ST-001 section 2.4.23): `count` data
    /// structures follow; `reference` names a message of ICCBBA's table, `000` none.
    Compound { count: u8, reference: u16 },
}

impl DataStructure {
    pub fn data_content(&self) -> String {
        match self {
            DataStructure::Din { din, flags } => format!(
                "={}{}",
                din.as_str(),
                flags.as_deref().unwrap_or(crate::din::DEFAULT_FLAGS)
            ),
            DataStructure::AboRh { group, rest } => format!("=%{}{rest}", abo_rh_code(*group)),
            DataStructure::BloodGroupMessage { message, rest } => {
                format!("=%{}{rest}", message.code())
            }
            DataStructure::Product(p) => p.data_content(),
            DataStructure::Expiry(d) => format!("=>{}", cyyjjj(*d)),
            DataStructure::ExpiryTime(t) => format!("&>{}", cyyjjjhhmm(*t)),
            DataStructure::Collection(d) => format!("=*{}", cyyjjj(*d)),
            DataStructure::CollectionTime(t) => format!("&*{}", cyyjjjhhmm(*t)),
            DataStructure::Container { identifier, data } => format!("{identifier}{data}"),
            DataStructure::Compound { count, reference } => {
                format!("=+{count:02}{reference:03}")
            }
        }
    }

    /// The data identifier the structure starts with (`=`, `=%`, `&>`, ...).
    pub fn identifier(&self) -> &'static str {
        match self {
            DataStructure::Din { .. } => "=",
            DataStructure::AboRh { .. } | DataStructure::BloodGroupMessage { .. } => "=%",
            DataStructure::Product(_) => "=<",
            DataStructure::Expiry(_) => "=>",
            DataStructure::ExpiryTime(_) => "&>",
            DataStructure::Collection(_) => "=*",
            DataStructure::CollectionTime(_) => "&*",
            DataStructure::Container { identifier, .. } => {
                if identifier == "&)" {
                    "&)"
                } else {
                    "=)"
                }
            }
            DataStructure::Compound { .. } => "=+",
        }
    }

    /// ABO/RhD data structure for a group, or nothing when the group is unknown: a
    /// blank is safe, a guess is not.
    pub fn abo_rh(group: Option<AboRh>) -> Option<DataStructure> {
        group.map(|group| DataStructure::AboRh {
            group,
            rest: "00".to_owned(),
        })
    }

    /// The data content of several structures in one 2-D symbol: one alone as it is,
    /// several after the compound message header `=+aabbb` (reference `000`: not a
    /// message of ICCBBA's table).
    pub fn compound(structures: &[DataStructure]) -> String {
        let body: String = structures.iter().map(DataStructure::data_content).collect();
        match u8::try_from(structures.len()) {
            Ok(n) if n > 1 => format!(
                "{}{body}",
                DataStructure::Compound {
                    count: n,
                    reference: 0
                }
                .data_content()
            ),
            _ => body,
        }
    }
}

/// ISBT 128 date `cyyjjj`: century (0 = 2000s), year in century, ordinal day.
pub fn cyyjjj(date: NaiveDate) -> String {
    let year = date.year();
    format!(
        "{}{:02}{:03}",
        (year / 100 - 20).rem_euclid(10),
        year.rem_euclid(100),
        date.ordinal()
    )
}

pub(super) fn cyyjjjhhmm(t: NaiveDateTime) -> String {
    format!("{}{:02}{:02}", cyyjjj(t.date()), t.hour(), t.minute())
}

pub(super) fn parse_cyyjjj(text: &str) -> Option<NaiveDate> {
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let c: i32 = text.get(0..1)?.parse().ok()?;
    let yy: i32 = text.get(1..3)?.parse().ok()?;
    let jjj: u32 = text.get(3..6)?.parse().ok()?;
    NaiveDate::from_yo_opt(2000 + c * 100 + yy, jjj)
}

pub(super) fn parse_cyyjjjhhmm(text: &str) -> Option<NaiveDateTime> {
    let date = parse_cyyjjj(text.get(0..6)?)?;
    if text.len() != 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hh: u32 = text.get(6..8)?.parse().ok()?;
    let mm: u32 = text.get(8..10)?.parse().ok()?;
    date.and_hms_opt(hh, mm, 0)
}
