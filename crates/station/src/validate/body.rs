//! The body of every pushed entry reads as its entity with the domain's types, under
//! the id the entry is filed under, and within [`MAX_ENTRY_BODY_BYTES`].

use lifebridge_domain::cold_chain::{BoxPacking, Manifest, TemperatureReading, TransportBox};
use lifebridge_domain::entities::{
    Deferral, DinRangeRecord, Donation, DonationRelease, Donor, Drive, EntityKind, LabelPrint,
    LabelScan, Screening, Staff, Visit,
};
use lifebridge_domain::messages::Message;
use lifebridge_protocol::records::LocalChange;
use lifebridge_protocol::wire::MAX_ENTRY_BODY_BYTES;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::about;

/// What the later checks need of a parsed body.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: Uuid,
    /// The donor the record is about, which the station must know.
    pub donor: Option<Uuid>,
    pub detail: Detail,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Deferral(Box<Deferral>),
    Donation(Box<Donation>),
    Screening(Box<Screening>),
    /// A record that names the device that wrote it (a manifest, a DIN range).
    NamesDevice(Uuid),
    Plain,
}

pub fn size(entry: &LocalChange) -> Result<(), Message> {
    if entry.body.len() > MAX_ENTRY_BODY_BYTES {
        return Err(about("push_refused.body_too_large", entry)
            .with("bytes", entry.body.len().to_string())
            .with("max", MAX_ENTRY_BODY_BYTES.to_string()));
    }
    Ok(())
}

/// Refuses a body with a NUL character (U+0000) in any of its text. No name, document or
/// note has one, PostgreSQL cannot store one in a text column (SQLSTATE 22021 once a
/// parsed field reaches one), and a tablet that sends one is broken or hostile. JSON
/// cannot carry a raw NUL inside a string (the parser refuses it), only the escape
/// `\u0000`; a scan of the text for it is cheaper than walking the parsed value, and an
/// escape is real only behind an even number of backslashes (`\\u0000` is a typed
/// backslash followed by "u0000").
pub fn no_nul(entry: &LocalChange) -> Result<(), Message> {
    let body = entry.body.as_bytes();
    let escaped = entry.body.match_indices("\\u0000").any(|(at, _)| {
        let backslashes = body[..at].iter().rev().take_while(|b| **b == b'\\').count();
        backslashes % 2 == 0
    });
    if escaped || body.contains(&0) {
        return Err(about("push_refused.body_nul", entry).with("kind", entry.entity.as_str()));
    }
    Ok(())
}

fn read<T: DeserializeOwned>(entry: &LocalChange) -> Result<T, Message> {
    serde_json::from_str(&entry.body).map_err(|e| {
        about("push_refused.body_unreadable", entry)
            .with("kind", entry.entity.as_str())
            .with("detail", e.to_string())
    })
}

fn plain(id: Uuid) -> Record {
    Record {
        id,
        donor: None,
        detail: Detail::Plain,
    }
}

fn of_donor(id: Uuid, donor: Uuid) -> Record {
    Record {
        id,
        donor: Some(donor),
        detail: Detail::Plain,
    }
}

/// Reads the body as its entity; its id must be the entry's.
pub fn parse(entry: &LocalChange) -> Result<Record, Message> {
    use EntityKind as K;
    let record = match entry.entity {
        K::Staff => plain(read::<Staff>(entry)?.id),
        K::Drive => plain(read::<Drive>(entry)?.id),
        K::Donor => plain(read::<Donor>(entry)?.id),
        K::Screening => {
            let s: Screening = read(entry)?;
            super::consent::given(entry, &s)?;
            Record {
                id: s.id,
                donor: Some(s.donor_id),
                detail: Detail::Screening(Box::new(s)),
            }
        }
        K::Visit => {
            let v: Visit = read(entry)?;
            of_donor(v.id, v.donor_id)
        }
        K::Deferral => {
            let d: Deferral = read(entry)?;
            Record {
                id: d.id,
                donor: Some(d.donor_id),
                detail: Detail::Deferral(Box::new(d)),
            }
        }
        K::Donation => {
            let d: Donation = read(entry)?;
            Record {
                id: d.id,
                donor: Some(d.donor_id),
                detail: Detail::Donation(Box::new(d)),
            }
        }
        K::DinRange => {
            let r: DinRangeRecord = read(entry)?;
            Record {
                id: r.id,
                donor: None,
                detail: Detail::NamesDevice(r.device_id),
            }
        }
        K::Manifest => {
            let m: Manifest = read(entry)?;
            Record {
                id: m.id,
                donor: None,
                detail: Detail::NamesDevice(m.device_id),
            }
        }
        K::LabelPrint => plain(read::<LabelPrint>(entry)?.id),
        K::LabelScan => plain(read::<LabelScan>(entry)?.id),
        K::DonationRelease => plain(read::<DonationRelease>(entry)?.id),
        K::TransportBox => plain(read::<TransportBox>(entry)?.id),
        K::BoxPacking => plain(read::<BoxPacking>(entry)?.id),
        K::TemperatureReading => plain(read::<TemperatureReading>(entry)?.id),
    };
    if record.id != entry.entity_id {
        return Err(about("push_refused.id_mismatch", entry).with("body_id", record.id.to_string()));
    }
    Ok(record)
}
