//! `lifebridge store export`: the records as JSON (everything) or CSV (one table), for
//! supervisors and for handing data over when replication is not possible.

use std::io::Write;

use serde::Serialize;

use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTable {
    Staff,
    Drives,
    Donors,
    Screenings,
    Deferrals,
    Donations,
    TransportBoxes,
    BoxPackings,
    TemperatureReadings,
    Manifests,
    Audit,
}

impl ExportTable {
    pub const ALL: [ExportTable; 11] = [
        ExportTable::Staff,
        ExportTable::Drives,
        ExportTable::Donors,
        ExportTable::Screenings,
        ExportTable::Deferrals,
        ExportTable::Donations,
        ExportTable::TransportBoxes,
        ExportTable::BoxPackings,
        ExportTable::TemperatureReadings,
        ExportTable::Manifests,
        ExportTable::Audit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ExportTable::Staff => "staff",
            ExportTable::Drives => "drives",
            ExportTable::Donors => "donors",
            ExportTable::Screenings => "screenings",
            ExportTable::Deferrals => "deferrals",
            ExportTable::Donations => "donations",
            ExportTable::TransportBoxes => "transport_boxes",
            ExportTable::BoxPackings => "box_packings",
            ExportTable::TemperatureReadings => "temperature_readings",
            ExportTable::Manifests => "manifests",
            ExportTable::Audit => "audit",
        }
    }

    pub fn parse(text: &str) -> Result<ExportTable> {
        ExportTable::ALL
            .into_iter()
            .find(|t| t.name() == text)
            .ok_or_else(|| {
                let names: Vec<_> = ExportTable::ALL.iter().map(|t| t.name()).collect();
                StoreError::invalid(
                    "table",
                    format!("{text:?} is not one of {}", names.join(", ")),
                )
            })
    }

    fn sql_table(self) -> &'static str {
        match self {
            ExportTable::Staff => "staff",
            ExportTable::Drives => "drive",
            ExportTable::Donors => "donor",
            ExportTable::Screenings => "screening",
            ExportTable::Deferrals => "deferral",
            ExportTable::Donations => "donation",
            ExportTable::TransportBoxes => "transport_box",
            ExportTable::BoxPackings => "box_packing",
            ExportTable::TemperatureReadings => "temperature_reading",
            ExportTable::Manifests => "manifest",
            ExportTable::Audit => "audit_log",
        }
    }
}

#[derive(Serialize)]
struct Export {
    device_id: String,
    tables: serde_json::Map<String, serde_json::Value>,
}

impl Store {
    fn table_rows(&self, table: ExportTable) -> Result<Vec<serde_json::Value>> {
        if table == ExportTable::Audit {
            return crate::audit::entries(&self.conn)?
                .into_iter()
                .map(|e| serde_json::to_value(e).map_err(Into::into))
                .collect();
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT body FROM {} ORDER BY rowid",
            table.sql_table()
        ))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for body in rows {
            out.push(serde_json::from_str(&body?)?);
        }
        Ok(out)
    }

    pub fn export_json(&self, out: &mut dyn Write) -> Result<()> {
        let mut tables = serde_json::Map::new();
        for table in ExportTable::ALL {
            tables.insert(
                table.name().to_owned(),
                serde_json::Value::Array(self.table_rows(table)?),
            );
        }
        let export = Export {
            device_id: self.device_id.to_string(),
            tables,
        };
        serde_json::to_writer_pretty(&mut *out, &export)?;
        writeln!(out).map_err(io_error)?;
        Ok(())
    }

    /// One table as CSV: nested values are flattened to `a.b` columns, lists kept as JSON.
    pub fn export_csv(&self, table: ExportTable, out: &mut dyn Write) -> Result<()> {
        let rows: Vec<Vec<(String, String)>> = self
            .table_rows(table)?
            .iter()
            .map(|row| {
                let mut cells = Vec::new();
                flatten("", row, &mut cells);
                cells
            })
            .collect();
        let mut columns: Vec<String> = Vec::new();
        for row in &rows {
            for (name, _) in row {
                if !columns.contains(name) {
                    columns.push(name.clone());
                }
            }
        }
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(&columns).map_err(csv_error)?;
        for row in rows {
            let cells = columns.iter().map(|c| {
                row.iter()
                    .find(|(n, _)| n == c)
                    .map(|(_, v)| spreadsheet_safe(v))
                    .unwrap_or_default()
            });
            writer.write_record(cells).map_err(csv_error)?;
        }
        writer.flush().map_err(io_error)?;
        Ok(())
    }
}

fn csv_error(e: csv::Error) -> StoreError {
    StoreError::invalid("output", e.to_string())
}

fn io_error(e: std::io::Error) -> StoreError {
    StoreError::invalid("output", e.to_string())
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, v, out);
            }
        }
        serde_json::Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        serde_json::Value::Null => out.push((prefix.to_owned(), String::new())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// A leading = + - @ would be run as a formula by spreadsheet programs.
fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}
