//! Screening: the physician's decision, with eligibility computed here from the
//! donor's whole history (every vehicle's donations and deferrals as replicated) and
//! the rules table in force. The UI shows the same computation live.

mod consent;
mod correction;
mod decision;
mod deferrals;
mod evaluate;

pub use consent::*;
pub use correction::*;
pub use decision::*;
pub use deferrals::*;
pub use evaluate::*;
