//! The station's rule for one push batch, as a pure function so both storage backends
//! (and the property tests) apply exactly the same rule.
//!
//! Entries are keyed by `(device, seq)`. A batch may overlap what the station holds
//! (the device never saw the answer to an earlier push, or a proxy duplicated the
//! request): overlapping entries must be identical, byte for byte, and are skipped.
//! An overlapping entry with different content means the device lost data and reused
//! numbers: the whole batch is refused, loudly. A batch that starts past the next
//! expected `seq` would leave a hole: refused with the number the station needs.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::records::LocalChange;
use crate::wire::MAX_BATCH_ENTRIES;

/// What the station does with a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Index in the batch of the first entry the station does not hold yet (the batch
    /// length when it holds all of them).
    pub new_from: usize,
    /// The highest `seq` held once the new entries are stored.
    pub held_after: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the batch is invalid: {0}")]
    InvalidBatch(String),
    #[error(
        "sequence gap: the batch starts at seq {first} but the station needs seq {expected} next"
    )]
    Gap { first: u64, expected: u64 },
    #[error(
        "seq {seq} was already received with different content: the device reused a sequence number (did it lose data?)"
    )]
    Conflict { seq: u64 },
    /// An entry failed the station's checks of what devices send; nothing is stored.
    #[error("entry {} ({}) refused: {}", .0.seq, .0.entity.as_str(), .0.reason)]
    Entry(Box<crate::wire::RefusedEntry>),
}

/// A fingerprint of everything that makes an entry what it is. `field_clocks` is left
/// out: it is derived from the rest of the device's log, not part of the entry.
pub fn entry_digest(entry: &LocalChange) -> String {
    digest_of(
        entry.entity.as_str(),
        &entry.entity_id.to_string(),
        &entry.hlc.to_string(),
        &entry.body,
    )
}

/// [`entry_digest`] of an entry held as text (entity, id, clock and body as the entry
/// writes them), so a station can compute it from what it stored instead of storing it.
pub fn digest_of(entity: &str, entity_id: &str, hlc: &str, body: &str) -> String {
    let mut h = Sha256::new();
    for field in [entity, entity_id, hlc, body] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Checks that a batch is non-empty, not too long, starts at 1 or later and is
/// consecutive.
pub fn validate_batch(entries: &[LocalChange]) -> Result<(), Refusal> {
    let Some(first) = entries.first() else {
        return Err(Refusal::InvalidBatch("entries must not be empty".into()));
    };
    if entries.len() > MAX_BATCH_ENTRIES {
        return Err(Refusal::InvalidBatch(format!(
            "entries holds {} entries; at most {MAX_BATCH_ENTRIES} are allowed per batch",
            entries.len()
        )));
    }
    if first.seq == 0 {
        return Err(Refusal::InvalidBatch(
            "entries[0].seq must be 1 or more".into(),
        ));
    }
    for (i, pair) in entries.windows(2).enumerate() {
        if pair[1].seq != pair[0].seq.saturating_add(1) {
            return Err(Refusal::InvalidBatch(format!(
                "entries[{}].seq is {} but must be {} (entries are consecutive, in order)",
                i + 1,
                pair[1].seq,
                pair[0].seq.saturating_add(1)
            )));
        }
    }
    Ok(())
}

/// Decides what to do with `entries`, given the highest `seq` held for the device and
/// the digests the station holds for the batch's overlapping `seq`s.
pub fn plan(
    held: u64,
    entries: &[LocalChange],
    held_digests: &BTreeMap<u64, String>,
) -> Result<Plan, Refusal> {
    validate_batch(entries)?;
    let first = entries[0].seq;
    let expected = held.saturating_add(1);
    if first > expected {
        return Err(Refusal::Gap { first, expected });
    }
    let mut new_from = entries.len();
    for (i, entry) in entries.iter().enumerate() {
        if entry.seq > held {
            new_from = i;
            break;
        }
        match held_digests.get(&entry.seq) {
            Some(d) if *d == entry_digest(entry) => {}
            _ => return Err(Refusal::Conflict { seq: entry.seq }),
        }
    }
    let last = entries[entries.len() - 1].seq;
    Ok(Plan {
        new_from,
        held_after: held.max(last),
    })
}
