//! The user actions that create records. Each validates its input completely before
//! writing anything, then runs as one [`crate::Store::act`] transaction.

mod checks;
mod crew;
mod donation;
mod donor;

pub(crate) use checks::*;
pub use crew::*;
pub use donation::*;
pub use donor::*;
