//! Registering a donor and editing their demographics.

use chrono::NaiveDate;
use lifebridge_domain::Sex;
use lifebridge_domain::entities::{AboRh, Donor, EntityKind, RecordId, Role};
use lifebridge_domain::resident_id::IdentityDocument;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::action::ActionCtx;
use crate::tables;
use crate::{Actor, Result, Store, StoreError, queries};

use super::*;

/// A donor's own details as registration records them, declared once: the registration
/// screen sends them with the document as typed (`screens::DonorForm`), the store takes
/// them with the document parsed (`NewDonor`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DonorDetails {
    pub name: String,
    /// Required for documents that do not encode them; checked against a resident ID.
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub rural: Option<bool>,
}

impl DonorDetails {
    /// The details of a donor whose document (a resident ID) encodes sex and birth
    /// date and who gives no phone or address: the name alone.
    pub fn named(name: impl Into<String>) -> DonorDetails {
        DonorDetails {
            name: name.into(),
            sex: None,
            birth_date: None,
            phone: None,
            address: None,
            rural: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewDonor {
    pub document: IdentityDocument,
    #[serde(flatten)]
    pub details: DonorDetails,
}

/// A phone number as the crew typed it: digits, spaces, + and -, at most 20 characters.
fn phone_number(value: Option<&str>) -> Result<Option<String>> {
    let phone = optional_text("phone", value, 20)?;
    if let Some(p) = &phone
        && !p.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c))
    {
        return Err(StoreError::invalid(
            "phone",
            "may hold only digits, spaces, + and -, at most 20 characters",
        ));
    }
    Ok(phone)
}

impl Store {
    pub fn register_donor(&mut self, actor: Actor, new: NewDonor) -> Result<Donor> {
        let NewDonor {
            document,
            details: new,
        } = new;
        let staff_id = actor_staff(actor, "registering a donor")?;
        require_role(&self.conn, staff_id, Role::Registration, "register donors")?;
        let name = require_text("name", &new.name, 64)?;
        let phone = phone_number(new.phone.as_deref())?;
        let address = optional_text("address", new.address.as_deref(), 200)?;
        let (sex, birth_date) = match &document {
            IdentityDocument::ResidentId(id) => {
                if new.sex.is_some_and(|s| s != id.sex()) {
                    return Err(StoreError::invalid(
                        "sex",
                        "does not match the sex encoded in the resident ID",
                    ));
                }
                if new.birth_date.is_some_and(|d| d != id.birth_date()) {
                    return Err(StoreError::invalid(
                        "birth_date",
                        "does not match the birth date encoded in the resident ID",
                    ));
                }
                (id.sex(), id.birth_date())
            }
            _ => (
                new.sex
                    .ok_or_else(|| StoreError::invalid("sex", "is required for this document"))?,
                new.birth_date.ok_or_else(|| {
                    StoreError::invalid("birth_date", "is required for this document")
                })?,
            ),
        };
        if birth_date > crate::now().date_naive() {
            return Err(StoreError::invalid("birth_date", "is in the future"));
        }
        if let Some(existing) = queries::find_donor_by_document(
            &self.conn,
            document.kind().as_str(),
            document.number(),
        )? {
            return Err(StoreError::invalid(
                "document",
                format!(
                    "a donor with this document is already registered ({})",
                    existing.id
                ),
            ));
        }
        let donor = Donor {
            id: Uuid::now_v7(),
            document,
            name,
            sex,
            birth_date,
            phone,
            address,
            abo_rh: None,
            rural: new.rural,
            registered_at: crate::now(),
        };
        self.act(actor, "donor.register", serde_json::json!({}), |ctx| {
            insert_donor(ctx, &donor)?;
            Ok(donor.clone())
        })
    }
}

pub(crate) fn insert_donor(ctx: &mut ActionCtx<'_>, donor: &Donor) -> Result<()> {
    let body = ctx.log_change(EntityKind::Donor, donor.id, donor)?;
    tables::donor::write(ctx.tx, donor, None, &body)
}

/// A change to a donor's demographics. Each `Some` sets that field (`Some(None)`
/// clears an optional one). The identity document and birth date never change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DonorEdit {
    pub name: Option<String>,
    pub phone: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub abo_rh: Option<Option<AboRh>>,
    pub rural: Option<Option<bool>>,
}

impl Store {
    /// Edits a donor's demographics as one user action. The change-log entry carries
    /// the whole row; replication derives which fields changed from the log, so two
    /// vehicles editing different fields of the same donor offline both keep their edit.
    pub fn edit_donor(
        &mut self,
        actor: Actor,
        donor_id: RecordId,
        edit: DonorEdit,
    ) -> Result<Donor> {
        let staff_id = actor_staff(actor, "editing a donor")?;
        require_role(&self.conn, staff_id, Role::Registration, "edit donors")?;
        let mut donor = self.donor(donor_id)?.ok_or(StoreError::Missing {
            entity: "donor",
            id: donor_id.to_string(),
        })?;
        let before = donor.clone();
        if let Some(name) = &edit.name {
            donor.name = require_text("name", name, 64)?;
        }
        if let Some(phone) = &edit.phone {
            donor.phone = phone_number(phone.as_deref())?;
        }
        if let Some(address) = &edit.address {
            donor.address = match address.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(a) => Some(require_text("address", a, 200)?),
            };
        }
        if let Some(abo) = edit.abo_rh {
            donor.abo_rh = abo;
        }
        if let Some(rural) = edit.rural {
            donor.rural = rural;
        }
        if donor == before {
            return Err(StoreError::invalid("edit", "changes nothing"));
        }
        self.act(actor, "donor.edit", serde_json::json!({}), |ctx| {
            let body = ctx.log_change(EntityKind::Donor, donor.id, &donor)?;
            tables::donor::write(ctx.tx, &donor, None, &body)?;
            Ok(donor.clone())
        })
    }
}
