//! Opening a box and packing bags into it: by label scan, or by typed DIN with a
//! witness; unpacking before dispatch.

use lifebridge_domain::cold_chain::{BoxPacking, TransportBox, check_packing};
use lifebridge_domain::din::Din;
use lifebridge_domain::entities::ManualVerification;
use lifebridge_domain::entities::{Donation, EntityKind, RecordId, Role};
use lifebridge_domain::label_piece::LabelKind;
use lifebridge_domain::labels::{LabelScanError, read_label_scan, read_typed, strip_scanner_noise};
use lifebridge_domain::messages::Message;
use lifebridge_domain::product::ProductClass;
use uuid::Uuid;

use crate::action::ActionCtx;
use crate::queries::get_body;
use crate::records::{actor_staff, require_role, require_text};
use crate::{Actor, Result, Store, StoreError};

use super::*;

/// A bag packed by typing its DIN, with who confirms it (see [`Store::pack_bag_manual`]).
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManualPackEntry {
    /// The DIN as typed from the bag's label, with its check character.
    pub typed: String,
    pub reason: String,
    /// The second crew member, who types their own PIN.
    pub witness: RecordId,
    pub witness_pin: String,
}

/// Box codes are what is printed on the box: short, printable, no spaces.
const MAX_BOX_CODE: usize = 32;

fn insert_packing(ctx: &mut ActionCtx<'_>, packing: &BoxPacking) -> Result<()> {
    let body = ctx.log_change(EntityKind::BoxPacking, packing.id, packing)?;
    ctx.tx.execute(
        "INSERT INTO box_packing (id, box_id, donation_id, din, removes, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        (
            packing.id.to_string(),
            packing.box_id.to_string(),
            packing.donation_id.to_string(),
            packing.din.as_str(),
            packing.removes.map(|r| r.to_string()),
            body,
        ),
    )?;
    Ok(())
}

impl Store {
    /// Opens a transport box for a drive: the scanned code on the box and the class it
    /// carries. Its range is copied from the rules table in force.
    pub fn open_box(
        &mut self,
        actor: Actor,
        drive_id: RecordId,
        code: &str,
        class: ProductClass,
    ) -> Result<TransportBox, ColdChainError> {
        let staff_id = actor_staff(actor, "opening a transport box")?;
        require_role(&self.conn, staff_id, Role::Driver, "open transport boxes")?;
        let drive = self.drive(drive_id)?;
        // Scanned box codes arrive with the scanner's prefix and Enter like any other scan.
        let code = require_text("code", &strip_scanner_noise(code), MAX_BOX_CODE)?;
        if !code.chars().all(|c| c.is_ascii_graphic()) {
            return Err(StoreError::invalid(
                "code",
                "a box code holds letters, digits and punctuation only (no spaces), as printed on the box",
            )
            .into());
        }
        if let Some(existing) = drive_boxes(&self.conn, drive.id)?
            .into_iter()
            .find(|b| b.code == code)
        {
            return Err(ColdChainError::DuplicateBoxCode {
                code,
                class: existing.class,
            });
        }
        let rules = self.rules()?;
        let range = rules
            .cold_chain
            .class(class)
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "rules table {} has no range for {class}",
                    rules.version
                ))
            })?
            .range;
        let b = self.act(
            actor,
            "cold_chain.open_box",
            serde_json::json!({"code": code, "class": class}),
            |ctx| {
                let b = TransportBox {
                    id: Uuid::now_v7(),
                    code: code.clone(),
                    class,
                    range,
                    drive_id: drive.id,
                    opened_by: staff_id,
                    opened_at: ctx.now,
                };
                let body = ctx.log_change(EntityKind::TransportBox, b.id, &b)?;
                ctx.tx.execute(
                    "INSERT INTO transport_box (id, drive_id, code, class, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                    (
                        b.id.to_string(),
                        drive.id.to_string(),
                        &b.code,
                        class.as_str(),
                        body,
                    ),
                )?;
                Ok(b)
            },
        )?;
        Ok(b)
    }

    /// Packs the bag whose label was scanned into `box_id`, after every check: a scan
    /// (the scanner's symbology identifier, then the bag label's data; a typed DIN or
    /// data without the identifier is refused, see [`Store::pack_bag_manual`]) of a
    /// container label, a known DIN of this drive, released from the chair, in no other
    /// box, of the box's class.
    pub fn pack_bag(
        &mut self,
        actor: Actor,
        box_id: RecordId,
        scanned_text: &str,
    ) -> Result<BoxPacking, ColdChainError> {
        let staff_id = actor_staff(actor, "packing a bag")?;
        require_role(&self.conn, staff_id, Role::Driver, "pack transport boxes")?;
        let b = load_box(&self.conn, box_id)?;
        require_open(&self.conn, &b)?;
        let label = read_label_scan(scanned_text).map_err(|e| match e {
            LabelScanError::Unreadable(e) => ColdChainError::Unreadable(e.to_string()),
            not_scanned => ColdChainError::NotScanned(not_scanned.message()),
        })?;
        if let Some(piece) = label
            .piece
            .filter(|p| matches!(p.kind, LabelKind::Tube | LabelKind::Record))
        {
            return Err(ColdChainError::NotABagLabel {
                din: label.din.to_string(),
                piece: piece.name(),
            });
        }
        let donation = self.check_pack(&b, &label.din)?;
        self.write_packing(actor, staff_id, &b, donation, None)
    }

    /// Packs a bag whose label cannot be scanned, by typing its DIN: the exception path.
    /// The DIN must be typed as printed under the barcode **with its check character**,
    /// with a reason, and a second crew member (an active account other than the
    /// signed-in driver) confirms with their PIN. Every packing check of
    /// [`Store::pack_bag`] applies; the packing is marked manual and the bag's label is
    /// listed as typed on the manifest. A refusal writes nothing (a wrong PIN is counted
    /// by sign-in).
    pub fn pack_bag_manual(
        &mut self,
        actor: Actor,
        box_id: RecordId,
        entry: &ManualPackEntry,
    ) -> Result<BoxPacking, ColdChainError> {
        let staff_id = actor_staff(actor, "packing a bag by manual entry")?;
        require_role(&self.conn, staff_id, Role::Driver, "pack transport boxes")?;
        let reason = require_text("reason", &entry.reason, 200)?;
        if entry.witness == staff_id {
            return Err(ColdChainError::ManualRefused(Message::new(
                "packing.manual_same_person",
            )));
        }
        let typed = read_typed(&entry.typed).map_err(|e| {
            ColdChainError::ManualRefused(
                Message::new("packing.manual_typed_din").with("detail", e.to_string()),
            )
        })?;
        let b = load_box(&self.conn, box_id)?;
        require_open(&self.conn, &b)?;
        let donation = self.check_pack(&b, &typed.din)?;
        if let Err(e) = self.sign_in(entry.witness, &entry.witness_pin)? {
            return Err(ColdChainError::ManualRefused(
                Message::new("packing.manual_witness_pin").with("detail", e.to_string()),
            ));
        }
        let manual = ManualVerification {
            reason,
            authorised_by: entry.witness,
        };
        self.write_packing(actor, staff_id, &b, donation, Some(manual))
    }

    /// Every check before a bag goes into box `b`; the current donation of `din`.
    fn check_pack(&self, b: &TransportBox, din: &Din) -> Result<Donation, ColdChainError> {
        let donation = current_donation_by_din(&self.conn, din)?.ok_or_else(|| {
            ColdChainError::UnknownDin {
                din: din.to_string(),
            }
        })?;
        if donation.drive_id != b.drive_id {
            let other = self.drive(donation.drive_id)?;
            return Err(ColdChainError::OtherDrive {
                din: din.to_string(),
                box_code: b.code.clone(),
                site: other.site_name,
                date: other.date.to_string(),
            });
        }
        if let Some(packed) = current_packing_of_din(&self.conn, din)? {
            let in_box = load_box(&self.conn, packed.box_id)?;
            return Err(ColdChainError::AlreadyPacked {
                din: din.to_string(),
                dispatched: manifest_of_box(&self.conn, in_box.id)?.is_some(),
                box_code: in_box.code,
            });
        }
        check_packing(&donation, b.class, &self.rules()?)?;
        if !is_released(&self.conn, din)? {
            return Err(ColdChainError::NotReleased {
                din: din.to_string(),
            });
        }
        Ok(donation)
    }

    fn write_packing(
        &mut self,
        actor: Actor,
        staff_id: RecordId,
        b: &TransportBox,
        donation: Donation,
        manual: Option<ManualVerification>,
    ) -> Result<BoxPacking, ColdChainError> {
        let action = if manual.is_some() {
            "cold_chain.pack_manual"
        } else {
            "cold_chain.pack"
        };
        let packing = self.act(
            actor,
            action,
            serde_json::json!({"box": b.code, "din": donation.din.as_str(), "manual": manual}),
            |ctx| {
                let packing = BoxPacking {
                    id: Uuid::now_v7(),
                    box_id: b.id,
                    donation_id: donation.id,
                    din: donation.din.clone(),
                    packed_by: staff_id,
                    packed_at: ctx.now,
                    removes: None,
                    manual: manual.clone(),
                };
                insert_packing(ctx, &packing)?;
                Ok(packing)
            },
        )?;
        Ok(packing)
    }

    /// Takes a bag out of its box again (before dispatch): a packing that removes the
    /// earlier one. Returns the undo record.
    pub fn unpack_bag(
        &mut self,
        actor: Actor,
        packing_id: RecordId,
    ) -> Result<BoxPacking, ColdChainError> {
        let staff_id = actor_staff(actor, "unpacking a bag")?;
        require_role(&self.conn, staff_id, Role::Driver, "unpack transport boxes")?;
        let packing: BoxPacking =
            get_body(&self.conn, "box_packing", packing_id)?.ok_or(StoreError::Missing {
                entity: "box packing",
                id: packing_id.to_string(),
            })?;
        let b = load_box(&self.conn, packing.box_id)?;
        require_open(&self.conn, &b)?;
        if packing.removes.is_some()
            || !current_packings(&self.conn, b.id)?
                .iter()
                .any(|p| p.id == packing.id)
        {
            return Err(StoreError::invalid(
                "packing_id",
                format!("{} is no longer in box {}", packing.din, b.code),
            )
            .into());
        }
        let undo = self.act(
            actor,
            "cold_chain.unpack",
            serde_json::json!({"box": b.code, "din": packing.din.as_str()}),
            |ctx| {
                let undo = BoxPacking {
                    id: Uuid::now_v7(),
                    packed_by: staff_id,
                    packed_at: ctx.now,
                    manual: None,
                    removes: Some(packing.id),
                    ..packing.clone()
                };
                insert_packing(ctx, &undo)?;
                Ok(undo)
            },
        )?;
        Ok(undo)
    }
}
