//! Applying pulled records: one page is one [`Store::act_with`] transaction of origin
//! [`Origin::Pulled`] (rows, the pull cursor and one audit entry; never the change log),
//! one function per [`RemoteKind`] deciding whether this device can use the record and
//! writing it through the same table writers as the local actions ([`crate::tables`]).

use lifebridge_domain::entities::{
    Appointment, Deferral, DinRangeRecord, DinRangeSource, Donation, DonationRelease, Donor, Drive,
    RecordId, Screening, Visit,
};
use lifebridge_domain::handoff::HandoffRecord;
use lifebridge_domain::hlc::Hlc;
use rusqlite::{Connection, OptionalExtension};

use lifebridge_domain::merge::{FieldClocks, merge_fields, uniform_clocks};
use lifebridge_protocol::records::{ReferenceDocumentBody, RemoteKind, RemoteRecord, StaffAccount};

use super::{ApplyReport, donor_clocks};
use crate::action::{ActionCtx, Origin};
use crate::tables::{self, donation::Filing};
use crate::{Actor, Result, Store, StoreError};

impl Store {
    /// Applies one page of pulled records and moves the pull cursor to `cursor`, in one
    /// transaction with one audit entry. Records this device cannot use (a donation for
    /// a donor it does not hold, a range leased to another device, a malformed rules
    /// table) are skipped and named in the report and the audit entry.
    pub fn apply_remote(&mut self, records: &[RemoteRecord], cursor: u64) -> Result<ApplyReport> {
        self.act_with(
            Origin::Pulled { cursor },
            Actor::system(),
            "replication.pull",
            serde_json::Value::Null,
            |ctx| {
                let mut report = ApplyReport::default();
                for record in records {
                    match apply_one(ctx, record) {
                        Ok(true) => report.applied += 1,
                        Ok(false) => report.unchanged += 1,
                        Err(Fail::Skip(why)) => report.skipped.push(format!(
                            "{} {}: {why}",
                            record.kind.as_str(),
                            record.id
                        )),
                        Err(Fail::Store(e)) => return Err(e),
                    }
                    ctx.pulled(record.kind, record.id, record.hlc);
                }
                ctx.set_detail(serde_json::json!({
                    "cursor": cursor, "applied": report.applied,
                    "unchanged": report.unchanged, "skipped": report.skipped,
                }));
                Ok(report)
            },
        )
    }
}

/// Why a pulled record was not applied: `Skip` is about the record (it is named in the
/// report and the page goes on); `Store` is about this device (the whole page is rolled
/// back and pulled again later).
enum Fail {
    Skip(String),
    Store(StoreError),
}

/// What applying one record gives: `Ok(true)` when it changed the store.
type Applied = std::result::Result<bool, Fail>;

fn skip(why: impl Into<String>) -> Fail {
    Fail::Skip(why.into())
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        Fail::Store(e)
    }
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Fail {
        Fail::Store(e.into())
    }
}

impl From<serde_json::Error> for Fail {
    fn from(e: serde_json::Error) -> Fail {
        Fail::Skip(format!("malformed body: {e}"))
    }
}

fn object(text: &str) -> std::result::Result<serde_json::Map<String, serde_json::Value>, Fail> {
    match serde_json::from_str::<serde_json::Value>(text)? {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(skip("body must be a JSON object")),
    }
}

fn exists(conn: &Connection, table: &'static str, id: &str) -> std::result::Result<bool, Fail> {
    Ok(conn
        .query_row(
            &format!("SELECT 1 FROM {table} WHERE id = ?1"),
            [id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// A record whose body names another id than the record is refused: applying it would
/// write one record under the other's id.
fn same_id(body_id: RecordId, record: &RemoteRecord) -> std::result::Result<(), Fail> {
    if body_id == record.id {
        return Ok(());
    }
    Err(skip(format!(
        "the body names id {body_id}, the record {}",
        record.id
    )))
}

/// The donor row that a pulled record's donor id stands for on this device: the donor
/// itself, or the donor holding the same identity document under another id.
fn local_donor(tx: &Connection, donor_id: RecordId) -> std::result::Result<String, Fail> {
    let donor_id = donor_id.to_string();
    if exists(tx, "donor", &donor_id)? {
        return Ok(donor_id);
    }
    tx.query_row(
        "SELECT donor_id FROM donor_alias WHERE alias_id = ?1",
        [&donor_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| skip(format!("donor {donor_id} is not on this device")))
}

fn apply_one(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    match record.kind {
        RemoteKind::Donor => apply_donor(ctx, record),
        RemoteKind::Deferral => apply_deferral(ctx, record),
        RemoteKind::Donation => apply_donation(ctx, record),
        RemoteKind::DinRange => apply_din_range(ctx, record),
        RemoteKind::ReferenceDocument => apply_reference_document(ctx, record),
        RemoteKind::Appointment => apply_appointment(ctx, record),
        RemoteKind::Handoff => apply_handoff(ctx, record),
        RemoteKind::Staff => apply_staff(ctx, record),
        RemoteKind::Drive => apply_drive(ctx, record),
        RemoteKind::Visit => apply_visit(ctx, record),
        RemoteKind::Screening => apply_screening(ctx, record),
        RemoteKind::DonationRelease => apply_donation_release(ctx, record),
    }
}

/// Where a pulled version of a one-writer record stands against what this device holds.
enum Version {
    /// Not here yet.
    New,
    /// Here, and the pulled version is later (by clock) from the same writer.
    Later,
    /// Here already in this version or a later one (or written by this device itself).
    Held,
}

/// The one-writer rule for records shared by the tablets of a bus (a drive, a visit, a
/// screening, a release, a donation): the device that created a record is its only
/// writer. A record this device wrote is never changed from outside, whatever the
/// pulled record claims; a version from another device than the record's writer is
/// refused; a later version from the writer replaces the earlier by clock, an earlier
/// or equal one changes nothing (pages may repeat, and a hub may send what the
/// station sends too).
fn one_writer(
    ctx: &ActionCtx<'_>,
    record: &RemoteRecord,
    table: &'static str,
) -> std::result::Result<Version, Fail> {
    let id = record.id.to_string();
    let kind = record.kind.as_str();
    let written_here = ctx
        .tx
        .query_row(
            "SELECT 1 FROM change_log WHERE entity = ?1 AND entity_id = ?2 LIMIT 1",
            (kind, &id),
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if record.origin_device == ctx.device_id {
        if written_here || exists(ctx.tx, table, &id)? {
            return Ok(Version::Held);
        }
        return Err(skip(format!(
            "claims to come from this device, which has no such {kind}"
        )));
    }
    if written_here {
        return Err(skip(format!(
            "names a {kind} this device wrote; only its writer changes a record"
        )));
    }
    let held: Option<(String, String)> = ctx
        .tx
        .query_row(
            "SELECT origin_device, hlc FROM replicated_version WHERE kind = ?1 AND id = ?2",
            (kind, &id),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match held {
        Some((origin, _)) if origin != record.origin_device.to_string() => Err(skip(format!(
            "written by device {origin}; device {} is not its writer",
            record.origin_device
        ))),
        Some((_, hlc)) => {
            let held: Hlc = hlc.parse().map_err(|_| {
                Fail::Store(StoreError::Corrupt(format!(
                    "replicated_version of {kind} {id}: clock {hlc:?} is unreadable"
                )))
            })?;
            Ok(if record.hlc > held {
                Version::Later
            } else {
                Version::Held
            })
        }
        // Pulled before schema 10 kept versions: pages come in the station's commit
        // order, so this one is the later.
        None if exists(ctx.tx, table, &id)? => Ok(Version::Later),
        None => Ok(Version::New),
    }
}

/// Notes the version of `record` this device now holds.
fn note_version(ctx: &ActionCtx<'_>, record: &RemoteRecord) -> std::result::Result<(), Fail> {
    ctx.tx.execute(
        "INSERT INTO replicated_version (kind, id, origin_device, hlc) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (kind, id) DO UPDATE SET hlc = excluded.hlc",
        (
            record.kind.as_str(),
            record.id.to_string(),
            record.origin_device.to_string(),
            record.hlc.to_string(),
        ),
    )?;
    Ok(())
}

/// A pulled record its writer writes once (a visit, a screening, a release), read and
/// held against the one-writer rule: `None` when this device holds it already. A later
/// version of such a record with the same body changes nothing; another body is refused.
fn written_once<T: serde::Serialize + serde::de::DeserializeOwned>(
    ctx: &ActionCtx<'_>,
    record: &RemoteRecord,
    table: &'static str,
    id_of: fn(&T) -> RecordId,
) -> std::result::Result<Option<(T, String)>, Fail> {
    let value: T = serde_json::from_str(&record.body)?;
    same_id(id_of(&value), record)?;
    let body = serde_json::to_string(&value)?;
    match one_writer(ctx, record, table)? {
        Version::Held => Ok(None),
        Version::New => Ok(Some((value, body))),
        Version::Later => {
            let held: String = ctx.tx.query_row(
                &format!("SELECT body FROM {table} WHERE id = ?1"),
                [record.id.to_string()],
                |r| r.get(0),
            )?;
            if held == body {
                return Ok(None);
            }
            Err(skip(format!(
                "a {} is written once; this version differs from the one held",
                record.kind.as_str()
            )))
        }
    }
}

/// Notes the version just written; the record changed the store.
fn noted(ctx: &ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    note_version(ctx, record)?;
    Ok(true)
}

fn require(
    ctx: &ActionCtx<'_>,
    table: &'static str,
    id: RecordId,
) -> std::result::Result<(), Fail> {
    if exists(ctx.tx, table, &id.to_string())? {
        return Ok(());
    }
    Err(skip(format!("{table} {id} is not on this device")))
}

/// A drive opened on another tablet of the bus: every tablet works in it. Its writer
/// may end it later; nothing else of it changes.
fn apply_drive(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    let drive: Drive = serde_json::from_str(&record.body)?;
    same_id(drive.id, record)?;
    let body = serde_json::to_string(&drive)?;
    match one_writer(ctx, record, "drive")? {
        Version::Held => return Ok(false),
        Version::New => tables::drive::insert(ctx.tx, &drive, &body)?,
        Version::Later => tables::drive::update(ctx.tx, &drive, &body)?,
    }
    noted(ctx, record)
}

/// A donor checked in on another tablet of the bus: the queue's entry, in the drive
/// and under the donor this device holds.
fn apply_visit(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    let Some((visit, body)) = written_once(ctx, record, "visit", |v: &Visit| v.id)? else {
        return Ok(false);
    };
    require(ctx, "drive", visit.drive_id)?;
    let donor_id = local_donor(ctx.tx, visit.donor_id)?;
    tables::visit::insert(ctx.tx, &visit, &donor_id, &body)?;
    noted(ctx, record)
}

/// The physician's screening recorded on another tablet of the bus: the queue and the
/// chair read its decision, eligibility its history.
fn apply_screening(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    let Some((screening, body)) = written_once(ctx, record, "screening", |s: &Screening| s.id)?
    else {
        return Ok(false);
    };
    require(ctx, "drive", screening.drive_id)?;
    if let Some(old) = screening.supersedes {
        require(ctx, "screening", old)?;
    }
    let donor_id = local_donor(ctx.tx, screening.donor_id)?;
    tables::screening::insert(ctx.tx, &screening, &donor_id, &body)?;
    noted(ctx, record)
}

/// A bag released from a chair on another tablet of the bus (every label scanned back
/// there), so the crew lead's tablet can end the drive.
fn apply_donation_release(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    let Some((release, body)) =
        written_once(ctx, record, "donation_release", |r: &DonationRelease| r.id)?
    else {
        return Ok(false);
    };
    require(ctx, "donation", release.donation_id)?;
    let released_din: bool = ctx
        .tx
        .query_row(
            "SELECT 1 FROM donation_release WHERE din = ?1",
            [release.din.as_str()],
            |_| Ok(true),
        )
        .optional()?
        .unwrap_or(false);
    if released_din {
        return Err(skip(format!("DIN {} is released already", release.din)));
    }
    tables::donation_release::insert(ctx.tx, &release, &body)?;
    noted(ctx, record)
}

/// The station's merged donor: merged field by field into the row this device holds
/// for the person (under the same id, or under another id for the same document), or
/// written as a new row.
fn apply_donor(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    let id = record.id.to_string();
    let remote_map = object(&record.body)?;
    let remote: Donor = serde_json::from_value(serde_json::Value::Object(remote_map.clone()))?;
    same_id(remote.id, record)?;
    let remote_clocks = record
        .field_clocks
        .clone()
        .unwrap_or_else(|| uniform_clocks(&remote_map, record.hlc));
    if let Some(local_clocks) = donor_clocks(ctx.tx, &id)? {
        return merge_into_donor(ctx.tx, &id, local_clocks, &remote_map, &remote_clocks);
    }
    let same_document: Option<String> = ctx
        .tx
        .query_row(
            "SELECT id FROM donor WHERE doc_kind = ?1 AND doc_number = ?2",
            (remote.document.kind().as_str(), remote.document.number()),
            |r| r.get(0),
        )
        .optional()?;
    if let Some(holder) = same_document {
        return merge_twin(ctx, &id, &holder, remote_map, remote_clocks);
    }
    tables::donor::write(
        ctx.tx,
        &remote,
        Some(&remote_clocks),
        &serde_json::to_string(&remote)?,
    )?;
    Ok(true)
}

/// Merges another version of donor `id` into its row, field by field; `Ok(true)` when
/// the row changed.
fn merge_into_donor(
    tx: &Connection,
    id: &str,
    local_clocks: FieldClocks,
    remote_map: &serde_json::Map<String, serde_json::Value>,
    remote_clocks: &FieldClocks,
) -> Applied {
    let local_body: String =
        tx.query_row("SELECT body FROM donor WHERE id = ?1", [id], |r| r.get(0))?;
    let local_map = object(&local_body)?;
    let (merged, clocks) = merge_fields(&local_map, &local_clocks, remote_map, remote_clocks);
    let donor: Donor = serde_json::from_value(serde_json::Value::Object(merged))?;
    let body = serde_json::to_string(&donor)?;
    if body == local_body && clocks == local_clocks {
        return Ok(false);
    }
    tables::donor::write(tx, &donor, Some(&clocks), &body)?;
    Ok(true)
}

/// The same person registered on another vehicle under `twin_id` while this device
/// holds them as `holder` (two offline registrations of one identity document). The
/// twin's id is noted so that its donations and deferrals count in the holder's
/// history; its demographics merge into the holder like any other version, except the
/// id and registration time, which stay the holder's.
fn merge_twin(
    ctx: &ActionCtx<'_>,
    twin_id: &str,
    holder: &str,
    mut remote_map: serde_json::Map<String, serde_json::Value>,
    mut remote_clocks: FieldClocks,
) -> Applied {
    let noted = ctx.tx.execute(
        "INSERT INTO donor_alias (alias_id, donor_id, noted_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (alias_id) DO NOTHING",
        (twin_id, holder, ctx.now.to_rfc3339()),
    )? > 0;
    for own in ["id", "registered_at"] {
        remote_map.remove(own);
        remote_clocks.remove(own);
    }
    let local_clocks = donor_clocks(ctx.tx, holder)?.unwrap_or_default();
    let merged = merge_into_donor(ctx.tx, holder, local_clocks, &remote_map, &remote_clocks)?;
    Ok(noted || merged)
}

/// A deferral only accumulates: written once, under the donor this device holds.
fn apply_deferral(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    let id = record.id.to_string();
    let deferral: Deferral = serde_json::from_str(&record.body)?;
    same_id(deferral.id, record)?;
    if exists(ctx.tx, "deferral", &id)? {
        return Ok(false);
    }
    let donor_id = local_donor(ctx.tx, deferral.donor_id)?;
    if let Some(lifted) = deferral.lifts
        && !exists(ctx.tx, "deferral", &lifted.to_string())?
    {
        return Err(skip(format!(
            "lifts deferral {lifted}, which is not on this device"
        )));
    }
    tables::deferral::insert(
        ctx.tx,
        &deferral,
        &donor_id,
        &serde_json::to_string(&deferral)?,
    )?;
    Ok(true)
}

/// A donation made on another vehicle, so eligibility works offline; on a bus, also the
/// chair's later version of it (the collection finished), which replaces the earlier.
fn apply_donation(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    let donation: Donation = serde_json::from_str(&record.body)?;
    same_id(donation.id, record)?;
    let body = serde_json::to_string(&donation)?;
    match one_writer(ctx, record, "donation")? {
        Version::Held => return Ok(false),
        Version::Later => return later_donation(ctx, record, &donation, &body),
        Version::New => {}
    }
    let donor_id = local_donor(ctx.tx, donation.donor_id)?;
    if let Some(old) = donation.supersedes
        && !exists(ctx.tx, "donation", &old.to_string())?
    {
        return Err(skip(format!(
            "supersedes donation {old}, which is not on this device"
        )));
    }
    // The drive usually lives only on the other vehicle; the summary needs none.
    let drive = donation.drive_id.to_string();
    let drive = exists(ctx.tx, "drive", &drive)?.then_some(drive);
    tables::donation::insert(
        ctx.tx,
        &donation,
        Filing {
            donor_id: &donor_id,
            drive_id: drive.as_deref(),
            origin_device: record.origin_device,
        },
        &body,
    )?;
    note_version(ctx, record)?;
    Ok(true)
}

/// A later version of a donation from its writer: what the chair records at the end of
/// a collection (end, volume, reactions, outcome) changes; the DIN, donor and procedure
/// fixed when it started never do.
fn later_donation(
    ctx: &mut ActionCtx<'_>,
    record: &RemoteRecord,
    donation: &Donation,
    body: &str,
) -> Applied {
    let (origin, held_body): (String, String) = ctx.tx.query_row(
        "SELECT origin_device, body FROM donation WHERE id = ?1",
        [record.id.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if origin != record.origin_device.to_string() {
        return Err(skip(format!(
            "written by device {origin}; device {} is not its writer",
            record.origin_device
        )));
    }
    if held_body == body {
        note_version(ctx, record)?;
        return Ok(false);
    }
    let held: Donation = serde_json::from_str(&held_body)?;
    if (
        held.din.as_str(),
        held.donor_id,
        held.procedure,
        held.started_at,
    ) != (
        donation.din.as_str(),
        donation.donor_id,
        donation.procedure,
        donation.started_at,
    ) {
        return Err(skip(
            "changes the DIN, donor, procedure or start of a donation; a correction is a new record",
        ));
    }
    tables::donation::replace_body(ctx.tx, donation, body)?;
    note_version(ctx, record)?;
    Ok(true)
}

/// A DIN range the station leased to this device.
fn apply_din_range(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    let id = record.id.to_string();
    let lease: DinRangeRecord = serde_json::from_str(&record.body)?;
    same_id(lease.id, record)?;
    if lease.device_id != ctx.device_id {
        return Err(skip(format!(
            "leased to device {}, not this one",
            lease.device_id
        )));
    }
    if lease.source == DinRangeSource::Training {
        return Err(skip("a station never leases training ranges"));
    }
    if exists(ctx.tx, "din_range", &id)? {
        return Ok(false);
    }
    if let Some(other) = tables::din_range::overlapping(ctx.tx, &lease.range)? {
        return Err(skip(format!("overlaps range {other} this device holds")));
    }
    tables::din_range::insert(ctx.tx, &lease, &serde_json::to_string(&lease)?)?;
    Ok(true)
}

/// A rules table or questionnaire; a version once adopted never changes.
fn apply_reference_document(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    let doc: ReferenceDocumentBody = serde_json::from_str(&record.body)?;
    let text = serde_json::to_string(&doc.document)?;
    if doc.kind == "rules" {
        // A table the device cannot read would stop every screening: keep the one in
        // force instead.
        lifebridge_domain::rules::RuleSet::from_json(&text)
            .map_err(|e| skip(format!("rules table {} is invalid: {e}", doc.version)))?;
    }
    if doc.kind == "questionnaire" {
        // Likewise a questionnaire the device cannot read would stop every screening
        // answered against it; one whose own version differs would be found under
        // another name.
        let q = lifebridge_domain::questionnaire::Questionnaire::from_json(&text)
            .map_err(|e| skip(format!("questionnaire {} is invalid: {e}", doc.version)))?;
        if q.version != doc.version {
            return Err(skip(format!(
                "questionnaire {} says it is version {}",
                doc.version, q.version
            )));
        }
    }
    let changed = ctx.tx.execute(
        "INSERT INTO reference_document (kind, version, body, adopted_at)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, version) DO NOTHING",
        (&doc.kind, &doc.version, text, ctx.now.to_rfc3339()),
    )?;
    Ok(changed > 0)
}

fn apply_appointment(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    let appointment: Appointment = serde_json::from_str(&record.body)?;
    same_id(appointment.id, record)?;
    // Pages arrive in station order, so the record pulled last is the station's latest
    // word on this appointment.
    let changed = ctx.tx.execute(
        "INSERT INTO appointment (id, date, site_name, body) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET date = excluded.date,
           site_name = excluded.site_name, body = excluded.body
         WHERE appointment.body IS NOT excluded.body",
        (
            record.id.to_string(),
            appointment.date.to_string(),
            &appointment.site_name,
            &record.body,
        ),
    )?;
    Ok(changed > 0)
}

/// The hand-off the station's desk signed for this device's manifests; final once
/// written.
fn apply_handoff(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    let id = record.id.to_string();
    let handoff: HandoffRecord = serde_json::from_str(&record.body)?;
    same_id(handoff.id, record)?;
    let changed = ctx.tx.execute(
        "INSERT INTO handoff (id, signed_at, body) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO NOTHING",
        (&id, handoff.signed_at.to_rfc3339(), &record.body),
    )?;
    for manifest_id in &handoff.manifest_ids {
        ctx.tx.execute(
            "INSERT INTO handoff_manifest (manifest_id, handoff_id) VALUES (?1, ?2)
             ON CONFLICT DO NOTHING",
            (manifest_id.to_string(), &id),
        )?;
    }
    Ok(changed > 0)
}

/// A staff account the station issued, with its PIN hash; the record pulled last is the
/// station's latest word. An account this device made is never overwritten from outside.
fn apply_staff(ctx: &mut ActionCtx<'_>, record: &RemoteRecord) -> Applied {
    let id = record.id.to_string();
    let account: StaffAccount = serde_json::from_str(&record.body)?;
    same_id(account.staff.id, record)?;
    if account.staff.roles.is_empty() {
        return Err(skip("a staff account needs at least one role"));
    }
    if !account.pin_hash.starts_with("$argon2id$") {
        return Err(skip("the PIN hash is not an argon2id hash"));
    }
    let made_here: bool = ctx
        .tx
        .query_row(
            "SELECT 1 FROM change_log WHERE entity = 'staff' AND entity_id = ?1",
            [&id],
            |_| Ok(true),
        )
        .optional()?
        .unwrap_or(false);
    if made_here {
        return Err(skip("names an account this device made"));
    }
    let body = serde_json::to_string(&account.staff)?;
    let changed = tables::staff::upsert(ctx.tx, &account.staff, &body)?;
    let credential = tables::staff::set_pin_hash(ctx.tx, &id, &account.pin_hash)?;
    Ok(changed || credential)
}
