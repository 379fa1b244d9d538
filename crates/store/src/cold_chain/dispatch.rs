//! The dispatch the driver signs with their PIN, which writes the manifest, and the
//! signed manifests as the screen lists them.

use std::collections::BTreeSet;

use lifebridge_domain::cold_chain::{
    BoxContents, Manifest, ManifestCounts, ManifestHeader, Signatory, build_manifest,
};
use lifebridge_domain::din::Din;
use lifebridge_domain::entities::{EntityKind, RecordId, Role};
use lifebridge_domain::messages::Message;
use serde::Serialize;
use uuid::Uuid;

use crate::queries::{bodies, get_body};
use crate::records::{actor_staff, require_role};
use crate::{Actor, Result, Store};

use super::*;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignedManifest {
    pub manifest: Manifest,
    pub counts: ManifestCounts,
    /// Units not suitable as collected, in manifest order, with the core's words.
    pub units: Vec<UnitLine>,
}

/// One downgraded or quarantined unit of a manifest, as the screen lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnitLine {
    pub din: Din,
    pub status: lifebridge_domain::cold_chain::UnitStatus,
    /// `unit.assessment`: the status and why.
    pub text: Message,
}

impl SignedManifest {
    pub fn of(manifest: Manifest) -> SignedManifest {
        let units = manifest
            .boxes
            .iter()
            .flat_map(|b| &b.bags)
            .filter(|g| !g.unit.is_suitable())
            .map(|g| UnitLine {
                din: g.din.clone(),
                status: g.unit.status,
                text: g.unit.message(),
            })
            .collect();
        SignedManifest {
            counts: manifest.counts(),
            manifest,
            units,
        }
    }
}

impl Store {
    /// The driver signs the dispatch with their PIN: every open box of the drive that
    /// holds a bag goes onto one manifest, and those boxes become read-only. A wrong PIN
    /// writes no manifest and counts toward the driver's lock-out.
    pub fn dispatch(
        &mut self,
        actor: Actor,
        drive_id: RecordId,
        driver_id: RecordId,
        pin: &str,
    ) -> Result<SignedManifest, ColdChainError> {
        actor_staff(actor, "dispatching")?;
        let driver = require_role(&self.conn, driver_id, Role::Driver, "sign a dispatch")?;
        let drive = self.drive(drive_id)?;
        let (contents, empty) = self.open_contents(drive.id)?;
        if contents.is_empty() {
            return Err(ColdChainError::NothingToDispatch { empty_boxes: empty });
        }
        self.sign_in(driver_id, pin)??;
        let rules = self.rules()?;
        let rules_version = rules.version.clone();
        let device_id = self.device_id;
        let manifest = self.act(
            Actor::staff(driver_id),
            "cold_chain.dispatch",
            serde_json::json!({
                "drive": drive.id,
                "boxes": contents.iter().map(|c| c.transport_box.code.clone()).collect::<Vec<_>>(),
            }),
            |ctx| {
                let manifest = build_manifest(
                    ManifestHeader {
                        id: Uuid::now_v7(),
                        drive: drive.clone(),
                        device_id,
                        driver: Signatory {
                            staff_id: driver.id,
                            name: driver.display_name.clone(),
                        },
                        dispatched_at: ctx.now,
                        rules_version,
                    },
                    contents,
                    &rules,
                );
                let body = ctx.log_change(EntityKind::Manifest, manifest.id, &manifest)?;
                ctx.tx.execute(
                    "INSERT INTO manifest (id, drive_id, dispatched_at, body) VALUES (?1, ?2, ?3, ?4)",
                    (
                        manifest.id.to_string(),
                        drive.id.to_string(),
                        manifest.dispatched_at.to_rfc3339(),
                        body,
                    ),
                )?;
                for b in &manifest.boxes {
                    ctx.tx.execute(
                        "INSERT INTO manifest_box (box_id, manifest_id) VALUES (?1, ?2)",
                        (b.box_id.to_string(), manifest.id.to_string()),
                    )?;
                }
                Ok(manifest)
            },
        )?;
        Ok(SignedManifest::of(manifest))
    }

    /// Open boxes of the drive with their bags, and the codes of the open boxes that
    /// hold none.
    pub(super) fn open_contents(
        &self,
        drive_id: RecordId,
    ) -> Result<(Vec<BoxContents>, Vec<String>)> {
        let mut contents = Vec::new();
        let mut empty = Vec::new();
        for b in drive_boxes(&self.conn, drive_id)? {
            if manifest_of_box(&self.conn, b.id)?.is_some() {
                continue;
            }
            let c = box_contents(&self.conn, &b)?;
            if c.bags.is_empty() {
                empty.push(b.code);
            } else {
                contents.push(c);
            }
        }
        Ok((contents, empty))
    }
}

impl Store {
    /// One signed manifest.
    pub fn manifest(&self, id: RecordId) -> Result<Option<SignedManifest>> {
        Ok(get_body::<Manifest>(&self.conn, "manifest", id)?.map(SignedManifest::of))
    }

    /// Signed manifests of a drive, oldest first.
    pub fn drive_manifests(&self, drive_id: RecordId) -> Result<Vec<SignedManifest>> {
        let manifests: Vec<Manifest> = bodies(
            &self.conn,
            "SELECT body FROM manifest WHERE drive_id = ?1 ORDER BY dispatched_at, rowid",
            [drive_id.to_string()],
        )?;
        Ok(manifests.into_iter().map(SignedManifest::of).collect())
    }

    /// Complete or partial bags of the drive that no signed manifest carries yet: what
    /// is still on the bus, for the end of the drive.
    pub fn bags_not_dispatched(&self, drive_id: RecordId) -> Result<Vec<Din>> {
        let dispatched: BTreeSet<Din> = self
            .drive_manifests(drive_id)?
            .into_iter()
            .flat_map(|m| m.manifest.boxes.into_iter())
            .flat_map(|b| b.bags.into_iter().map(|g| g.din))
            .collect();
        Ok(self
            .drive_donations(drive_id)?
            .into_iter()
            .filter(|d| {
                matches!(
                    d.outcome,
                    lifebridge_domain::entities::Outcome::Complete
                        | lifebridge_domain::entities::Outcome::Partial
                )
            })
            .map(|d| d.din)
            .filter(|din| !dispatched.contains(din))
            .collect())
    }
}
