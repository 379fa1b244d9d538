//! Appointments from the station's booking list: a CSV file in, one [`Appointment`] per
//! row out, each row checked as completely as the app checks a donor at check-in.
//!
//! An appointment's id is derived from (date, site, identity document), so importing a
//! corrected list again updates the same appointments instead of booking people twice.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use lifebridge_domain::Procedure;
use lifebridge_domain::entities::Appointment;
use lifebridge_domain::messages::{Localized, Message};
use lifebridge_domain::resident_id::IdentityDocument;
use lifebridge_protocol::records::RemoteKind;
use uuid::Uuid;

use crate::feed::{self, FeedItem};
use crate::storage::Result as StorageResult;
use crate::storage::sql::Tx;

/// Columns, by their English or Chinese header. `document` is a resident ID number, or
/// `kind:number` for another document (e.g. `passport:E12345678`).
const COLUMNS: [(&str, &str, bool); 9] = [
    ("date", "日期", true),
    ("time", "时间", false),
    ("site", "地点", true),
    ("name", "姓名", true),
    ("document", "证件号码", true),
    ("phone", "电话", false),
    ("procedure", "献血类型", false),
    ("note", "备注", false),
    ("cancelled", "取消", false),
];

/// Why a booking list was refused; nothing from it is published. `Display` is the
/// English text of [`ImportError::message`], which the import command renders in the
/// operator's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("{}", self.message())]
    Csv(String),
    #[error("{}", self.message())]
    MissingColumn {
        english: &'static str,
        chinese: &'static str,
    },
    /// `column` is the English header name; the message names it in both languages.
    #[error("{}", self.message())]
    Field {
        line: u64,
        column: &'static str,
        problem: Message,
    },
    #[error("{}", self.message())]
    Duplicate { line: u64, first: u64 },
    #[error("{}", self.message())]
    Empty,
}

impl ImportError {
    /// The refusal in the catalogue's words (`appointments.*`).
    pub fn message(&self) -> Message {
        match self {
            ImportError::Csv(detail) => {
                Message::new("appointments.csv").with("detail", detail.as_str())
            }
            ImportError::MissingColumn { english, chinese } => {
                Message::new("appointments.missing_column")
                    .with("english", *english)
                    .with("chinese", *chinese)
            }
            ImportError::Field {
                line,
                column,
                problem,
            } => {
                // The header as the operator wrote it in either language.
                let zh = COLUMNS
                    .iter()
                    .find(|(english, _, _)| english == column)
                    .map_or(*column, |(_, chinese, _)| chinese);
                Message::new("appointments.field")
                    .with("line", line.to_string())
                    .with(
                        "column",
                        Localized {
                            zh: zh.to_owned(),
                            en: (*column).to_owned(),
                        },
                    )
                    .with("problem", problem.clone())
            }
            ImportError::Duplicate { line, first } => Message::new("appointments.duplicate")
                .with("line", line.to_string())
                .with("first", first.to_string()),
            ImportError::Empty => Message::new("appointments.empty"),
        }
    }
}

/// Namespace for appointment ids (UUIDv5), fixed forever so re-imports find them.
const APPOINTMENT_NAMESPACE: Uuid = Uuid::from_u128(0x6c1f_0b52_7d0e_4d8a_9a51_2f3c_81d4_a7e0);

pub fn appointment_id(date: NaiveDate, site_name: &str, document: &IdentityDocument) -> Uuid {
    let key = format!(
        "{date}\u{1f}{site_name}\u{1f}{}\u{1f}{}",
        document.kind().as_str(),
        document.number()
    );
    Uuid::new_v5(&APPOINTMENT_NAMESPACE, key.as_bytes())
}

/// Reads a booking list. `today` validates resident IDs (a birth date after it is refused).
pub fn parse_csv(text: &str, today: NaiveDate) -> Result<Vec<Appointment>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ImportError::Csv(e.to_string()))?
        .clone();
    let mut index = [None; COLUMNS.len()];
    for (slot, (english, chinese, required)) in index.iter_mut().zip(COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(english) || h == chinese);
        if slot.is_none() && required {
            return Err(ImportError::MissingColumn { english, chinese });
        }
    }
    let mut out: Vec<(u64, Appointment)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::Csv(e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| index[i].and_then(|c| record.get(c)).unwrap_or("");
        let fail = |column: &'static str, problem: Message| ImportError::Field {
            line,
            column,
            problem,
        };
        let date = NaiveDate::parse_from_str(field(0), "%Y-%m-%d").map_err(|_| {
            fail(
                "date",
                Message::new("appointments.bad_date").with("value", field(0)),
            )
        })?;
        let time = match field(1) {
            "" => None,
            t => Some(NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| {
                fail(
                    "time",
                    Message::new("appointments.bad_time").with("value", t),
                )
            })?),
        };
        let site_name = field(2).to_owned();
        if site_name.is_empty() {
            return Err(fail("site", Message::new("appointments.site_empty")));
        }
        let name = field(3).to_owned();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(fail("name", Message::new("appointments.name_length")));
        }
        let (kind, number) = match field(4).split_once(':') {
            Some((kind, number)) => (kind, number),
            None => ("resident_id", field(4)),
        };
        let document = IdentityDocument::parse(kind, number, today).map_err(|e| {
            fail(
                "document",
                Message::new("appointments.bad_document").with("detail", e.to_string()),
            )
        })?;
        let phone = match field(5) {
            "" => None,
            p if p
                .chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
                && p.len() <= 20 =>
            {
                Some(p.to_owned())
            }
            p => {
                return Err(fail(
                    "phone",
                    Message::new("appointments.bad_phone").with("value", p),
                ));
            }
        };
        let procedure = match field(6) {
            "" | "whole_blood" | "全血" => Procedure::WholeBlood,
            "apheresis_platelets" | "单采血小板" => Procedure::ApheresisPlatelets,
            "apheresis_plasma" | "单采血浆" => Procedure::ApheresisPlasma,
            other => {
                return Err(fail(
                    "procedure",
                    Message::new("appointments.bad_procedure").with("value", other),
                ));
            }
        };
        let note = Some(field(7).to_owned()).filter(|n| !n.is_empty());
        let cancelled = match field(8).to_ascii_lowercase().as_str() {
            "" | "no" | "false" | "0" | "否" => false,
            "yes" | "true" | "1" | "是" => true,
            other => {
                return Err(fail(
                    "cancelled",
                    Message::new("appointments.bad_cancelled").with("value", other),
                ));
            }
        };
        let id = appointment_id(date, &site_name, &document);
        if let Some((first, _)) = out.iter().find(|(_, a)| a.id == id) {
            return Err(ImportError::Duplicate {
                line,
                first: *first,
            });
        }
        out.push((
            line,
            Appointment {
                id,
                date,
                site_name,
                time,
                document,
                name,
                phone,
                procedure,
                note,
                cancelled,
            },
        ));
    }
    if out.is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(out.into_iter().map(|(_, a)| a).collect())
}

// Publishing: appointments go out as feed records to every device.

/// Reads every appointment record of the feed, in station order, as `(record_id, body)`.
async fn published(tx: &mut dyn Tx) -> StorageResult<Vec<(String, String)>> {
    tx.query(
        "SELECT record_id, body FROM feed WHERE kind = 'appointment' ORDER BY station_seq",
        &[],
    )
    .await?
    .into_iter()
    .map(|mut r| Ok((r.text(0)?, r.text(1)?)))
    .collect()
}

/// The latest body of each appointment, from `(record_id, body)` rows in station order.
fn latest_appointment_bodies(
    rows_in_feed_order: impl IntoIterator<Item = (String, String)>,
) -> std::collections::BTreeMap<String, String> {
    rows_in_feed_order.into_iter().collect()
}

/// The feed item that sends (or re-sends, changed) one appointment to every device.
pub fn appointment_item(
    station_id: Uuid,
    appointment: &Appointment,
    now: DateTime<Utc>,
) -> StorageResult<FeedItem> {
    Ok(feed::station_item(
        station_id,
        RemoteKind::Appointment,
        appointment.id,
        None,
        serde_json::to_string(appointment)?,
        now,
    ))
}

/// Sends appointments to every device; one whose latest published version is identical
/// is left out. Returns how many were published.
pub async fn publish(
    tx: &mut dyn Tx,
    appointments: &[Appointment],
    now: DateTime<Utc>,
) -> StorageResult<u32> {
    let station = feed::station_id(tx).await?;
    let latest = latest_appointment_bodies(published(tx).await?);
    let mut items = Vec::new();
    for appointment in appointments {
        let item = appointment_item(station, appointment, now)?;
        if latest.get(&appointment.id.to_string()) != Some(&item.body) {
            items.push(item);
        }
    }
    feed::append(tx, &items).await?;
    Ok(u32::try_from(items.len()).unwrap_or(u32::MAX))
}

/// The latest published version of every appointment on `date`.
pub async fn on(tx: &mut dyn Tx, date: NaiveDate) -> StorageResult<Vec<Appointment>> {
    let mut out = Vec::new();
    for body in latest_appointment_bodies(published(tx).await?).into_values() {
        let appointment: Appointment = serde_json::from_str(&body)?;
        if appointment.date == date {
            out.push(appointment);
        }
    }
    out.sort_by(|a, b| (&a.site_name, a.time, &a.name).cmp(&(&b.site_name, b.time, &b.name)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifebridge_domain::messages::{Lang, Param};

    const TODAY: &str = "2026-11-25";

    fn today() -> NaiveDate {
        TODAY.parse().unwrap()
    }

    #[test]
    fn reads_english_and_chinese_headers_alike() {
        let english = "date,time,site,name,document,phone,procedure\n\
                       2026-11-25,09:30,城关镇中学,张伟,11010519491231002X,13800138000,whole_blood\n";
        let chinese = "日期,时间,地点,姓名,证件号码,电话,献血类型\n\
                       2026-11-25,09:30,城关镇中学,张伟,11010519491231002X,13800138000,全血\n";
        let a = parse_csv(english, today()).unwrap();
        let b = parse_csv(chinese, today()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a[0].time, NaiveTime::from_hms_opt(9, 30, 0));
        assert_eq!(a[0].procedure, Procedure::WholeBlood);
        assert!(!a[0].cancelled);
    }

    #[test]
    fn the_same_booking_imported_again_keeps_its_id() {
        let first = "date,site,name,document\n2026-11-25,城关镇中学,张伟,11010519491231002X\n";
        let moved = "date,time,site,name,document,cancelled\n\
                     2026-11-25,14:00,城关镇中学,张伟,11010519491231002X,是\n";
        let a = parse_csv(first, today()).unwrap();
        let b = parse_csv(moved, today()).unwrap();
        assert_eq!(a[0].id, b[0].id);
        assert!(b[0].cancelled);
        let other_site = "date,site,name,document\n2026-11-25,西关村,张伟,11010519491231002X\n";
        assert_ne!(parse_csv(other_site, today()).unwrap()[0].id, a[0].id);
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let bad_id = "date,site,name,document\n2026-11-25,城关镇中学,张伟,110105194912310021\n";
        match parse_csv(bad_id, today()) {
            Err(ImportError::Field { line, column, .. }) => {
                assert_eq!((line, column), (2, "document"));
            }
            other => panic!("expected a document error, got {other:?}"),
        }
        let bad_date = "date,site,name,document\n25/11/2026,城关镇中学,张伟,11010519491231002X\n";
        let err = parse_csv(bad_date, today()).unwrap_err().to_string();
        assert!(err.contains("line 2, column date"), "{err}");
        // The refusal is a catalogue message; zh-CN names the column by its Chinese header.
        let message = parse_csv(bad_date, today()).unwrap_err().message();
        assert_eq!(message.code, "appointments.field");
        assert_eq!(
            message.params.get("problem"),
            Some(&Param::from(
                Message::new("appointments.bad_date").with("value", "25/11/2026")
            ))
        );
        assert_eq!(
            message.render(Lang::ZhCn),
            "第 2 行“日期”列：“25/11/2026”不是日期，应写成 2026-11-25"
        );
        let missing = "date,name,document\n2026-11-25,张伟,11010519491231002X\n";
        assert!(matches!(
            parse_csv(missing, today()),
            Err(ImportError::MissingColumn {
                english: "site",
                ..
            })
        ));
        let twice = "date,site,name,document\n2026-11-25,A,张伟,11010519491231002X\n2026-11-25,A,张伟,11010519491231002X\n";
        assert_eq!(
            parse_csv(twice, today()),
            Err(ImportError::Duplicate { line: 3, first: 2 })
        );
        assert_eq!(
            parse_csv("date,site,name,document\n", today()),
            Err(ImportError::Empty)
        );
        let procedure =
            "date,site,name,document,procedure\n2026-11-25,A,张伟,11010519491231002X,plasma\n";
        assert!(
            parse_csv(procedure, today())
                .unwrap_err()
                .to_string()
                .contains("apheresis_plasma")
        );
    }
}
