//! The head of each device's audit chain (docs/security.md, "Audit that can be checked
//! by someone else"): every push carries it, the station keeps the last one it
//! acknowledged, and refuses a chain that shrank (a head before it) or forked (the same
//! seq with another hash). A longer chain is taken as it comes: the station holds heads,
//! not the entries between them, so it cannot check that the new head extends the old
//! one; the device's `lifebridge store check` does, against the head it was acknowledged.

use lifebridge_domain::messages::Message;
use lifebridge_protocol::ingest::Refusal;
use lifebridge_protocol::records::LocalChange;
use lifebridge_protocol::wire::{AuditHead, RefusedEntry};
use uuid::Uuid;

use crate::params;
use crate::storage::sql::Tx;
use crate::storage::{Result, StorageError, clamp};

/// Longest hash text a head may carry (a SHA-256 is 64 hex characters).
const MAX_HASH_CHARS: usize = 128;

/// Why `head` cannot follow the acknowledged head `(seq, hash)`, as a catalogue code.
pub fn refusal(acked_seq: u64, acked_hash: &str, head: &AuditHead) -> Option<&'static str> {
    if head.seq < acked_seq {
        Some("push_refused.audit_chain_shrunk")
    } else if head.seq == acked_seq && head.hash != acked_hash {
        Some("push_refused.audit_chain_forked")
    } else {
        None
    }
}

/// Checks the head a push carries against the last one acknowledged for the device, and
/// keeps it (in the push's transaction, so only with a batch that is stored). A refusal
/// names the batch's first entry, as every refusal of a batch does.
pub async fn check_and_keep(
    tx: &mut dyn Tx,
    device_id: Uuid,
    head: Option<&AuditHead>,
    batch: &[LocalChange],
) -> Result<()> {
    let Some(head) = head else {
        return Ok(());
    };
    let Some(first) = batch.first() else {
        return Ok(());
    };
    let refuse = |reason: Message| {
        StorageError::Refused(Refusal::Entry(Box::new(RefusedEntry {
            seq: first.seq,
            entity: first.entity,
            entity_id: first.entity_id,
            reason,
        })))
    };
    if head.hash.len() > MAX_HASH_CHARS {
        return Err(refuse(
            Message::new("push_refused.audit_chain_forked")
                .with("seq", head.seq.to_string())
                .with("acked", "-"),
        ));
    }
    let mut row = tx
        .query_one(
            "SELECT audit_seq, audit_hash FROM device WHERE device_id = ?1",
            params![device_id],
        )
        .await?;
    if let (Some(seq), Some(hash)) = (row.opt_int(0)?, row.opt_text(1)?) {
        let acked = u64::try_from(seq).unwrap_or(0);
        if let Some(code) = refusal(acked, &hash, head) {
            tracing::error!(%device_id, seq = head.seq, acked, code,
                "audit chain shrank or forked since the last acknowledged push: batch refused");
            return Err(refuse(
                Message::new(code)
                    .with("seq", head.seq.to_string())
                    .with("acked", acked.to_string()),
            ));
        }
    }
    tx.execute(
        "UPDATE device SET audit_seq = ?2, audit_hash = ?3 WHERE device_id = ?1",
        params![device_id, clamp(head.seq), head.hash.as_str()],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(seq: u64, hash: &str) -> AuditHead {
        AuditHead {
            seq,
            hash: hash.into(),
        }
    }

    #[test]
    fn a_chain_may_grow_but_never_shrink_nor_fork() {
        assert_eq!(refusal(10, "aa", &head(10, "aa")), None);
        assert_eq!(refusal(10, "aa", &head(11, "bb")), None);
        assert_eq!(
            refusal(10, "aa", &head(9, "aa")),
            Some("push_refused.audit_chain_shrunk")
        );
        assert_eq!(
            refusal(10, "aa", &head(10, "bb")),
            Some("push_refused.audit_chain_forked")
        );
    }
}
