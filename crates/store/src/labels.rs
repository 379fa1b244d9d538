//! Label actions: print a donation's label set, re-print one label, record every scan,
//! and release the donation from the chair only when its whole set was scanned back.
//!
//! Labels are found by DIN, not by donation id: a corrected donation is a new record
//! with the same DIN, and its labels stay the same physical labels.

use std::collections::BTreeSet;

use lifebridge_domain::din::Din;
use lifebridge_domain::entities::{
    DinRangeSource, Donation, DonationRelease, EntityKind, LabelPrint, LabelScan,
    ManualVerification, Outcome, RecordId, Role, ScanResult,
};
use lifebridge_domain::label_piece::{DEFAULT_TUBE_COUNT, LabelPiece};
use lifebridge_domain::labels::{
    EntryMethod, LabelContent, ProductCode, Verdict, label_set, read_entry, read_typed,
    verify_entry,
};
use lifebridge_domain::messages::Message;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;

use crate::action::ActionCtx;
use crate::queries::RangeUsage;
use crate::records::{actor_staff, require_role, require_text};
use crate::{Actor, Result, Store, StoreError};

/// Why a label action was refused. A refused scan has already been recorded when this
/// is returned: the attempt is part of the record whether or not it matched.
/// [`LabelError::message`] is what the phlebotomist reads at the chair (`chair.*`,
/// `scan.*`), in the screen's language; `Display` is its English text, for logs.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("SCAN REFUSED: {message}")]
    ScanRefused {
        result: ScanResult,
        message: Message,
        scan: Box<LabelScan>,
    },
    #[error("{}", self.message())]
    NotVerified {
        din: String,
        missing: Vec<LabelPiece>,
    },
    #[error("{}", self.message())]
    AlreadyPrinted { din: String },
    #[error("{}", self.message())]
    PieceNotInSet {
        din: String,
        piece: LabelPiece,
        set: Vec<LabelPiece>,
    },
    #[error("{}", self.message())]
    NothingPrinted { din: String },
    #[error("{}", self.message())]
    AlreadyReleased { din: String },
    #[error("manual entry refused: {0}")]
    ManualRefused(Message),
    #[error("{}", self.message())]
    CollectionInProgress { din: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LabelError {
    /// The refusal in the catalogue's words; a store failure as its English text.
    pub fn message(&self) -> Message {
        let din_only = |code: &str, din: &str| Message::new(code).with("din", din);
        match self {
            LabelError::ScanRefused { message, .. } | LabelError::ManualRefused(message) => {
                message.clone()
            }
            LabelError::NotVerified { din, missing } => Message::new("chair.not_verified")
                .with("din", din.as_str())
                .with("count", missing.len().to_string())
                .with("missing", piece_names(missing)),
            LabelError::AlreadyPrinted { din } => din_only("chair.already_printed", din),
            LabelError::PieceNotInSet { din, piece, set } => Message::new("chair.piece_not_in_set")
                .with("din", din.as_str())
                .with("piece", piece.name())
                .with("set", piece_names(set)),
            LabelError::NothingPrinted { din } => din_only("chair.nothing_printed", din),
            LabelError::AlreadyReleased { din } => din_only("chair.already_released", din),
            LabelError::CollectionInProgress { din } => {
                din_only("chair.collection_in_progress", din)
            }
            LabelError::Store(e) => Message::new("packing.store").with("detail", e.to_string()),
        }
    }
}

impl From<rusqlite::Error> for LabelError {
    fn from(e: rusqlite::Error) -> Self {
        LabelError::Store(e.into())
    }
}

impl From<serde_json::Error> for LabelError {
    fn from(e: serde_json::Error) -> Self {
        LabelError::Store(e.into())
    }
}

fn piece_names(pieces: &[LabelPiece]) -> Vec<Message> {
    pieces.iter().map(|p| p.name()).collect()
}

/// Where a donation's labels stand.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LabelSetStatus {
    pub din: Din,
    /// The pieces that must be scanned back, in print order.
    pub set: Vec<LabelPiece>,
    pub verified: Vec<LabelPiece>,
    /// The verified pieces that were typed on the exception path (reason and a second
    /// crew member's PIN) rather than scanned.
    pub manual: Vec<LabelPiece>,
    pub missing: Vec<LabelPiece>,
    /// The current (not superseded) print of each piece; empty for a pre-printed roll.
    pub prints: Vec<LabelPrint>,
    pub refused_scans: u32,
    pub released: bool,
}

impl LabelSetStatus {
    pub fn is_fully_verified(&self) -> bool {
        !self.set.is_empty() && self.missing.is_empty()
    }
}

/// What the crew must account for when a drive ends.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DriveLabelAccount {
    pub drive_id: RecordId,
    /// Donations whose set was not fully scanned back, with what is missing.
    pub unverified: Vec<LabelSetStatus>,
    /// Printed labels never matched by a scan: still on the roll, or lost.
    pub unused_prints: Vec<LabelPrint>,
    /// Earlier prints replaced by a re-print: each must be found and destroyed.
    pub superseded_prints: Vec<LabelPrint>,
    /// Scans refused during the drive (wrong, other donation's, unknown, duplicate,
    /// typed instead of scanned).
    pub refused_scans: Vec<LabelScan>,
    /// Pieces verified by manual entry instead of a scan, each with its reason and
    /// the second crew member who authorised it.
    pub manual_entries: Vec<LabelScan>,
    /// DINs still unissued in this device's ranges (pre-printed rolls come back).
    pub unissued_dins: Vec<RangeUsage>,
}

fn load_donation(conn: &Connection, id: RecordId) -> Result<Donation> {
    crate::queries::get_body(conn, "donation", id)?.ok_or(StoreError::Missing {
        entity: "donation",
        id: id.to_string(),
    })
}

/// Rows of one entity with their change-log position, oldest first: the order the crew
/// printed and scanned in, which wall clocks cannot be trusted to give.
fn sequenced_bodies<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    din: &Din,
) -> Result<Vec<(i64, T)>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([din.as_str()], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, body) = row?;
        out.push((seq, serde_json::from_str(&body)?));
    }
    Ok(out)
}

/// Prints of `din` with their change-log position, oldest first.
fn prints_for(conn: &Connection, din: &Din) -> Result<Vec<(i64, LabelPrint)>> {
    sequenced_bodies(
        conn,
        "SELECT c.seq, p.body FROM label_print p
         JOIN change_log c ON c.entity = 'label_print' AND c.entity_id = p.id
         WHERE p.din = ?1 ORDER BY c.seq",
        din,
    )
}

/// Scans recorded against any version of the donation carrying `din`, oldest first.
fn scans_for(conn: &Connection, din: &Din) -> Result<Vec<(i64, LabelScan)>> {
    sequenced_bodies(
        conn,
        "SELECT c.seq, s.body FROM label_scan s
         JOIN change_log c ON c.entity = 'label_scan' AND c.entity_id = s.id
         WHERE s.donation_id IN (SELECT id FROM donation WHERE din = ?1)
         ORDER BY c.seq",
        din,
    )
}

fn current_prints(prints: &[(i64, LabelPrint)]) -> Vec<(i64, LabelPrint)> {
    let superseded: BTreeSet<RecordId> = prints.iter().filter_map(|(_, p)| p.supersedes).collect();
    prints
        .iter()
        .filter(|(_, p)| !superseded.contains(&p.id))
        .cloned()
        .collect()
}

fn din_range_source(conn: &Connection, din: &Din) -> Result<Option<DinRangeSource>> {
    let source: Option<String> = conn
        .query_row(
            "SELECT r.source FROM din_issued i JOIN din_range r ON r.id = i.range_id
             WHERE i.din = ?1",
            [din.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(source.and_then(|s| serde_json::from_value(serde_json::Value::String(s)).ok()))
}

fn is_released(conn: &Connection, din: &Din) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM donation_release WHERE din = ?1",
            [din.as_str()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The set to verify and which of its pieces a scan has matched since that piece's
/// current print: a re-print makes the earlier scan of that piece count no more, since
/// the label it matched may be the damaged one.
fn status(conn: &Connection, donation: &Donation) -> Result<LabelSetStatus> {
    let din = &donation.din;
    let prints = current_prints(&prints_for(conn, din)?);
    let set: Vec<LabelPiece> = if prints.is_empty() {
        match din_range_source(conn, din)? {
            Some(DinRangeSource::PrePrinted) => {
                label_set(donation.bag_set.kind, DEFAULT_TUBE_COUNT)
                    .map_err(|e| StoreError::invalid("tubes", e.to_string()))?
            }
            _ => Vec::new(),
        }
    } else {
        prints
            .iter()
            .map(|(_, p)| LabelPiece::new(p.kind, p.piece))
            .collect()
    };
    let printed_at = |piece: LabelPiece| {
        prints
            .iter()
            .find(|(_, p)| LabelPiece::new(p.kind, p.piece) == piece)
            .map_or(0, |(seq, _)| *seq)
    };
    let mut verified = BTreeSet::new();
    let mut manual = BTreeSet::new();
    let mut refused = 0u32;
    for (seq, scan) in scans_for(conn, din)? {
        if scan.result != ScanResult::Matched {
            refused += 1;
            continue;
        }
        if let Some(piece) = verified_piece(&scan, din, &set)
            && !verified.contains(&piece)
            && seq > printed_at(piece)
        {
            verified.insert(piece);
            if scan.manual.is_some() {
                manual.insert(piece);
            }
        }
    }
    let missing = set
        .iter()
        .filter(|p| !verified.contains(p))
        .copied()
        .collect();
    Ok(LabelSetStatus {
        din: din.clone(),
        verified: set
            .iter()
            .filter(|p| verified.contains(p))
            .copied()
            .collect(),
        manual: set.iter().filter(|p| manual.contains(p)).copied().collect(),
        set,
        missing,
        prints: prints.into_iter().map(|(_, p)| p).collect(),
        refused_scans: refused,
        released: is_released(conn, din)?,
    })
}

/// The piece a matched scan record verifies, or `None` when it verifies nothing.
///
/// A manual entry names its piece and was authorised when it was written. Any other
/// entry is re-read from its text with the domain's one reading ([`read_entry`]): only a
/// scan (symbology identifier, then `=` + DIN + a flag naming the piece) counts. Records
/// written before that rule (a typed DIN that ticked "the next piece", flags `T1`/`R1`)
/// stay readable but verify nothing: such a set is scanned again (or its tube and record
/// labels re-printed with the ST-001 flags) before release. Donations released before
/// keep their release.
fn verified_piece(scan: &LabelScan, din: &Din, set: &[LabelPiece]) -> Option<LabelPiece> {
    let piece = if scan.manual.is_some() {
        scan.piece?
    } else {
        let entry = read_entry(&scan.scanned_text).ok()?;
        if entry.din != *din {
            return None;
        }
        let piece = entry.scanned_piece()?;
        if scan.piece.is_some_and(|p| p != piece) {
            return None;
        }
        piece
    };
    set.contains(&piece).then_some(piece)
}

fn insert_print(ctx: &mut ActionCtx<'_>, print: &LabelPrint) -> Result<()> {
    let body = ctx.log_change(EntityKind::LabelPrint, print.id, print)?;
    ctx.tx.execute(
        "INSERT INTO label_print (id, donation_id, din, kind, piece, supersedes, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            print.id.to_string(),
            print.donation_id.to_string(),
            print.din.as_str(),
            serde_json::to_value(print.kind)?
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            print.piece,
            print.supersedes.map(|s| s.to_string()),
            body,
        ),
    )?;
    Ok(())
}

impl Store {
    /// Prints (records the printing of) the whole label set of a donation: primary bag,
    /// each satellite, `tubes` sample tubes and the record sheet, all with its DIN.
    pub fn print_label_set(
        &mut self,
        actor: Actor,
        donation_id: RecordId,
        tubes: u8,
    ) -> Result<Vec<LabelPrint>, LabelError> {
        let staff_id = actor_staff(actor, "printing labels")?;
        require_role(&self.conn, staff_id, Role::Phlebotomist, "print labels")?;
        let donation = load_donation(&self.conn, donation_id)?;
        if !prints_for(&self.conn, &donation.din)?.is_empty() {
            return Err(LabelError::AlreadyPrinted {
                din: donation.din.to_string(),
            });
        }
        let set = label_set(donation.bag_set.kind, tubes)
            .map_err(|e| StoreError::invalid("tubes", e.to_string()))?;
        let prints = self.act(
            actor,
            "label.print_set",
            serde_json::json!({"din": donation.din.as_str(), "tubes": tubes}),
            |ctx| {
                let mut prints = Vec::new();
                for piece in &set {
                    let print = LabelPrint {
                        id: Uuid::now_v7(),
                        donation_id: donation.id,
                        din: donation.din.clone(),
                        kind: piece.kind,
                        piece: piece.piece,
                        printed_by: staff_id,
                        printed_at: ctx.now,
                        supersedes: None,
                    };
                    insert_print(ctx, &print)?;
                    prints.push(print);
                }
                Ok(prints)
            },
        )?;
        Ok(prints)
    }

    /// Re-prints one label of the set, always under the donation's own DIN. The new
    /// print supersedes the earlier one, which must be destroyed, and the piece has to be
    /// scanned again.
    pub fn reprint_label(
        &mut self,
        actor: Actor,
        donation_id: RecordId,
        piece: LabelPiece,
        reason: &str,
    ) -> Result<LabelPrint, LabelError> {
        let staff_id = actor_staff(actor, "re-printing a label")?;
        require_role(&self.conn, staff_id, Role::Phlebotomist, "re-print labels")?;
        let reason = require_text("reason", reason, 200)?;
        let donation = load_donation(&self.conn, donation_id)?;
        if is_released(&self.conn, &donation.din)? {
            return Err(LabelError::AlreadyReleased {
                din: donation.din.to_string(),
            });
        }
        let current = current_prints(&prints_for(&self.conn, &donation.din)?);
        let Some((_, earlier)) = current
            .iter()
            .find(|(_, p)| LabelPiece::new(p.kind, p.piece) == piece)
        else {
            if current.is_empty() {
                return Err(LabelError::NothingPrinted {
                    din: donation.din.to_string(),
                });
            }
            return Err(LabelError::PieceNotInSet {
                din: donation.din.to_string(),
                piece,
                set: current
                    .iter()
                    .map(|(_, p)| LabelPiece::new(p.kind, p.piece))
                    .collect(),
            });
        };
        let earlier = earlier.clone();
        let print = self.act(
            actor,
            "label.reprint",
            serde_json::json!({
                "din": donation.din.as_str(),
                "piece": piece,
                "supersedes": earlier.id,
                "reason": reason,
            }),
            |ctx| {
                let print = LabelPrint {
                    id: Uuid::now_v7(),
                    donation_id: donation.id,
                    // The earlier print's DIN, which is the donation's: a label never
                    // moves to another DIN.
                    din: earlier.din.clone(),
                    kind: piece.kind,
                    piece: piece.piece,
                    printed_by: staff_id,
                    printed_at: ctx.now,
                    supersedes: Some(earlier.id),
                };
                insert_print(ctx, &print)?;
                Ok(print)
            },
        )?;
        Ok(print)
    }

    /// Records one entry at the scan field of the collection screen of `donation_id`.
    ///
    /// Every attempt is recorded. Only a scan of a piece's own symbol (symbology
    /// identifier, `=` + DIN + the flag naming the piece) verifies that piece: a typed
    /// DIN, with or without its check character, is recorded and refused
    /// ([`ScanResult::NotScanned`]); typing is [`Store::record_manual_label_entry`].
    /// `Ok` names the piece matched; anything else is [`LabelError::ScanRefused`],
    /// returned after the attempt was committed.
    pub fn record_label_scan(
        &mut self,
        actor: Actor,
        donation_id: RecordId,
        scanned_text: &str,
    ) -> Result<LabelPiece, LabelError> {
        let staff_id = actor_staff(actor, "scanning labels")?;
        require_role(&self.conn, staff_id, Role::Phlebotomist, "verify labels")?;
        let donation = load_donation(&self.conn, donation_id)?;
        let (din, verdict, message) = match read_entry(scanned_text) {
            Err(e) => (None, None, e.message()),
            Ok(entry) => {
                let before = status(&self.conn, &donation)?;
                let verified: BTreeSet<LabelPiece> = before.verified.iter().copied().collect();
                if before.set.is_empty() {
                    return Err(LabelError::NothingPrinted {
                        din: donation.din.to_string(),
                    });
                }
                let known = self.din_known(&entry.din)?;
                let verdict = verify_entry(&donation.din, &before.set, &verified, &entry, known);
                let message = verdict_message(&verdict, &donation.din, &entry.din);
                (Some(entry.din), Some(verdict), message)
            }
        };
        let result = verdict
            .as_ref()
            .map_or(ScanResult::Unreadable, Verdict::scan_result);
        let piece = match verdict {
            Some(Verdict::Matched(piece)) => Some(piece),
            _ => None,
        };
        let scan = LabelScan {
            id: Uuid::now_v7(),
            donation_id: donation.id,
            scanned_text: stored_text(scanned_text),
            din,
            result,
            scanned_by: staff_id,
            scanned_at: crate::now(),
            piece,
            manual: None,
        };
        let recorded = self.insert_scan(actor, &donation, scan, &message)?;
        match piece {
            Some(piece) => Ok(piece),
            None => Err(LabelError::ScanRefused {
                result,
                message,
                scan: Box::new(recorded),
            }),
        }
    }

    /// Verifies one piece by typing its DIN, when its symbol cannot be scanned: the
    /// exception path. The DIN must be typed with its check character and be this
    /// donation's, the piece must be in the set and not yet verified, and a second crew
    /// member (an active account other than the one at the chair) confirms with their
    /// PIN. Recorded as a matched entry marked manual, with the reason and who
    /// authorised it; shown as manual in the status, the drive's label account and the
    /// release. A refusal writes no scan record (a wrong PIN is counted by sign-in).
    pub fn record_manual_label_entry(
        &mut self,
        actor: Actor,
        donation_id: RecordId,
        entry: &ManualLabelEntry,
    ) -> Result<LabelPiece, LabelError> {
        let staff_id = actor_staff(actor, "entering a label by hand")?;
        require_role(&self.conn, staff_id, Role::Phlebotomist, "verify labels")?;
        let reason = require_text("reason", &entry.reason, 200)?;
        let donation = load_donation(&self.conn, donation_id)?;
        let refuse = |m: Message| Err(LabelError::ManualRefused(m));
        if entry.witness == staff_id {
            return refuse(Message::new("chair.manual_same_person"));
        }
        let typed = match read_typed(&entry.typed) {
            Ok(t) => t,
            Err(e) => {
                return refuse(Message::new("chair.manual_typed_din").with("detail", e.message()));
            }
        };
        if typed.din != donation.din {
            return refuse(
                Message::new("chair.manual_wrong_din").with("din", typed.din.to_string()),
            );
        }
        let before = status(&self.conn, &donation)?;
        if before.released {
            return Err(LabelError::AlreadyReleased {
                din: donation.din.to_string(),
            });
        }
        if before.set.is_empty() {
            return Err(LabelError::NothingPrinted {
                din: donation.din.to_string(),
            });
        }
        if !before.set.contains(&entry.piece) {
            return Err(LabelError::PieceNotInSet {
                din: donation.din.to_string(),
                piece: entry.piece,
                set: before.set.clone(),
            });
        }
        if before.verified.contains(&entry.piece) {
            return refuse(
                Message::new("chair.already_verified").with("piece", entry.piece.name()),
            );
        }
        if let Err(e) = self.sign_in(entry.witness, &entry.witness_pin)? {
            return refuse(Message::new("chair.manual_witness_pin").with("detail", e.message()));
        }
        let message = Message::new("chair.manual_verified")
            .with("piece", entry.piece.name())
            .with("din", donation.din.to_string());
        let scan = LabelScan {
            id: Uuid::now_v7(),
            donation_id: donation.id,
            scanned_text: stored_text(&entry.typed),
            din: Some(typed.din),
            result: ScanResult::Matched,
            scanned_by: staff_id,
            scanned_at: crate::now(),
            piece: Some(entry.piece),
            manual: Some(ManualVerification {
                reason,
                authorised_by: entry.witness,
            }),
        };
        self.insert_scan(actor, &donation, scan, &message)?;
        Ok(entry.piece)
    }

    fn din_known(&self, din: &Din) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM donation WHERE din = ?1 LIMIT 1",
                [din.as_str()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    fn insert_scan(
        &mut self,
        actor: Actor,
        donation: &Donation,
        scan: LabelScan,
        message: &Message,
    ) -> Result<LabelScan> {
        let action = if scan.manual.is_some() {
            "label.manual_entry"
        } else {
            "label.scan"
        };
        self.act(
            actor,
            action,
            serde_json::json!({
                "din": donation.din.as_str(),
                "result": scan.result,
                "piece": scan.piece,
                "manual": scan.manual,
                // The audit log is read by people who look into a record later: the
                // English text, as every log line.
                "message": message.to_string(),
            }),
            |ctx| {
                let mut scan = scan.clone();
                scan.scanned_at = ctx.now;
                let body = ctx.log_change(EntityKind::LabelScan, scan.id, &scan)?;
                ctx.tx.execute(
                    "INSERT INTO label_scan (id, donation_id, result, body) VALUES (?1, ?2, ?3, ?4)",
                    (
                        scan.id.to_string(),
                        scan.donation_id.to_string(),
                        serde_json::to_value(scan.result)?
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        body,
                    ),
                )?;
                Ok(scan)
            },
        )
    }

    /// Where the labels of a donation stand: what must be scanned and what was.
    pub fn label_status(&self, donation_id: RecordId) -> Result<LabelSetStatus> {
        let donation = load_donation(&self.conn, donation_id)?;
        status(&self.conn, &donation)
    }

    /// What each label of the donation's set carries, for rendering: the printed set (or,
    /// before printing, the set its bag type needs with the default tube count). The
    /// group is the one on the donor's record, else today's rapid group, blank when
    /// the two differ (`blood_group::for_label`).
    pub fn donation_label_contents(
        &self,
        donation_id: RecordId,
        facility_name: &str,
        product: Option<ProductCode>,
    ) -> Result<Vec<LabelContent>> {
        let donation = load_donation(&self.conn, donation_id)?;
        let abo_rh = crate::cold_chain::known_abo_rh(&self.conn, &donation)?;
        let mut set = status(&self.conn, &donation)?.set;
        if set.is_empty() {
            set = label_set(donation.bag_set.kind, DEFAULT_TUBE_COUNT)
                .map_err(|e| StoreError::invalid("tubes", e.to_string()))?;
        }
        Ok(set
            .into_iter()
            .map(|piece| {
                LabelContent::for_donation(&donation, piece, facility_name, abo_rh, product.clone())
            })
            .collect())
    }

    /// Whether every label of the donation's set was scanned back and matched.
    pub fn is_label_set_verified(&self, donation_id: RecordId) -> Result<bool> {
        Ok(self.label_status(donation_id)?.is_fully_verified())
    }

    /// Releases the donation from the chair: allowed only once every label of its set
    /// was scanned and matched since its current print.
    pub fn release_donation(
        &mut self,
        actor: Actor,
        donation_id: RecordId,
    ) -> Result<LabelSetStatus, LabelError> {
        let staff_id = actor_staff(actor, "releasing a donation")?;
        require_role(
            &self.conn,
            staff_id,
            Role::Phlebotomist,
            "release donations",
        )?;
        let donation = load_donation(&self.conn, donation_id)?;
        if donation.outcome == Outcome::InProgress {
            return Err(LabelError::CollectionInProgress {
                din: donation.din.to_string(),
            });
        }
        let st = status(&self.conn, &donation)?;
        if st.released {
            return Err(LabelError::AlreadyReleased {
                din: donation.din.to_string(),
            });
        }
        if st.set.is_empty() {
            return Err(LabelError::NothingPrinted {
                din: donation.din.to_string(),
            });
        }
        if !st.missing.is_empty() {
            return Err(LabelError::NotVerified {
                din: donation.din.to_string(),
                missing: st.missing,
            });
        }
        let release = DonationRelease {
            id: Uuid::now_v7(),
            donation_id: donation.id,
            din: donation.din.clone(),
            released_by: staff_id,
            released_at: crate::now(),
            pieces: st.verified.clone(),
            manual_pieces: st.manual.clone(),
        };
        self.act(
            actor,
            "donation.release",
            serde_json::json!({"din": donation.din.as_str(), "pieces": st.verified, "manual_pieces": st.manual}),
            |ctx| {
                let release = DonationRelease {
                    released_at: ctx.now,
                    ..release.clone()
                };
                let body = ctx.log_change(EntityKind::DonationRelease, release.id, &release)?;
                crate::tables::donation_release::insert(ctx.tx, &release, &body)?;
                Ok(())
            },
        )?;
        Ok(LabelSetStatus {
            released: true,
            ..st
        })
    }

    /// The labels and DINs the crew must account for at the end of a drive.
    pub fn drive_label_account(&self, drive_id: RecordId) -> Result<DriveLabelAccount> {
        let mut account = DriveLabelAccount {
            drive_id,
            unverified: Vec::new(),
            unused_prints: Vec::new(),
            superseded_prints: Vec::new(),
            refused_scans: Vec::new(),
            manual_entries: Vec::new(),
            unissued_dins: self
                .din_usage()?
                .into_iter()
                .filter(|r| r.unused > 0)
                .collect(),
        };
        for donation in self.drive_donations(drive_id)? {
            let st = status(&self.conn, &donation)?;
            let all = prints_for(&self.conn, &donation.din)?;
            let current: BTreeSet<RecordId> =
                current_prints(&all).iter().map(|(_, p)| p.id).collect();
            for (_, print) in all {
                if !current.contains(&print.id) {
                    account.superseded_prints.push(print);
                } else if !st
                    .verified
                    .contains(&LabelPiece::new(print.kind, print.piece))
                {
                    account.unused_prints.push(print);
                }
            }
            for (_, scan) in scans_for(&self.conn, &donation.din)? {
                if scan.result != ScanResult::Matched {
                    account.refused_scans.push(scan);
                } else if scan.manual.is_some() {
                    account.manual_entries.push(scan);
                }
            }
            if !st.is_fully_verified() {
                account.unverified.push(st);
            }
        }
        Ok(account)
    }
}

/// Scanners can send anything; keep what is stored bounded and printable.
fn stored_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect()
}

/// A piece typed on the exception path, with who confirms it.
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManualLabelEntry {
    pub piece: LabelPiece,
    /// The DIN as typed from the label, with its check character.
    pub typed: String,
    pub reason: String,
    /// The second crew member, who types their own PIN.
    pub witness: RecordId,
    pub witness_pin: String,
}

/// What the phlebotomist reads for a verdict at the chair (`chair.*`, `scan.*`).
fn verdict_message(verdict: &Verdict, expected: &Din, entered: &Din) -> Message {
    let expected = expected.to_string();
    match verdict {
        Verdict::Matched(piece) => Message::new("chair.matched")
            .with("piece", piece.name())
            .with("expected", expected),
        Verdict::OtherDonation { din } => Message::new("chair.other_donation")
            .with("din", din.to_string())
            .with("expected", expected),
        Verdict::UnknownDin { din } => {
            Message::new("chair.unknown_din").with("din", din.to_string())
        }
        Verdict::NotInSet { piece } => Message::new("chair.not_in_set")
            .with("piece", piece.name())
            .with("expected", expected),
        Verdict::Duplicate { piece } => Message::new("chair.duplicate")
            .with("piece", piece.name())
            .with("expected", expected),
        // The same refusal as at packing and the desk, naming the DIN that came in.
        Verdict::NotScanned {
            method: EntryMethod::Typed,
        } => Message::new("scan.typed_not_scanned").with("din", entered.to_string()),
        Verdict::NotScanned { .. } => {
            Message::new("scan.not_a_scan").with("din", entered.to_string())
        }
        Verdict::NoPiece { flags } => Message::new("chair.no_piece")
            .with("expected", expected)
            .with("flags", flags.as_str()),
    }
}
