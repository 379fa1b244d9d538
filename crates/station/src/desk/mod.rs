//! The receiving desk: station staff sign in with a PIN, load the driver's manifest
//! (replicated, or from its QR), scan every bag, and both parties sign the hand-off,
//! which goes back to the vehicle on its next pull.
//!
//! - `api`: the desk's HTTP routes, one file per concern;
//! - `auth`: who may act at the desk (PIN attempts, lock-outs, sessions);
//! - `receipts`: what the desk stores (receipts, scans, the signed hand-off);
//! - `pages`: the desk and statistics pages, embedded in the binary;
//! - `prefill`: the donor's pre-fill page (`/prefill`), one self-contained document.

pub mod api;
pub mod auth;
pub mod pages;
pub mod prefill;
pub mod receipts;
