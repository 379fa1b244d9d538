//! Labels: which labels a donation needs, what each carries, how a scan is read and
//! whether it belongs to the donation in the chair.
//!
//! Everything here is pure so the interlocks can be tested without a printer, a
//! scanner or a store; rendering lives in `lifebridge-print`, recording in the store.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::din::{Din, DinError, DinFlag};
// Re-exported: callers name pieces and tube counts through `labels`.
use crate::entities::{AboRh, BagSetKind, Donation, ScanResult};
pub use crate::label_piece::{
    DEFAULT_TUBE_COUNT, LOCAL_TUBE_FLAG_BASE, LabelKind, LabelPiece, MAX_TUBE_COUNT,
};
use crate::messages::Message;

pub use crate::common::china_local;

impl fmt::Display for LabelPiece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelSetError {
    #[error("tube count {got} is out of range: allowed 1-{MAX_TUBE_COUNT}")]
    TubeCount { got: u8 },
}

/// The labels a donation with bag set `bag_set` needs, in the order they are printed:
/// primary bag, each satellite, each sample tube, the donor record sheet.
pub fn label_set(bag_set: BagSetKind, tubes: u8) -> Result<Vec<LabelPiece>, LabelSetError> {
    if !(1..=MAX_TUBE_COUNT).contains(&tubes) {
        return Err(LabelSetError::TubeCount { got: tubes });
    }
    let mut set = vec![LabelPiece::new(LabelKind::Bag, 1)];
    set.extend((2..=bag_set.bag_count()).map(|n| LabelPiece::new(LabelKind::Satellite, n)));
    set.extend((1..=tubes).map(|n| LabelPiece::new(LabelKind::Tube, n)));
    set.push(LabelPiece::new(LabelKind::Record, 1));
    Ok(set)
}

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

fn abo_rh_from_code(code: &str) -> Option<AboRh> {
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

    fn from_code(code: &str) -> Option<BloodGroupMessage> {
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

fn cyyjjjhhmm(t: NaiveDateTime) -> String {
    format!("{}{:02}{:02}", cyyjjj(t.date()), t.hour(), t.minute())
}

fn parse_cyyjjj(text: &str) -> Option<NaiveDate> {
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let c: i32 = text.get(0..1)?.parse().ok()?;
    let yy: i32 = text.get(1..3)?.parse().ok()?;
    let jjj: u32 = text.get(3..6)?.parse().ok()?;
    NaiveDate::from_yo_opt(2000 + c * 100 + yy, jjj)
}

fn parse_cyyjjjhhmm(text: &str) -> Option<NaiveDateTime> {
    let date = parse_cyyjjj(text.get(0..6)?)?;
    if text.len() != 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hh: u32 = text.get(6..8)?.parse().ok()?;
    let mm: u32 = text.get(8..10)?.parse().ok()?;
    date.and_hms_opt(hh, mm, 0)
}

/// Why scanner input could not be read. Each names what was wrong and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("nothing was scanned (after removing scanner prefixes, suffixes and blanks)")]
    Empty,
    #[error(
        "unrecognised data at position {position}: {text:?}; expected an ISBT 128 data identifier (= DIN, =% ABO/RhD, =< product, => / &> expiry, =* / &* collection, =) / &) container, =+ compound header) or a typed DIN with its check character"
    )]
    UnknownIdentifier { position: usize, text: String },
    #[error("{name} ({identifier}) data {text:?} is malformed: expected {expected}")]
    Malformed {
        identifier: &'static str,
        name: &'static str,
        text: String,
        expected: &'static str,
    },
    #[error("{name} ({identifier}) is cut short: needs {needed} characters, found {found}")]
    Truncated {
        identifier: &'static str,
        name: &'static str,
        needed: usize,
        found: usize,
    },
    #[error("the compound message header announces {announced} data structures but {found} follow")]
    CompoundCount { announced: u8, found: usize },
    #[error(
        "a typed entry must be the DIN as printed under the barcode, with its boxed check character (e.g. G1234 26 012345 X); ISBT 128 data content starting with '=' or '&' is read only from a scanner"
    )]
    TypedDataContent,
    #[error(
        "the scanner read {symbology} data {text:?}, which is not an ISBT 128 label (no data identifier '=' or '&')"
    )]
    NotIsbt128 { symbology: String, text: String },
    // Not `#[from]`: that would also make the DinError the `source`, and an error chain
    // (`{:#}`, the CLI's stderr) would print its reason twice.
    #[error("DIN: {0}")]
    Din(DinError),
}

impl From<DinError> for ScanError {
    fn from(e: DinError) -> ScanError {
        ScanError::Din(e)
    }
}

/// Folds what a Chinese IME types in full-width mode (`＝Ｚ９...`, the ideographic
/// space) to ASCII, the width folding NFKC does for these characters, and drops control
/// characters (CR, LF, TAB, GS, STX/ETX) and surrounding blanks.
pub fn normalize_input(raw: &str) -> String {
    let folded: String = raw
        .chars()
        .map(crate::din::fold_full_width)
        .filter(|c| !c.is_control())
        .collect();
    folded.trim().to_owned()
}

/// Splits an AIM symbology identifier (`]C0` Code 128, `]d2` Data Matrix, `]Q1` QR,
/// ...) off normalised input.
fn split_aim(text: &str) -> (Option<&str>, &str) {
    let mut chars = text.chars();
    let aim = chars.next() == Some(']')
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    match (aim, text.get(..3), text.get(3..)) {
        (true, Some(id), Some(rest)) => (Some(id), rest.trim()),
        _ => (None, text),
    }
}

/// Removes what scanners add around the data: an AIM symbology identifier, control
/// characters and surrounding blanks, after folding full-width characters. Interior
/// blanks are kept: typed DINs use them as separators.
pub fn strip_scanner_noise(raw: &str) -> String {
    let text = normalize_input(raw);
    split_aim(&text).1.to_owned()
}

/// Reads scanner data content into the data structures it holds: one, several
/// concatenated, or several after a compound message header (whose count must agree).
/// Text that does not start with a data identifier is read as a DIN typed from the
/// eye-readable label, whose check character is then required.
pub fn parse_scan(raw: &str) -> Result<Vec<DataStructure>, ScanError> {
    let text = strip_scanner_noise(raw);
    if text.is_empty() {
        return Err(ScanError::Empty);
    }
    if !text.starts_with(['=', '&']) {
        return Ok(vec![DataStructure::Din {
            din: Din::parse_typed(&text)?,
            flags: None,
        }]);
    }
    parse_data_content(&text)
}

fn parse_data_content(text: &str) -> Result<Vec<DataStructure>, ScanError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let id: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let take = |skip: usize, len: usize, identifier: &'static str, name: &'static str| {
            let start = i + skip;
            let found = chars.len().saturating_sub(start).min(len);
            if found < len {
                return Err(ScanError::Truncated {
                    identifier,
                    name,
                    needed: len,
                    found,
                });
            }
            Ok(chars[start..start + len].iter().collect::<String>())
        };
        let malformed = |identifier, name, text: String, expected| ScanError::Malformed {
            identifier,
            name,
            text,
            expected,
        };
        let (structure, used) = match id.as_str() {
            "=%" => {
                let data = take(2, 4, "=%", "ABO/RhD")?;
                let code = data.get(0..2).unwrap_or_default();
                let rest = data.get(2..).unwrap_or_default().to_owned();
                let structure = if let Some(group) = abo_rh_from_code(code) {
                    DataStructure::AboRh { group, rest }
                } else if let Some(message) = BloodGroupMessage::from_code(code) {
                    DataStructure::BloodGroupMessage { message, rest }
                } else {
                    return Err(malformed(
                        "=%",
                        "ABO/RhD",
                        data.clone(),
                        "one of the group codes 95 51 06 62 17 73 28 84, or a special message Md Mq Mx 00, followed by 2 characters",
                    ));
                };
                (structure, 6)
            }
            "=+" => {
                let data = take(2, 5, "=+", "compound message header")?;
                let count = data.get(0..2).and_then(|c| c.parse::<u8>().ok());
                let reference = data.get(2..5).and_then(|c| c.parse::<u16>().ok());
                match (count, reference) {
                    (Some(count), Some(reference))
                        if i == 0 && data.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        (DataStructure::Compound { count, reference }, 7)
                    }
                    _ => {
                        return Err(malformed(
                            "=+",
                            "compound message header",
                            data.clone(),
                            "aabbb at the start of the symbol: 2 digits counting the data structures that follow, 3 digits of message reference",
                        ));
                    }
                }
            }
            "=<" => {
                let data = take(2, 8, "=<", "product code")?;
                let mut d = data.chars();
                let description: String = d.by_ref().take(5).collect();
                let donation_type = d.next().unwrap_or(' ');
                let division: String = d.collect();
                (
                    DataStructure::Product(ProductCode::new(
                        &description,
                        donation_type,
                        &division,
                    )?),
                    10,
                )
            }
            "=>" | "=*" => {
                let (name, ctor): (&'static str, fn(NaiveDate) -> DataStructure) = if id == "=>" {
                    ("expiry date", DataStructure::Expiry)
                } else {
                    ("collection date", DataStructure::Collection)
                };
                let ident = if id == "=>" { "=>" } else { "=*" };
                let data = take(2, 6, ident, name)?;
                let date = parse_cyyjjj(&data).ok_or_else(|| {
                    malformed(
                        ident,
                        name,
                        data.clone(),
                        "cyyjjj: century, year, day of year",
                    )
                })?;
                (ctor(date), 8)
            }
            "&>" | "&*" => {
                let (ident, name, ctor): (
                    &'static str,
                    &'static str,
                    fn(NaiveDateTime) -> DataStructure,
                ) = if id == "&>" {
                    ("&>", "expiry date and time", DataStructure::ExpiryTime)
                } else {
                    (
                        "&*",
                        "collection date and time",
                        DataStructure::CollectionTime,
                    )
                };
                let data = take(2, 10, ident, name)?;
                let t = parse_cyyjjjhhmm(&data).ok_or_else(|| {
                    malformed(
                        ident,
                        name,
                        data.clone(),
                        "cyyjjjhhmm: century, year, day of year, hour, minute",
                    )
                })?;
                (ctor(t), 12)
            }
            "=)" | "&)" => {
                let ident = if id == "=)" { "=)" } else { "&)" };
                let data = take(2, 10, ident, "container data")?;
                (
                    DataStructure::Container {
                        identifier: ident.to_owned(),
                        data,
                    },
                    12,
                )
            }
            _ if chars[i] == '=' && chars.get(i + 1).is_some_and(char::is_ascii_alphanumeric) => {
                let data = take(0, 16, "=", "DIN")?;
                let (din, flags) = Din::parse_barcode(&data)?;
                (
                    DataStructure::Din {
                        din,
                        flags: Some(flags),
                    },
                    16,
                )
            }
            _ => {
                return Err(ScanError::UnknownIdentifier {
                    position: i + 1,
                    text: chars[i..].iter().take(12).collect(),
                });
            }
        };
        out.push(structure);
        i += used;
    }
    if let Some(DataStructure::Compound { count, .. }) = out.first()
        && usize::from(*count) != out.len() - 1
    {
        return Err(ScanError::CompoundCount {
            announced: *count,
            found: out.len() - 1,
        });
    }
    Ok(out)
}

/// How an entry reached a scan field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryMethod {
    /// A scanner's symbology identifier (AIM, e.g. `]C0`, `]d2`) and then ISBT 128 data
    /// content: a label's own symbol was read.
    Scanned,
    /// ISBT 128 data content without a symbology identifier: typed, or a scanner not
    /// set up to send AIM identifiers. It names a DIN but proves no label was read.
    Unprefixed,
    /// The eye-readable DIN typed from the label, with its check character verified.
    Typed,
}

/// One entry at a scan field, classified: the one reading of scanner and keyboard input
/// used wherever a DIN is verified (the chair, packing, the receiving desk, the CLI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelEntry {
    pub method: EntryMethod,
    /// The AIM symbology identifier the scanner sent (`]C0`, `]d2`, ...).
    pub symbology: Option<String>,
    pub din: Din,
    /// The DIN's flag characters; `None` when typed (eye-readable text has none).
    pub flags: Option<String>,
    /// What the flag value means (ICCBBA ST-001 Table 3).
    pub flag: Option<DinFlag>,
    /// The piece of a donation's set the flags name in this facility's table.
    pub piece: Option<LabelPiece>,
    /// Whether a check value was present and agreed with the DIN: the typed check
    /// character, or flags 60-96. A scan with flags `01` carries none.
    pub check_character_verified: bool,
    /// Every data structure read, in order.
    pub structures: Vec<DataStructure>,
}

impl LabelEntry {
    /// A blood-group special message in the entry: the unit must stop.
    pub fn stop(&self) -> Option<BloodGroupMessage> {
        self.structures.iter().find_map(|s| match s {
            DataStructure::BloodGroupMessage { message, .. } => Some(*message),
            _ => None,
        })
    }

    /// Whether this entry proves the label of a piece was read: a scan (symbology
    /// identifier and data identifier) whose flags name the piece.
    pub fn scanned_piece(&self) -> Option<LabelPiece> {
        (self.method == EntryMethod::Scanned)
            .then_some(self.piece)
            .flatten()
    }
}

fn entry_from(
    method: EntryMethod,
    symbology: Option<&str>,
    structures: Vec<DataStructure>,
    raw: &str,
) -> Result<LabelEntry, ScanError> {
    let Some((din, flags)) = structures.iter().find_map(|s| match s {
        DataStructure::Din { din, flags } => Some((din.clone(), flags.clone())),
        _ => None,
    }) else {
        return Err(ScanError::Malformed {
            identifier: "=",
            name: "DIN",
            text: strip_scanner_noise(raw),
            expected: "a donation identification number; this symbol holds other data (scan the DIN barcode, top left)",
        });
    };
    let flag = flags.as_deref().map(DinFlag::parse).transpose()?;
    Ok(LabelEntry {
        method,
        symbology: symbology.map(str::to_owned),
        piece: flag.and_then(LabelPiece::from_flag),
        check_character_verified: method == EntryMethod::Typed
            || matches!(flag, Some(DinFlag::CheckValue { .. })),
        din,
        flags,
        flag,
        structures,
    })
}

/// Classifies and reads what arrived at a scan field (a keyboard-wedge scanner or the
/// keyboard): a symbology identifier then ISBT 128 data is a scan; data content without
/// one is [`EntryMethod::Unprefixed`]; anything else is a DIN typed from the label, and
/// its check character is required. Full-width input is folded, not refused.
pub fn read_entry(raw: &str) -> Result<LabelEntry, ScanError> {
    let text = normalize_input(raw);
    let (aim, data) = split_aim(&text);
    if data.is_empty() {
        return Err(ScanError::Empty);
    }
    match aim {
        Some(symbology) => {
            if !data.starts_with(['=', '&']) {
                return Err(ScanError::NotIsbt128 {
                    symbology: symbology.to_owned(),
                    text: data.chars().take(40).collect(),
                });
            }
            entry_from(
                EntryMethod::Scanned,
                Some(symbology),
                parse_data_content(data)?,
                raw,
            )
        }
        None if data.starts_with(['=', '&']) => entry_from(
            EntryMethod::Unprefixed,
            None,
            parse_data_content(data)?,
            raw,
        ),
        None => read_typed(data),
    }
}

/// Reads what a person typed as a DIN: the eye-readable text with its check character,
/// which must be present and match. Data content (`=...`) is refused: it is no proof
/// that anything was read off a label.
pub fn read_typed(raw: &str) -> Result<LabelEntry, ScanError> {
    let text = normalize_input(raw);
    if text.is_empty() {
        return Err(ScanError::Empty);
    }
    if text.starts_with(['=', '&', ']']) {
        return Err(ScanError::TypedDataContent);
    }
    let din = Din::parse_typed(&text)?;
    entry_from(
        EntryMethod::Typed,
        None,
        vec![DataStructure::Din { din, flags: None }],
        raw,
    )
}

/// Reads a scanner's output (with or without its symbology identifier) as a scan, for
/// callers that know the text came from a scanner: the CLI's `label read`, the camera.
pub fn read_scanned(raw: &str) -> Result<LabelEntry, ScanError> {
    let text = normalize_input(raw);
    let (aim, data) = split_aim(&text);
    if data.is_empty() {
        return Err(ScanError::Empty);
    }
    if !data.starts_with(['=', '&']) {
        return Err(ScanError::NotIsbt128 {
            symbology: aim.unwrap_or("the scanner").to_owned(),
            text: data.chars().take(40).collect(),
        });
    }
    entry_from(
        if aim.is_some() {
            EntryMethod::Scanned
        } else {
            EntryMethod::Unprefixed
        },
        aim,
        parse_data_content(data)?,
        raw,
    )
}

/// The DIN (and piece, when the flags name one) that a scan identifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedLabel {
    pub din: Din,
    pub piece: Option<LabelPiece>,
}

/// Why an entry at packing or the receiving desk was refused: unreadable, or read but
/// not a scan, so it proves no label was read (typing is the manual-entry path there).
/// `Display` is the English text of [`LabelScanError::message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelScanError {
    #[error(transparent)]
    Unreadable(#[from] ScanError),
    #[error("{}", self.message())]
    Typed { din: Din },
    #[error("{}", self.message())]
    Unprefixed { din: Din },
}

impl LabelScanError {
    /// The refusal for the person at the scanner (`label.typed_not_scanned`, …).
    pub fn message(&self) -> Message {
        match self {
            LabelScanError::Unreadable(e) => {
                Message::new("scan.unreadable").with("detail", e.to_string())
            }
            LabelScanError::Typed { din } => {
                Message::new("scan.typed_not_scanned").with("din", din.to_string())
            }
            LabelScanError::Unprefixed { din } => {
                Message::new("scan.not_a_scan").with("din", din.to_string())
            }
        }
    }
}

/// Reads an entry that must be a scan of a label (packing, the receiving desk): the
/// same reading as at the chair ([`read_entry`]); only a scan (symbology identifier,
/// then ISBT 128 data) is accepted. A typed DIN, with or without its check character,
/// and data content without a symbology identifier are refused: there, typing is the
/// manual-entry path (check character, reason, a second person's PIN).
pub fn read_label_scan(raw: &str) -> Result<ScannedLabel, LabelScanError> {
    let entry = read_entry(raw)?;
    match entry.method {
        EntryMethod::Scanned => Ok(ScannedLabel {
            din: entry.din,
            piece: entry.piece,
        }),
        EntryMethod::Typed => Err(LabelScanError::Typed { din: entry.din }),
        EntryMethod::Unprefixed => Err(LabelScanError::Unprefixed { din: entry.din }),
    }
}

/// What the verification of one entry against the donation in the chair decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Matched(LabelPiece),
    /// The DIN belongs to another donation this device knows.
    OtherDonation {
        din: Din,
    },
    /// The DIN is not one this device issued or knows.
    UnknownDin {
        din: Din,
    },
    /// The right DIN, but the flags name a piece this donation's set does not have.
    NotInSet {
        piece: LabelPiece,
    },
    /// This piece was already verified.
    Duplicate {
        piece: LabelPiece,
    },
    /// Typed, or data content without a scanner's symbology identifier: it proves no
    /// label was read, so it verifies nothing (manual entry is the exception path).
    NotScanned {
        method: EntryMethod,
    },
    /// A scan of the right DIN whose flags name no piece (`00`, `05`, a check value).
    NoPiece {
        flags: String,
    },
}

impl Verdict {
    pub fn scan_result(&self) -> ScanResult {
        match self {
            Verdict::Matched(_) => ScanResult::Matched,
            // A label printed for a different set is, for this donation, someone
            // else's label: refuse it the same way.
            Verdict::OtherDonation { .. } | Verdict::NotInSet { .. } => ScanResult::OtherDonation,
            Verdict::UnknownDin { .. } => ScanResult::UnknownDin,
            Verdict::Duplicate { .. } => ScanResult::Duplicate,
            Verdict::NotScanned { .. } => ScanResult::NotScanned,
            Verdict::NoPiece { .. } => ScanResult::NoPiece,
        }
    }

    pub fn is_match(&self) -> bool {
        matches!(self, Verdict::Matched(_))
    }
}

/// Does `entry` verify a piece of the donation whose DIN is `expected` and whose label
/// set is `set`, given the pieces already `verified`? `din_known` says whether this
/// device knows the DIN read (issued it, or holds it in a registered range).
///
/// Only a scan of a piece's own symbol verifies that piece: its flags say which piece.
/// A typed DIN, with or without check character, verifies nothing here.
pub fn verify_entry(
    expected: &Din,
    set: &[LabelPiece],
    verified: &BTreeSet<LabelPiece>,
    entry: &LabelEntry,
    din_known: bool,
) -> Verdict {
    if entry.din != *expected {
        return if din_known {
            Verdict::OtherDonation {
                din: entry.din.clone(),
            }
        } else {
            Verdict::UnknownDin {
                din: entry.din.clone(),
            }
        };
    }
    if entry.method != EntryMethod::Scanned {
        return Verdict::NotScanned {
            method: entry.method,
        };
    }
    match entry.piece {
        Some(piece) if !set.contains(&piece) => Verdict::NotInSet { piece },
        Some(piece) if verified.contains(&piece) => Verdict::Duplicate { piece },
        Some(piece) => Verdict::Matched(piece),
        None => Verdict::NoPiece {
            flags: entry.flags.clone().unwrap_or_default(),
        },
    }
}

/// Everything printed on one label. Dates are China Standard Time calendar values.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelContent {
    pub din: Din,
    pub piece: LabelPiece,
    pub facility_name: String,
    /// `None` prints an empty ABO/RhD quadrant: unknown on the bus, never guessed.
    pub abo_rh: Option<AboRh>,
    pub collected_at: Option<NaiveDateTime>,
    pub volume_ml: Option<u32>,
    pub product: Option<ProductCode>,
    /// Expiry date and time of the component (`&>`, the structure ST-001 recommends
    /// for components); blank until processing decides the component.
    pub expiry: Option<NaiveDateTime>,
}

/// The text of the four quadrants (domain.md section 1): top-left DIN, facility and
/// collection date; top-right ABO/RhD; bottom-left product; bottom-right expiry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Quadrants {
    pub top_left: Vec<String>,
    pub top_right: Vec<String>,
    pub bottom_left: Vec<String>,
    pub bottom_right: Vec<String>,
}

impl LabelContent {
    /// A label with only what a pre-printed roll knows: DIN, piece and facility.
    pub fn blank(din: Din, piece: LabelPiece, facility_name: &str) -> LabelContent {
        LabelContent {
            din,
            piece,
            facility_name: facility_name.to_owned(),
            abo_rh: None,
            collected_at: None,
            volume_ml: None,
            product: None,
            expiry: None,
        }
    }

    /// The label of `piece` for a recorded donation. `abo_rh` is the donor's confirmed
    /// group from the station, or `None`: a bedside rapid test is not a typing to print.
    /// Expiry stays blank: it depends on the component, which processing decides.
    pub fn for_donation(
        donation: &Donation,
        piece: LabelPiece,
        facility_name: &str,
        abo_rh: Option<AboRh>,
        product: Option<ProductCode>,
    ) -> LabelContent {
        LabelContent {
            din: donation.din.clone(),
            piece,
            facility_name: facility_name.to_owned(),
            abo_rh,
            collected_at: Some(china_local(donation.started_at)),
            volume_ml: donation.collected_volume_ml,
            product,
            expiry: None,
        }
    }

    pub fn din_structure(&self) -> DataStructure {
        DataStructure::Din {
            din: self.din.clone(),
            flags: Some(self.piece.flags()),
        }
    }

    /// Code 128 data content: `=` + DIN + the piece's flags.
    pub fn code128_data(&self) -> String {
        self.din_structure().data_content()
    }

    /// The data structures the 2-D symbol carries: the DIN and, on bag labels, the
    /// collection date/time, product, ABO/RhD and expiry date/time that are known.
    pub fn symbol_structures(&self) -> Vec<DataStructure> {
        let mut out = vec![self.din_structure()];
        if matches!(self.piece.kind, LabelKind::Bag | LabelKind::Satellite) {
            if let Some(t) = self.collected_at {
                out.push(DataStructure::CollectionTime(t));
            }
            if let Some(p) = &self.product {
                out.push(DataStructure::Product(p.clone()));
            }
            if let Some(g) = DataStructure::abo_rh(self.abo_rh) {
                out.push(g);
            }
            if let Some(e) = self.expiry {
                out.push(DataStructure::ExpiryTime(e));
            }
        }
        out
    }

    /// Data Matrix (ECC 200) data content: [`Self::symbol_structures`], after the
    /// compound message header `=+aabbb` when there are several (ST-001 section 2.4.23).
    pub fn datamatrix_data(&self) -> String {
        DataStructure::compound(&self.symbol_structures())
    }

    pub fn quadrants(&self) -> Quadrants {
        let mut q = Quadrants::default();
        q.top_left.push(self.facility_name.clone());
        q.top_left.push(self.piece.describe());
        if let Some(t) = self.collected_at {
            q.top_left
                .push(format!("采集 Collected {}", t.format("%Y-%m-%d %H:%M")));
        }
        if let Some((abo, rh)) = self.abo_rh.map(abo_rh_text) {
            q.top_right.push(abo.to_owned());
            q.top_right.push(rh.to_owned());
        }
        if let Some(p) = &self.product {
            q.bottom_left.push(format!(
                "{}{}{}",
                p.description, p.donation_type, p.division
            ));
        }
        if let Some(v) = self.volume_ml {
            q.bottom_left.push(format!("{v} mL"));
        }
        if let Some(e) = self.expiry {
            q.bottom_right
                .push(format!("失效 Expires {}", e.format("%Y-%m-%d %H:%M")));
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::din::FacilityId;

    fn din(seq: u32) -> Din {
        let f: FacilityId = "G1234".parse().unwrap();
        Din::new(&f, 26, seq).unwrap()
    }

    fn scan(d: &Din, piece: LabelPiece) -> String {
        format!("]C0={}{}\r\n", d.as_str(), piece.flags())
    }

    #[test]
    fn triple_set_has_three_bags_default_tubes_and_the_record() {
        let set = label_set(BagSetKind::Triple, DEFAULT_TUBE_COUNT).unwrap();
        let flags: Vec<String> = set.iter().map(|p| p.flags()).collect();
        // ST-001 Table 3: containers 01-03, test tube 07, NAT tube 09, donor record 08.
        assert_eq!(flags, ["01", "02", "03", "07", "09", "08"]);
        assert_eq!(set[1].kind, LabelKind::Satellite);
        assert!(label_set(BagSetKind::Single, 0).is_err());
        assert!(label_set(BagSetKind::Single, 10).is_err());
        assert_eq!(label_set(BagSetKind::ApheresisKit, 1).unwrap().len(), 3);
        let nine = label_set(BagSetKind::Single, 9).unwrap();
        let tubes: Vec<String> = nine[1..10].iter().map(|p| p.flags()).collect();
        assert_eq!(
            tubes,
            ["07", "09", "23", "24", "25", "26", "27", "28", "29"]
        );
    }

    #[test]
    fn flags_round_trip_and_other_flags_name_no_piece() {
        for p in label_set(BagSetKind::Quadruple, 9).unwrap() {
            assert_eq!(LabelPiece::from_flags(&p.flags()), Some(p));
        }
        for f in [
            "00", "05", "06", "10", "20", "22", "30", "59", "60", "96", "T1", "R1", "0", "011",
        ] {
            assert_eq!(LabelPiece::from_flags(f), None, "{f}");
        }
        assert_eq!(
            LabelPiece::from_flags("17"),
            Some(LabelPiece::new(LabelKind::Satellite, 7))
        );
    }

    #[test]
    fn reserved_flags_are_refused_with_what_is_allowed() {
        let d = din(3);
        for flags in ["T1", "R1", "11", "97", "99", "A0"] {
            let e = read_entry(&format!("]C0={}{flags}", d.as_str())).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("{flags:?}"))
                    && msg.contains("reserved")
                    && msg.contains("08 (donor record)"),
                "{msg}"
            );
        }
    }

    #[test]
    fn scanner_prefixes_and_suffixes_are_stripped() {
        let d = din(12345);
        for raw in [
            format!("]C0{}\r\n", d.barcode_data()),
            format!("]d2{}\t", d.barcode_data()),
            format!("\u{2}]C0{}\u{3}", d.barcode_data()),
            format!("  ]C0{}\n", d.barcode_data()),
        ] {
            let e = read_entry(&raw).unwrap();
            assert_eq!(e.din, d);
            assert_eq!(e.piece, None);
            assert_eq!(e.method, EntryMethod::Scanned, "{raw:?}");
        }
    }

    #[test]
    fn full_width_ime_input_is_folded_not_refused() {
        let d = din(3);
        let ascii = format!("]C0={}07", d.as_str());
        let wide: String = ascii
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
            .collect();
        assert!(wide.starts_with('］') && wide.contains('＝'));
        let e = read_entry(&wide).unwrap();
        assert_eq!(e.method, EntryMethod::Scanned);
        assert_eq!(e.piece, Some(LabelPiece::new(LabelKind::Tube, 1)));
        let typed = format!("{}\u{3000}{}", d.eye_readable().replace(' ', "　"), "");
        let typed: String = typed
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    char::from_u32(c as u32 + 0xFEE0).unwrap()
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(read_entry(&typed).unwrap().method, EntryMethod::Typed);
    }

    #[test]
    fn typed_din_needs_its_check_character_which_must_match() {
        // Worked example: G123498654321 has check character H.
        let ok = read_entry("G1234 98 654321 H").unwrap();
        assert_eq!(ok.din.as_str(), "G123498654321");
        assert_eq!(ok.method, EntryMethod::Typed);
        assert!(ok.check_character_verified);
        let msg = read_entry("G1234 98 654321 J").unwrap_err().to_string();
        assert!(msg.contains("'J'") && !msg.contains("'H'"), "{msg}");
        let msg = read_entry("G123498654321").unwrap_err().to_string();
        assert!(msg.contains("without its check character"), "{msg}");
        assert_eq!(
            read_typed("=G12349865432101"),
            Err(ScanError::TypedDataContent)
        );
        let unprefixed = read_entry("=G12349865432101").unwrap();
        assert_eq!(unprefixed.method, EntryMethod::Unprefixed);
        assert!(!unprefixed.check_character_verified);
        let with_check = read_scanned(&din(1).barcode_data_with_check_flag()).unwrap();
        assert!(with_check.check_character_verified);
        assert!(matches!(
            read_entry("]C0BOX-R1"),
            Err(ScanError::NotIsbt128 { .. })
        ));
    }

    #[test]
    fn datamatrix_data_has_a_compound_header_and_parses_into_each_structure() {
        let content = LabelContent {
            din: din(7),
            piece: LabelPiece::new(LabelKind::Bag, 1),
            facility_name: "某市中心血站".into(),
            abo_rh: Some(AboRh::BNeg),
            collected_at: NaiveDate::from_ymd_opt(2026, 2, 1)
                .unwrap()
                .and_hms_opt(9, 30, 0),
            volume_ml: Some(400),
            product: Some(ProductCode::new("E0398", 'V', "00").unwrap()),
            expiry: NaiveDate::from_ymd_opt(2026, 3, 8)
                .unwrap()
                .and_hms_opt(23, 59, 0),
        };
        let data = content.datamatrix_data();
        assert_eq!(
            data,
            format!(
                "=+05000={}01&*0260320930=<E0398V00=%1700&>0260672359",
                din(7).as_str()
            )
        );
        let parsed = parse_scan(&format!("]d2{data}\r")).unwrap();
        assert_eq!(parsed.len(), 6);
        assert_eq!(
            parsed[0],
            DataStructure::Compound {
                count: 5,
                reference: 0
            }
        );
        assert_eq!(parsed[1], content.din_structure());
        assert_eq!(
            parsed[3],
            DataStructure::Product(ProductCode::new("E0398", 'V', "00").unwrap())
        );
        assert_eq!(
            parsed[4],
            DataStructure::AboRh {
                group: AboRh::BNeg,
                rest: "00".into()
            }
        );
        assert_eq!(
            parsed[5],
            DataStructure::ExpiryTime(content.expiry.unwrap())
        );
        let reencoded: String = parsed.iter().map(DataStructure::data_content).collect();
        assert_eq!(reencoded, data);
        assert!(content.quadrants().bottom_right[0].contains("2026-03-08 23:59"));
        // A header that miscounts is refused.
        let e = parse_scan(&format!("=+04000={}01", din(7).as_str())).unwrap_err();
        assert_eq!(
            e,
            ScanError::CompoundCount {
                announced: 4,
                found: 1
            }
        );
        // A tube carries the DIN alone: no header.
        let tube = LabelContent::blank(din(7), LabelPiece::new(LabelKind::Tube, 1), "血站");
        assert_eq!(tube.datamatrix_data(), format!("={}07", din(7).as_str()));
    }

    #[test]
    fn blood_group_special_messages_mean_stop() {
        for m in BloodGroupMessage::ALL {
            let raw = format!("]d2={}01=%{}00", din(2).as_str(), m.code());
            let e = read_entry(&raw).unwrap();
            assert_eq!(e.stop(), Some(m), "{raw}");
            assert!(m.meaning().starts_with("STOP"));
            let parsed = parse_scan(&raw).unwrap();
            assert_eq!(
                parsed
                    .iter()
                    .map(DataStructure::data_content)
                    .collect::<String>(),
                strip_scanner_noise(&raw)
            );
        }
        assert_eq!(
            read_entry(&scan(&din(2), LabelPiece::new(LabelKind::Bag, 1)))
                .unwrap()
                .stop(),
            None
        );
    }

    #[test]
    fn unknown_group_leaves_abo_blank_never_guessed() {
        let content = LabelContent::blank(din(1), LabelPiece::new(LabelKind::Bag, 1), "血站");
        assert!(content.quadrants().top_right.is_empty());
        assert!(!content.datamatrix_data().contains("=%"));
        assert_eq!(DataStructure::abo_rh(None), None);
    }

    #[test]
    fn malformed_and_unknown_structures_say_what_is_allowed() {
        let e = parse_scan("=%9900").unwrap_err().to_string();
        assert!(
            e.contains("ABO/RhD") && e.contains("95 51") && e.contains("Md"),
            "{e}"
        );
        let e = parse_scan("=>02").unwrap_err().to_string();
        assert!(e.contains("cut short"), "{e}");
        let e = parse_scan("=#123").unwrap_err().to_string();
        assert!(e.contains("unrecognised"), "{e}");
        let e = parse_scan("]C0\r\n").unwrap_err();
        assert_eq!(e, ScanError::Empty);
        let e = read_label_scan("=<E0398V00").unwrap_err().to_string();
        assert!(e.contains("DIN barcode"), "{e}");
        let e = read_label_scan("]C0=)1FW0123456\r")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("DIN barcode"),
            "a bag maker's barcode is not a label: {e}"
        );
        assert_eq!(
            parse_scan("&)0000LOT123").unwrap(),
            vec![DataStructure::Container {
                identifier: "&)".into(),
                data: "0000LOT123".into()
            }]
        );
        // Flags 60+check must agree with the DIN.
        let wrong = 60 + (din(1).check_value() + 1) % 37;
        let e = read_label_scan(&format!("]C0={}{wrong}", din(1).as_str())).unwrap_err();
        assert!(e.to_string().contains("misread or misprinted"), "{e}");
    }

    #[test]
    fn verification_needs_a_scan_of_each_pieces_own_symbol() {
        let expected = din(10);
        let set = label_set(BagSetKind::Double, 2).unwrap();
        let mut verified = BTreeSet::new();
        let entry = |raw: &str| read_entry(raw).unwrap();
        let bag = entry(&scan(&expected, set[0]));
        assert_eq!(
            verify_entry(&expected, &set, &verified, &bag, true),
            Verdict::Matched(set[0])
        );
        verified.insert(set[0]);
        assert_eq!(
            verify_entry(&expected, &set, &verified, &bag, true),
            Verdict::Duplicate { piece: set[0] }
        );
        let third = entry(&scan(&expected, LabelPiece::new(LabelKind::Satellite, 3)));
        assert!(matches!(
            verify_entry(&expected, &set, &verified, &third, true),
            Verdict::NotInSet { .. }
        ));
        let other = entry(&scan(&din(11), set[0]));
        assert_eq!(
            verify_entry(&expected, &set, &verified, &other, true).scan_result(),
            ScanResult::OtherDonation
        );
        assert_eq!(
            verify_entry(&expected, &set, &verified, &other, false).scan_result(),
            ScanResult::UnknownDin
        );
        // The DIN shown on the screen, typed with its check character, verifies nothing,
        // however often it is typed; so does data content without a symbology identifier.
        let typed = entry(&expected.eye_readable());
        let unprefixed = entry(&format!("={}02", expected.as_str()));
        for e in [&typed, &unprefixed] {
            for _ in 0..5 {
                assert_eq!(
                    verify_entry(&expected, &set, &verified, e, true).scan_result(),
                    ScanResult::NotScanned
                );
            }
        }
        // A scan whose flags name no piece identifies the DIN only.
        let no_piece = entry(&format!("]C0{}", expected.barcode_data()));
        assert_eq!(
            verify_entry(&expected, &set, &verified, &no_piece, true),
            Verdict::NoPiece { flags: "00".into() }
        );
    }

    proptest::proptest! {
        /// No label of any set ever carries a reserved flag value, and every flag
        /// printed reads back as its own piece.
        #[test]
        fn no_reserved_flag_is_ever_printed(kind in 0usize..5, tubes in 1u8..=MAX_TUBE_COUNT, seq in 0u32..=999_999) {
            let kinds = [BagSetKind::Single, BagSetKind::Double, BagSetKind::Triple, BagSetKind::Quadruple, BagSetKind::ApheresisKit];
            let d = din(seq);
            let set = label_set(kinds[kind], tubes).unwrap();
            let mut seen = BTreeSet::new();
            for p in &set {
                let flags = p.flags();
                proptest::prop_assert!(DinFlag::parse(&flags).is_ok(), "{flags} is reserved");
                proptest::prop_assert!(flags.bytes().all(|b| b.is_ascii_digit()));
                proptest::prop_assert!(seen.insert(flags.clone()), "{flags} printed twice in one set");
                let content = LabelContent::blank(d.clone(), *p, "血站");
                let e = read_entry(&format!("]C0{}", content.code128_data())).unwrap();
                proptest::prop_assert_eq!(e.piece, Some(*p));
                let e = read_entry(&format!("]d2{}", content.datamatrix_data())).unwrap();
                proptest::prop_assert_eq!(e.piece, Some(*p));
            }
        }

        /// A typed DIN without its check character is never accepted as a
        /// verification, whatever its separators, case or width.
        #[test]
        fn a_typed_din_without_check_character_never_verifies(seq in 0u32..=999_999, sep in "[ \\-\u{3000}]{0,2}", lower in proptest::bool::ANY, wide in proptest::bool::ANY) {
            let d = din(seq);
            let mut typed = format!("{}{sep}{:02}{sep}{:06}", d.facility(), d.year(), d.sequence());
            if lower { typed = typed.to_lowercase(); }
            if wide {
                typed = typed.chars().map(|c| if c.is_ascii_alphanumeric() { char::from_u32(c as u32 + 0xFEE0).unwrap_or(c) } else { c }).collect();
            }
            let set = label_set(BagSetKind::Quadruple, MAX_TUBE_COUNT).unwrap();
            proptest::prop_assert!(read_entry(&typed).is_err(), "{typed:?} was accepted");
            proptest::prop_assert!(read_typed(&typed).is_err());
            // With the check character it is read, and still verifies no piece.
            let with_check = format!("{typed} {}", d.check_char());
            let e = read_entry(&with_check).unwrap();
            proptest::prop_assert_eq!(e.method, EntryMethod::Typed);
            let v = verify_entry(&d, &set, &BTreeSet::new(), &e, true);
            proptest::prop_assert!(!v.is_match(), "{v:?}");
        }
    }

    #[test]
    fn julian_dates_match_isbt_examples() {
        assert_eq!(
            cyyjjj(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()),
            "026365"
        );
        assert_eq!(
            cyyjjj(NaiveDate::from_ymd_opt(2028, 12, 31).unwrap()),
            "028366"
        );
        assert_eq!(parse_cyyjjj("026001"), NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(parse_cyyjjj("026400"), None);
    }
}
