//! Appointments the station sent: who is booked at today's site, and whether they have
//! arrived. The station writes them; the device only reads them.

use lifebridge_domain::entities::{Appointment, Donor, RecordId};
use serde::Serialize;

use crate::{Result, Store, queries};

/// One booked donor as the drive screen lists them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AppointmentEntry {
    pub appointment: Appointment,
    /// The donor this device already knows by that identity document, if any.
    pub donor: Option<Donor>,
    /// Checked in to this drive.
    pub arrived: bool,
}

impl Store {
    /// The drive's appointments (its site and date), cancelled ones included so the crew
    /// sees a cancellation rather than a name that silently vanished; booked time first,
    /// then name.
    pub fn drive_appointments(&self, drive_id: RecordId) -> Result<Vec<AppointmentEntry>> {
        let drive = self.drive(drive_id)?;
        let mut appointments: Vec<Appointment> = queries::bodies(
            &self.conn,
            "SELECT body FROM appointment WHERE date = ?1 AND site_name = ?2",
            (drive.date.to_string(), &drive.site_name),
        )?;
        appointments.sort_by(|a, b| (a.time, &a.name).cmp(&(b.time, &b.name)));
        let mut out = Vec::with_capacity(appointments.len());
        for appointment in appointments {
            let document = &appointment.document;
            let donor = self.donor_by_document(document.kind().as_str(), document.number())?;
            let arrived = match &donor {
                Some(d) => self.conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM visit WHERE drive_id = ?1 AND donor_id = ?2)",
                    (drive_id.to_string(), d.id.to_string()),
                    |r| r.get(0),
                )?,
                None => false,
            };
            out.push(AppointmentEntry {
                appointment,
                donor,
                arrived,
            });
        }
        Ok(out)
    }
}
