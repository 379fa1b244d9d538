//! The questions a crew asks of the store. Reads only.

use chrono::NaiveDate;
use lifebridge_domain::entities::{
    Deferral, DinRangeRecord, Donation, Donor, Drive, RecordId, Screening,
};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Result, Store};

/// Reads the `body` of one row of `table`. `table` is always a literal from this crate.
pub(crate) fn get_body<T: DeserializeOwned>(
    conn: &Connection,
    table: &'static str,
    id: RecordId,
) -> Result<Option<T>> {
    let body: Option<String> = conn
        .query_row(
            &format!("SELECT body FROM {table} WHERE id = ?1"),
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    body.map(|b| serde_json::from_str(&b).map_err(Into::into))
        .transpose()
}

pub(crate) fn bodies<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(params, |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for body in rows {
        out.push(serde_json::from_str(&body?)?);
    }
    Ok(out)
}

pub(crate) fn is_superseded(conn: &Connection, table: &'static str, id: RecordId) -> Result<bool> {
    Ok(conn
        .query_row(
            &format!("SELECT 1 FROM {table} WHERE supersedes = ?1 LIMIT 1"),
            [id.to_string()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The device that wrote `id` when it was pulled from another one (of the bus, through
/// its hub): one writer per record, so this device never writes a version of it.
pub(crate) fn written_elsewhere(
    conn: &Connection,
    kind: &'static str,
    id: RecordId,
) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT origin_device FROM replicated_version WHERE kind = ?1 AND id = ?2",
            (kind, id.to_string()),
            |r| r.get(0),
        )
        .optional()?)
}

/// Refuses to change a record another device wrote (see [`written_elsewhere`]).
pub(crate) fn require_written_here(
    conn: &Connection,
    kind: &'static str,
    id: RecordId,
) -> Result<()> {
    match written_elsewhere(conn, kind, id)? {
        None => Ok(()),
        Some(device) => Err(crate::StoreError::Refused {
            field: format!("{kind}_id"),
            message: lifebridge_domain::messages::Message::new("sync.written_elsewhere")
                .with("kind", kind)
                .with("device", device),
        }),
    }
}

pub(crate) fn get_screening(conn: &Connection, id: RecordId) -> Result<Option<Screening>> {
    get_body(conn, "screening", id)
}

pub(crate) fn get_donation(conn: &Connection, id: RecordId) -> Result<Option<Donation>> {
    get_body(conn, "donation", id)
}

pub(crate) fn donation_for_screening(
    conn: &Connection,
    screening_id: RecordId,
) -> Result<Option<Donation>> {
    Ok(bodies(
        conn,
        "SELECT body FROM donation WHERE json_extract(body, '$.screening_id') = ?1 LIMIT 1",
        [screening_id.to_string()],
    )?
    .pop())
}

/// The latest version of the donation made after `screening_id`, if any.
pub(crate) fn current_donation_for_screening(
    conn: &Connection,
    screening_id: RecordId,
) -> Result<Option<Donation>> {
    Ok(bodies(
        conn,
        "SELECT body FROM donation d WHERE json_extract(body, '$.screening_id') = ?1
         AND NOT EXISTS (SELECT 1 FROM donation n WHERE n.supersedes = d.id)
         ORDER BY rowid DESC LIMIT 1",
        [screening_id.to_string()],
    )?
    .pop())
}

pub(crate) fn find_donor_by_document(
    conn: &Connection,
    kind: &str,
    number: &str,
) -> Result<Option<Donor>> {
    Ok(bodies(
        conn,
        "SELECT body FROM donor WHERE doc_kind = ?1 AND doc_number = ?2",
        [kind, number],
    )?
    .pop())
}

/// Everything the crew needs to judge a donor: every donation (from any vehicle, as
/// replicated), every deferral, and every screening, oldest first. Corrected records
/// appear only in their latest version.
#[derive(Debug, Clone, Serialize)]
pub struct DonorHistory {
    pub donor: Donor,
    pub donations: Vec<Donation>,
    pub deferrals: Vec<Deferral>,
    pub screenings: Vec<Screening>,
}

impl DonorHistory {
    /// Collected volume across every completed or partial donation, in mL.
    pub fn cumulative_volume_ml(&self) -> u64 {
        self.donations
            .iter()
            .filter_map(|d| d.collected_volume_ml)
            .map(u64::from)
            .sum()
    }

    /// Deferrals in force on `date`: not yet ended, and not lifted by a later entry.
    pub fn active_deferrals(&self, date: NaiveDate) -> Vec<&Deferral> {
        self.deferrals
            .iter()
            .filter(|d| d.lifts.is_none())
            .filter(|d| !self.deferrals.iter().any(|l| l.lifts == Some(d.id)))
            .filter(|d| d.start <= date && d.until.is_none_or(|u| date < u))
            .collect()
    }
}

impl Store {
    pub fn donor(&self, id: RecordId) -> Result<Option<Donor>> {
        get_body(&self.conn, "donor", id)
    }

    pub fn donor_by_document(&self, kind: &str, number: &str) -> Result<Option<Donor>> {
        find_donor_by_document(&self.conn, kind, number)
    }

    /// Donors whose name starts with `text`, or whose phone number contains it.
    pub fn search_donors(&self, text: &str, limit: u32) -> Result<Vec<Donor>> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        bodies(
            &self.conn,
            "SELECT body FROM donor
             WHERE name LIKE ?1 || '%' ESCAPE '\\' OR phone LIKE '%' || ?1 || '%' ESCAPE '\\'
             ORDER BY name LIMIT ?2",
            (escaped, limit),
        )
    }

    /// Other donors with the same name and birth date: a probable duplicate registration.
    pub fn probable_duplicates(&self, donor: &Donor) -> Result<Vec<Donor>> {
        bodies(
            &self.conn,
            "SELECT body FROM donor WHERE name = ?1 AND birth_date = ?2 AND id != ?3",
            (
                &donor.name,
                donor.birth_date.to_string(),
                donor.id.to_string(),
            ),
        )
    }

    pub fn donor_history(&self, donor_id: RecordId) -> Result<Option<DonorHistory>> {
        let Some(donor) = self.donor(donor_id)? else {
            return Ok(None);
        };
        let id = donor_id.to_string();
        Ok(Some(DonorHistory {
            donor,
            donations: bodies(
                &self.conn,
                "SELECT body FROM donation d WHERE donor_id = ?1
                 AND NOT EXISTS (SELECT 1 FROM donation n WHERE n.supersedes = d.id)
                 ORDER BY started_at",
                [&id],
            )?,
            deferrals: bodies(
                &self.conn,
                "SELECT body FROM deferral WHERE donor_id = ?1 ORDER BY start, rowid",
                [&id],
            )?,
            screenings: bodies(
                &self.conn,
                "SELECT body FROM screening s WHERE donor_id = ?1
                 AND NOT EXISTS (SELECT 1 FROM screening n WHERE n.supersedes = s.id)
                 ORDER BY recorded_at",
                [&id],
            )?,
        }))
    }

    pub fn drives_on(&self, date: NaiveDate) -> Result<Vec<Drive>> {
        bodies(
            &self.conn,
            "SELECT body FROM drive WHERE date = ?1 ORDER BY rowid",
            [date.to_string()],
        )
    }

    pub fn donation(&self, id: RecordId) -> Result<Option<Donation>> {
        get_donation(&self.conn, id)
    }

    pub fn screening(&self, id: RecordId) -> Result<Option<Screening>> {
        get_screening(&self.conn, id)
    }

    /// Current (not superseded) donations of one drive, in collection order.
    pub fn drive_donations(&self, drive_id: RecordId) -> Result<Vec<Donation>> {
        bodies(
            &self.conn,
            "SELECT body FROM donation d WHERE drive_id = ?1
             AND NOT EXISTS (SELECT 1 FROM donation n WHERE n.supersedes = d.id)
             ORDER BY started_at",
            [drive_id.to_string()],
        )
    }

    /// For each DIN range this device holds: how many numbers are issued and left.
    pub fn din_usage(&self) -> Result<Vec<RangeUsage>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.body, COUNT(i.din), MAX(i.sequence)
             FROM din_range r LEFT JOIN din_issued i ON i.range_id = r.id
             GROUP BY r.id ORDER BY r.rowid",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, Option<u32>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (body, issued, last) = row?;
            let record: DinRangeRecord = serde_json::from_str(&body)?;
            let next = record.range.next_after(last);
            out.push(RangeUsage {
                unused: record.range.len() - issued,
                issued,
                next,
                record,
            });
        }
        Ok(out)
    }

    /// Every DIN issued by this device, in issue order.
    pub fn issued_dins(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT din FROM din_issued ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RangeUsage {
    pub record: DinRangeRecord,
    pub issued: u32,
    pub unused: u32,
    pub next: Option<lifebridge_domain::Din>,
}

impl Store {
    pub fn staff_by_name(
        &self,
        display_name: &str,
    ) -> Result<Option<lifebridge_domain::entities::Staff>> {
        Ok(bodies(
            &self.conn,
            "SELECT body FROM staff WHERE display_name = ?1 LIMIT 1",
            [display_name],
        )?
        .pop())
    }

    /// A staff account as this device holds it now, open or closed.
    pub fn staff_member(
        &self,
        id: lifebridge_domain::entities::RecordId,
    ) -> Result<lifebridge_domain::entities::Staff> {
        crate::records::load_staff(&self.conn, id)
    }

    pub fn staff_list(&self) -> Result<Vec<lifebridge_domain::entities::Staff>> {
        bodies(
            &self.conn,
            "SELECT body FROM staff WHERE active = 1 ORDER BY display_name",
            [],
        )
    }

    /// The rules table in force: the newest one the station sent whose effective date
    /// (China Standard Time) has come, else the built-in GB 18467-2011 table. A table
    /// published ahead of its date waits on the device until that day.
    pub fn rules(&self) -> Result<lifebridge_domain::rules::RuleSet> {
        let mut stmt = self.conn.prepare(
            "SELECT body FROM reference_document WHERE kind = 'rules'
             ORDER BY adopted_at DESC, rowid DESC",
        )?;
        let bodies = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let today = crate::china_today();
        for json in bodies {
            let rules = lifebridge_domain::rules::RuleSet::from_json(&json?)
                .map_err(|e| crate::StoreError::Corrupt(format!("stored rules table: {e}")))?;
            if rules.effective_from.is_none_or(|from| from <= today) {
                return Ok(rules);
            }
        }
        Ok(lifebridge_domain::rules::RuleSet::gb18467_2011())
    }
}
