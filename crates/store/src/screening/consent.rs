//! The donor's informed consent at the screening: what an acceptance needs (a valid
//! consent to the text in force, a witness with their PIN for a donor who cannot
//! sign), the rapid ABO/RhD's mismatch note, and the chair's stop without consent.

use lifebridge_domain::blood_group;
use lifebridge_domain::consent::{self, Consent};
use lifebridge_domain::entities::{AboRh, Donor, PhysicianDecision, RecordId, Screening};
use lifebridge_domain::messages::{Localized, Message};
use serde::Serialize;

use crate::records::require_text;
use crate::{Result, Store, StoreError};

/// The longest note a physician writes on a rapid ABO/RhD mismatch.
pub const ABO_RH_NOTE_MAX_CHARS: usize = 500;

/// The consent text the consent screen shows: the version the donor signs and the
/// text in both languages (the donor may switch).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsentView {
    pub version: String,
    pub title: Localized,
    pub text: Localized,
    /// The signature box and the least a signature must be
    /// (`lifebridge_domain::consent`), so the pad scales to the box and enables
    /// "signed" exactly when the store would take the signature.
    pub box_width: u16,
    pub box_height: u16,
    pub min_points: u32,
    pub min_extent: u16,
    pub max_points: u32,
}

fn refused(field: &str, message: Message) -> StoreError {
    StoreError::Refused {
        field: field.to_owned(),
        message,
    }
}

impl Store {
    /// The version of the consent in force for a screening against
    /// `questionnaire_version`: the consent of that questionnaire document, if this
    /// device has it (nothing to compare with otherwise).
    pub fn consent_version_in_force(&self, questionnaire_version: &str) -> Result<Option<String>> {
        Ok(self
            .questionnaire_of_version(questionnaire_version)?
            .map(|q| q.consent.version))
    }

    /// The consent text the donor reads: that of the questionnaire in force (the
    /// built-in one's when this device cannot read the one the station sent).
    pub fn consent_text(&self) -> Result<ConsentView> {
        let document = self.questionnaire()?;
        Ok(ConsentView {
            version: document.consent.version,
            title: document.consent.title.localized(),
            text: document.consent.text.localized(),
            box_width: consent::BOX_WIDTH,
            box_height: consent::BOX_HEIGHT,
            min_points: consent::MIN_POINTS as u32,
            min_extent: consent::MIN_EXTENT,
            max_points: consent::MAX_POINTS as u32,
        })
    }

    /// What an acceptance or waiver needs of the donor's consent: one given (a deferral
    /// needs none), well formed (`Consent::validate`), to the text in force for the
    /// screening's questionnaire, not signed later than now, and for a donor who could
    /// not sign, a witness other than the physician who confirms with their PIN (counted
    /// like any sign-in, which is its audit entry). Returns the consent to store.
    pub(super) fn check_consent(
        &mut self,
        decision: &PhysicianDecision,
        consent: Option<Consent>,
        questionnaire_version: &str,
        physician_id: RecordId,
        witness_pin: Option<&str>,
    ) -> Result<Option<Consent>> {
        let Some(consent) = consent else {
            if decision.permits_donation() {
                return Err(refused("consent", Message::new("donor_consent.missing")));
            }
            return Ok(None);
        };
        consent
            .validate()
            .map_err(|e| refused(&e.field, e.message))?;
        if let Some(expected) = self.consent_version_in_force(questionnaire_version)?
            && expected != consent.version.trim()
        {
            return Err(refused(
                "consent.version",
                Message::new("donor_consent.wrong_version")
                    .with("version", consent.version.clone())
                    .with("expected", expected),
            ));
        }
        if consent.signed_at > crate::now() + chrono::Duration::minutes(5) {
            return Err(refused(
                "consent.signed_at",
                Message::new("donor_consent.signed_later")
                    .with("signed_at", consent.signed_at.to_rfc3339()),
            ));
        }
        if let Some(witness) = consent.witness() {
            const FIELD: &str = "consent.signature.witness_id";
            if witness == physician_id {
                return Err(refused(
                    FIELD,
                    Message::new("donor_consent.witness_same_person"),
                ));
            }
            let staff = crate::queries::get_body::<lifebridge_domain::entities::Staff>(
                &self.conn, "staff", witness,
            )?
            .filter(|s| s.active)
            .ok_or_else(|| {
                refused(
                    FIELD,
                    Message::new("donor_consent.witness_not_crew")
                        .with("witness", witness.to_string()),
                )
            })?;
            if let Err(e) = self.sign_in(staff.id, witness_pin.unwrap_or(""))? {
                return Err(refused(
                    "witness_pin",
                    Message::new("donor_consent.witness_pin").with("detail", e.message()),
                ));
            }
        }
        Ok(Some(consent))
    }

    /// The physician's note an acceptance with a rapid ABO/RhD mismatch needs; the
    /// note given (trimmed), if any, otherwise.
    pub(super) fn check_abo_rh_note(
        &self,
        donor_id: RecordId,
        rapid: Option<AboRh>,
        decision: &PhysicianDecision,
        note: Option<&str>,
    ) -> Result<Option<String>> {
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        let on_record = self.donor_group(donor_id)?;
        if decision.permits_donation() && blood_group::mismatch(on_record, rapid) && note.is_none()
        {
            return Err(refused(
                "abo_rh_note",
                Message::new("rapid_abo.note_required")
                    .with("max", ABO_RH_NOTE_MAX_CHARS.to_string()),
            ));
        }
        note.map(|n| require_text("abo_rh_note", n, ABO_RH_NOTE_MAX_CHARS))
            .transpose()
    }

    /// The group on the donor's record (typed at the station or registration).
    pub(crate) fn donor_group(&self, donor_id: RecordId) -> Result<Option<AboRh>> {
        Ok(
            crate::queries::get_body::<Donor>(&self.conn, "donor", donor_id)?
                .and_then(|d| d.abo_rh),
        )
    }

    /// The physician's flag when today's rapid group differs from the donor's record.
    pub fn abo_rh_flag(&self, donor_id: RecordId, rapid: Option<AboRh>) -> Result<Option<Message>> {
        Ok(blood_group::mismatch_flag(
            self.donor_group(donor_id)?,
            rapid,
        ))
    }
}

/// The chair's hard stop: a donation starts only from a screening the donor consented
/// to (one recorded before consent was asked has none, and is screened again).
pub(crate) fn require_consent(screening: &Screening) -> Result<()> {
    if screening.consent.is_none() {
        return Err(refused("screening_id", Message::new("chair.no_consent")));
    }
    Ok(())
}
