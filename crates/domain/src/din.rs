//! ISBT 128 Donation Identification Number (DIN) and the ranges a device may issue offline.
//!
//! A DIN is 13 characters: facility identification number (5), nominal year (2 digits) and
//! sequence number (6 digits). People key it from the eye-readable label, where it is
//! followed by an ISO 7064 MOD 37-2 check character; scanners deliver the barcode data
//! content `=` + DIN + 2 flag characters. Both paths are validated here and a wrong check
//! character is always an error: silently "fixing" a DIN could attach a bag to the wrong
//! donor.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::messages::Message;

/// Characters in a DIN (without check character or flags).
pub const DIN_LEN: usize = 13;
/// Characters in a facility identification number.
pub const FACILITY_LEN: usize = 5;
/// Highest nominal year (two digits).
pub const MAX_YEAR: u8 = 99;
/// Highest sequence number (six digits).
pub const MAX_SEQUENCE: u32 = 999_999;

/// Barcode flags that carry no information (ISBT 128 default).
pub const DEFAULT_FLAGS: &str = "00";
/// Facility code of training labels (demo drives). A real station never accepts a
/// donation numbered under it; one run for demos and training does.
pub const TRAINING_FACILITY: &str = "Z9999";

const BARCODE_LEN: usize = 1 + DIN_LEN + 2;
const MOD37_ALPHABET: &[u8; 37] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";
/// Flags 60..=96 mean "60 + MOD 37-2 check value" (ISBT 128 type 2 flags).
const CHECK_FLAG_BASE: u8 = 60;

/// The part of a DIN (or of its barcode) a character belongs to, so an error can say
/// which rule the character broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DinPart {
    Facility,
    Year,
    Sequence,
    CheckCharacter,
    Flags,
}

impl DinPart {
    /// Human description of the characters this part accepts.
    pub fn allowed(self) -> &'static str {
        match self {
            DinPart::Facility => {
                "A-N, P-Z or 0-9 in positions 2-3 (never the letter O), digits 0-9 in positions 4-5"
            }
            DinPart::Year | DinPart::Sequence => "digits 0-9",
            DinPart::CheckCharacter => "0-9, A-Z or *",
            DinPart::Flags => "digits 0-9 (ICCBBA ST-001 Table 3)",
        }
    }

    fn name(self) -> &'static str {
        match self {
            DinPart::Facility => "facility identification number",
            DinPart::Year => "nominal year",
            DinPart::Sequence => "sequence number",
            DinPart::CheckCharacter => "check character",
            DinPart::Flags => "barcode flag characters",
        }
    }
}

impl fmt::Display for DinPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a DIN, facility identification number, barcode or range was rejected.
///
/// Positions are 1-based character positions in the string that was passed in
/// (separators and surrounding blanks included), so a UI can point at the culprit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DinError {
    #[error(
        "DIN is empty: expected 13 characters (5 facility + 2 year + 6 sequence), optionally followed by the check character"
    )]
    Empty,
    #[error(
        "DIN has {got} characters (separators ignored), expected 13 (5 facility + 2 year + 6 sequence), optionally followed by 1 check character"
    )]
    WrongLength { got: usize },
    #[error("facility identification number has {got} characters, expected 5")]
    FacilityWrongLength { got: usize },
    #[error(
        "invalid first character {found:?} of the facility identification number at position {position}: allowed A-N, P-Z or 1-9 (letter O and digit 0 are never used there)"
    )]
    InvalidFacilityFirstCharacter { position: usize, found: char },
    #[error("invalid character {found:?} at position {position} in the {part}: allowed {}", .part.allowed())]
    InvalidCharacter {
        part: DinPart,
        position: usize,
        found: char,
    },
    #[error("nominal year {year} is out of range: allowed 0-99")]
    YearOutOfRange { year: u8 },
    #[error("sequence number {sequence} is out of range: allowed 0-999999")]
    SequenceOutOfRange { sequence: u32 },
    // The expected character is kept for callers but never printed: a message that
    // names it would let a typed entry pass by copying it back (ST-001 section 7.5).
    #[error(
        "check character {found:?} does not match DIN {din}: the DIN or its check character was mistyped, re-read the label"
    )]
    CheckCharacterMismatch {
        din: String,
        expected: char,
        found: char,
    },
    #[error(
        "barcode data content must start with '=' (the ISBT 128 DIN data identifier), found {}",
        describe_found(*.found)
    )]
    BarcodeMissingPrefix { found: Option<char> },
    #[error(
        "barcode data content has {got} characters, expected 16: '=' + 13-character DIN + 2 flag characters"
    )]
    BarcodeWrongLength { got: usize },
    #[error(
        "barcode flags {flags:?} carry check value {found} but DIN {din} has check value {expected} (flags 60-96 are 60 + the MOD 37-2 check value); the barcode is misread or misprinted"
    )]
    FlagCheckMismatch {
        din: String,
        flags: String,
        expected: u8,
        found: u8,
    },
    #[error(
        "character {found:?} at position {position} has no ISO 7064 MOD 37-2 value: allowed 0-9, A-Z or *"
    )]
    NotMod37Character { position: usize, found: char },
    #[error(
        "DIN {din} was typed without its check character: a typed DIN must end with the boxed check character printed after it on the label (ICCBBA ST-001 section 7.5)"
    )]
    CheckCharacterMissing { din: String },
    #[error(
        "flag value {flags:?} is reserved by ICCBBA ST-001 (Table 3) and never printed: allowed {}",
        FLAG_VALUES_ALLOWED
    )]
    ReservedFlag { flags: String },
    #[error("DIN range: first sequence number {first} is after last sequence number {last}")]
    RangeInverted { first: u32, last: u32 },
}

/// The flag values ICCBBA ST-001 Table 3 defines, for error messages.
pub const FLAG_VALUES_ALLOWED: &str = "00 (not used), 01-04 and 15-19 (container 1-4 and 5-9 of a set), 05 (printed on demand), 06 (pilot tube), 07 (test tube), 08 (donor record), 09 (NAT sample tube), 10 (bacterial-testing sample), 20-59 (locally defined), 60-96 (60 + the DIN's check value)";

/// What the two flag characters after a DIN in its barcode say (ICCBBA ST-001 Table 3).
///
/// Only the values the standard defines exist here: `11`-`14`, `97`-`99` and every
/// value with a letter are reserved, so a reserved value can be neither parsed nor
/// printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DinFlag {
    /// `00`: flags not used.
    NotUsed,
    /// `01`-`04`: container 1-4 of a set; `15`-`19`: containers 5-9.
    Container { number: u8 },
    /// `05`: a label printed on demand.
    OnDemand,
    /// `06`: pilot tube.
    PilotTube,
    /// `07`: test (sample) tube.
    TestTube,
    /// `08`: donor record.
    DonorRecord,
    /// `09`: NAT sample tube.
    NatTube,
    /// `10`: bacterial-testing sample.
    BacterialSample,
    /// `20`-`59`: locally defined; meaningful only at the facility that defined it.
    Local { value: u8 },
    /// `60`-`96`: 60 + the DIN's MOD 37-2 check value.
    CheckValue { value: u8 },
}

impl DinFlag {
    /// Reads two flag characters. A reserved value is an error naming it and what is
    /// allowed; whether a check value agrees with the DIN is [`Din::parse_barcode`]'s.
    pub fn parse(flags: &str) -> Result<DinFlag, DinError> {
        let reserved = || DinError::ReservedFlag {
            flags: flags.to_owned(),
        };
        if flags.len() != 2 || !flags.bytes().all(|b| b.is_ascii_digit()) {
            return Err(reserved());
        }
        let n: u8 = flags.parse().map_err(|_| reserved())?;
        Ok(match n {
            0 => DinFlag::NotUsed,
            1..=4 => DinFlag::Container { number: n },
            5 => DinFlag::OnDemand,
            6 => DinFlag::PilotTube,
            7 => DinFlag::TestTube,
            8 => DinFlag::DonorRecord,
            9 => DinFlag::NatTube,
            10 => DinFlag::BacterialSample,
            15..=19 => DinFlag::Container { number: n - 10 },
            20..=59 => DinFlag::Local { value: n },
            60..=96 => DinFlag::CheckValue {
                value: n - CHECK_FLAG_BASE,
            },
            _ => return Err(reserved()),
        })
    }

    /// The two characters printed; `None` for a value the standard does not define (a
    /// container above 9, a local value outside 20-59, a check value above 36).
    pub fn code(self) -> Option<String> {
        let n = match self {
            DinFlag::NotUsed => 0,
            DinFlag::Container { number: n @ 1..=4 } => n,
            DinFlag::Container { number: n @ 5..=9 } => n + 10,
            DinFlag::Container { .. } => return None,
            DinFlag::OnDemand => 5,
            DinFlag::PilotTube => 6,
            DinFlag::TestTube => 7,
            DinFlag::DonorRecord => 8,
            DinFlag::NatTube => 9,
            DinFlag::BacterialSample => 10,
            DinFlag::Local { value: v @ 20..=59 } => v,
            DinFlag::Local { .. } => return None,
            DinFlag::CheckValue { value: v @ 0..=36 } => v + CHECK_FLAG_BASE,
            DinFlag::CheckValue { .. } => return None,
        };
        Some(format!("{n:02}"))
    }

    /// What the value means, as `lifebridge label read` shows it (`din_flag.*`).
    pub fn meaning(self) -> Message {
        match self {
            DinFlag::NotUsed => Message::new("din_flag.not_used"),
            DinFlag::Container { number } => {
                Message::new("din_flag.container").with("number", number.to_string())
            }
            DinFlag::OnDemand => Message::new("din_flag.on_demand"),
            DinFlag::PilotTube => Message::new("din_flag.pilot_tube"),
            DinFlag::TestTube => Message::new("din_flag.test_tube"),
            DinFlag::DonorRecord => Message::new("din_flag.donor_record"),
            DinFlag::NatTube => Message::new("din_flag.nat_tube"),
            DinFlag::BacterialSample => Message::new("din_flag.bacterial_sample"),
            DinFlag::Local { value } => {
                Message::new("din_flag.local").with("value", value.to_string())
            }
            DinFlag::CheckValue { value } => {
                Message::new("din_flag.check_value").with("value", value.to_string())
            }
        }
    }
}

fn describe_found(found: Option<char>) -> String {
    match found {
        Some(c) => format!("{c:?}"),
        None => "nothing".to_owned(),
    }
}

/// ISO 7064 MOD 37-2 value of a character (`0`-`9` → 0-9, `A`-`Z` → 10-35, `*` → 36).
pub fn mod37_2_value(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        'A'..='Z' => Some(c as u8 - b'A' + 10),
        '*' => Some(36),
        _ => None,
    }
}

/// Character printed for a MOD 37-2 value, `None` above 36.
pub fn mod37_2_char(value: u8) -> Option<char> {
    MOD37_ALPHABET
        .get(usize::from(value))
        .map(|&b| char::from(b))
}

/// ISO 7064 MOD 37-2 check value (0..=36) of `s`.
///
/// Upper-case only: the check is defined over the printed characters, and accepting
/// lower case here would hide a caller that forgot to normalise.
pub fn mod37_2_check_value(s: &str) -> Result<u8, DinError> {
    let mut values = Vec::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        let v = mod37_2_value(c).ok_or(DinError::NotMod37Character {
            position: i + 1,
            found: c,
        })?;
        values.push(v);
    }
    Ok(mod37_2_fold(values.into_iter()))
}

fn mod37_2_fold(values: impl Iterator<Item = u8>) -> u8 {
    // t and v never exceed 36, so (t + v) * 2 <= 144 fits in u8.
    let t = values.fold(0u8, |t, v| ((t + v) * 2) % 37);
    (38 - t) % 37
}

/// Maps full-width forms (what a Chinese IME types in full-width mode) and the
/// ideographic space to their ASCII counterparts, so `Ｇ１２３４` is read as `G1234`.
pub(crate) fn fold_full_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || c == '-' || ('\u{2010}'..='\u{2015}').contains(&c)
}

fn is_upper_alnum(c: char) -> bool {
    c.is_ascii_digit() || c.is_ascii_uppercase()
}

fn is_facility_first(c: char) -> bool {
    matches!(c, 'A'..='N' | 'P'..='Z' | '1'..='9')
}

/// Whether `c` may stand at 0-based position `i` of a facility identification number
/// (domain.md section 1): position 1 `A`-`N`, `P`-`Z`, `1`-`9`; positions 2-3 `A`-`N`,
/// `P`-`Z`, `0`-`9`; positions 4-5 digits. The letter `O` never appears (it reads as 0).
fn facility_char_allowed(i: usize, c: char) -> bool {
    match i {
        0 => is_facility_first(c),
        1 | 2 => matches!(c, 'A'..='N' | 'P'..='Z' | '0'..='9'),
        _ => c.is_ascii_digit(),
    }
}

/// ISBT 128 facility identification number (FIN), 5 characters.
///
/// Parsing upper-cases its input; serde only accepts the canonical upper-case form
/// because anything stored was written by us.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct FacilityId(String);

impl FacilityId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `chars` holds (1-based position in the caller's input, upper-cased char).
    fn from_positioned(chars: &[(usize, char)]) -> Result<FacilityId, DinError> {
        if chars.len() != FACILITY_LEN {
            return Err(DinError::FacilityWrongLength { got: chars.len() });
        }
        let mut code = String::with_capacity(FACILITY_LEN);
        for (i, &(position, c)) in chars.iter().enumerate() {
            if i == 0 && !is_facility_first(c) {
                return Err(DinError::InvalidFacilityFirstCharacter { position, found: c });
            }
            if !facility_char_allowed(i, c) {
                return Err(DinError::InvalidCharacter {
                    part: DinPart::Facility,
                    position,
                    found: c,
                });
            }
            code.push(c);
        }
        Ok(FacilityId(code))
    }

    fn parse_canonical(s: &str) -> Result<FacilityId, DinError> {
        let chars: Vec<(usize, char)> = s.chars().enumerate().map(|(i, c)| (i + 1, c)).collect();
        FacilityId::from_positioned(&chars)
    }
}

impl FromStr for FacilityId {
    type Err = DinError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lead = s.chars().take_while(|c| c.is_whitespace()).count();
        let chars: Vec<(usize, char)> = s
            .trim()
            .chars()
            .enumerate()
            .map(|(i, c)| (lead + i + 1, fold_full_width(c).to_ascii_uppercase()))
            .collect();
        FacilityId::from_positioned(&chars)
    }
}

impl fmt::Display for FacilityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FacilityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FacilityId({:?})", self.0)
    }
}

impl Serialize for FacilityId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FacilityId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        FacilityId::parse_canonical(&s).map_err(serde::de::Error::custom)
    }
}

/// ISBT 128 Donation Identification Number, always valid once constructed.
///
/// Ordering is the ordering of the 13-character text, which for one facility and year
/// is sequence order.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(type = "string"))]
pub struct Din {
    // `code` first so the derived ordering is textual.
    code: String,
    facility: FacilityId,
    year: u8,
    sequence: u32,
}

impl Din {
    pub fn new(facility: &FacilityId, year: u8, sequence: u32) -> Result<Din, DinError> {
        if year > MAX_YEAR {
            return Err(DinError::YearOutOfRange { year });
        }
        if sequence > MAX_SEQUENCE {
            return Err(DinError::SequenceOutOfRange { sequence });
        }
        Ok(Din::from_valid_parts(facility.clone(), year, sequence))
    }

    fn from_valid_parts(facility: FacilityId, year: u8, sequence: u32) -> Din {
        Din {
            code: format!("{facility}{year:02}{sequence:06}"),
            facility,
            year,
            sequence,
        }
    }

    /// `chars` must hold exactly the 13 DIN characters as (1-based input position, char).
    fn from_positioned(chars: &[(usize, char)]) -> Result<Din, DinError> {
        let Ok(chars) = <&[(usize, char); DIN_LEN]>::try_from(chars) else {
            return Err(DinError::WrongLength { got: chars.len() });
        };
        let facility = FacilityId::from_positioned(&chars[..FACILITY_LEN])?;
        let year = parse_digits(&chars[FACILITY_LEN..FACILITY_LEN + 2], DinPart::Year)?;
        let sequence = parse_digits(&chars[FACILITY_LEN + 2..], DinPart::Sequence)?;
        // Two digits cannot exceed 99, so the conversion cannot fail.
        let year = u8::try_from(year).map_err(|_| DinError::YearOutOfRange { year: u8::MAX })?;
        Ok(Din::from_valid_parts(facility, year, sequence))
    }

    /// Parses what a person typed from the eye-readable label: `G1234 26 012345 H`,
    /// `g12342601234 5h`, `G1234-26-012345`, with or without the check character.
    ///
    /// Blanks (including the ideographic space) and hyphens/dashes between characters are
    /// ignored, full-width characters are folded to ASCII and letters are upper-cased.
    /// If a 14th character is present it is the check character and must match.
    pub fn parse_eye_readable(s: &str) -> Result<Din, DinError> {
        let significant: Vec<(usize, char)> = s
            .chars()
            .enumerate()
            .map(|(i, c)| (i + 1, fold_full_width(c)))
            .filter(|&(_, c)| !is_separator(c))
            .map(|(p, c)| (p, c.to_ascii_uppercase()))
            .collect();
        match significant.len() {
            0 => Err(DinError::Empty),
            DIN_LEN => Din::from_positioned(&significant),
            n if n == DIN_LEN + 1 => {
                let (body, check) = significant.split_at(DIN_LEN);
                let din = Din::from_positioned(body)?;
                if let Some(&(position, found)) = check.first() {
                    if mod37_2_value(found).is_none() {
                        return Err(DinError::InvalidCharacter {
                            part: DinPart::CheckCharacter,
                            position,
                            found,
                        });
                    }
                    let expected = din.check_char();
                    if found != expected {
                        return Err(DinError::CheckCharacterMismatch {
                            din: din.code,
                            expected,
                            found,
                        });
                    }
                }
                Ok(din)
            }
            got => Err(DinError::WrongLength { got }),
        }
    }

    /// Parses scanned barcode data content `=` + 13-character DIN + 2 flag characters and
    /// returns the DIN and the flags.
    ///
    /// Surrounding blanks (scanners often append CR/LF) are ignored and letters are
    /// upper-cased. Flags 60..=96 are "60 + check value" and are verified; other flags
    /// (`00`, process-control or locally defined) are returned uninterpreted.
    pub fn parse_barcode(s: &str) -> Result<(Din, String), DinError> {
        let lead = s.chars().take_while(|c| c.is_whitespace()).count();
        let chars: Vec<(usize, char)> = s
            .trim()
            .chars()
            .enumerate()
            .map(|(i, c)| (lead + i + 1, fold_full_width(c).to_ascii_uppercase()))
            .collect();
        match chars.first() {
            Some(&(_, '=')) => {}
            other => {
                return Err(DinError::BarcodeMissingPrefix {
                    found: other.map(|&(_, c)| c),
                });
            }
        }
        let Ok(chars) = <&[(usize, char); BARCODE_LEN]>::try_from(chars.as_slice()) else {
            return Err(DinError::BarcodeWrongLength { got: chars.len() });
        };
        let din = Din::from_positioned(&chars[1..=DIN_LEN])?;
        let flag_chars = &chars[DIN_LEN + 1..];
        for &(position, found) in flag_chars {
            if !is_upper_alnum(found) {
                return Err(DinError::InvalidCharacter {
                    part: DinPart::Flags,
                    position,
                    found,
                });
            }
        }
        let flags: String = flag_chars.iter().map(|&(_, c)| c).collect();
        if let DinFlag::CheckValue { value: found } = DinFlag::parse(&flags)? {
            let expected = din.check_value();
            if found != expected {
                return Err(DinError::FlagCheckMismatch {
                    din: din.code,
                    flags,
                    expected,
                    found,
                });
            }
        }
        Ok((din, flags))
    }

    /// Parses a DIN typed from the eye-readable label for a verification: like
    /// [`Din::parse_eye_readable`], but the check character is required, since it is
    /// the only thing that shows the DIN was read off a label (ST-001 section 7.5).
    pub fn parse_typed(s: &str) -> Result<Din, DinError> {
        let significant = s
            .chars()
            .map(fold_full_width)
            .filter(|&c| !is_separator(c))
            .count();
        let din = Din::parse_eye_readable(s)?;
        if significant == DIN_LEN {
            return Err(DinError::CheckCharacterMissing { din: din.code });
        }
        Ok(din)
    }

    /// Reads a DIN from either a scan (leading `=`) or typed eye-readable text.
    pub fn parse(s: &str) -> Result<Din, DinError> {
        let first = s.trim_start().chars().next().map(fold_full_width);
        if first == Some('=') {
            Din::parse_barcode(s).map(|(din, _flags)| din)
        } else {
            Din::parse_eye_readable(s)
        }
    }

    /// Strict form used for storage and the wire: exactly 13 upper-case characters.
    fn parse_canonical(s: &str) -> Result<Din, DinError> {
        let chars: Vec<(usize, char)> = s.chars().enumerate().map(|(i, c)| (i + 1, c)).collect();
        if chars.is_empty() {
            return Err(DinError::Empty);
        }
        Din::from_positioned(&chars)
    }

    pub fn facility(&self) -> &FacilityId {
        &self.facility
    }

    pub fn year(&self) -> u8 {
        self.year
    }

    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The 13 characters, without separators, check character or flags.
    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// MOD 37-2 check value, 0..=36.
    pub fn check_value(&self) -> u8 {
        // The code holds only 0-9 and A-Z by construction, so no value is missing.
        mod37_2_fold(self.code.chars().filter_map(mod37_2_value))
    }

    /// The check character printed boxed after the eye-readable DIN.
    pub fn check_char(&self) -> char {
        mod37_2_char(self.check_value()).unwrap_or('?')
    }

    /// `G1234 26 012345 H`: the grouping printed on labels, followed by the check character.
    pub fn eye_readable(&self) -> String {
        format!(
            "{} {:02} {:06} {}",
            self.facility,
            self.year,
            self.sequence,
            self.check_char()
        )
    }

    /// Barcode data content with the default flags: `=` + DIN + `00`.
    pub fn barcode_data(&self) -> String {
        format!("={}{DEFAULT_FLAGS}", self.code)
    }

    /// Barcode data content whose flags carry the check value (`60 + check`), which lets a
    /// scanner-side check catch misprints.
    pub fn barcode_data_with_check_flag(&self) -> String {
        format!("={}{}", self.code, CHECK_FLAG_BASE + self.check_value())
    }
}

fn parse_digits(chars: &[(usize, char)], part: DinPart) -> Result<u32, DinError> {
    let mut n: u32 = 0;
    for &(position, found) in chars {
        let d = found.to_digit(10).ok_or(DinError::InvalidCharacter {
            part,
            position,
            found,
        })?;
        n = n * 10 + d;
    }
    Ok(n)
}

impl FromStr for Din {
    type Err = DinError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Din::parse(s)
    }
}

impl fmt::Display for Din {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

impl fmt::Debug for Din {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Din({:?})", self.code)
    }
}

impl Serialize for Din {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.code)
    }
}

impl<'de> Deserialize<'de> for Din {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Din::parse_canonical(&s).map_err(serde::de::Error::custom)
    }
}

/// A block of sequence numbers pre-allocated to one device for one facility and nominal
/// year, so vehicles working offline can never issue the same DIN.
///
/// Ranges never wrap: `first <= last`, both within 0..=999999.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(try_from = "DinRangeWire")]
pub struct DinRange {
    facility: FacilityId,
    year: u8,
    first: u32,
    last: u32,
}

#[derive(Deserialize)]
struct DinRangeWire {
    facility: FacilityId,
    year: u8,
    first: u32,
    last: u32,
}

impl TryFrom<DinRangeWire> for DinRange {
    type Error = DinError;

    fn try_from(w: DinRangeWire) -> Result<Self, Self::Error> {
        DinRange::new(w.facility, w.year, w.first, w.last)
    }
}

impl DinRange {
    pub fn new(
        facility: FacilityId,
        year: u8,
        first: u32,
        last: u32,
    ) -> Result<DinRange, DinError> {
        if year > MAX_YEAR {
            return Err(DinError::YearOutOfRange { year });
        }
        for sequence in [first, last] {
            if sequence > MAX_SEQUENCE {
                return Err(DinError::SequenceOutOfRange { sequence });
            }
        }
        if first > last {
            return Err(DinError::RangeInverted { first, last });
        }
        Ok(DinRange {
            facility,
            year,
            first,
            last,
        })
    }

    pub fn facility(&self) -> &FacilityId {
        &self.facility
    }

    pub fn year(&self) -> u8 {
        self.year
    }

    pub fn first(&self) -> u32 {
        self.first
    }

    pub fn last(&self) -> u32 {
        self.last
    }

    pub fn contains(&self, din: &Din) -> bool {
        din.facility == self.facility
            && din.year == self.year
            && (self.first..=self.last).contains(&din.sequence)
    }

    /// Number of DINs in the range.
    #[expect(
        clippy::len_without_is_empty,
        reason = "a range holds at least one DIN by construction"
    )]
    pub fn len(&self) -> u32 {
        self.last - self.first + 1
    }

    /// Every DIN of the range in sequence order.
    pub fn iter(&self) -> impl Iterator<Item = Din> + '_ {
        (self.first..=self.last).map(|sequence| self.din(sequence))
    }

    fn din(&self, sequence: u32) -> Din {
        Din::from_valid_parts(self.facility.clone(), self.year, sequence)
    }

    /// Lowest DIN whose sequence number `is_used` says is free, or `None` when the range is
    /// exhausted. Scanning from the bottom reuses gaps (e.g. a label set that was never
    /// printed) before moving on.
    pub fn next_unused(&self, is_used: impl Fn(u32) -> bool) -> Option<Din> {
        (self.first..=self.last)
            .find(|&sequence| !is_used(sequence))
            .map(|sequence| self.din(sequence))
    }

    /// DIN that follows `last_used` (the highest sequence already issued from this range):
    /// the first DIN when nothing was issued yet or `last_used` lies below the range, `None`
    /// when the range is exhausted. Never wraps round to the start.
    pub fn next_after(&self, last_used: Option<u32>) -> Option<Din> {
        let next = match last_used {
            None => self.first,
            Some(used) if used < self.first => self.first,
            Some(used) => used.checked_add(1)?,
        };
        (next <= self.last).then(|| self.din(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fac(s: &str) -> FacilityId {
        s.parse().unwrap()
    }

    #[test]
    fn red_book_worked_example() {
        assert_eq!(mod37_2_check_value("G123498654321").unwrap(), 17);
        assert_eq!(mod37_2_char(17), Some('H'));
        let din = Din::parse("G123498654321").unwrap();
        assert_eq!(din.check_value(), 17);
        assert_eq!(din.check_char(), 'H');
        assert_eq!(din.barcode_data_with_check_flag(), "=G12349865432177");
    }

    #[test]
    fn mod37_table_round_trips() {
        for v in 0..=36u8 {
            let c = mod37_2_char(v).unwrap();
            assert_eq!(mod37_2_value(c), Some(v));
        }
        assert_eq!(mod37_2_char(37), None);
        assert_eq!(mod37_2_value('*'), Some(36));
        assert_eq!(mod37_2_value('a'), None);
    }

    #[test]
    fn mod37_rejects_foreign_character_with_position() {
        assert_eq!(
            mod37_2_check_value("G12-3"),
            Err(DinError::NotMod37Character {
                position: 4,
                found: '-'
            })
        );
    }

    #[test]
    fn eye_readable_forms_are_accepted() {
        let expected = Din::parse("G123498654321").unwrap();
        for s in [
            "G1234 98 654321",
            "G1234 98 654321 H",
            "g1234-98-654321-h",
            "  G123498654321H  ",
            "G1234 98 654321  h",
            "Ｇ１２３４　９８　６５４３２１　Ｈ",
        ] {
            assert_eq!(Din::parse_eye_readable(s).unwrap(), expected, "{s}");
            assert_eq!(s.parse::<Din>().unwrap(), expected, "{s}");
        }
    }

    #[test]
    fn wrong_check_character_is_an_error_not_a_fix() {
        let err = Din::parse_eye_readable("G1234 98 654321 J").unwrap_err();
        assert_eq!(
            err,
            DinError::CheckCharacterMismatch {
                din: "G123498654321".into(),
                expected: 'H',
                found: 'J'
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains("'J'") && !msg.contains("'H'"),
            "the message must not give the right character away: {msg}"
        );
    }

    #[test]
    fn errors_name_the_offending_character_and_position() {
        assert_eq!(
            Din::parse_eye_readable("O1234 98 654321"),
            Err(DinError::InvalidFacilityFirstCharacter {
                position: 1,
                found: 'O'
            })
        );
        assert_eq!(
            Din::parse_eye_readable("01234 98 654321"),
            Err(DinError::InvalidFacilityFirstCharacter {
                position: 1,
                found: '0'
            })
        );
        assert_eq!(
            Din::parse_eye_readable("G1234 9A 654321"),
            Err(DinError::InvalidCharacter {
                part: DinPart::Year,
                position: 8,
                found: 'A'
            })
        );
        assert_eq!(
            Din::parse_eye_readable("G1234 98 6543Z1"),
            Err(DinError::InvalidCharacter {
                part: DinPart::Sequence,
                position: 14,
                found: 'Z'
            })
        );
        assert_eq!(
            Din::parse_eye_readable("G12#4 98 654321"),
            Err(DinError::InvalidCharacter {
                part: DinPart::Facility,
                position: 4,
                found: '#'
            })
        );
        assert_eq!(
            Din::parse_eye_readable("G1234 98 654321 ?"),
            Err(DinError::InvalidCharacter {
                part: DinPart::CheckCharacter,
                position: 17,
                found: '?'
            })
        );
        assert_eq!(
            Din::parse_eye_readable("G1234"),
            Err(DinError::WrongLength { got: 5 })
        );
        assert_eq!(Din::parse_eye_readable(" - "), Err(DinError::Empty));
        let msg = Din::parse_eye_readable("G1234 9A 654321")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("position 8") && msg.contains("nominal year"),
            "{msg}"
        );
    }

    #[test]
    fn barcode_default_and_check_flags() {
        let (din, flags) = Din::parse_barcode("=G12349865432100\r\n").unwrap();
        assert_eq!(din.as_str(), "G123498654321");
        assert_eq!(flags, "00");
        let (_, flags) = Din::parse_barcode("=G12349865432177").unwrap();
        assert_eq!(flags, "77");
        // Flags outside 60..=96 are not check flags.
        let (_, flags) = Din::parse_barcode("=G12349865432101").unwrap();
        assert_eq!(flags, "01");
        assert_eq!(
            Din::parse_barcode("=G12349865432178"),
            Err(DinError::FlagCheckMismatch {
                din: "G123498654321".into(),
                flags: "78".into(),
                expected: 17,
                found: 18
            })
        );
    }

    #[test]
    fn barcode_errors() {
        assert_eq!(
            Din::parse_barcode("G12349865432100"),
            Err(DinError::BarcodeMissingPrefix { found: Some('G') })
        );
        assert_eq!(
            Din::parse_barcode(""),
            Err(DinError::BarcodeMissingPrefix { found: None })
        );
        assert_eq!(
            Din::parse_barcode("=G123498654321"),
            Err(DinError::BarcodeWrongLength { got: 14 })
        );
        assert_eq!(
            Din::parse_barcode("=G1234986543210%"),
            Err(DinError::InvalidCharacter {
                part: DinPart::Flags,
                position: 16,
                found: '%'
            })
        );
        assert_eq!(
            Din::parse("  =G12349865432X00"),
            Err(DinError::InvalidCharacter {
                part: DinPart::Sequence,
                position: 16,
                found: 'X'
            })
        );
    }

    #[test]
    fn renderings() {
        let din = Din::new(&fac("G1234"), 26, 12345).unwrap();
        assert_eq!(din.as_str(), "G123426012345");
        assert_eq!(din.to_string(), "G123426012345");
        let eye = din.eye_readable();
        assert!(eye.starts_with("G1234 26 012345 "), "{eye}");
        assert_eq!(Din::parse(&eye).unwrap(), din);
        assert_eq!(din.barcode_data(), "=G12342601234500");
        assert_eq!(Din::parse(&din.barcode_data()).unwrap(), din);
        assert_eq!(
            Din::parse(&din.barcode_data_with_check_flag()).unwrap(),
            din
        );
        assert_eq!(din.facility().as_str(), "G1234");
        assert_eq!((din.year(), din.sequence()), (26, 12345));
    }

    #[test]
    fn new_checks_bounds() {
        let f = fac("G1234");
        assert_eq!(
            Din::new(&f, 100, 0),
            Err(DinError::YearOutOfRange { year: 100 })
        );
        assert_eq!(
            Din::new(&f, 0, 1_000_000),
            Err(DinError::SequenceOutOfRange {
                sequence: 1_000_000
            })
        );
        assert!(Din::new(&f, 99, 999_999).is_ok());
        assert!(Din::new(&f, 0, 0).is_ok());
    }

    #[test]
    fn facility_parsing() {
        assert_eq!(fac(" w0001 ").as_str(), "W0001");
        assert_eq!(
            "W001".parse::<FacilityId>(),
            Err(DinError::FacilityWrongLength { got: 4 })
        );
        assert_eq!(
            "P0O0!".parse::<FacilityId>(),
            Err(DinError::InvalidCharacter {
                part: DinPart::Facility,
                position: 3,
                found: 'O'
            })
        );
    }

    #[test]
    fn facility_character_rules_follow_st001() {
        // Position 1: A-N, P-Z, 1-9; positions 2-3: A-N, P-Z, 0-9; 4-5: digits.
        for ok in ["A0000", "Z9999", "1AB23", "9Z012", "PN099", "G1234"] {
            assert!(ok.parse::<FacilityId>().is_ok(), "{ok}");
        }
        for (bad, position, found) in [
            ("AO123", 2, 'O'),
            ("A1O23", 3, 'O'),
            ("A12B3", 4, 'B'),
            ("A123O", 5, 'O'),
            ("A123Z", 5, 'Z'),
        ] {
            let e = bad.parse::<FacilityId>().unwrap_err();
            assert_eq!(
                e,
                DinError::InvalidCharacter {
                    part: DinPart::Facility,
                    position,
                    found
                },
                "{bad}"
            );
            let msg = e.to_string();
            assert!(msg.contains("never the letter O"), "{msg}");
        }
        assert!(matches!(
            "OA123".parse::<FacilityId>(),
            Err(DinError::InvalidFacilityFirstCharacter { found: 'O', .. })
        ));
    }

    #[test]
    fn flag_values_are_the_ones_st001_defines() {
        for (code, flag) in [
            ("00", DinFlag::NotUsed),
            ("01", DinFlag::Container { number: 1 }),
            ("04", DinFlag::Container { number: 4 }),
            ("05", DinFlag::OnDemand),
            ("06", DinFlag::PilotTube),
            ("07", DinFlag::TestTube),
            ("08", DinFlag::DonorRecord),
            ("09", DinFlag::NatTube),
            ("10", DinFlag::BacterialSample),
            ("15", DinFlag::Container { number: 5 }),
            ("19", DinFlag::Container { number: 9 }),
            ("20", DinFlag::Local { value: 20 }),
            ("59", DinFlag::Local { value: 59 }),
            ("60", DinFlag::CheckValue { value: 0 }),
            ("96", DinFlag::CheckValue { value: 36 }),
        ] {
            assert_eq!(DinFlag::parse(code), Ok(flag), "{code}");
            assert_eq!(flag.code().as_deref(), Some(code));
        }
        for reserved in ["11", "14", "97", "99", "T1", "R1", "0A", "1", "001", ""] {
            let e = DinFlag::parse(reserved).unwrap_err();
            assert_eq!(
                e,
                DinError::ReservedFlag {
                    flags: reserved.into()
                }
            );
            let msg = e.to_string();
            assert!(
                msg.contains("reserved") && msg.contains("07 (test tube)"),
                "{msg}"
            );
        }
        // A reserved value cannot reach a barcode either.
        assert_eq!(
            Din::parse_barcode("=G123498654321T1"),
            Err(DinError::ReservedFlag { flags: "T1".into() })
        );
        assert_eq!(DinFlag::Container { number: 10 }.code(), None);
        assert_eq!(DinFlag::Local { value: 60 }.code(), None);
    }

    #[test]
    fn a_typed_din_for_verification_needs_its_check_character() {
        assert_eq!(
            Din::parse_typed("G1234 98 654321"),
            Err(DinError::CheckCharacterMissing {
                din: "G123498654321".into()
            })
        );
        assert_eq!(
            Din::parse_typed("Ｇ１２３４　９８　６５４３２１　Ｈ")
                .unwrap()
                .as_str(),
            "G123498654321"
        );
        let msg = Din::parse_typed("G1234 98 654321").unwrap_err().to_string();
        assert!(msg.contains("without its check character"), "{msg}");
    }

    #[test]
    fn serde_is_the_canonical_string_and_validates() {
        let din = Din::parse("G123498654321").unwrap();
        let json = serde_json::to_string(&din).unwrap();
        assert_eq!(json, "\"G123498654321\"");
        assert_eq!(serde_json::from_str::<Din>(&json).unwrap(), din);
        assert!(serde_json::from_str::<Din>("\"G12349865432\"").is_err());
        assert!(serde_json::from_str::<Din>("\"g123498654321\"").is_err());
        assert!(serde_json::from_str::<FacilityId>("\"O1234\"").is_err());
        assert_eq!(
            serde_json::from_str::<FacilityId>("\"G1234\"").unwrap(),
            fac("G1234")
        );
    }

    #[test]
    fn range_basics() {
        let r = DinRange::new(fac("G1234"), 26, 10, 14).unwrap();
        assert_eq!(r.len(), 5);
        let all: Vec<u32> = r.iter().map(|d| d.sequence()).collect();
        assert_eq!(all, vec![10, 11, 12, 13, 14]);
        let f = fac("G1234");
        assert!(r.contains(&Din::new(&f, 26, 10).unwrap()));
        assert!(r.contains(&Din::new(&f, 26, 14).unwrap()));
        assert!(!r.contains(&Din::new(&f, 26, 9).unwrap()));
        assert!(!r.contains(&Din::new(&f, 26, 15).unwrap()));
        assert!(!r.contains(&Din::new(&f, 25, 12).unwrap()));
        assert!(!r.contains(&Din::new(&fac("G1235"), 26, 12).unwrap()));
    }

    #[test]
    fn range_validation() {
        assert_eq!(
            DinRange::new(fac("G1234"), 26, 5, 4),
            Err(DinError::RangeInverted { first: 5, last: 4 })
        );
        assert_eq!(
            DinRange::new(fac("G1234"), 26, 0, 1_000_000),
            Err(DinError::SequenceOutOfRange {
                sequence: 1_000_000
            })
        );
        assert_eq!(
            DinRange::new(fac("G1234"), 100, 0, 1),
            Err(DinError::YearOutOfRange { year: 100 })
        );
        let single = DinRange::new(fac("G1234"), 26, 7, 7).unwrap();
        assert_eq!(single.len(), 1);
        let full = DinRange::new(fac("G1234"), 26, 0, MAX_SEQUENCE).unwrap();
        assert_eq!(full.len(), 1_000_000);
    }

    #[test]
    fn range_allocation_never_wraps() {
        let r = DinRange::new(fac("G1234"), 26, 10, 12).unwrap();
        assert_eq!(r.next_after(None).unwrap().sequence(), 10);
        assert_eq!(r.next_after(Some(3)).unwrap().sequence(), 10);
        assert_eq!(r.next_after(Some(10)).unwrap().sequence(), 11);
        assert_eq!(r.next_after(Some(11)).unwrap().sequence(), 12);
        assert_eq!(r.next_after(Some(12)), None);
        assert_eq!(r.next_after(Some(u32::MAX)), None);

        assert_eq!(r.next_unused(|s| s == 10).unwrap().sequence(), 11);
        assert_eq!(r.next_unused(|s| s != 11).unwrap().sequence(), 11);
        assert_eq!(r.next_unused(|_| true), None);
        assert_eq!(r.next_unused(|_| false).unwrap().sequence(), 10);
    }

    #[test]
    fn range_serde_validates() {
        let r = DinRange::new(fac("G1234"), 26, 10, 12).unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"facility":"G1234","year":26,"first":10,"last":12}"#
        );
        assert_eq!(serde_json::from_str::<DinRange>(&json).unwrap(), r);
        let bad = r#"{"facility":"G1234","year":26,"first":12,"last":10}"#;
        let err = serde_json::from_str::<DinRange>(bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("after last"), "{err}");
    }
}
