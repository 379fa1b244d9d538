//! The row projection of each device table that has more than one writer: the
//! indexed columns a query reads, and the `body` that holds the whole record.
//!
//! Local actions ([`crate::Store::act`] with [`crate::action::Origin::Local`]) and
//! pulled records ([`crate::action::Origin::Pulled`]) call the same function, so a new
//! column or field is added in one place. Each takes the `body` text the caller has
//! already made (for a local action, the text of its change-log entry), never
//! serialises the record again: the stored body stays byte-for-byte what was logged.
//!
//! These functions only write; what may be written (roles, ids, overlaps) is decided
//! by the caller before.

pub(crate) mod deferral;
pub(crate) mod din_range;
pub(crate) mod donation;
pub(crate) mod donation_release;
pub(crate) mod donor;
pub(crate) mod drive;
pub(crate) mod screening;
pub(crate) mod staff;
pub(crate) mod sync_state;
pub(crate) mod visit;
