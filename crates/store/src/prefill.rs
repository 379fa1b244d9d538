//! Check-in by the donor's pre-filled QR (docs/prefill.md): the code read and checked
//! against what this device holds (the questionnaire version, the answers for this
//! donor's sex on the drive's day), the donor found by document or registered from it,
//! and the answers kept with the visit, from where the screening tablet starts.

use chrono::NaiveDate;
use lifebridge_domain::entities::{Appointment, Donor, RecordId, Visit};
use lifebridge_domain::messages::Message;
use lifebridge_domain::questionnaire::{self, Questionnaire, QuestionnaireAnswers, Text};
use lifebridge_domain::{Sex, resident_id::IdentityDocument};
use lifebridge_protocol::prefill_code::{self, Prefill};
use serde::Serialize;

use crate::records::DonorDetails;
use crate::screens::{DocumentCheck, DonorForm, ScreenError};
use crate::{Actor, Result, Store, StoreError, queries};

/// One answer the code holds, as the nurse goes through it with the donor.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PrefillAnswer {
    pub question: String,
    pub text: Text,
    /// The answer in words (the option's text, yes / no, the day meant).
    pub answer: Text,
    /// The deferral catalogue code the answer calls for, if any.
    pub defers: Option<String>,
    /// The physician must review this answer.
    pub review: bool,
}

/// The answers a donor brought, for the screening screen: as recorded (the
/// questionnaire's `initial` answers) and in words.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PrefilledView {
    pub answers: QuestionnaireAnswers,
    pub rows: Vec<PrefillAnswer>,
}

/// What the check-in screen shows of a scanned pre-fill code: who, what it holds, and
/// whether this device already knows the donor or has them booked today.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PrefillView {
    pub valid_on: NaiveDate,
    pub document: DocumentCheck,
    pub name: String,
    pub sex: Sex,
    pub birth_date: Option<NaiveDate>,
    pub phone: Option<String>,
    /// The donor this device holds under that document; `None`: checking in registers
    /// them from the code.
    pub donor: Option<Donor>,
    /// The station's booking of this document at this drive, if any.
    pub appointment: Option<Appointment>,
    pub prefill: QuestionnaireAnswers,
    /// Every answer in question order.
    pub answers: Vec<PrefillAnswer>,
    /// Questions that apply to this donor and the code leaves unanswered (filled on the
    /// tablet at screening).
    pub unanswered: Vec<String>,
    /// What the nurse should check before checking in (a name that differs from the
    /// one on record).
    pub notes: Vec<Message>,
}

impl Store {
    /// Checks pre-filled answers before anything is written: a questionnaire version this
    /// device holds, and answers that fit it for a donor of `sex` on `date` (unanswered
    /// is fine; an unknown question or a wrong type is refused naming the question).
    pub fn check_prefill(
        &self,
        prefill: &QuestionnaireAnswers,
        sex: Sex,
        date: NaiveDate,
    ) -> Result<(Questionnaire, questionnaire::Outcome)> {
        let doc = self
            .questionnaire_of_version(&prefill.version)?
            .ok_or_else(|| {
                let e = prefill_code::PrefillCodeError::UnknownQuestionnaire {
                    version: prefill.version.clone(),
                };
                StoreError::Refused {
                    field: "prefill_answers.version".to_owned(),
                    message: e.message(),
                }
            })?;
        let outcome = doc
            .evaluate(&self.rules()?, sex, date, &prefill.answers)
            .map_err(|e| StoreError::Refused {
                field: format!("prefill_answers.{}", e.question),
                message: Message::new("checkin.prefill_answer")
                    .with("version", doc.version.as_str())
                    .with(
                        "question",
                        doc.question(&e.question).map_or_else(
                            || {
                                Text {
                                    zh: e.question.clone(),
                                    en: e.question.clone(),
                                }
                                .localized()
                            },
                            |q| q.text.localized(),
                        ),
                    )
                    .with("problem", e.problem.as_str()),
            })?;
        Ok((doc, outcome))
    }

    /// Reads a scanned pre-fill code for check-in at `drive_id`: decoded and checked (for
    /// the drive's day — the day the donor chose to come —, the document, the
    /// questionnaire version, the answers for the donor's sex), with the donor on record
    /// and their booking.
    pub fn read_prefill(&self, drive_id: RecordId, code: &str) -> Result<PrefillView> {
        self.read_prefill_code(drive_id, code).map(|(view, _)| view)
    }

    fn read_prefill_code(&self, drive_id: RecordId, code: &str) -> Result<(PrefillView, Prefill)> {
        let drive = self.drive(drive_id)?;
        let decoded = prefill_code::decode(without_aim(code), drive.date).map_err(|e| {
            StoreError::Refused {
                field: "code".to_owned(),
                message: e.message(),
            }
        })?;
        let kind = decoded.document.kind();
        let donor = self.donor_by_document(kind.as_str(), decoded.document.number())?;
        let sex = donor
            .as_ref()
            .map(|d| d.sex)
            .or(decoded.sex)
            .ok_or_else(|| StoreError::Refused {
                field: "code".to_owned(),
                message: Message::new("checkin.prefill_no_sex"),
            })?;
        let prefill = QuestionnaireAnswers {
            version: decoded.questionnaire_version.clone(),
            answers: decoded.answers.clone(),
        };
        let (doc, outcome) = self.check_prefill(&prefill, sex, drive.date)?;
        let answers = answer_rows(&doc, &prefill, &outcome, drive.date)?;
        let mut notes = Vec::new();
        if let Some(d) = donor.as_ref().filter(|d| d.name != decoded.name) {
            notes.push(
                Message::new("checkin.prefill_other_name")
                    .with("code", decoded.name.as_str())
                    .with("record", d.name.as_str()),
            );
        }
        let appointment = self
            .drive_appointments(drive_id)?
            .into_iter()
            .map(|e| e.appointment)
            .find(|a| !a.cancelled && a.document == decoded.document);
        let birth_date = donor.as_ref().map(|d| d.birth_date).or(decoded.birth_date);
        let view = PrefillView {
            valid_on: decoded.valid_on,
            document: DocumentCheck::of(&decoded.document),
            name: decoded.name.clone(),
            sex,
            birth_date,
            phone: decoded.phone.clone(),
            donor,
            appointment,
            prefill,
            answers,
            unanswered: outcome.unanswered,
            notes,
        };
        Ok((view, decoded))
    }

    /// Checks a donor in by their pre-fill code: read again (nothing the screen sends is
    /// trusted), the donor registered from it when this device does not know the
    /// document (checked as of `today`, as at every registration), then checked in with
    /// the answers kept on the visit. A donor whom history does not allow today needs
    /// `confirmation`, as at every check-in.
    pub fn check_in_prefilled(
        &mut self,
        actor: Actor,
        drive_id: RecordId,
        code: &str,
        today: NaiveDate,
        confirmation: Option<&str>,
    ) -> std::result::Result<Visit, ScreenError> {
        let (view, decoded) = self.read_prefill_code(drive_id, code)?;
        let donor = match view.donor {
            Some(donor) => donor,
            None => self.register_donor_form(actor, registration(&decoded), today)?,
        };
        self.check_in_checked_with(actor, drive_id, donor.id, confirmation, Some(view.prefill))
    }

    /// [`Store::prefilled_answers`] with each answer in words, as the screening screen
    /// lists them beside its questionnaire.
    pub fn prefilled_view(
        &self,
        drive_id: RecordId,
        donor_id: RecordId,
    ) -> Result<Option<PrefilledView>> {
        let Some(prefill) = self.prefilled_answers(drive_id, donor_id)? else {
            return Ok(None);
        };
        let drive = self.drive(drive_id)?;
        let donor = self.donor(donor_id)?.ok_or(StoreError::Missing {
            entity: "donor",
            id: donor_id.to_string(),
        })?;
        let (doc, outcome) = self.check_prefill(&prefill, donor.sex, drive.date)?;
        let rows = answer_rows(&doc, &prefill, &outcome, drive.date)?;
        Ok(Some(PrefilledView {
            answers: prefill,
            rows,
        }))
    }

    /// The answers the donor brought to this drive (the pre-fill code scanned at their
    /// current visit), for the screening tablet's questionnaire to start from.
    pub fn prefilled_answers(
        &self,
        drive_id: RecordId,
        donor_id: RecordId,
    ) -> Result<Option<QuestionnaireAnswers>> {
        let visit: Option<Visit> = queries::bodies(
            &self.conn,
            "SELECT body FROM visit WHERE drive_id = ?1 AND donor_id = ?2
             ORDER BY checked_in_at DESC, rowid DESC LIMIT 1",
            (drive_id.to_string(), donor_id.to_string()),
        )?
        .pop();
        Ok(visit.and_then(|v| v.prefill))
    }
}

/// The code as its symbol holds it: a 2-D hand scanner set to send AIM symbology
/// identifiers types `]Q1` (QR) before the data. Nothing else is stripped — not even
/// blanks (`labels::scan::strip_scanner_noise` trims them): a base45 text may end in one.
fn without_aim(code: &str) -> &str {
    match code.strip_prefix("]Q") {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => &rest[1..],
        _ => code,
    }
}

/// Every answer in question order, in words, with what it calls for.
fn answer_rows(
    doc: &Questionnaire,
    prefill: &QuestionnaireAnswers,
    outcome: &questionnaire::Outcome,
    date: NaiveDate,
) -> Result<Vec<PrefillAnswer>> {
    let mut rows = Vec::new();
    for q in doc.questions() {
        let Some(value) = prefill.answers.get(&q.id) else {
            continue;
        };
        // The caller's `check_prefill` accepted every answer: none fails here.
        let answer = doc.answer_words(q, value, date).map_err(|e| {
            StoreError::invalid(format!("prefill_answers.{}", e.question), e.problem)
        })?;
        rows.push(PrefillAnswer {
            question: q.id.clone(),
            text: q.text.clone(),
            answer,
            defers: outcome
                .deferrals
                .iter()
                .find(|d| d.question == q.id)
                .map(|d| d.code.clone()),
            review: outcome.review.iter().any(|r| r.question == q.id),
        });
    }
    Ok(rows)
}

/// The registration form the code fills: a resident ID carries sex and birth date.
fn registration(p: &Prefill) -> DonorForm {
    let carried = matches!(p.document, IdentityDocument::ResidentId(_));
    DonorForm {
        document_kind: p.document.kind().as_str().to_owned(),
        document_number: p.document.number().to_owned(),
        details: DonorDetails {
            name: p.name.clone(),
            sex: if carried { None } else { p.sex },
            birth_date: if carried { None } else { p.birth_date },
            phone: p.phone.clone(),
            address: None,
            rural: None,
        },
    }
}
