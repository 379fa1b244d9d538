//! The pre-fill code: the QR a donor's phone shows at the bus, made by the station's
//! `/prefill` page (crates/station/ui/prefill.js) from the identity document and the
//! questionnaire answers the donor gave before coming (docs/prefill.md).
//!
//! Text `LBQ1:` + base45(raw DEFLATE(UTF-8 JSON)): every character in the QR
//! alphanumeric set, one symbol. The JSON has short keys so the code stays small:
//! `{"q": questionnaire version, "d": the day it is for, "i": {"t": document kind, "n":
//! number, "m": name, "s"?: sex, "b"?: birth date}, "p"?: phone, "a": {question id:
//! answer}}`; `s` and `b` only for documents that do not carry them (not a resident ID).
//!
//! What this module checks: the form, the size, the day and the identity document.
//! What it does not: the answers against the questionnaire (the domain's questionnaire
//! does that when the app fills the screening from them) and whether the device holds
//! that questionnaire version ([`Prefill::require_questionnaire`], which the app calls
//! with the versions it has).

use std::collections::BTreeMap;
use std::io::Write;

use chrono::NaiveDate;
use flate2::Compression;
use flate2::write::DeflateEncoder;
use flate2::{Decompress, FlushDecompress, Status};
use lifebridge_domain::Sex;
use lifebridge_domain::messages::Message;
use lifebridge_domain::resident_id::{IdentityDocument, IdentityDocumentError};
use serde::{Deserialize, Serialize};

use crate::base45;

/// The format tag and its version; a later format (`LBQ2:`) is refused by name.
pub const PREFIX: &str = "LBQ1:";

/// The inflated JSON never legitimately exceeds this (the full built-in questionnaire
/// with every answer and follow-up given is a few KiB); a crafted QR must not be able
/// to make the tablet inflate megabytes.
pub const MAX_PREFILL_JSON: usize = 64 * 1024;

/// The most characters one QR symbol holds in alphanumeric mode (version 40, level L);
/// a longer text came from no QR and is refused before it is decoded.
pub const MAX_CODE_CHARS: usize = 4_296;

/// What the donor filled in on their phone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prefill {
    /// The questionnaire version the answers are to.
    pub questionnaire_version: String,
    /// The day the donor chose to come; the code is valid on that day only.
    pub valid_on: NaiveDate,
    pub document: IdentityDocument,
    pub name: String,
    /// From the number for a resident ID; as the donor gave them for other documents.
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    pub phone: Option<String>,
    /// `{question id: answer}` as the questionnaire contract defines answers.
    pub answers: BTreeMap<String, serde_json::Value>,
}

/// Which layer of a damaged code failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Base45,
    Inflate,
    Json,
}

/// Why a scanned text is not a pre-fill code for today. `Display` is the English text of
/// [`PrefillCodeError::message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefillCodeError {
    #[error("{}", self.message())]
    NotAPrefillCode { start: String },
    #[error("{}", self.message())]
    UnsupportedVersion { found: String },
    #[error("{}", self.message())]
    Damaged { layer: Layer, detail: String },
    #[error("{}", self.message())]
    TooLong { chars: usize },
    #[error("{}", self.message())]
    TooLarge,
    #[error("{}", self.message())]
    Expired {
        valid_on: NaiveDate,
        today: NaiveDate,
    },
    #[error("{}", self.message())]
    NotYetValid {
        valid_on: NaiveDate,
        today: NaiveDate,
    },
    #[error("{}", self.message())]
    InvalidDocument(IdentityDocumentError),
    #[error("{}", self.message())]
    SexMismatch,
    #[error("{}", self.message())]
    BirthDateMismatch { code: NaiveDate, number: NaiveDate },
    #[error("{}", self.message())]
    UnknownQuestionnaire { version: String },
}

impl PrefillCodeError {
    /// The refusal for the nurse and the donor (`prefill.*`).
    pub fn message(&self) -> Message {
        match self {
            PrefillCodeError::NotAPrefillCode { start } => {
                Message::new("prefill.not_a_prefill_code").with("start", start.as_str())
            }
            PrefillCodeError::UnsupportedVersion { found } => {
                Message::new("prefill.unsupported_version").with("found", found.as_str())
            }
            PrefillCodeError::Damaged { layer, detail } => Message::new(match layer {
                Layer::Base45 => "prefill.damaged_base45",
                Layer::Inflate => "prefill.damaged_inflate",
                Layer::Json => "prefill.damaged_json",
            })
            .with("detail", detail.as_str()),
            PrefillCodeError::TooLong { chars } => Message::new("prefill.too_long")
                .with("chars", chars.to_string())
                .with("max", MAX_CODE_CHARS.to_string()),
            PrefillCodeError::TooLarge => {
                Message::new("prefill.too_large").with("max", (MAX_PREFILL_JSON / 1024).to_string())
            }
            PrefillCodeError::Expired { valid_on, today } => Message::new("prefill.expired")
                .with("valid_on", valid_on.to_string())
                .with("today", today.to_string()),
            PrefillCodeError::NotYetValid { valid_on, today } => {
                Message::new("prefill.not_yet_valid")
                    .with("valid_on", valid_on.to_string())
                    .with("today", today.to_string())
            }
            PrefillCodeError::InvalidDocument(e) => {
                Message::new("prefill.invalid_document").with("detail", e.to_string())
            }
            PrefillCodeError::SexMismatch => Message::new("prefill.sex_mismatch"),
            PrefillCodeError::BirthDateMismatch { code, number } => {
                Message::new("prefill.birth_date_mismatch")
                    .with("code", code.to_string())
                    .with("number", number.to_string())
            }
            PrefillCodeError::UnknownQuestionnaire { version } => {
                Message::new("prefill.unknown_questionnaire").with("version", version.as_str())
            }
        }
    }
}

impl Prefill {
    /// Refuses a code answered to a questionnaire version the device does not hold
    /// (`held`: the versions it has: the built-in one and those the station published).
    pub fn require_questionnaire<'a>(
        &self,
        held: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), PrefillCodeError> {
        if held.into_iter().any(|v| v == self.questionnaire_version) {
            Ok(())
        } else {
            Err(PrefillCodeError::UnknownQuestionnaire {
                version: self.questionnaire_version.clone(),
            })
        }
    }
}

/// The JSON inside the code, with the contract's short keys.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    q: String,
    d: NaiveDate,
    i: WireDocument,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<String>,
    #[serde(default)]
    a: BTreeMap<String, serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireDocument {
    t: String,
    n: String,
    m: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<Sex>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<NaiveDate>,
}

/// The code's text for `prefill`. A resident ID's sex and birth date are left out: the
/// number carries them.
pub fn encode(prefill: &Prefill) -> String {
    let carried = matches!(prefill.document, IdentityDocument::ResidentId(_));
    let wire = Wire {
        q: prefill.questionnaire_version.clone(),
        d: prefill.valid_on,
        i: WireDocument {
            t: prefill.document.kind().as_str().to_owned(),
            n: prefill.document.number().to_owned(),
            m: prefill.name.clone(),
            s: if carried { None } else { prefill.sex },
            b: if carried { None } else { prefill.birth_date },
        },
        p: prefill.phone.clone(),
        a: prefill.answers.clone(),
    };
    // Serialising plain data cannot fail, nor can writing into a Vec; an empty body
    // would be refused by `decode` with a specific error rather than panic.
    let json = serde_json::to_vec(&wire).unwrap_or_default();
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::best());
    let _ = enc.write_all(&json);
    let packed = enc.finish().unwrap_or_default();
    format!("{PREFIX}{}", base45::encode(&packed))
}

/// Reads a scanned pre-fill code and checks it is for `today` and its identity document
/// is valid (a resident ID's sex and birth date come from the number).
pub fn decode(text: &str, today: NaiveDate) -> Result<Prefill, PrefillCodeError> {
    // Hand scanners add a trailing Enter or tab; nothing else is stripped.
    let text = text.trim_matches(|c: char| c == '\r' || c == '\n' || c == '\t');
    let Some(payload) = text.strip_prefix(PREFIX) else {
        let tag = text.split(':').next().unwrap_or_default();
        if text.contains(':')
            && tag.len() == PREFIX.len() - 1
            && tag.starts_with("LBQ")
            && tag[3..].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(PrefillCodeError::UnsupportedVersion {
                found: tag.to_owned(),
            });
        }
        return Err(PrefillCodeError::NotAPrefillCode {
            start: text.chars().take(12).collect(),
        });
    };
    let chars = text.chars().count();
    if chars > MAX_CODE_CHARS {
        return Err(PrefillCodeError::TooLong { chars });
    }
    let packed = base45::decode(payload).map_err(|e| PrefillCodeError::Damaged {
        layer: Layer::Base45,
        detail: e.to_string(),
    })?;
    let json = inflate(&packed)?;
    let wire: Wire = serde_json::from_slice(&json).map_err(|e| PrefillCodeError::Damaged {
        layer: Layer::Json,
        detail: e.to_string(),
    })?;
    if wire.d < today {
        return Err(PrefillCodeError::Expired {
            valid_on: wire.d,
            today,
        });
    }
    if wire.d > today {
        return Err(PrefillCodeError::NotYetValid {
            valid_on: wire.d,
            today,
        });
    }
    let document = IdentityDocument::parse(&wire.i.t, &wire.i.n, today)
        .map_err(PrefillCodeError::InvalidDocument)?;
    let (sex, birth_date) = match &document {
        IdentityDocument::ResidentId(id) => {
            if wire.i.s.is_some_and(|s| s != id.sex()) {
                return Err(PrefillCodeError::SexMismatch);
            }
            if let Some(code) = wire.i.b.filter(|b| *b != id.birth_date()) {
                return Err(PrefillCodeError::BirthDateMismatch {
                    code,
                    number: id.birth_date(),
                });
            }
            (Some(id.sex()), Some(id.birth_date()))
        }
        _ => (wire.i.s, wire.i.b),
    };
    Ok(Prefill {
        questionnaire_version: wire.q,
        valid_on: wire.d,
        document,
        name: wire.i.m,
        sex,
        birth_date,
        phone: wire.p,
        answers: wire.a,
    })
}

/// Raw DEFLATE carries no checksum, so the stream must reach its final block's end and
/// use every byte: a cut-off code is refused even when what it held so far is valid.
/// Inflates at most [`MAX_PREFILL_JSON`] bytes (plus one, to tell "too large").
fn inflate(packed: &[u8]) -> Result<Vec<u8>, PrefillCodeError> {
    let damaged = |detail: &str| PrefillCodeError::Damaged {
        layer: Layer::Inflate,
        detail: detail.to_owned(),
    };
    let mut json = Vec::with_capacity(packed.len() * 4);
    let mut inflater = Decompress::new(false);
    loop {
        let consumed = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
        let input = packed.get(consumed..).unwrap_or_default();
        if json.len() == json.capacity() {
            json.reserve(4096);
        }
        let before = (inflater.total_in(), inflater.total_out());
        let status = inflater
            .decompress_vec(input, &mut json, FlushDecompress::None)
            .map_err(|e| damaged(&e.to_string()))?;
        if json.len() > MAX_PREFILL_JSON {
            return Err(PrefillCodeError::TooLarge);
        }
        match status {
            Status::StreamEnd => break,
            _ if before == (inflater.total_in(), inflater.total_out()) => {
                return Err(damaged("the compressed data ends before its last block"));
            }
            _ => {}
        }
    }
    if usize::try_from(inflater.total_in()).ok() != Some(packed.len()) {
        return Err(damaged("bytes follow the end of the compressed data"));
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn sample() -> Prefill {
        let today = day("2026-12-05");
        Prefill {
            questionnaire_version: "GB18467-2011-Q1".into(),
            valid_on: today,
            document: IdentityDocument::parse("resident_id", "11010519491231002X", today).unwrap(),
            name: "张三".into(),
            sex: Some(Sex::Female),
            birth_date: Some(day("1949-12-31")),
            phone: Some("13800138000".into()),
            answers: [
                ("tattoo".to_owned(), serde_json::json!(true)),
                (
                    "tattoo_when".to_owned(),
                    serde_json::json!({"ago": 3, "unit": "months"}),
                ),
            ]
            .into_iter()
            .collect(),
        }
    }

    fn pack(json: &str) -> String {
        let mut enc = DeflateEncoder::new(Vec::new(), Compression::best());
        enc.write_all(json.as_bytes()).unwrap();
        format!("{PREFIX}{}", base45::encode(&enc.finish().unwrap()))
    }

    #[test]
    fn round_trips_and_a_resident_id_carries_sex_and_birth_date() {
        let p = sample();
        let code = encode(&p);
        assert!(code.starts_with("LBQ1:"));
        assert!(
            code.bytes()
                .all(|b| b"LBQ:".contains(&b) || base45::ALPHABET.contains(&b))
        );
        assert_eq!(decode(&code, p.valid_on).unwrap(), p);
        // The number alone says who: sex and birth date are not in the code.
        let mut bare = p.clone();
        bare.sex = None;
        bare.birth_date = None;
        assert_eq!(encode(&bare), code);
        assert_eq!(decode(&format!("{code}\r\n"), p.valid_on).unwrap(), p);
    }

    #[test]
    fn a_passport_keeps_the_sex_and_birth_date_given() {
        let mut p = sample();
        p.document = IdentityDocument::parse("passport", "E12345678", p.valid_on).unwrap();
        p.sex = Some(Sex::Male);
        p.birth_date = Some(day("1990-05-01"));
        p.phone = None;
        assert_eq!(decode(&encode(&p), p.valid_on).unwrap(), p);
    }

    #[test]
    fn only_on_the_day_chosen() {
        let p = sample();
        let code = encode(&p);
        assert_eq!(
            decode(&code, day("2026-12-06")).unwrap_err(),
            PrefillCodeError::Expired {
                valid_on: p.valid_on,
                today: day("2026-12-06")
            }
        );
        let early = decode(&code, day("2026-12-04")).unwrap_err();
        assert_eq!(
            early,
            PrefillCodeError::NotYetValid {
                valid_on: p.valid_on,
                today: day("2026-12-04")
            }
        );
        // The refusal says the day the code is for.
        assert!(early.to_string().contains("2026-12-05"), "{early}");
    }

    #[test]
    fn foreign_and_future_codes_are_named() {
        let today = day("2026-12-05");
        assert!(matches!(
            decode("=G1234260123450", today),
            Err(PrefillCodeError::NotAPrefillCode { .. })
        ));
        assert!(matches!(
            decode("LBM1:1/1:0123456789ABCDEF:BB8", today),
            Err(PrefillCodeError::NotAPrefillCode { .. })
        ));
        assert_eq!(
            decode("LBQ2:BB8", today),
            Err(PrefillCodeError::UnsupportedVersion {
                found: "LBQ2".into()
            })
        );
    }

    #[test]
    fn each_damaged_layer_is_named() {
        let today = day("2026-12-05");
        let layer = |text: &str| match decode(text, today) {
            Err(PrefillCodeError::Damaged { layer, .. }) => Some(layer),
            _ => None,
        };
        assert_eq!(layer("LBQ1:ab"), Some(Layer::Base45));
        assert_eq!(layer("LBQ1:GGW"), Some(Layer::Base45));
        assert_eq!(
            layer(&format!("LBQ1:{}", base45::encode(&[0xff; 9]))),
            Some(Layer::Inflate)
        );
        assert_eq!(layer(&pack("{\"q\": 1}")), Some(Layer::Json));
        // An unknown key is a format change, not something to drop silently.
        assert_eq!(
            layer(&pack(
                r#"{"q":"Q","d":"2026-12-05","i":{"t":"passport","n":"E1","m":"A"},"x":1}"#
            )),
            Some(Layer::Json)
        );
        let msg = decode("LBQ1:ab", today).unwrap_err().message();
        assert_eq!(msg.code, "prefill.damaged_base45");
    }

    #[test]
    fn a_code_cut_short_is_refused_even_when_its_json_came_through() {
        let p = sample();
        let code = encode(&p);
        // Every shorter prefix of whole base45 groups.
        let mut cut = code.len() - 3;
        while cut > PREFIX.len() {
            assert!(decode(&code[..cut], p.valid_on).is_err(), "cut at {cut}");
            cut -= 3;
        }
        let mut longer = code.clone();
        longer.push_str("000");
        assert!(matches!(
            decode(&longer, p.valid_on),
            Err(PrefillCodeError::Damaged {
                layer: Layer::Inflate,
                ..
            })
        ));
    }

    #[test]
    fn a_stream_without_its_last_byte_is_refused() {
        // The final byte of a DEFLATE stream may hold only the end-of-block code: without
        // it every literal came through and the JSON is whole, yet the code is cut.
        let mut whole_json_seen = 0;
        for n in 0..40 {
            let json = format!(
                r#"{{"q":"Q","d":"2026-12-05","i":{{"t":"passport","n":"E{n}","m":"{}"}}}}"#,
                "张".repeat(n)
            );
            let mut enc = DeflateEncoder::new(Vec::new(), Compression::best());
            enc.write_all(json.as_bytes()).unwrap();
            let mut packed = enc.finish().unwrap();
            packed.pop();
            let mut lenient = Vec::new();
            let _ = std::io::Read::read_to_end(
                &mut flate2::read::DeflateDecoder::new(packed.as_slice()),
                &mut lenient,
            );
            if lenient == json.as_bytes() {
                whole_json_seen += 1;
            }
            let code = format!("{PREFIX}{}", base45::encode(&packed));
            assert!(
                matches!(
                    decode(&code, day("2026-12-05")),
                    Err(PrefillCodeError::Damaged {
                        layer: Layer::Inflate,
                        ..
                    })
                ),
                "{json}"
            );
        }
        assert!(
            whole_json_seen > 0,
            "no sample lost only its end-of-block code"
        );
    }

    #[test]
    fn a_bomb_is_refused_without_inflating_it_all() {
        let today = day("2026-12-05");
        // 10 MB of spaces deflate to ~10 KB; the text stays within one symbol's size.
        let big = format!(
            r#"{{"q":"Q","d":"2026-12-05","i":{{"t":"passport","n":"E1","m":"{}"}}}}"#,
            " ".repeat(200_000)
        );
        let code = pack(&big);
        assert!(code.len() < MAX_CODE_CHARS, "{}", code.len());
        assert_eq!(decode(&code, today), Err(PrefillCodeError::TooLarge));
        let long = format!("LBQ1:{}", "0".repeat(MAX_CODE_CHARS));
        assert!(matches!(
            decode(&long, today),
            Err(PrefillCodeError::TooLong { .. })
        ));
    }

    #[test]
    fn a_wrong_document_is_refused_with_its_own_error() {
        let today = day("2026-12-05");
        let code = pack(
            r#"{"q":"Q","d":"2026-12-05","i":{"t":"resident_id","n":"110105194912310021","m":"张三"}}"#,
        );
        let err = decode(&code, today).unwrap_err();
        assert!(
            matches!(err, PrefillCodeError::InvalidDocument(_)),
            "{err:?}"
        );
        assert!(err.to_string().contains("check character"), "{err}");
        let code = pack(
            r#"{"q":"Q","d":"2026-12-05","i":{"t":"resident_id","n":"11010519491231002X","m":"张三","s":"male"}}"#,
        );
        assert_eq!(decode(&code, today), Err(PrefillCodeError::SexMismatch));
        let code = pack(
            r#"{"q":"Q","d":"2026-12-05","i":{"t":"resident_id","n":"11010519491231002X","m":"张三","b":"1950-01-01"}}"#,
        );
        assert!(matches!(
            decode(&code, today),
            Err(PrefillCodeError::BirthDateMismatch { .. })
        ));
    }

    #[test]
    fn the_questionnaire_version_must_be_held() {
        let p = sample();
        assert!(p.require_questionnaire(["GB18467-2011-Q1"]).is_ok());
        let err = p.require_questionnaire(["OTHER"]).unwrap_err();
        assert_eq!(err.message().code, "prefill.unknown_questionnaire");
    }
}
