//! A temperature data logger's CSV export, checked whole.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::*;
use crate::messages::Message;

/// One row of a data logger's file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoggerRow {
    /// The file's line number (1-based, header included), for messages.
    pub line: u64,
    pub at: DateTime<Utc>,
    pub celsius: f64,
}

/// A logger file that cannot be read, with where and why. `Display` is the English
/// text of [`LoggerCsvError::message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct LoggerCsvError {
    pub line: Option<u64>,
    /// The column's header as the file writes it.
    pub column: Option<String>,
    pub problem: Message,
}

impl LoggerCsvError {
    /// The problem after where it is (`logger_csv.at_cell`, `at_line`, `at_column`).
    pub fn message(&self) -> Message {
        let problem = self.problem.clone();
        match (self.line, self.column.as_deref()) {
            (Some(l), Some(c)) => Message::new("logger_csv.at_cell")
                .with("line", l.to_string())
                .with("column", c)
                .with("problem", problem),
            (Some(l), None) => Message::new("logger_csv.at_line")
                .with("line", l.to_string())
                .with("problem", problem),
            (None, Some(c)) => Message::new("logger_csv.at_column")
                .with("column", c)
                .with("problem", problem),
            (None, None) => problem,
        }
    }
}

/// Header names loggers use for the time column (compared after [`normalise_header`]).
pub const TIME_HEADERS: [&str; 12] = [
    "time",
    "timestamp",
    "datetime",
    "date time",
    "date/time",
    "measured at",
    "measured_at",
    "时间",
    "日期时间",
    "记录时间",
    "采集时间",
    "测量时间",
];

/// Header names for the temperature column.
pub const TEMPERATURE_HEADERS: [&str; 8] = [
    "temperature",
    "temp",
    "celsius",
    "temperature_c",
    "temp_c",
    "温度",
    "温度值",
    "摄氏度",
];

/// Lower-cases and drops a unit in brackets, so `Temperature (°C)`, `温度（℃）` and
/// `temp[C]` all read as their bare name.
fn normalise_header(raw: &str) -> String {
    let mut text = raw.trim().trim_start_matches('\u{feff}').to_lowercase();
    for open in ['(', '（', '['] {
        if let Some(i) = text.find(open) {
            text.truncate(i);
        }
    }
    for unit in ["°c", "℃"] {
        if let Some(stripped) = text.strip_suffix(unit) {
            text = stripped.to_owned();
        }
    }
    text.trim().trim_end_matches(['_', '-', ' ']).to_owned()
}

/// Reads a time as loggers write it: RFC 3339 / ISO 8601 with an offset, or a local
/// `YYYY-MM-DD HH:MM[:SS]` (also with `/` or `T`), which means China Standard Time.
pub fn parse_logger_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%:z",
        "%Y-%m-%dT%H:%M:%S%:z",
        "%Y-%m-%d %H:%M%:z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let local = text.replace('/', "-").replace('T', " ");
    let naive = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(&local, f).ok())?;
    naive
        .and_local_timezone(crate::common::CHINA_STANDARD_TIME)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Parses a data logger's CSV export: a header row naming a time and a temperature
/// column (English or Chinese; other columns are ignored), then one reading per row.
/// Comma, semicolon or tab separated. All or nothing: the first bad row is the error.
pub fn parse_logger_csv(text: &str) -> Result<Vec<LoggerRow>, LoggerCsvError> {
    let text = text.trim_start_matches('\u{feff}');
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .find(|d| first_line.as_bytes().contains(d))
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let err = |line: Option<u64>, column: Option<&str>, problem: Message| LoggerCsvError {
        line,
        column: column.map(str::to_owned),
        problem,
    };
    let headers = reader
        .headers()
        .map_err(|e| {
            err(
                Some(1),
                None,
                Message::new("logger_csv.header_unreadable").with("detail", e.to_string()),
            )
        })?
        .clone();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&normalise_header(h).as_str()))
    };
    let (Some(time_col), Some(temp_col)) = (find(&TIME_HEADERS), find(&TEMPERATURE_HEADERS)) else {
        return Err(err(
            Some(1),
            None,
            Message::new("logger_csv.no_columns")
                .with("time_headers", TIME_HEADERS.to_vec())
                .with("temperature_headers", TEMPERATURE_HEADERS.to_vec())
                .with("found", headers.iter().collect::<Vec<_>>()),
        ));
    };
    let time_name = headers.get(time_col).unwrap_or("time").to_owned();
    let temp_name = headers.get(temp_col).unwrap_or("temperature").to_owned();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line());
            err(
                line,
                None,
                Message::new("logger_csv.row_unreadable").with("detail", e.to_string()),
            )
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let time_text = record.get(time_col).unwrap_or("");
        let at = parse_logger_time(time_text).ok_or_else(|| {
            err(
                Some(line),
                Some(&time_name),
                Message::new("logger_csv.bad_time").with("value", time_text),
            )
        })?;
        let temp_text = record.get(temp_col).unwrap_or("");
        let celsius = temp_text
            .trim_end_matches(['℃', 'C', 'c'])
            .trim_end_matches('°')
            .trim()
            .parse::<f64>()
            .map_err(|_| {
                err(
                    Some(line),
                    Some(&temp_name),
                    Message::new("logger_csv.bad_number").with("value", temp_text),
                )
            })
            .and_then(|c| {
                check_celsius(c)
                    .map_err(|_| err(Some(line), Some(&temp_name), implausible_celsius(c)))
            })?;
        rows.push(LoggerRow { line, at, celsius });
    }
    if rows.is_empty() {
        return Err(err(None, None, Message::new("logger_csv.no_readings")));
    }
    Ok(rows)
}
