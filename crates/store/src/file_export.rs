//! Files written out of the encrypted store: a transport manifest PDF, a deferral slip,
//! a drive summary. Their content stays in the store (the manifest, the screening and
//! deferral, the drive's records); a file is drawn from it only when someone asks, and
//! each file is an audited action naming who wrote which record to which file, so a
//! plaintext copy outside the store is never anonymous (docs/security.md, "Sessions on
//! the tablet").

use std::path::Path;

use lifebridge_domain::entities::{RecordId, Role};
use serde::Serialize;

use crate::records::{actor_staff, require_active, require_role};
use crate::{Actor, Result, Store};

/// What was exported; each kind is exported by the role that uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileExport {
    /// The transport manifest of a dispatch, to travel with the boxes.
    ManifestPdf,
    /// The slip a deferred donor takes home.
    DeferralSlip,
    /// The drive's figures for the station.
    DriveSummary,
}

impl FileExport {
    /// The role the export needs; `None`: anyone on the crew.
    fn role(self) -> Option<Role> {
        match self {
            FileExport::ManifestPdf => Some(Role::Driver),
            FileExport::DeferralSlip => Some(Role::Physician),
            FileExport::DriveSummary => None,
        }
    }

    fn action(self) -> &'static str {
        match self {
            FileExport::ManifestPdf => "export a manifest",
            FileExport::DeferralSlip => "export a deferral slip",
            FileExport::DriveSummary => "export a drive summary",
        }
    }
}

impl Store {
    /// Records that `actor` wrote `record` as `kind` to `file` (one audit entry, no
    /// domain row). Refused for a closed account or one without the kind's role.
    pub fn record_file_export(
        &mut self,
        actor: Actor,
        kind: FileExport,
        record: RecordId,
        file: &Path,
    ) -> Result<()> {
        let staff = actor_staff(actor, kind.action())?;
        match kind.role() {
            Some(role) => require_role(&self.conn, staff, role, kind.action())?,
            None => require_active(&self.conn, staff)?,
        };
        self.act(
            actor,
            "file.export",
            serde_json::json!({
                "kind": kind,
                "record": record,
                "file": file.display().to_string(),
            }),
            |_| Ok(()),
        )
    }
}
