//! Lifebridge's domain: the rules and identifiers every other crate stands on.
//!
//! Nothing in this crate does I/O or reads a clock: "today" and "now" are always
//! arguments, so every rule can be tested at its boundaries and replayed later.

pub mod blood_group;
pub mod cold_chain;
pub mod common;
pub mod consent;
pub mod din;
pub mod eligibility;
pub mod entities;
pub mod handoff;
pub mod hlc;
pub mod label_piece;
pub mod labels;
pub mod measurements;
pub mod merge;
pub mod messages;
pub mod pin;
pub mod product;
pub mod questionnaire;
pub mod reason;
pub mod resident_id;
pub mod rules;
pub mod slip;

pub use common::{CHINA_STANDARD_TIME, Procedure, Sex, china_date, china_local};
pub use din::{Din, DinError, DinRange, FacilityId};
pub use resident_id::{IdentityDocument, ResidentId, ResidentIdError};
