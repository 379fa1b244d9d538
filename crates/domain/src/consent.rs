//! The donor's informed consent, signed on the tablet before the physician's decision.
//!
//! The signature is the finger's strokes as vector data in a fixed box of
//! [`BOX_WIDTH`]×[`BOX_HEIGHT`] units (whatever the screen's size, the pad scales to
//! it), so it is stored and replicated with the screening, encrypted like everything
//! else, and redrawn the same on any screen. A donor who cannot sign (an injured hand,
//! cannot write) is recorded as such with a crew member who witnessed the consent.
//!
//! [`Consent::validate`] is the one shape check, run by the store before recording
//! and by the station on every pushed screening; each refusal names the field and what
//! is allowed, in the catalogue's words.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entities::RecordId;
use crate::messages::Message;

/// The signature box, in signature units: x runs 0..=1000 left to right, y 0..=400
/// top to bottom (the pad's aspect, 5:2, is the box's).
pub const BOX_WIDTH: u16 = 1000;
pub const BOX_HEIGHT: u16 = 400;
/// A Chinese name written in full is a few dozen strokes; 64 leaves room for a
/// restart without letting a scribble grow the record without bound.
pub const MAX_STROKES: usize = 64;
/// Points of one stroke (a pointer reports about 60 a second: half a minute of one
/// stroke) and of the whole signature (the body stays under about 100 KB of JSON).
pub const MAX_POINTS_PER_STROKE: usize = 2000;
pub const MAX_POINTS: usize = 10_000;
/// Not a dot or a blank: at least this many points in all ...
pub const MIN_POINTS: usize = 10;
/// ... spread over at least this many units along the box's width or height (a tenth
/// of the width).
pub const MIN_EXTENT: u16 = 100;
/// Why a donor could not sign, in the witness's words.
pub const REASON_MIN_CHARS: usize = 2;
pub const REASON_MAX_CHARS: usize = 200;
/// The consent text's version (`Questionnaire.consent.version`).
pub const VERSION_MAX_CHARS: usize = 64;

/// The consent the donor gave for this screening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Consent {
    /// The version of the consent text the donor read.
    pub version: String,
    pub signed_at: DateTime<Utc>,
    pub signature: ConsentSignature,
}

/// How the donor consented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConsentSignature {
    /// Signed with a finger: each stroke is the points `[x, y]` of one touch, in the
    /// [`BOX_WIDTH`]×[`BOX_HEIGHT`] box.
    Signed { strokes: Vec<Vec<[u16; 2]>> },
    /// The donor could not sign; a crew member witnessed the consent (with their PIN,
    /// checked where it is recorded).
    Witnessed {
        witness_id: RecordId,
        reason: String,
    },
}

/// A consent refused: the field (dotted path inside the consent) and why, in the
/// catalogue's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConsentError {
    pub field: String,
    pub message: Message,
}

fn refuse(field: impl Into<String>, message: Message) -> Result<(), ConsentError> {
    Err(ConsentError {
        field: field.into(),
        message,
    })
}

impl Consent {
    /// Whether the consent is well formed: a version, and a signature that is one
    /// (points inside the box, bounded counts, not a dot or a blank) or a witnessed
    /// consent with a reason. Which version is in force, and who may witness, are the
    /// caller's to check (they need the questionnaire and the crew).
    pub fn validate(&self) -> Result<(), ConsentError> {
        let version = self.version.trim();
        if version.is_empty() || version.chars().count() > VERSION_MAX_CHARS {
            return refuse(
                "consent.version",
                Message::new("donor_consent.version_length")
                    .with("max", VERSION_MAX_CHARS.to_string()),
            );
        }
        match &self.signature {
            ConsentSignature::Signed { strokes } => validate_strokes(strokes),
            ConsentSignature::Witnessed { reason, .. } => {
                let n = reason.trim().chars().count();
                if !(REASON_MIN_CHARS..=REASON_MAX_CHARS).contains(&n) {
                    return refuse(
                        "consent.signature.reason",
                        Message::new("donor_consent.reason_length")
                            .with("min", REASON_MIN_CHARS.to_string())
                            .with("max", REASON_MAX_CHARS.to_string()),
                    );
                }
                Ok(())
            }
        }
    }

    /// The witness, for a donor who could not sign.
    pub fn witness(&self) -> Option<RecordId> {
        match &self.signature {
            ConsentSignature::Witnessed { witness_id, .. } => Some(*witness_id),
            ConsentSignature::Signed { .. } => None,
        }
    }
}

fn validate_strokes(strokes: &[Vec<[u16; 2]>]) -> Result<(), ConsentError> {
    const FIELD: &str = "consent.signature.strokes";
    if strokes.len() > MAX_STROKES {
        return refuse(
            FIELD,
            Message::new("donor_consent.too_many_strokes").with("max", MAX_STROKES.to_string()),
        );
    }
    let mut total = 0usize;
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (u16::MAX, u16::MAX, 0u16, 0u16);
    for (i, stroke) in strokes.iter().enumerate() {
        if stroke.len() > MAX_POINTS_PER_STROKE {
            return refuse(
                format!("{FIELD}[{i}]"),
                Message::new("donor_consent.stroke_too_long")
                    .with("max", MAX_POINTS_PER_STROKE.to_string()),
            );
        }
        total += stroke.len();
        for (j, &[x, y]) in stroke.iter().enumerate() {
            if x > BOX_WIDTH || y > BOX_HEIGHT {
                return refuse(
                    format!("{FIELD}[{i}][{j}]"),
                    Message::new("donor_consent.point_outside")
                        .with("x", x.to_string())
                        .with("y", y.to_string())
                        .with("width", BOX_WIDTH.to_string())
                        .with("height", BOX_HEIGHT.to_string()),
                );
            }
            min_x = min_x.min(x);
            min_y = min_y.min(y);
            max_x = max_x.max(x);
            max_y = max_y.max(y);
        }
    }
    if total > MAX_POINTS {
        return refuse(
            FIELD,
            Message::new("donor_consent.too_many_points").with("max", MAX_POINTS.to_string()),
        );
    }
    let extent = if total == 0 {
        0
    } else {
        (max_x - min_x).max(max_y - min_y)
    };
    if total < MIN_POINTS || extent < MIN_EXTENT {
        return refuse(
            FIELD,
            Message::new("donor_consent.too_small")
                .with("min_points", MIN_POINTS.to_string())
                .with("min_extent", MIN_EXTENT.to_string()),
        );
    }
    Ok(())
}

/// Whether a signature drawn so far is enough to sign with: the same minimum
/// [`Consent::validate`] asks, so the pad's "signed" button enables exactly when the
/// store would take it.
pub fn signature_is_enough(strokes: &[Vec<[u16; 2]>]) -> bool {
    validate_strokes(strokes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 2, 0, 0).single().unwrap()
    }

    fn signed(strokes: Vec<Vec<[u16; 2]>>) -> Consent {
        Consent {
            version: "GB18467-2011-C1".into(),
            signed_at: at(),
            signature: ConsentSignature::Signed { strokes },
        }
    }

    /// A horizontal line across a third of the box: the smallest kind of real mark.
    fn line(points: u16) -> Vec<[u16; 2]> {
        (0..points).map(|i| [100 + i * 30, 200]).collect()
    }

    fn refused(c: &Consent) -> ConsentError {
        c.validate().unwrap_err()
    }

    #[test]
    fn a_signature_inside_the_box_is_accepted() {
        assert_eq!(signed(vec![line(12)]).validate(), Ok(()));
        // The box's corners are inside it.
        let corners = vec![vec![[0, 0], [1000, 400]], line(10)];
        assert_eq!(signed(corners).validate(), Ok(()));
    }

    #[test]
    fn blank_dot_and_tiny_marks_are_refused() {
        for strokes in [
            vec![],
            vec![vec![]],
            vec![vec![[500, 200]; 50]], // a dot held down
            vec![(0..20).map(|i| [500 + i, 200]).collect()], // 19 units wide
            vec![line(5)],              // too few points
        ] {
            let e = refused(&signed(strokes));
            assert_eq!(e.field, "consent.signature.strokes");
            assert_eq!(e.message.code, "donor_consent.too_small");
        }
    }

    #[test]
    fn a_point_outside_the_box_is_named() {
        let mut s = line(12);
        s[3] = [1001, 10];
        let e = refused(&signed(vec![line(10), s]));
        assert_eq!(e.field, "consent.signature.strokes[1][3]");
        assert_eq!(e.message.code, "donor_consent.point_outside");
        let e = refused(&signed(vec![vec![[10, 401]], line(10)]));
        assert_eq!(e.field, "consent.signature.strokes[0][0]");
    }

    #[test]
    fn counts_are_bounded() {
        let e = refused(&signed(vec![line(10); MAX_STROKES + 1]));
        assert_eq!(e.message.code, "donor_consent.too_many_strokes");
        let long: Vec<[u16; 2]> = (0..=MAX_POINTS_PER_STROKE)
            .map(|i| [(i % 1000) as u16, 200])
            .collect();
        let e = refused(&signed(vec![line(10), long]));
        assert_eq!(e.field, "consent.signature.strokes[1]");
        assert_eq!(e.message.code, "donor_consent.stroke_too_long");
        let many: Vec<Vec<[u16; 2]>> = (0..6)
            .map(|_| {
                (0..MAX_POINTS_PER_STROKE)
                    .map(|i| [(i % 1000) as u16, 9])
                    .collect()
            })
            .collect();
        assert_eq!(
            refused(&signed(many)).message.code,
            "donor_consent.too_many_points"
        );
    }

    #[test]
    fn a_witnessed_consent_needs_a_reason_of_bounded_length() {
        let witnessed = |reason: &str| Consent {
            version: "GB18467-2011-C1".into(),
            signed_at: at(),
            signature: ConsentSignature::Witnessed {
                witness_id: uuid::Uuid::nil(),
                reason: reason.into(),
            },
        };
        assert_eq!(witnessed("右手受伤").validate(), Ok(()));
        assert_eq!(witnessed("右手受伤").witness(), Some(uuid::Uuid::nil()));
        for reason in ["", "  ", "伤", &"长".repeat(201)] {
            let e = refused(&witnessed(reason));
            assert_eq!(e.field, "consent.signature.reason");
            assert_eq!(e.message.code, "donor_consent.reason_length");
        }
    }

    #[test]
    fn the_version_is_required() {
        let mut c = signed(vec![line(12)]);
        c.version = " ".into();
        assert_eq!(refused(&c).field, "consent.version");
        c.version = "v".repeat(65);
        assert_eq!(refused(&c).field, "consent.version");
    }

    #[test]
    fn the_wire_form_is_tagged() {
        let c = signed(vec![vec![[1, 2], [3, 4]]]);
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["signature"]["kind"], "signed");
        assert_eq!(
            json["signature"]["strokes"][0][1],
            serde_json::json!([3, 4])
        );
        assert_eq!(serde_json::from_value::<Consent>(json).unwrap(), c);
    }

    proptest! {
        /// Every signature made of points inside the box, with enough points spread
        /// wide enough and within the counts, is accepted; moving any one point out
        /// of the box refuses it, naming that point.
        #[test]
        fn inside_accepted_outside_named(
            strokes in prop::collection::vec(
                prop::collection::vec((0u16..=BOX_WIDTH, 0u16..=BOX_HEIGHT), 1..40), 1..10),
            which in any::<prop::sample::Index>(),
            out_x in (BOX_WIDTH + 1)..u16::MAX,
        ) {
            let mut strokes: Vec<Vec<[u16; 2]>> =
                strokes.into_iter().map(|s| s.into_iter().map(|(x, y)| [x, y]).collect()).collect();
            strokes.push(line(10));
            prop_assert_eq!(signed(strokes.clone()).validate(), Ok(()));
            prop_assert!(signature_is_enough(&strokes));
            let flat: Vec<(usize, usize)> = strokes.iter().enumerate()
                .flat_map(|(i, s)| (0..s.len()).map(move |j| (i, j))).collect();
            let (i, j) = flat[which.index(flat.len())];
            strokes[i][j][0] = out_x;
            let e = signed(strokes).validate().unwrap_err();
            prop_assert_eq!(e.field, format!("consent.signature.strokes[{i}][{j}]"));
        }

        /// Any mark whose points all lie within a square smaller than the minimum
        /// extent is refused as too small, however many points it has.
        #[test]
        fn small_marks_refused(
            x0 in 0u16..800, y0 in 0u16..300,
            pts in prop::collection::vec((0u16..MIN_EXTENT, 0u16..MIN_EXTENT), 0..200),
        ) {
            let stroke: Vec<[u16; 2]> = pts.into_iter().map(|(dx, dy)| [x0 + dx, y0 + dy]).collect();
            let e = signed(vec![stroke]).validate().unwrap_err();
            prop_assert_eq!(e.message.code, "donor_consent.too_small");
        }
    }
}
