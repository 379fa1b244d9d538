//! The hand-off at the station's receiving desk: the driver's manifest(s) against the
//! bags the receiving staff scan, one line per bag, and the record both parties sign.
//!
//! Pure: the desk's scans, the time and the rules are arguments. Whatever the desk
//! shows and whatever is signed comes from [`reconcile`], so the screen and the record
//! cannot disagree.

mod reconcile;
mod sign;

pub use reconcile::*;
pub use sign::*;

#[cfg(test)]
mod tests;
