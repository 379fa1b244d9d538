//! The manifest QR: how a signed transport manifest travels from the bus to the
//! station's receiving desk when the bus never got a signal to replicate.
//!
//! A part reads `LBM1:<index>/<count>:<digest>:<payload>`:
//! - `LBM1` names the format and its version, so a later format is refused by name
//!   instead of being misread;
//! - `index`/`count` (1-based) let the desk take parts in any order and say which are
//!   still missing;
//! - `digest` is the first 8 bytes (hex) of the SHA-256 of the whole compressed
//!   manifest, so parts of two manifests never mix and a misread part is caught;
//! - `payload` is the part's slice of the deflated manifest JSON in base45 (RFC 9285).
//!
//! Every character is in the QR alphanumeric set (digits, upper-case letters,
//! ` $%*+-./:`), which the encoder packs at 5.5 bits a character instead of 8 — enough
//! for a 40–60-bag manifest in one symbol.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use lifebridge_domain::cold_chain::Manifest;
use lifebridge_domain::messages::Message;
use sha2::{Digest, Sha256};

use crate::base45;

/// The format tag every part starts with.
pub const PREFIX: &str = "LBM1";

/// Compressed bytes per part. 2,000 bytes become 3,000 base45 characters, which fits a
/// version-38 QR at error-correction level M (capacity 3,391 alphanumeric characters at
/// version 40): one symbol for a 60-bag manifest, printed across an A4 page or shown on
/// the tablet. Larger manifests (long logger imports) take several symbols.
pub const PART_BYTES: usize = 2_000;

/// A manifest JSON never legitimately inflates beyond this; a crafted QR must not be
/// able to exhaust the desk's memory.
pub const MAX_MANIFEST_JSON: usize = 4 * 1024 * 1024;

/// More parts than this is not a manifest a driver would scan by hand.
pub const MAX_PARTS: usize = 99;

const DIGEST_HEX: usize = 16;

/// Why scanned QR parts are not a manifest. `Display` is the English text of
/// [`ManifestCodeError::message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestCodeError {
    #[error("{}", self.message())]
    NotAManifestCode { start: String },
    #[error("{}", self.message())]
    UnsupportedVersion { found: String },
    #[error("{}", self.message())]
    MalformedPart { part: String, reason: String },
    #[error("{}", self.message())]
    Empty,
    #[error("{}", self.message())]
    MixedManifests { first: String, other: String },
    #[error("{}", self.message())]
    CountMismatch { first: usize, other: usize },
    #[error("{}", self.message())]
    ConflictingPart { index: usize },
    #[error("{}", self.message())]
    MissingParts { missing: Vec<usize>, count: usize },
    #[error("{}", self.message())]
    DigestMismatch,
    #[error("{}", self.message())]
    Corrupt(String),
    #[error("{}", self.message())]
    NotAManifest(String),
}

impl ManifestCodeError {
    /// The refusal for the desk (`manifest_qr.*`).
    pub fn message(&self) -> Message {
        match self {
            ManifestCodeError::NotAManifestCode { start } => {
                Message::new("manifest_qr.not_a_manifest_code")
                    .with("prefix", PREFIX)
                    .with("start", start.as_str())
            }
            ManifestCodeError::UnsupportedVersion { found } => {
                Message::new("manifest_qr.unsupported_version")
                    .with("found", found.as_str())
                    .with("prefix", PREFIX)
            }
            ManifestCodeError::MalformedPart { part, reason } => {
                Message::new("manifest_qr.malformed_part")
                    .with("part", part.as_str())
                    .with("reason", reason.as_str())
            }
            ManifestCodeError::Empty => Message::new("manifest_qr.empty"),
            ManifestCodeError::MixedManifests { first, other } => {
                Message::new("manifest_qr.mixed_manifests")
                    .with("first", first.as_str())
                    .with("other", other.as_str())
            }
            ManifestCodeError::CountMismatch { first, other } => {
                Message::new("manifest_qr.count_mismatch")
                    .with("first", first.to_string())
                    .with("other", other.to_string())
            }
            ManifestCodeError::ConflictingPart { index } => {
                Message::new("manifest_qr.conflicting_part").with("index", index.to_string())
            }
            ManifestCodeError::MissingParts { missing, count } => {
                Message::new("manifest_qr.missing_parts")
                    .with("missing", list(missing))
                    .with("count", count.to_string())
            }
            ManifestCodeError::DigestMismatch => Message::new("manifest_qr.digest_mismatch"),
            ManifestCodeError::Corrupt(detail) => {
                Message::new("manifest_qr.corrupt").with("detail", detail.as_str())
            }
            ManifestCodeError::NotAManifest(detail) => {
                Message::new("manifest_qr.not_a_manifest").with("detail", detail.as_str())
            }
        }
    }
}

fn list(items: &[usize]) -> String {
    items
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One scanned part, checked for form but not yet assembled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 1-based.
    pub index: usize,
    pub count: usize,
    /// Upper-case hex; names the manifest across its parts.
    pub digest: String,
    pub bytes: Vec<u8>,
}

/// The QR text(s) for `manifest`: one part for a typical manifest, several when larger.
pub fn encode(manifest: &Manifest) -> Vec<String> {
    // Serialising plain data structs cannot fail; an empty body would fail to decode
    // with a specific error rather than panic.
    let json = serde_json::to_vec(manifest).unwrap_or_default();
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::best());
    let _ = enc.write_all(&json);
    let packed = enc.finish().unwrap_or_default();
    let digest = digest_hex(&packed);
    let chunks: Vec<&[u8]> = packed.chunks(PART_BYTES).collect();
    let count = chunks.len().max(1);
    if chunks.is_empty() {
        return vec![format!("{PREFIX}:1/1:{digest}:")];
    }
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            format!(
                "{PREFIX}:{}/{count}:{digest}:{}",
                i + 1,
                base45::encode(chunk)
            )
        })
        .collect()
}

fn digest_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    hex::encode_upper(&d[..DIGEST_HEX / 2])
}

/// Checks the form of one scanned part (the desk calls this per scan to show progress).
pub fn parse_part(scanned: &str) -> Result<Part, ManifestCodeError> {
    // Hand scanners add a trailing Enter or tab; nothing else is stripped.
    let text = scanned.trim_matches(|c: char| c == '\r' || c == '\n' || c == '\t');
    let mut fields = text.splitn(4, ':');
    let tag = fields.next().unwrap_or_default();
    if tag != PREFIX {
        if tag.len() == PREFIX.len() && tag.starts_with("LBM") && fields.clone().count() == 3 {
            return Err(ManifestCodeError::UnsupportedVersion {
                found: tag.to_owned(),
            });
        }
        return Err(ManifestCodeError::NotAManifestCode {
            start: text.chars().take(12).collect(),
        });
    }
    let (Some(position), Some(digest), Some(payload)) =
        (fields.next(), fields.next(), fields.next())
    else {
        return Err(malformed(
            "?",
            "expected LBM1:<index>/<count>:<digest>:<data>",
        ));
    };
    let Some((index, count)) = position.split_once('/') else {
        return Err(malformed(
            position,
            "the part number must read <index>/<count>",
        ));
    };
    let parse_n = |s: &str| -> Option<usize> {
        if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (Some(index), Some(count)) = (parse_n(index), parse_n(count)) else {
        return Err(malformed(
            position,
            &format!("the part number must be two numbers from 1 to {MAX_PARTS}"),
        ));
    };
    if count == 0 || index == 0 || index > count {
        return Err(malformed(
            position,
            "the part index must be between 1 and the part count",
        ));
    }
    if digest.len() != DIGEST_HEX
        || !digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    {
        return Err(malformed(
            position,
            "the manifest digest must be 16 upper-case hex digits",
        ));
    }
    let bytes =
        base45::decode(payload).map_err(|reason| malformed(position, &reason.to_string()))?;
    Ok(Part {
        index,
        count,
        digest: digest.to_owned(),
        bytes,
    })
}

fn malformed(part: &str, reason: &str) -> ManifestCodeError {
    ManifestCodeError::MalformedPart {
        part: part.chars().take(8).collect(),
        reason: reason.to_owned(),
    }
}

/// Parts gathered so far for one manifest, in any order; a duplicate scan is ignored.
#[derive(Debug, Clone, Default)]
pub struct Assembly {
    digest: Option<String>,
    count: usize,
    parts: BTreeMap<usize, Vec<u8>>,
}

impl Assembly {
    pub fn new() -> Assembly {
        Assembly::default()
    }

    /// Adds one scanned part. Refuses (and keeps what it had) a part of another
    /// manifest or one that contradicts a part already scanned.
    pub fn add(&mut self, scanned: &str) -> Result<(), ManifestCodeError> {
        let part = parse_part(scanned)?;
        if let Some(first) = &self.digest {
            if *first != part.digest {
                return Err(ManifestCodeError::MixedManifests {
                    first: first.clone(),
                    other: part.digest,
                });
            }
            if self.count != part.count {
                return Err(ManifestCodeError::CountMismatch {
                    first: self.count,
                    other: part.count,
                });
            }
        }
        if let Some(existing) = self.parts.get(&part.index) {
            if *existing != part.bytes {
                return Err(ManifestCodeError::ConflictingPart { index: part.index });
            }
            return Ok(());
        }
        self.digest = Some(part.digest);
        self.count = part.count;
        self.parts.insert(part.index, part.bytes);
        Ok(())
    }

    /// Part numbers not yet scanned.
    pub fn missing(&self) -> Vec<usize> {
        (1..=self.count)
            .filter(|i| !self.parts.contains_key(i))
            .collect()
    }

    /// The manifest, once every part is in.
    pub fn finish(&self) -> Result<Manifest, ManifestCodeError> {
        let Some(digest) = &self.digest else {
            return Err(ManifestCodeError::Empty);
        };
        let missing = self.missing();
        if !missing.is_empty() {
            return Err(ManifestCodeError::MissingParts {
                missing,
                count: self.count,
            });
        }
        let packed: Vec<u8> = self.parts.values().flatten().copied().collect();
        if digest_hex(&packed) != *digest {
            return Err(ManifestCodeError::DigestMismatch);
        }
        let mut json = Vec::new();
        DeflateDecoder::new(packed.as_slice())
            .take(MAX_MANIFEST_JSON as u64 + 1)
            .read_to_end(&mut json)
            .map_err(|e| ManifestCodeError::Corrupt(e.to_string()))?;
        if json.len() > MAX_MANIFEST_JSON {
            return Err(ManifestCodeError::Corrupt(format!(
                "it inflates to more than {MAX_MANIFEST_JSON} bytes"
            )));
        }
        serde_json::from_slice(&json).map_err(|e| ManifestCodeError::NotAManifest(e.to_string()))
    }
}

/// Decodes scanned parts given in any order, duplicates ignored.
pub fn decode<S: AsRef<str>>(scanned: &[S]) -> Result<Manifest, ManifestCodeError> {
    let mut assembly = Assembly::new();
    for s in scanned {
        assembly.add(s.as_ref())?;
    }
    assembly.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_and_future_codes_are_named() {
        assert!(matches!(
            parse_part("=G1234260123450"),
            Err(ManifestCodeError::NotAManifestCode { .. })
        ));
        assert!(matches!(
            parse_part("LBM2:1/1:0123456789ABCDEF:BB8"),
            Err(ManifestCodeError::UnsupportedVersion { .. })
        ));
        assert!(matches!(
            parse_part("LBM1:2/1:0123456789ABCDEF:BB8"),
            Err(ManifestCodeError::MalformedPart { .. })
        ));
        assert!(matches!(
            parse_part("LBM1:1/1:0123456789abcdef:BB8"),
            Err(ManifestCodeError::MalformedPart { .. })
        ));
        assert_eq!(decode::<&str>(&[]).unwrap_err(), ManifestCodeError::Empty);
    }
}
