//! Labels: which labels a donation needs, what each carries, how a scan is read and
//! whether it belongs to the donation in the chair.
//!
//! Everything here is pure so the interlocks can be tested without a printer, a
//! scanner or a store; rendering lives in `lifebridge-labels`, recording in the store.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::din::{Din, DinError};
use crate::entities::{AboRh, BagSetKind, Donation, LabelKind, ScanResult};

pub use crate::common::china_local;

/// Sample tubes taken per donation when the station has not configured another count:
/// one for typing and serology, one for nucleic acid testing.
pub const DEFAULT_TUBE_COUNT: u8 = 2;
/// Flags are two characters, so at most nine tubes can be told apart (`T1`..`T9`).
pub const MAX_TUBE_COUNT: u8 = 9;

/// One physical label of a donation's set.
///
/// `piece` numbers containers 1..=n across the bag set (the primary bag is container 1,
/// satellites 2..=n) and tubes 1..=n; the record sheet is always piece 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LabelPiece {
    pub kind: LabelKind,
    pub piece: u8,
}

/// Print order: bags, then tubes, then the record sheet.
impl Ord for LabelPiece {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (kind_rank(self.kind), self.piece).cmp(&(kind_rank(other.kind), other.piece))
    }
}

impl PartialOrd for LabelPiece {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn kind_rank(kind: LabelKind) -> u8 {
    match kind {
        LabelKind::Bag => 0,
        LabelKind::Satellite => 1,
        LabelKind::Tube => 2,
        LabelKind::Record => 3,
    }
}

impl LabelPiece {
    pub fn new(kind: LabelKind, piece: u8) -> LabelPiece {
        LabelPiece { kind, piece }
    }

    /// The two flag characters that follow the DIN in the Code 128 / QR data content.
    ///
    /// Every label of a set carries the same DIN, so without the flags a scanner could
    /// not tell the primary bag from a satellite, nor a second scan of one label from a
    /// scan of the next. Containers use `01`..`04` ("container n of a set" in the ISBT
    /// 128 flag table); tubes and the record sheet use locally defined alphanumeric
    /// flags (`T1`.., `R1`) that cannot collide with the numeric ICCBBA values.
    pub fn flags(self) -> String {
        match self.kind {
            LabelKind::Bag | LabelKind::Satellite => format!("{:02}", self.piece),
            LabelKind::Tube => format!("T{}", self.piece),
            LabelKind::Record => format!("R{}", self.piece),
        }
    }

    /// The piece named by scanned flags; `None` for flags that name no piece (`00`, the
    /// check-value flags 60-96, or anything unknown), which then identify only the DIN.
    pub fn from_flags(flags: &str) -> Option<LabelPiece> {
        let mut chars = flags.chars();
        let (a, b) = (chars.next()?, chars.next()?);
        if chars.next().is_some() {
            return None;
        }
        let digit = u8::try_from(b.to_digit(10)?).ok()?;
        match a {
            '0' if digit == 1 => Some(LabelPiece::new(LabelKind::Bag, 1)),
            '0' if (2..=4).contains(&digit) => Some(LabelPiece::new(LabelKind::Satellite, digit)),
            'T' if (1..=MAX_TUBE_COUNT).contains(&digit) => {
                Some(LabelPiece::new(LabelKind::Tube, digit))
            }
            'R' if digit == 1 => Some(LabelPiece::new(LabelKind::Record, 1)),
            _ => None,
        }
    }

    /// Short bilingual name for screens and error messages: `satellite bag 3 / 转移袋 3`.
    pub fn describe(self) -> String {
        match self.kind {
            LabelKind::Bag => "primary bag / 主袋".to_owned(),
            LabelKind::Satellite => format!("satellite bag {} / 转移袋 {}", self.piece, self.piece),
            LabelKind::Tube => format!("sample tube {} / 标本管 {}", self.piece, self.piece),
            LabelKind::Record => "donor record sheet / 献血记录单".to_owned(),
        }
    }
}

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

/// One ISBT 128 data structure, as printed in a symbol or read from a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataStructure {
    /// `=` DIN + flags. `flags` is `None` when the DIN was typed from the eye-readable
    /// text, which carries no flags.
    Din { din: Din, flags: Option<String> },
    /// `=%` ABO/RhD.
    AboRh { group: AboRh, rest: String },
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
            DataStructure::Product(p) => p.data_content(),
            DataStructure::Expiry(d) => format!("=>{}", cyyjjj(*d)),
            DataStructure::ExpiryTime(t) => format!("&>{}", cyyjjjhhmm(*t)),
            DataStructure::Collection(d) => format!("=*{}", cyyjjj(*d)),
            DataStructure::CollectionTime(t) => format!("&*{}", cyyjjjhhmm(*t)),
            DataStructure::Container { identifier, data } => format!("{identifier}{data}"),
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
        "unrecognised data at position {position}: {text:?}; expected an ISBT 128 data identifier (= DIN, =% ABO/RhD, =< product, => / &> expiry, =* / &* collection, =) / &) container) or a typed DIN"
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
    #[error("DIN: {0}")]
    Din(#[from] DinError),
}

/// Removes what scanners add around the data: an AIM symbology identifier (`]C0` for
/// Code 128, `]Q1` for QR, ...), control characters (CR, LF, TAB, GS, STX/ETX) and
/// surrounding blanks. Interior blanks are kept: typed DINs use them as separators.
pub fn strip_scanner_noise(raw: &str) -> String {
    let without_controls: String = raw.chars().filter(|c| !c.is_control()).collect();
    let trimmed = without_controls.trim();
    let mut chars = trimmed.chars();
    let aim = chars.next() == Some(']')
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest = if aim {
        trimmed.get(3..).unwrap_or_default()
    } else {
        trimmed
    };
    rest.trim().to_owned()
}

/// Reads scanner (or keyboard) input into the data structures it holds.
///
/// Accepts one or several concatenated data structures (a QR carries several), or a
/// DIN typed from the eye-readable text with its check character, which must match.
pub fn parse_scan(raw: &str) -> Result<Vec<DataStructure>, ScanError> {
    let text = strip_scanner_noise(raw);
    if text.is_empty() {
        return Err(ScanError::Empty);
    }
    if !text.starts_with(['=', '&']) {
        return Ok(vec![DataStructure::Din {
            din: Din::parse_eye_readable(&text)?,
            flags: None,
        }]);
    }
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
                let group = data.get(0..2).and_then(abo_rh_from_code).ok_or_else(|| {
                    malformed(
                        "=%",
                        "ABO/RhD",
                        data.clone(),
                        "one of the group codes 95 51 06 62 17 73 28 84 followed by 2 characters",
                    )
                })?;
                let rest = data.get(2..).unwrap_or_default().to_owned();
                (DataStructure::AboRh { group, rest }, 6)
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
    Ok(out)
}

/// The DIN (and piece, when the flags name one) that a scan identifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedLabel {
    pub din: Din,
    pub piece: Option<LabelPiece>,
}

/// Reads a scan that must identify a label: it has to hold a DIN data structure.
pub fn read_label_scan(raw: &str) -> Result<ScannedLabel, ScanError> {
    let structures = parse_scan(raw)?;
    structures
        .into_iter()
        .find_map(|s| match s {
            DataStructure::Din { din, flags } => Some(ScannedLabel {
                piece: flags.as_deref().and_then(LabelPiece::from_flags),
                din,
            }),
            _ => None,
        })
        .ok_or_else(|| ScanError::Malformed {
            identifier: "=",
            name: "DIN",
            text: strip_scanner_noise(raw),
            expected: "a donation identification number; this symbol holds other data (scan the DIN barcode, top left)",
        })
}

/// What the verification of one scan against the donation in the chair decided.
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
    /// This piece (or, for a scan without piece flags, every piece) was already verified.
    Duplicate {
        piece: Option<LabelPiece>,
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
        }
    }

    pub fn is_match(&self) -> bool {
        matches!(self, Verdict::Matched(_))
    }
}

/// Does `scanned` belong to the donation whose DIN is `expected` and whose label set is
/// `set`, given the pieces already `verified`? `din_known` says whether this device
/// knows the scanned DIN (issued it, or holds it in a registered range).
pub fn verify_scan(
    expected: &Din,
    set: &[LabelPiece],
    verified: &BTreeSet<LabelPiece>,
    scanned: &ScannedLabel,
    din_known: bool,
) -> Verdict {
    if scanned.din != *expected {
        return if din_known {
            Verdict::OtherDonation {
                din: scanned.din.clone(),
            }
        } else {
            Verdict::UnknownDin {
                din: scanned.din.clone(),
            }
        };
    }
    match scanned.piece {
        Some(piece) if !set.contains(&piece) => Verdict::NotInSet { piece },
        Some(piece) if verified.contains(&piece) => Verdict::Duplicate { piece: Some(piece) },
        Some(piece) => Verdict::Matched(piece),
        // A typed DIN names no piece: it stands for the next one not yet verified, so a
        // crew without a working scanner can still finish, one entry per label.
        None => set
            .iter()
            .find(|p| !verified.contains(p))
            .map_or(Verdict::Duplicate { piece: None }, |p| Verdict::Matched(*p)),
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
    pub expiry: Option<NaiveDate>,
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

    /// QR data content: the DIN structure and, on bag labels, the collection date/time,
    /// product and ABO/RhD structures that are known, concatenated.
    pub fn qr_data(&self) -> String {
        let mut out = self.code128_data();
        if matches!(self.piece.kind, LabelKind::Bag | LabelKind::Satellite) {
            if let Some(t) = self.collected_at {
                out.push_str(&DataStructure::CollectionTime(t).data_content());
            }
            if let Some(p) = &self.product {
                out.push_str(&p.data_content());
            }
            if let Some(g) = DataStructure::abo_rh(self.abo_rh) {
                out.push_str(&g.data_content());
            }
            if let Some(e) = self.expiry {
                out.push_str(&DataStructure::Expiry(e).data_content());
            }
        }
        out
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
            q.bottom_right.push(format!("失效 Expires {e}"));
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

    #[test]
    fn triple_set_has_three_bags_default_tubes_and_the_record() {
        let set = label_set(BagSetKind::Triple, DEFAULT_TUBE_COUNT).unwrap();
        let flags: Vec<String> = set.iter().map(|p| p.flags()).collect();
        assert_eq!(flags, ["01", "02", "03", "T1", "T2", "R1"]);
        assert_eq!(set[1].kind, LabelKind::Satellite);
        assert!(label_set(BagSetKind::Single, 0).is_err());
        assert!(label_set(BagSetKind::Single, 10).is_err());
        assert_eq!(label_set(BagSetKind::ApheresisKit, 1).unwrap().len(), 3);
    }

    #[test]
    fn flags_round_trip_and_unknown_flags_name_no_piece() {
        for p in label_set(BagSetKind::Quadruple, 9).unwrap() {
            assert_eq!(LabelPiece::from_flags(&p.flags()), Some(p));
        }
        for f in ["00", "05", "60", "T0", "R2", "X1", "0", "011"] {
            assert_eq!(LabelPiece::from_flags(f), None, "{f}");
        }
    }

    #[test]
    fn scanner_prefixes_and_suffixes_are_stripped() {
        let d = din(12345);
        for raw in [
            format!("]C0{}\r\n", d.barcode_data()),
            format!("]Q1{}\t", d.barcode_data()),
            format!("\u{2}{}\u{3}", d.barcode_data()),
            format!("  {}\n", d.barcode_data()),
        ] {
            let s = read_label_scan(&raw).unwrap();
            assert_eq!(s.din, d);
            assert_eq!(s.piece, None);
        }
    }

    #[test]
    fn typed_din_with_wrong_check_character_is_refused_with_the_expected_one() {
        // Worked example: G123498654321 has check character H.
        let ok = read_label_scan("G1234 98 654321 H").unwrap();
        assert_eq!(ok.din.as_str(), "G123498654321");
        let err = read_label_scan("G1234 98 654321 J").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("expected 'H'") && msg.contains("found 'J'"),
            "{msg}"
        );
    }

    #[test]
    fn concatenated_qr_data_parses_into_each_structure() {
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
            expiry: NaiveDate::from_ymd_opt(2026, 3, 8),
        };
        let data = content.qr_data();
        assert_eq!(
            data,
            format!("={}01&*0260320930=<E0398V00=%1700=>026067", din(7).as_str())
        );
        let parsed = parse_scan(&format!("]Q1{data}\r")).unwrap();
        assert_eq!(parsed.len(), 5);
        assert_eq!(parsed[0], content.din_structure());
        assert_eq!(
            parsed[2],
            DataStructure::Product(ProductCode::new("E0398", 'V', "00").unwrap())
        );
        assert_eq!(
            parsed[3],
            DataStructure::AboRh {
                group: AboRh::BNeg,
                rest: "00".into()
            }
        );
        assert_eq!(parsed[4], DataStructure::Expiry(content.expiry.unwrap()));
        let reencoded: String = parsed.iter().map(DataStructure::data_content).collect();
        assert_eq!(reencoded, data);
    }

    #[test]
    fn unknown_group_leaves_abo_blank_never_guessed() {
        let content = LabelContent::blank(din(1), LabelPiece::new(LabelKind::Bag, 1), "血站");
        assert!(content.quadrants().top_right.is_empty());
        assert!(!content.qr_data().contains("=%"));
        assert_eq!(DataStructure::abo_rh(None), None);
    }

    #[test]
    fn malformed_and_unknown_structures_say_what_is_allowed() {
        let e = parse_scan("=%9900").unwrap_err().to_string();
        assert!(e.contains("ABO/RhD") && e.contains("95 51"), "{e}");
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
        let e = read_label_scan(&format!("={}{wrong}", din(1).as_str())).unwrap_err();
        assert!(e.to_string().contains("misread or misprinted"), "{e}");
    }

    #[test]
    fn verification_distinguishes_every_refusal() {
        let expected = din(10);
        let set = label_set(BagSetKind::Double, 1).unwrap();
        let mut verified = BTreeSet::new();
        let scan = |d: Din, flags: Option<&str>| ScannedLabel {
            din: d,
            piece: flags.and_then(LabelPiece::from_flags),
        };
        let bag = scan(expected.clone(), Some("01"));
        assert_eq!(
            verify_scan(&expected, &set, &verified, &bag, true),
            Verdict::Matched(set[0])
        );
        verified.insert(set[0]);
        assert_eq!(
            verify_scan(&expected, &set, &verified, &bag, true),
            Verdict::Duplicate {
                piece: Some(set[0])
            }
        );
        let third = scan(expected.clone(), Some("03"));
        assert!(matches!(
            verify_scan(&expected, &set, &verified, &third, true),
            Verdict::NotInSet { .. }
        ));
        let other = scan(din(11), Some("01"));
        assert_eq!(
            verify_scan(&expected, &set, &verified, &other, true).scan_result(),
            ScanResult::OtherDonation
        );
        assert_eq!(
            verify_scan(&expected, &set, &verified, &other, false).scan_result(),
            ScanResult::UnknownDin
        );
        // Typed DINs fill the remaining pieces in order, then count as duplicates.
        let typed = scan(expected.clone(), None);
        for p in &set[1..] {
            assert_eq!(
                verify_scan(&expected, &set, &verified, &typed, true),
                Verdict::Matched(*p)
            );
            verified.insert(*p);
        }
        assert_eq!(
            verify_scan(&expected, &set, &verified, &typed, true),
            Verdict::Duplicate { piece: None }
        );
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
