//! Reads of the cold-chain tables the actions and the screen share: boxes, packings in
//! force, readings, released bags and the manifest that carried a box.

use lifebridge_domain::cold_chain::{
    BoxContents, BoxPacking, PackedUnit, TemperatureReading, TransportBox,
};
use lifebridge_domain::din::Din;
use lifebridge_domain::entities::DonationRelease;
use lifebridge_domain::entities::{AboRh, Donation, Donor, RecordId};
use lifebridge_domain::label_piece::{LabelKind, LabelPiece};
use rusqlite::{Connection, OptionalExtension};
use uuid::Uuid;

use crate::queries::{bodies, get_body};
use crate::{Result, StoreError};

use super::*;

pub(super) fn load_box(conn: &Connection, box_id: RecordId) -> Result<TransportBox> {
    get_body(conn, "transport_box", box_id)?.ok_or(StoreError::Missing {
        entity: "transport box",
        id: box_id.to_string(),
    })
}

pub(super) fn manifest_of_box(conn: &Connection, box_id: RecordId) -> Result<Option<RecordId>> {
    let id: Option<String> = conn
        .query_row(
            "SELECT manifest_id FROM manifest_box WHERE box_id = ?1",
            [box_id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    id.map(|s| {
        Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(format!("manifest id {s:?}: {e}")))
    })
    .transpose()
}

/// Refuses changes to a box once a manifest carried it.
pub(super) fn require_open(conn: &Connection, b: &TransportBox) -> Result<(), ColdChainError> {
    if manifest_of_box(conn, b.id)?.is_some() {
        return Err(ColdChainError::BoxDispatched {
            box_code: b.code.clone(),
        });
    }
    Ok(())
}

/// Packings in force: not undoing another, and not undone.
pub(super) fn current_packings(conn: &Connection, box_id: RecordId) -> Result<Vec<BoxPacking>> {
    bodies(
        conn,
        "SELECT body FROM box_packing p WHERE box_id = ?1 AND removes IS NULL
         AND NOT EXISTS (SELECT 1 FROM box_packing u WHERE u.removes = p.id)
         ORDER BY din",
        [box_id.to_string()],
    )
}

pub(super) fn current_packing_of_din(conn: &Connection, din: &Din) -> Result<Option<BoxPacking>> {
    Ok(bodies(
        conn,
        "SELECT body FROM box_packing p WHERE din = ?1 AND removes IS NULL
         AND NOT EXISTS (SELECT 1 FROM box_packing u WHERE u.removes = p.id)",
        [din.as_str()],
    )?
    .pop())
}

pub(super) fn readings_of(conn: &Connection, box_id: RecordId) -> Result<Vec<TemperatureReading>> {
    let mut readings: Vec<TemperatureReading> = bodies(
        conn,
        "SELECT body FROM temperature_reading WHERE box_id = ?1",
        [box_id.to_string()],
    )?;
    readings.sort_by_key(|r| (r.measured_at, r.recorded_at));
    Ok(readings)
}

/// The current (not superseded) donation carrying `din`.
pub(super) fn current_donation_by_din(conn: &Connection, din: &Din) -> Result<Option<Donation>> {
    Ok(bodies(
        conn,
        "SELECT body FROM donation d WHERE din = ?1
         AND NOT EXISTS (SELECT 1 FROM donation n WHERE n.supersedes = d.id)",
        [din.as_str()],
    )?
    .pop())
}

/// The label pieces verified when the bag left the chair (its tubes travel with it).
pub(super) fn released_pieces(
    conn: &Connection,
    din: &Din,
) -> Result<Vec<lifebridge_domain::label_piece::LabelPiece>> {
    Ok(bodies::<DonationRelease>(
        conn,
        "SELECT body FROM donation_release WHERE din = ?1",
        [din.as_str()],
    )?
    .into_iter()
    .flat_map(|r| r.pieces)
    .collect())
}

/// The label pieces verified by manual entry instead of a scan at the chair.
pub(super) fn released_manual_pieces(conn: &Connection, din: &Din) -> Result<Vec<LabelPiece>> {
    Ok(bodies::<DonationRelease>(
        conn,
        "SELECT body FROM donation_release WHERE din = ?1",
        [din.as_str()],
    )?
    .into_iter()
    .flat_map(|r| r.manual_pieces)
    .collect())
}

pub(super) fn is_released(conn: &Connection, din: &Din) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM donation_release WHERE din = ?1",
            [din.as_str()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The ABO/RhD a bag carries on its label and the manifest: the donor's group on
/// record, else today's rapid group, and unknown when they differ
/// (`blood_group::for_label`); never guessed.
pub(crate) fn known_abo_rh(conn: &Connection, donation: &Donation) -> Result<Option<AboRh>> {
    let donor: Option<Donor> = get_body(conn, "donor", donation.donor_id)?;
    let rapid =
        crate::queries::get_screening(conn, donation.screening_id)?.and_then(|s| s.tests.abo_rh);
    Ok(lifebridge_domain::blood_group::for_label(
        donor.and_then(|d| d.abo_rh),
        rapid,
    ))
}

pub(super) fn box_contents(conn: &Connection, b: &TransportBox) -> Result<BoxContents> {
    let mut bags = Vec::new();
    for packing in current_packings(conn, b.id)? {
        let donation =
            current_donation_by_din(conn, &packing.din)?.ok_or_else(|| StoreError::Missing {
                entity: "donation",
                id: packing.din.to_string(),
            })?;
        let mut manual_pieces = released_manual_pieces(conn, &packing.din)?;
        if packing.manual.is_some() {
            manual_pieces.push(LabelPiece::new(LabelKind::Bag, 1));
        }
        bags.push(PackedUnit {
            abo_rh: known_abo_rh(conn, &donation)?,
            released_pieces: released_pieces(conn, &packing.din)?,
            manual_pieces,
            donation,
        });
    }
    Ok(BoxContents {
        transport_box: b.clone(),
        bags,
        readings: readings_of(conn, b.id)?,
    })
}

pub(super) fn drive_boxes(conn: &Connection, drive_id: RecordId) -> Result<Vec<TransportBox>> {
    bodies(
        conn,
        "SELECT body FROM transport_box WHERE drive_id = ?1 ORDER BY code",
        [drive_id.to_string()],
    )
}
