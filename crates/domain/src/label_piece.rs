//! The pieces of a donation's label set (bags, tubes, the record sheet) and the ISBT 128
//! flag each carries. Below `entities` and `labels`, which both speak of pieces.

use serde::{Deserialize, Serialize};

use crate::din::DinFlag;
use crate::messages::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    Bag,
    Satellite,
    Tube,
    Record,
}

/// Sample tubes taken per donation when the station has not configured another count:
/// one for typing and serology (flag `07`), one for nucleic acid testing (flag `09`).
pub const DEFAULT_TUBE_COUNT: u8 = 2;
/// Tubes 3 and above carry locally defined flags `23`..`29` (see [`LOCAL_TUBE_FLAG_BASE`]),
/// so at most nine tubes can be told apart.
pub const MAX_TUBE_COUNT: u8 = 9;
/// This facility's table of locally defined flags (ICCBBA ST-001 Table 3 allows `20`-`59`;
/// documented in `docs/labels.md`): sample tube `n` for `n` = 3..=9 carries `20 + n`,
/// an additional test tube. Never interpreted at another site.
pub const LOCAL_TUBE_FLAG_BASE: u8 = 20;

/// One physical label of a donation's set.
///
/// `piece` numbers containers 1..=n across the bag set (the primary bag is container 1,
/// satellites 2..=n) and tubes 1..=n; the record sheet is always piece 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

    /// The ISBT 128 flag value (ICCBBA ST-001 Table 3) this piece's DIN carries.
    ///
    /// Every label of a set carries the same DIN, so the flags are what tells the
    /// primary bag from a satellite, and one tube from the next: containers `01`..`04`
    /// (`15`..`19` for containers 5-9), the first tube is the test tube `07`, the second
    /// the NAT tube `09`, further tubes the locally defined `23`..`29`, the record sheet
    /// the donor record `08`. `None` for a piece no flag can name (container 10, tube 10),
    /// which [`label_set`] never makes.
    pub fn flag(self) -> Option<DinFlag> {
        match (self.kind, self.piece) {
            (LabelKind::Bag, 1) => Some(DinFlag::Container { number: 1 }),
            (LabelKind::Satellite, n @ 2..=9) => Some(DinFlag::Container { number: n }),
            (LabelKind::Tube, 1) => Some(DinFlag::TestTube),
            (LabelKind::Tube, 2) => Some(DinFlag::NatTube),
            (LabelKind::Tube, n @ 3..=MAX_TUBE_COUNT) => Some(DinFlag::Local {
                value: LOCAL_TUBE_FLAG_BASE + n,
            }),
            (LabelKind::Record, 1) => Some(DinFlag::DonorRecord),
            _ => None,
        }
    }

    /// The two flag characters that follow the DIN in the Code 128 / Data Matrix data
    /// content; `00` (flags not used) for a piece no flag names, so nothing reserved is
    /// ever printed.
    pub fn flags(self) -> String {
        self.flag()
            .and_then(DinFlag::code)
            .unwrap_or_else(|| crate::din::DEFAULT_FLAGS.to_owned())
    }

    /// The piece a flag value names in this facility's table, `None` for values that
    /// name no piece (`00`, `05`, `06`, `10`, the check-value flags, unassigned local
    /// values), which then identify only the DIN.
    pub fn from_flag(flag: DinFlag) -> Option<LabelPiece> {
        match flag {
            DinFlag::Container { number: 1 } => Some(LabelPiece::new(LabelKind::Bag, 1)),
            DinFlag::Container { number } if (2..=9).contains(&number) => {
                Some(LabelPiece::new(LabelKind::Satellite, number))
            }
            DinFlag::TestTube => Some(LabelPiece::new(LabelKind::Tube, 1)),
            DinFlag::NatTube => Some(LabelPiece::new(LabelKind::Tube, 2)),
            DinFlag::Local { value }
                if (LOCAL_TUBE_FLAG_BASE + 3..=LOCAL_TUBE_FLAG_BASE + MAX_TUBE_COUNT)
                    .contains(&value) =>
            {
                Some(LabelPiece::new(
                    LabelKind::Tube,
                    value - LOCAL_TUBE_FLAG_BASE,
                ))
            }
            DinFlag::DonorRecord => Some(LabelPiece::new(LabelKind::Record, 1)),
            _ => None,
        }
    }

    /// The piece named by two flag characters; `None` when they name no piece or are
    /// not a value the standard defines.
    pub fn from_flags(flags: &str) -> Option<LabelPiece> {
        DinFlag::parse(flags).ok().and_then(LabelPiece::from_flag)
    }

    /// The piece's name as screens and refusals say it (`piece.*`).
    pub fn name(self) -> Message {
        match self.kind {
            LabelKind::Bag => Message::new("piece.bag"),
            LabelKind::Satellite => {
                Message::new("piece.satellite").with("n", self.piece.to_string())
            }
            LabelKind::Tube => Message::new("piece.tube").with("n", self.piece.to_string()),
            LabelKind::Record => Message::new("piece.record"),
        }
    }
}
