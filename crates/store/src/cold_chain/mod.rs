//! The cold chain on the vehicle: open transport boxes, pack released bags into them by
//! scanning their labels, log temperatures (typed or from a logger file), and dispatch
//! with the driver's PIN, which writes the manifest and makes those boxes read-only.
//!
//! Every refusal is decided before the action's transaction opens, so a refused scan,
//! reading or dispatch writes nothing.

mod dispatch;
mod error;
mod packing;
mod readings;
mod rows;
mod view;

pub use dispatch::*;
pub use error::*;
pub use packing::*;
pub use readings::*;
pub(crate) use rows::known_abo_rh;
use rows::*;
pub use view::*;
