//! Labels: which labels a donation needs, what each carries, how a scan is read and
//! whether it belongs to the donation in the chair.
//!
//! Everything here is pure so the interlocks can be tested without a printer, a
//! scanner or a store; rendering lives in `lifebridge-print`, recording in the store.

use std::fmt;

use crate::entities::BagSetKind;

// The pieces of a label set live in `crate::label_piece`; imported for the submodules.
use crate::common::china_local;
use crate::label_piece::{LabelKind, LabelPiece, MAX_TUBE_COUNT};

mod content;
mod isbt128;
mod scan;

pub use content::*;
pub use isbt128::*;
pub use scan::*;

/// The piece's English name, for logs and the CLI's errors.
impl fmt::Display for LabelPiece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.name().fmt(f)
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

#[cfg(test)]
mod tests;
