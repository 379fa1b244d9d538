//! Chinese resident identity card number (GB 11643, 18 characters) and the other identity
//! documents a donor may present.
//!
//! The number carries the birth date and sex, so donor registration can derive both
//! instead of asking for them again (and catch a mistyped number through the check
//! character before it creates a duplicate donor).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::common::Sex;
use crate::din::fold_full_width;

/// Characters in a resident ID number.
pub const RESIDENT_ID_LEN: usize = 18;
/// Birth years before this are treated as typing errors rather than real donors.
pub const MIN_BIRTH_YEAR: i32 = 1900;
/// Longest number accepted for documents without a checksum.
pub const MAX_DOCUMENT_NUMBER_LEN: usize = 32;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Why a resident ID number was rejected. Positions are 1-based in the trimmed number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    #[error("resident ID number is empty: expected 18 characters (17 digits, then a digit or X)")]
    Empty,
    #[error(
        "resident ID number has {got} characters, expected 18 (17 digits, then a digit or X){}",
        if *.got == 15 { "; 15-digit first-generation numbers are no longer accepted" } else { "" }
    )]
    WrongLength { got: usize },
    #[error(
        "character {found:?} at position {position} of the resident ID number must be a digit 0-9"
    )]
    NonDigit { position: usize, found: char },
    #[error(
        "check character {found:?} at position 18 of the resident ID number must be a digit 0-9 or X"
    )]
    InvalidCheckCharacter { found: char },
    #[error(
        "birth date {digits} (positions 7-14, YYYYMMDD) of the resident ID number is not a real calendar date"
    )]
    InvalidBirthDate { digits: String },
    #[error(
        "birth date {date} of the resident ID number is before {min_year}: the number is mistyped"
    )]
    BirthDateTooEarly { date: NaiveDate, min_year: i32 },
    #[error("birth date {date} of the resident ID number is after today ({today})")]
    BirthDateInFuture { date: NaiveDate, today: NaiveDate },
    #[error(
        "check character mismatch in resident ID number: expected {expected:?}, found {found:?}; a digit was mistyped"
    )]
    CheckMismatch { expected: char, found: char },
    #[error("MOD 11-2 check needs exactly 17 digits, got {got} characters")]
    CheckInputWrongLength { got: usize },
}

/// ISO 7064 MOD 11-2 check character over the first 17 digits of a resident ID number.
pub fn mod11_2_check_char(first17: &str) -> Result<char, ResidentIdError> {
    let count = first17.chars().count();
    if count != WEIGHTS.len() {
        return Err(ResidentIdError::CheckInputWrongLength { got: count });
    }
    let mut sum = 0u32;
    for ((i, c), w) in first17.chars().enumerate().zip(WEIGHTS) {
        let d = c.to_digit(10).ok_or(ResidentIdError::NonDigit {
            position: i + 1,
            found: c,
        })?;
        sum += d * w;
    }
    // sum % 11 is always < 11, the length of the table.
    let index = usize::try_from(sum % 11).unwrap_or(0);
    Ok(CHECK_CHARS.get(index).copied().unwrap_or('?'))
}

/// A validated 18-character resident identity card number.
///
/// `Debug` masks the birth date digits: the number is sensitive personal information
/// (PIPL) and debug output ends up in logs. `Display`/`as_str` give the full number.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId {
    number: String,
    birth_date: NaiveDate,
}

impl ResidentId {
    /// Parses and validates a number typed or read from the card.
    ///
    /// Blanks around the number are ignored, full-width digits are folded to ASCII and a
    /// lower-case `x` is accepted. The birth date must be a real date from 1900 on and not
    /// after `today`.
    pub fn parse(s: &str, today: NaiveDate) -> Result<ResidentId, ResidentIdError> {
        ResidentId::parse_inner(s, Some(today))
    }

    fn parse_inner(s: &str, today: Option<NaiveDate>) -> Result<ResidentId, ResidentIdError> {
        let number: String = s
            .trim()
            .chars()
            .map(|c| fold_full_width(c).to_ascii_uppercase())
            .collect();
        let chars: Vec<char> = number.chars().collect();
        let Ok(chars) = <[char; RESIDENT_ID_LEN]>::try_from(chars) else {
            return Err(match number.chars().count() {
                0 => ResidentIdError::Empty,
                got => ResidentIdError::WrongLength { got },
            });
        };
        let mut digits = [0u32; RESIDENT_ID_LEN - 1];
        for (i, (&c, d)) in chars.iter().zip(digits.iter_mut()).enumerate() {
            *d = c.to_digit(10).ok_or(ResidentIdError::NonDigit {
                position: i + 1,
                found: c,
            })?;
        }
        let found = chars[RESIDENT_ID_LEN - 1];
        if !(found.is_ascii_digit() || found == 'X') {
            return Err(ResidentIdError::InvalidCheckCharacter { found });
        }

        let number_of =
            |range: std::ops::Range<usize>| digits[range].iter().fold(0u32, |n, &d| n * 10 + d);
        let (year, month, day) = (number_of(6..10), number_of(10..12), number_of(12..14));
        let birth_date = i32::try_from(year)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, month, day))
            .ok_or_else(|| ResidentIdError::InvalidBirthDate {
                digits: chars[6..14].iter().collect(),
            })?;
        if birth_date.year() < MIN_BIRTH_YEAR {
            return Err(ResidentIdError::BirthDateTooEarly {
                date: birth_date,
                min_year: MIN_BIRTH_YEAR,
            });
        }
        if let Some(today) = today
            && birth_date > today
        {
            return Err(ResidentIdError::BirthDateInFuture {
                date: birth_date,
                today,
            });
        }

        let first17: String = chars[..RESIDENT_ID_LEN - 1].iter().collect();
        let expected = mod11_2_check_char(&first17)?;
        if found != expected {
            return Err(ResidentIdError::CheckMismatch { expected, found });
        }
        Ok(ResidentId { number, birth_date })
    }

    /// The 18 characters, check character `X` upper-case.
    pub fn as_str(&self) -> &str {
        &self.number
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// From the 17th digit (last of the sequence code): odd male, even female.
    pub fn sex(&self) -> Sex {
        let odd = self
            .number
            .chars()
            .nth(16)
            .and_then(|c| c.to_digit(10))
            .is_some_and(|d| d % 2 == 1);
        if odd { Sex::Male } else { Sex::Female }
    }

    /// Six-digit administrative division code of the place of first registration.
    pub fn address_code(&self) -> &str {
        self.number.get(..6).unwrap_or("")
    }

    /// Three-digit sequence code (positions 15-17).
    pub fn sequence_code(&self) -> &str {
        self.number.get(14..17).unwrap_or("")
    }

    pub fn check_char(&self) -> char {
        self.number.chars().last().unwrap_or('?')
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number)
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = self.number.get(..6).unwrap_or("");
        let tail = self.number.get(14..).unwrap_or("");
        write!(f, "ResidentId(\"{head}********{tail}\")")
    }
}

impl Serialize for ResidentId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.number)
    }
}

/// Checks format, birth date (real, from 1900) and check character, but NOT "birth date
/// not after today": deserialisation has no `today`, and a stored number was checked
/// against the day it was entered. Use [`ResidentId::parse`] for fresh input.
impl<'de> Deserialize<'de> for ResidentId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        ResidentId::parse_inner(&s, None).map_err(serde::de::Error::custom)
    }
}

/// Which kind of identity document a donor presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    ResidentId,
    Passport,
    HkMacaoPermit,
    TaiwanPermit,
    ForeignerPermanentResidence,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 5] = [
        DocumentKind::ResidentId,
        DocumentKind::Passport,
        DocumentKind::HkMacaoPermit,
        DocumentKind::TaiwanPermit,
        DocumentKind::ForeignerPermanentResidence,
    ];

    /// Wire name (snake_case).
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::ResidentId => "resident_id",
            DocumentKind::Passport => "passport",
            DocumentKind::HkMacaoPermit => "hk_macao_permit",
            DocumentKind::TaiwanPermit => "taiwan_permit",
            DocumentKind::ForeignerPermanentResidence => "foreigner_permanent_residence",
        }
    }

    fn description(self) -> &'static str {
        match self {
            DocumentKind::ResidentId => "resident identity card",
            DocumentKind::Passport => "passport",
            DocumentKind::HkMacaoPermit => "Hong Kong/Macao permit",
            DocumentKind::TaiwanPermit => "Taiwan permit",
            DocumentKind::ForeignerPermanentResidence => "foreigner's permanent residence card",
        }
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl FromStr for DocumentKind {
    type Err = IdentityDocumentError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        DocumentKind::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted)
            .ok_or_else(|| IdentityDocumentError::UnknownKind { kind: s.to_owned() })
    }
}

/// Why an identity document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityDocumentError {
    #[error(
        "unknown identity document kind {kind:?}: allowed resident_id, passport, hk_macao_permit, taiwan_permit, foreigner_permanent_residence"
    )]
    UnknownKind { kind: String },
    #[error("{kind} number is empty")]
    EmptyNumber { kind: DocumentKind },
    #[error("{kind} number has {got} characters, at most 32 allowed")]
    NumberTooLong { kind: DocumentKind, got: usize },
    #[error(
        "invalid character {found:?} at position {position} of the {kind} number: allowed A-Z, 0-9 and -"
    )]
    InvalidCharacter {
        kind: DocumentKind,
        position: usize,
        found: char,
    },
    #[error(transparent)]
    ResidentId(#[from] ResidentIdError),
}

/// An identity document as recorded for a donor.
///
/// Build it with [`IdentityDocument::parse`] (or deserialise it), which validates the
/// number; the variants' fields are public for matching, not for unchecked construction.
/// Serialised as `{"kind": "passport", "number": "E12345678"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(type = "{ kind: string, number: string }")
)]
#[serde(try_from = "IdentityDocumentWire", into = "IdentityDocumentWire")]
pub enum IdentityDocument {
    ResidentId(ResidentId),
    Passport(String),
    HkMacaoPermit(String),
    TaiwanPermit(String),
    ForeignerPermanentResidence(String),
}

#[derive(Serialize, Deserialize)]
struct IdentityDocumentWire {
    kind: String,
    number: String,
}

impl From<IdentityDocument> for IdentityDocumentWire {
    fn from(doc: IdentityDocument) -> Self {
        IdentityDocumentWire {
            kind: doc.kind().as_str().to_owned(),
            number: doc.number().to_owned(),
        }
    }
}

impl TryFrom<IdentityDocumentWire> for IdentityDocument {
    type Error = IdentityDocumentError;

    fn try_from(w: IdentityDocumentWire) -> Result<Self, Self::Error> {
        IdentityDocument::parse_inner(&w.kind, &w.number, None)
    }
}

impl IdentityDocument {
    /// Validates `number` for `kind` (the snake_case wire name).
    ///
    /// Documents other than the resident ID have no checksum we can verify, so they are
    /// only normalised (trimmed, upper-cased) and checked for plausible characters.
    pub fn parse(
        kind: &str,
        number: &str,
        today: NaiveDate,
    ) -> Result<IdentityDocument, IdentityDocumentError> {
        IdentityDocument::parse_inner(kind, number, Some(today))
    }

    fn parse_inner(
        kind: &str,
        number: &str,
        today: Option<NaiveDate>,
    ) -> Result<IdentityDocument, IdentityDocumentError> {
        let kind: DocumentKind = kind.parse()?;
        let other = |number: &str| normalise_document_number(kind, number);
        Ok(match kind {
            DocumentKind::ResidentId => {
                IdentityDocument::ResidentId(ResidentId::parse_inner(number, today)?)
            }
            DocumentKind::Passport => IdentityDocument::Passport(other(number)?),
            DocumentKind::HkMacaoPermit => IdentityDocument::HkMacaoPermit(other(number)?),
            DocumentKind::TaiwanPermit => IdentityDocument::TaiwanPermit(other(number)?),
            DocumentKind::ForeignerPermanentResidence => {
                IdentityDocument::ForeignerPermanentResidence(other(number)?)
            }
        })
    }

    pub fn kind(&self) -> DocumentKind {
        match self {
            IdentityDocument::ResidentId(_) => DocumentKind::ResidentId,
            IdentityDocument::Passport(_) => DocumentKind::Passport,
            IdentityDocument::HkMacaoPermit(_) => DocumentKind::HkMacaoPermit,
            IdentityDocument::TaiwanPermit(_) => DocumentKind::TaiwanPermit,
            IdentityDocument::ForeignerPermanentResidence(_) => {
                DocumentKind::ForeignerPermanentResidence
            }
        }
    }

    pub fn number(&self) -> &str {
        match self {
            IdentityDocument::ResidentId(id) => id.as_str(),
            IdentityDocument::Passport(n)
            | IdentityDocument::HkMacaoPermit(n)
            | IdentityDocument::TaiwanPermit(n)
            | IdentityDocument::ForeignerPermanentResidence(n) => n,
        }
    }
}

fn normalise_document_number(
    kind: DocumentKind,
    number: &str,
) -> Result<String, IdentityDocumentError> {
    let normalised: String = number
        .trim()
        .chars()
        .map(|c| fold_full_width(c).to_ascii_uppercase())
        .collect();
    let count = normalised.chars().count();
    if count == 0 {
        return Err(IdentityDocumentError::EmptyNumber { kind });
    }
    if count > MAX_DOCUMENT_NUMBER_LEN {
        return Err(IdentityDocumentError::NumberTooLong { kind, got: count });
    }
    if let Some((i, found)) = normalised
        .chars()
        .enumerate()
        .find(|&(_, c)| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(IdentityDocumentError::InvalidCharacter {
            kind,
            position: i + 1,
            found,
        });
    }
    Ok(normalised)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2026, 5, 1);

    fn today() -> NaiveDate {
        day(TODAY.0, TODAY.1, TODAY.2)
    }

    #[test]
    fn standard_example_parses() {
        let id = ResidentId::parse("11010519491231002X", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), day(1949, 12, 31));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.address_code(), "110105");
        assert_eq!(id.sequence_code(), "002");
        assert_eq!(id.check_char(), 'X');
        assert_eq!(mod11_2_check_char("11010519491231002").unwrap(), 'X');
    }

    #[test]
    fn lower_case_x_blanks_and_full_width_are_normalised() {
        let id = ResidentId::parse("  11010519491231002x\n", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        let id = ResidentId::parse("１１０１０５１９４９１２３１００２ｘ", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn male_from_odd_seventeenth_digit() {
        let first17 = "11010519900307123";
        let check = mod11_2_check_char(first17).unwrap();
        let id = ResidentId::parse(&format!("{first17}{check}"), today()).unwrap();
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.birth_date(), day(1990, 3, 7));
    }

    fn with_check(first17: &str) -> String {
        format!("{first17}{}", mod11_2_check_char(first17).unwrap())
    }

    #[test]
    fn errors_are_specific() {
        let t = today();
        assert_eq!(ResidentId::parse("   ", t), Err(ResidentIdError::Empty));
        assert_eq!(
            ResidentId::parse("110105491231002", t),
            Err(ResidentIdError::WrongLength { got: 15 })
        );
        assert!(
            ResidentId::parse("110105491231002", t)
                .unwrap_err()
                .to_string()
                .contains("15-digit")
        );
        assert_eq!(
            ResidentId::parse("1101051949123A002X", t),
            Err(ResidentIdError::NonDigit {
                position: 14,
                found: 'A'
            })
        );
        assert_eq!(
            ResidentId::parse("11010519491231002Y", t),
            Err(ResidentIdError::InvalidCheckCharacter { found: 'Y' })
        );
        assert_eq!(
            ResidentId::parse(&with_check("11010519490230002"), t),
            Err(ResidentIdError::InvalidBirthDate {
                digits: "19490230".into()
            })
        );
        assert_eq!(
            ResidentId::parse(&with_check("11010518991231002"), t),
            Err(ResidentIdError::BirthDateTooEarly {
                date: day(1899, 12, 31),
                min_year: 1900
            })
        );
        assert_eq!(
            ResidentId::parse(&with_check("11010520260502002"), t),
            Err(ResidentIdError::BirthDateInFuture {
                date: day(2026, 5, 2),
                today: t
            })
        );
        // Born today is not in the future.
        assert!(ResidentId::parse(&with_check("11010520260501002"), t).is_ok());
        assert_eq!(
            ResidentId::parse("110105194912310021", t),
            Err(ResidentIdError::CheckMismatch {
                expected: 'X',
                found: '1'
            })
        );
    }

    #[test]
    fn leap_day_birth_dates() {
        let t = today();
        assert!(ResidentId::parse(&with_check("11010520000229002"), t).is_ok());
        assert!(matches!(
            ResidentId::parse(&with_check("11010519000229002"), t),
            Err(ResidentIdError::InvalidBirthDate { .. })
        ));
    }

    #[test]
    fn check_char_input_must_be_17_digits() {
        assert_eq!(
            mod11_2_check_char("1101"),
            Err(ResidentIdError::CheckInputWrongLength { got: 4 })
        );
        assert_eq!(
            mod11_2_check_char("1101051949123100A"),
            Err(ResidentIdError::NonDigit {
                position: 17,
                found: 'A'
            })
        );
    }

    #[test]
    fn debug_masks_the_birth_date() {
        let id = ResidentId::parse("11010519491231002X", today()).unwrap();
        assert_eq!(format!("{id:?}"), "ResidentId(\"110105********002X\")");
    }

    #[test]
    fn serde_round_trip_without_today() {
        let id = ResidentId::parse("11010519491231002X", today()).unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"11010519491231002X\"");
        assert_eq!(serde_json::from_str::<ResidentId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<ResidentId>("\"110105194912310021\"").is_err());
        // The future-date rule needs "today", which deserialisation does not have.
        let future = with_check("11010530000101002");
        assert!(serde_json::from_str::<ResidentId>(&format!("\"{future}\"")).is_ok());
    }

    #[test]
    fn identity_documents() {
        let t = today();
        let doc = IdentityDocument::parse("passport", "  e1234567-8 ", t).unwrap();
        assert_eq!(doc, IdentityDocument::Passport("E1234567-8".into()));
        assert_eq!(doc.kind(), DocumentKind::Passport);
        assert_eq!(doc.number(), "E1234567-8");
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "passport", "number": "E1234567-8"})
        );
        assert_eq!(
            serde_json::from_value::<IdentityDocument>(json).unwrap(),
            doc
        );

        let doc = IdentityDocument::parse("resident_id", "11010519491231002x", t).unwrap();
        assert_eq!(doc.kind(), DocumentKind::ResidentId);
        assert_eq!(doc.number(), "11010519491231002X");

        for (kind, variant) in [
            ("hk_macao_permit", DocumentKind::HkMacaoPermit),
            ("taiwan_permit", DocumentKind::TaiwanPermit),
            (
                "foreigner_permanent_residence",
                DocumentKind::ForeignerPermanentResidence,
            ),
        ] {
            let doc = IdentityDocument::parse(kind, "c12345678", t).unwrap();
            assert_eq!(doc.kind(), variant);
            assert_eq!(doc.number(), "C12345678");
            let back: IdentityDocument =
                serde_json::from_value(serde_json::to_value(&doc).unwrap()).unwrap();
            assert_eq!(back, doc);
        }
    }

    #[test]
    fn identity_document_errors() {
        let t = today();
        assert!(matches!(
            IdentityDocument::parse("driving_licence", "X1", t),
            Err(IdentityDocumentError::UnknownKind { .. })
        ));
        assert_eq!(
            IdentityDocument::parse("passport", "  ", t),
            Err(IdentityDocumentError::EmptyNumber {
                kind: DocumentKind::Passport
            })
        );
        assert_eq!(
            IdentityDocument::parse("passport", &"A".repeat(33), t),
            Err(IdentityDocumentError::NumberTooLong {
                kind: DocumentKind::Passport,
                got: 33
            })
        );
        assert!(IdentityDocument::parse("passport", &"A".repeat(32), t).is_ok());
        assert_eq!(
            IdentityDocument::parse("taiwan_permit", "AB 12", t),
            Err(IdentityDocumentError::InvalidCharacter {
                kind: DocumentKind::TaiwanPermit,
                position: 3,
                found: ' '
            })
        );
        assert_eq!(
            IdentityDocument::parse("resident_id", "110105194912310021", t),
            Err(IdentityDocumentError::ResidentId(
                ResidentIdError::CheckMismatch {
                    expected: 'X',
                    found: '1'
                }
            ))
        );
        let bad = serde_json::json!({"kind": "passport", "number": "中文"});
        assert!(serde_json::from_value::<IdentityDocument>(bad).is_err());
    }
}
