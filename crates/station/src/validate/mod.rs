//! What the station checks on every push, before anything of the batch is written
//! (docs/security.md). A device is trusted with nothing it could not prove: every
//! entry's body must read as its entity with the domain's own types, under its own id,
//! within the size and clock bounds of [`lifebridge_protocol::wire`]; the device may
//! push only records it wrote itself; the records it names must be known; and the
//! medical rules the station can check must hold. One refused entry refuses the whole
//! batch with a catalogue message naming it ([`RefusedEntry`]); nothing is written.
//!
//! One file per concern: [`body`] (parsing, ids, sizes), [`clock`] (the skew bound),
//! [`writer`] (one writer per record), [`references`] (donors known), [`medical`]
//! (deferral lifts, DINs from the device's leases or a registered pre-printed roll) and
//! [`consent`] (the donor's consent to an acceptance, its witness, a donation's).

mod body;
mod clock;
mod consent;
mod medical;
mod questionnaire;
mod references;
mod writer;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use lifebridge_domain::messages::Message;
use lifebridge_protocol::ingest::Refusal;
use lifebridge_protocol::records::LocalChange;
use lifebridge_protocol::wire::RefusedEntry;
use uuid::Uuid;

use crate::storage::sql::{ROWS_PER_STATEMENT, Row, Tx, Value, list};
use crate::storage::{Result, StorageError};

pub use body::{Detail, Record};
pub use clock::latest_ms;

/// What a station accepts beyond what every station checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// A station for demos and training also accepts donations numbered from the
    /// training facility ([`crate::config::Config::training`]).
    pub training: bool,
}

impl Policy {
    pub fn of(config: &crate::config::Config) -> Policy {
        Policy {
            training: config.training,
        }
    }
}

/// One entry of the batch with its body read.
pub(crate) struct Checked<'a> {
    pub entry: &'a LocalChange,
    pub record: Record,
}

impl Checked<'_> {
    /// The screening this entry carries, as `body::parse` read it.
    pub fn screening(&self) -> Option<&lifebridge_domain::entities::Screening> {
        match &self.record.detail {
            body::Detail::Screening(s) => Some(s.as_ref()),
            _ => None,
        }
    }
}

/// Checks the entries of a push the station does not hold yet, inside the push
/// transaction and before anything is written. The first entry (in batch order) that
/// fails a check of its own refuses the batch; then the checks that read the station's
/// tables run once for the whole batch, a few statements in all.
pub async fn batch(
    tx: &mut dyn Tx,
    device_id: Uuid,
    entries: &[LocalChange],
    now: DateTime<Utc>,
    policy: Policy,
) -> Result<Vec<Record>> {
    let mut checked = Vec::with_capacity(entries.len());
    for entry in entries {
        let record = entry_alone(device_id, entry, now).map_err(|why| refuse(entry, why))?;
        checked.push(Checked { entry, record });
    }
    references::donors_known(tx, &checked).await?;
    medical::lifts(tx, &checked).await?;
    questionnaire::answers(tx, &checked).await?;
    medical::dins_issued(tx, device_id, &checked, policy).await?;
    consent::witnesses_known(tx, &checked).await?;
    consent::donations_consented(tx, &checked).await?;
    // The parsed records, in entry order, so what comes after need not parse again.
    Ok(checked.into_iter().map(|c| c.record).collect())
}

/// The checks one entry passes on its own, without the station's tables.
pub fn entry_alone(
    device_id: Uuid,
    entry: &LocalChange,
    now: DateTime<Utc>,
) -> std::result::Result<Record, Message> {
    body::size(entry)?;
    body::no_nul(entry)?;
    writer::own_clock(device_id, entry)?;
    clock::not_ahead(entry, now)?;
    let record = body::parse(entry)?;
    writer::named_device(device_id, entry, &record)?;
    clock::field_clocks(device_id, entry)?;
    Ok(record)
}

/// The refusal of the batch because of `entry`.
pub(crate) fn refuse(entry: &LocalChange, reason: Message) -> StorageError {
    StorageError::Refused(Refusal::Entry(Box::new(RefusedEntry {
        seq: entry.seq,
        entity: entry.entity,
        entity_id: entry.entity_id,
        reason,
    })))
}

/// A catalogue message about `entry`: `code` with the entry's `seq`.
pub(crate) fn about(code: &str, entry: &LocalChange) -> Message {
    Message::new(code).with("seq", entry.seq.to_string())
}

/// Runs `sql` (which selects `WHERE … IN ({ids})`) for `ids`, in as few statements as
/// the placeholder limit allows.
pub(crate) async fn rows_for(
    tx: &mut dyn Tx,
    sql: &str,
    ids: &std::collections::BTreeSet<Uuid>,
) -> Result<Vec<Row>> {
    let ids: Vec<Value> = ids.iter().map(|d| Value::from(*d)).collect();
    let mut out = Vec::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let statement = sql.replace("{ids}", &list(1, chunk.len()));
        out.extend(tx.query_once(&statement, chunk).await?);
    }
    Ok(out)
}
