//! Hand-offs the station signed for this device's manifests: what the driver's screen
//! shows after the next sync (which bags the station holds, every discrepancy and the
//! reason given at the desk). The station writes them; the device only reads them.

use lifebridge_domain::entities::RecordId;
use lifebridge_domain::handoff::HandoffRecord;

use crate::{Result, Store, queries};

impl Store {
    /// The hand-offs covering `manifest_id`, latest signature first (normally one).
    pub fn manifest_handoffs(&self, manifest_id: RecordId) -> Result<Vec<HandoffRecord>> {
        queries::bodies(
            &self.conn,
            "SELECT h.body FROM handoff h
             JOIN handoff_manifest m ON m.handoff_id = h.id
             WHERE m.manifest_id = ?1
             ORDER BY h.signed_at DESC, h.id",
            [manifest_id.to_string()],
        )
    }

    /// The latest hand-offs this device received, latest first.
    pub fn recent_handoffs(&self, limit: u32) -> Result<Vec<HandoffRecord>> {
        queries::bodies(
            &self.conn,
            "SELECT body FROM handoff ORDER BY signed_at DESC, id LIMIT ?1",
            [i64::from(limit)],
        )
    }
}
