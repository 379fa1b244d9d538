//! What reaches a scan field: scanner noise, the AIM symbology identifier, scan vs typed
//! entry (`read_entry`), and whether a read piece verifies a donation's label.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::din::{Din, DinError, DinFlag};
use crate::entities::ScanResult;
use crate::messages::Message;

use super::*;

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

impl ScanError {
    /// What the person at the scan field reads: the mistakes a hand makes (nothing
    /// scanned, a typed DIN without or with a wrong check character, data content typed)
    /// in their own words; anything else as "could not be read" with the parser's
    /// detail for the English text.
    pub fn message(&self) -> Message {
        match self {
            ScanError::Empty => Message::new("scan.empty"),
            ScanError::TypedDataContent => Message::new("scan.typed_data_content"),
            ScanError::Din(DinError::CheckCharacterMissing { din }) => {
                Message::new("scan.check_character_missing").with("din", din.as_str())
            }
            ScanError::Din(DinError::CheckCharacterMismatch { din, found, .. }) => {
                Message::new("scan.check_character_mismatch")
                    .with("din", din.as_str())
                    .with("found", found.to_string())
            }
            other => Message::new("scan.unreadable").with("detail", other.to_string()),
        }
    }
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
