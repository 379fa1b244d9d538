//! Temperatures: typed off the box's thermometer, or imported from a logger file.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use lifebridge_domain::cold_chain::{
    Excursion, LoggerCsvError, ManifestReading, ReadingSource, TemperatureReading, check_celsius,
    excursions, parse_logger_csv,
};
use lifebridge_domain::entities::{EntityKind, RecordId, Role};
use lifebridge_domain::messages::Message;
use serde::Serialize;
use uuid::Uuid;

use crate::action::ActionCtx;
use crate::records::{actor_staff, require_role, require_text};
use crate::{Actor, Result, Store, StoreError};

use super::*;

/// A reading may be stamped a little ahead of this device's clock (a logger's own clock),
/// but not hours ahead: that is a wrong date.
const FUTURE_TOLERANCE_MINUTES: i64 = 10;

/// The result of a logger file import.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoggerImport {
    pub imported: u32,
    /// Rows whose instant this box already had a reading for (or that repeat in the file).
    pub skipped: u32,
    pub excursions: Vec<Excursion>,
}

fn insert_reading(ctx: &mut ActionCtx<'_>, reading: &TemperatureReading) -> Result<()> {
    let body = ctx.log_change(EntityKind::TemperatureReading, reading.id, reading)?;
    ctx.tx.execute(
        "INSERT INTO temperature_reading (id, box_id, measured_at, body) VALUES (?1, ?2, ?3, ?4)",
        (
            reading.id.to_string(),
            reading.box_id.to_string(),
            reading.measured_at.to_rfc3339(),
            body,
        ),
    )?;
    Ok(())
}

fn check_measured_at(measured_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
    if measured_at > now + Duration::minutes(FUTURE_TOLERANCE_MINUTES) {
        return Err(StoreError::invalid(
            "measured_at",
            format!(
                "{} is in the future; enter the time the thermometer was read",
                measured_at.to_rfc3339()
            ),
        ));
    }
    Ok(())
}

impl Store {
    /// A temperature read off the box's thermometer and typed in.
    pub fn record_temperature(
        &mut self,
        actor: Actor,
        box_id: RecordId,
        measured_at: DateTime<Utc>,
        celsius: f64,
    ) -> Result<TemperatureReading, ColdChainError> {
        let staff_id = actor_staff(actor, "recording a temperature")?;
        require_role(
            &self.conn,
            staff_id,
            Role::Driver,
            "record box temperatures",
        )?;
        let b = load_box(&self.conn, box_id)?;
        require_open(&self.conn, &b)?;
        let celsius = check_celsius(celsius).map_err(|p| StoreError::invalid("celsius", p))?;
        check_measured_at(measured_at, crate::now())?;
        let reading = self.act(
            actor,
            "cold_chain.reading",
            serde_json::json!({"box": b.code, "celsius": celsius, "in_range": b.range.contains(celsius)}),
            |ctx| {
                let reading = TemperatureReading {
                    id: Uuid::now_v7(),
                    box_id: b.id,
                    measured_at,
                    celsius,
                    source: ReadingSource::Manual,
                    recorded_by: staff_id,
                    recorded_at: ctx.now,
                };
                insert_reading(ctx, &reading)?;
                Ok(reading)
            },
        )?;
        Ok(reading)
    }

    /// Imports a data logger's CSV file into a box, all or nothing. Rows at an instant
    /// the box already has a reading for are skipped and counted.
    pub fn import_logger_csv(
        &mut self,
        actor: Actor,
        box_id: RecordId,
        file_name: &str,
        text: &str,
    ) -> Result<LoggerImport, ColdChainError> {
        let staff_id = actor_staff(actor, "importing a logger file")?;
        require_role(&self.conn, staff_id, Role::Driver, "import logger files")?;
        let b = load_box(&self.conn, box_id)?;
        require_open(&self.conn, &b)?;
        let file_name = require_text("file_name", file_name, 200)?;
        let rows = parse_logger_csv(text)?;
        let now = crate::now();
        for row in &rows {
            check_measured_at(row.at, now).map_err(|_| LoggerCsvError {
                line: Some(row.line),
                column: None,
                problem: Message::new("logger_csv.in_the_future").with("at", row.at.to_rfc3339()),
            })?;
        }
        let mut held: BTreeSet<DateTime<Utc>> = readings_of(&self.conn, b.id)?
            .into_iter()
            .map(|r| r.measured_at)
            .collect();
        let mut fresh = Vec::new();
        let mut skipped = 0u32;
        for row in rows {
            if held.insert(row.at) {
                fresh.push(row);
            } else {
                skipped += 1;
            }
        }
        let imported = fresh.len() as u32;
        self.act(
            actor,
            "cold_chain.logger_import",
            serde_json::json!({"box": b.code, "file": file_name, "imported": imported, "skipped": skipped}),
            |ctx| {
                for row in &fresh {
                    insert_reading(
                        ctx,
                        &TemperatureReading {
                            id: Uuid::now_v7(),
                            box_id: b.id,
                            measured_at: row.at,
                            celsius: row.celsius,
                            source: ReadingSource::Logger {
                                file_name: file_name.clone(),
                            },
                            recorded_by: staff_id,
                            recorded_at: ctx.now,
                        },
                    )?;
                }
                Ok(())
            },
        )?;
        let all: Vec<ManifestReading> = readings_of(&self.conn, b.id)?
            .iter()
            .map(|r| ManifestReading {
                at: r.measured_at,
                celsius: r.celsius,
            })
            .collect();
        Ok(LoggerImport {
            imported,
            skipped,
            excursions: excursions(&all, b.range),
        })
    }
}
