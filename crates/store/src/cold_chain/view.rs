//! Everything the driver's screen shows for one drive.

use std::collections::BTreeSet;

use lifebridge_domain::cold_chain::{
    BoxPacking, Excursion, ManifestHeader, ManifestReading, Signatory, TemperatureReading,
    TransportBox, UnitAssessment, allowed_classes, build_manifest, check_packing,
    collection_findings, excursions,
};
use lifebridge_domain::din::Din;
use lifebridge_domain::entities::{AboRh, Donation, Drive, RecordId};
use lifebridge_domain::messages::Message;
use lifebridge_domain::product::{ProductClass, TemperatureRange};
use serde::Serialize;
use uuid::Uuid;

use crate::queries::get_body;
use crate::{Result, Store, StoreError};

use super::*;

/// A bag in a box, as the driver's screen lists it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PackedBag {
    pub packing: BoxPacking,
    pub donation: Donation,
    pub abo_rh: Option<AboRh>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BoxView {
    pub transport_box: TransportBox,
    /// Current packings, in DIN order.
    pub bags: Vec<PackedBag>,
    /// In time order.
    pub readings: Vec<TemperatureReading>,
    pub excursions: Vec<Excursion>,
    /// The manifest that carried this box; `None` while it is open.
    pub manifest_id: Option<RecordId>,
}

/// A released bag of the drive that is in no box yet, and where it may go.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnpackedBag {
    pub donation: Donation,
    pub allowed: Vec<ProductClass>,
    /// Why it goes in no box at all (still on the chair, aborted, every class excluded).
    pub refusal: Option<Message>,
    /// What the collection says about the unit (slow draw, products excluded at
    /// screening), so the driver sees why a bag goes only into a red-cell box.
    pub unit: UnitAssessment,
    pub unit_text: Message,
}

/// A box class the driver may open, with its band from the rules table in force: the
/// screen's option list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClassOption {
    /// The screen names it from the catalogue (`product_class.*`).
    pub class: ProductClass,
    pub range: TemperatureRange,
    pub processing_limit_hours: u32,
}

/// Everything the driver's screen shows for one drive.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TransportView {
    pub drive: Drive,
    /// Open boxes first, then dispatched ones; by code within each.
    pub boxes: Vec<BoxView>,
    pub unpacked: Vec<UnpackedBag>,
    /// What a dispatch now would sign (open boxes with bags), unsigned; `None` when
    /// there is nothing to dispatch.
    pub preview: Option<SignedManifest>,
    /// Signed manifests of this drive, oldest first.
    pub manifests: Vec<SignedManifest>,
    /// The box classes, in [`ProductClass::ALL`] order, with the rules' bands.
    pub classes: Vec<ClassOption>,
}

impl Store {
    /// One transport box.
    pub fn transport_box(&self, box_id: RecordId) -> Result<Option<TransportBox>> {
        get_body(&self.conn, "transport_box", box_id)
    }
}

impl Store {
    /// What the driver's screen shows: boxes with bags, readings and excursions,
    /// released bags in no box yet, the manifest a dispatch would sign, and the signed
    /// ones.
    pub fn transport_view(&self, drive_id: RecordId) -> Result<TransportView> {
        let drive = self.drive(drive_id)?;
        let rules = self.rules()?;
        let mut open = Vec::new();
        let mut closed = Vec::new();
        let mut packed: BTreeSet<Din> = BTreeSet::new();
        for b in drive_boxes(&self.conn, drive.id)? {
            let manifest_id = manifest_of_box(&self.conn, b.id)?;
            let mut bags = Vec::new();
            for packing in current_packings(&self.conn, b.id)? {
                let donation =
                    current_donation_by_din(&self.conn, &packing.din)?.ok_or_else(|| {
                        StoreError::Missing {
                            entity: "donation",
                            id: packing.din.to_string(),
                        }
                    })?;
                packed.insert(packing.din.clone());
                bags.push(PackedBag {
                    abo_rh: known_abo_rh(&self.conn, &donation)?,
                    packing,
                    donation,
                });
            }
            let readings = readings_of(&self.conn, b.id)?;
            let as_manifest: Vec<ManifestReading> = readings
                .iter()
                .map(|r| ManifestReading {
                    at: r.measured_at,
                    celsius: r.celsius,
                })
                .collect();
            let view = BoxView {
                excursions: excursions(&as_manifest, b.range),
                transport_box: b,
                bags,
                readings,
                manifest_id,
            };
            if manifest_id.is_some() {
                closed.push(view);
            } else {
                open.push(view);
            }
        }
        let mut unpacked = Vec::new();
        for donation in self.drive_donations(drive.id)? {
            if packed.contains(&donation.din) || !is_released(&self.conn, &donation.din)? {
                continue;
            }
            let (allowed, refusal) = match allowed_classes(&donation, &rules) {
                Ok(classes) if classes.is_empty() => {
                    // Every class excluded: the refusal for its own class says why.
                    let why = ProductClass::ALL
                        .into_iter()
                        .find_map(|c| check_packing(&donation, c, &rules).err())
                        .map(|e| e.message());
                    (classes, why)
                }
                Ok(classes) => (classes, None),
                Err(e) => (Vec::new(), Some(e.message())),
            };
            let unit = UnitAssessment::new(collection_findings(&donation, &rules));
            unpacked.push(UnpackedBag {
                unit_text: unit.message(),
                unit,
                donation,
                allowed,
                refusal,
            });
        }
        let (contents, _) = self.open_contents(drive.id)?;
        let preview = (!contents.is_empty()).then(|| {
            let manifest = build_manifest(
                ManifestHeader {
                    id: Uuid::nil(),
                    drive: drive.clone(),
                    device_id: self.device_id,
                    driver: Signatory {
                        staff_id: Uuid::nil(),
                        name: String::new(),
                    },
                    dispatched_at: crate::now(),
                    rules_version: rules.version.clone(),
                },
                contents,
                &rules,
            );
            SignedManifest::of(manifest)
        });
        open.extend(closed);
        let classes = crate::screens::class_options(&rules);
        Ok(TransportView {
            classes,
            manifests: self.drive_manifests(drive.id)?,
            drive,
            boxes: open,
            unpacked,
            preview,
        })
    }
}
