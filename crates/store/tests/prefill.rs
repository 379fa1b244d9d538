//! Check-in by the donor's pre-filled QR: the code is read and checked against this
//! tablet's questionnaires before anything is written, the donor found or registered
//! from it, and the answers kept on the visit for the screening tablet.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use lifebridge_domain::entities::{Appointment, Visit};
use lifebridge_domain::resident_id::{IdentityDocument, mod11_2_check_char};
use lifebridge_domain::{Procedure, Sex};
use lifebridge_protocol::prefill_code::{self, Prefill};
use lifebridge_store::records::{DonorDetails, NewDonor};
use lifebridge_store::{Actor, Store, StoreError, StoreKey, demo};
use serde_json::{Value, json};

/// Today's demo drive on a new store, with its registration nurse.
fn bus() -> (
    tempfile::TempDir,
    Store,
    Actor,
    lifebridge_domain::entities::Drive,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(
        &dir.path().join("d.db"),
        &StoreKey::new("key-key-key").unwrap(),
        "BUS",
    )
    .unwrap();
    demo::seed_collected(&mut store, 1, |_| Ok(())).unwrap();
    let nurse = store.staff_by_name("登记护士 李敏").unwrap().unwrap().id;
    let drive = store
        .drives_on(lifebridge_store::china_today())
        .unwrap()
        .remove(0);
    (dir, store, Actor::staff(nurse), drive)
}

/// A valid resident ID born 1990-05-01; the sequence's parity gives the sex.
fn resident_id(sex: Sex, today: NaiveDate) -> IdentityDocument {
    let seq = if sex == Sex::Female { "002" } else { "001" };
    let first17 = format!("11010519900501{seq}");
    let check = mod11_2_check_char(&first17).unwrap();
    IdentityDocument::parse("resident_id", &format!("{first17}{check}"), today).unwrap()
}

fn prefill(
    document: IdentityDocument,
    valid_on: NaiveDate,
    answers: BTreeMap<String, Value>,
) -> Prefill {
    Prefill {
        questionnaire_version: "GB18467-2011-Q1".into(),
        valid_on,
        document,
        name: "王芳".into(),
        sex: None,
        birth_date: None,
        phone: Some("13800138000".into()),
        answers,
    }
}

fn tattoo_answers(day: NaiveDate) -> BTreeMap<String, Value> {
    let mut a = BTreeMap::new();
    a.insert("feel_well".into(), json!(true));
    a.insert("tattoo".into(), json!(true));
    a.insert("tattoo_when".into(), json!(day.to_string()));
    a
}

fn refused_code(e: &StoreError) -> (&str, &str) {
    match e {
        StoreError::Refused { field, message } => (field.as_str(), message.code.as_str()),
        other => panic!("expected a refusal in the catalogue's words, got {other}"),
    }
}

fn donor_count(store: &Store) -> i64 {
    store
        .connection()
        .query_row("SELECT COUNT(*) FROM donor", [], |r| r.get(0))
        .unwrap()
}

fn visit_count(store: &Store) -> i64 {
    store
        .connection()
        .query_row("SELECT COUNT(*) FROM visit", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_new_donor_is_registered_and_checked_in_from_the_code_with_the_answers_on_the_visit() {
    let (_dir, mut store, nurse, drive) = bus();
    let today = drive.date;
    let tattooed = today.checked_sub_months(Months::new(3)).unwrap();
    let doc = resident_id(Sex::Female, today);
    let code = prefill_code::encode(&prefill(doc.clone(), today, tattoo_answers(tattooed)));

    let (donors_before, visits_before) = (donor_count(&store), visit_count(&store));
    let view = store.read_prefill(drive.id, &code).unwrap();
    assert_eq!(view.name, "王芳");
    assert_eq!(view.sex, Sex::Female, "from the resident ID number");
    assert_eq!(view.document.number, doc.number());
    assert!(view.donor.is_none(), "not on this tablet yet");
    let tattoo = view
        .answers
        .iter()
        .find(|a| a.question == "tattoo")
        .unwrap();
    assert_eq!(tattoo.answer.en, "yes");
    assert_eq!(tattoo.defers.as_deref(), Some("TATTOO"));
    let when = view
        .answers
        .iter()
        .find(|a| a.question == "tattoo_when")
        .unwrap();
    assert_eq!(when.answer.en, tattooed.to_string());
    assert!(
        view.unanswered.contains(&"pregnant".to_owned()),
        "a woman's questions the code left open are listed: {:?}",
        view.unanswered
    );
    assert_eq!(
        (donor_count(&store), visit_count(&store)),
        (donors_before, visits_before),
        "reading writes nothing"
    );

    let visit = store
        .check_in_prefilled(nurse, drive.id, &code, today, None)
        .unwrap();
    assert_eq!(donor_count(&store), donors_before + 1);
    let donor = store
        .donor_by_document("resident_id", doc.number())
        .unwrap()
        .unwrap();
    assert_eq!(visit.donor_id, donor.id);
    assert_eq!(donor.phone.as_deref(), Some("13800138000"));
    let kept = visit.prefill.clone().unwrap();
    assert_eq!(kept.version, "GB18467-2011-Q1");
    assert_eq!(kept.answers, tattoo_answers(tattooed));

    // The screening tablet reads them back; the visit's replicated body carries them.
    assert_eq!(
        store.prefilled_answers(drive.id, donor.id).unwrap(),
        Some(kept.clone())
    );
    let body: String = store
        .connection()
        .query_row(
            "SELECT body FROM change_log WHERE entity = 'visit' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let logged: Visit = serde_json::from_str(&body).unwrap();
    assert_eq!(logged.prefill, Some(kept));
    assert!(
        store
            .chair_queue(drive.id)
            .unwrap()
            .iter()
            .any(|e| e.donor.id == donor.id)
    );
    assert!(store.check().unwrap().is_ok());
}

#[test]
fn a_donor_on_record_is_found_by_document_and_a_different_name_is_pointed_out() {
    let (_dir, mut store, nurse, drive) = bus();
    let today = drive.date;
    let doc = resident_id(Sex::Male, today);
    let known = store
        .register_donor(
            nurse,
            NewDonor {
                document: doc.clone(),
                details: DonorDetails::named("王方"),
            },
        )
        .unwrap();
    let mut answers = BTreeMap::new();
    answers.insert("feel_well".into(), json!(true));
    let code = prefill_code::encode(&prefill(doc, today, answers));
    // As a 2-D hand scanner sending AIM identifiers types it: `]Q1` before the code.
    let view = store.read_prefill(drive.id, &format!("]Q1{code}")).unwrap();
    assert_eq!(view.donor.as_ref().map(|d| d.id), Some(known.id));
    assert_eq!(view.sex, Sex::Male);
    assert_eq!(
        view.notes
            .iter()
            .map(|m| m.code.as_str())
            .collect::<Vec<_>>(),
        ["checkin.prefill_other_name"]
    );
    let donors = donor_count(&store);
    let visit = store
        .check_in_prefilled(nurse, drive.id, &code, today, None)
        .unwrap();
    assert_eq!(visit.donor_id, known.id);
    assert_eq!(donor_count(&store), donors, "no second registration");
}

#[test]
fn a_booked_donor_checks_in_with_the_same_scan_and_counts_as_arrived() {
    let (_dir, mut store, nurse, drive) = bus();
    let today = drive.date;
    let doc = resident_id(Sex::Female, today);
    let appointment = Appointment {
        id: uuid::Uuid::now_v7(),
        date: today,
        site_name: drive.site_name.clone(),
        time: None,
        document: doc.clone(),
        name: "王芳".into(),
        phone: None,
        procedure: Procedure::WholeBlood,
        note: None,
        cancelled: false,
    };
    store
        .raw_write_for_tests(|c| {
            c.execute(
                "INSERT INTO appointment (id, date, site_name, body) VALUES (?1, ?2, ?3, ?4)",
                (
                    appointment.id.to_string(),
                    today.to_string(),
                    &drive.site_name,
                    serde_json::to_string(&appointment).unwrap(),
                ),
            )
        })
        .unwrap();
    let code = prefill_code::encode(&prefill(doc, today, BTreeMap::new()));
    let view = store.read_prefill(drive.id, &code).unwrap();
    assert_eq!(view.appointment.map(|a| a.id), Some(appointment.id));
    store
        .check_in_prefilled(nurse, drive.id, &code, today, None)
        .unwrap();
    let booked = store.drive_appointments(drive.id).unwrap();
    assert!(
        booked
            .iter()
            .any(|b| b.appointment.id == appointment.id && b.arrived)
    );
}

#[test]
fn an_expired_code_is_refused_in_the_catalogue_s_words_and_nothing_is_written() {
    let (_dir, mut store, nurse, drive) = bus();
    let today = drive.date;
    let yesterday = today.pred_opt().unwrap();
    let code = prefill_code::encode(&prefill(
        resident_id(Sex::Female, today),
        yesterday,
        BTreeMap::new(),
    ));
    let e = store.read_prefill(drive.id, &code).unwrap_err();
    assert_eq!(refused_code(&e), ("code", "prefill.expired"));
    assert!(e.to_string().contains(&yesterday.to_string()), "{e}");
    let (donors, visits) = (donor_count(&store), visit_count(&store));
    let e = store
        .check_in_prefilled(nurse, drive.id, &code, today, None)
        .unwrap_err();
    assert!(e.to_string().contains(&yesterday.to_string()), "{e}");
    assert_eq!((donor_count(&store), visit_count(&store)), (donors, visits));

    for (text, expected) in [
        ("HELLO WORLD", "prefill.not_a_prefill_code"),
        ("LBQ2:ABCDEF", "prefill.unsupported_version"),
        ("LBQ1:%%%%", "prefill.damaged_base45"),
    ] {
        let e = store.read_prefill(drive.id, text).unwrap_err();
        assert_eq!(refused_code(&e).1, expected, "{text}");
    }
}

#[test]
fn answers_to_a_questionnaire_this_tablet_lacks_or_that_do_not_fit_are_refused_naming_the_question()
{
    let (_dir, mut store, nurse, drive) = bus();
    let today = drive.date;
    let (donors, visits) = (donor_count(&store), visit_count(&store));

    let mut other = prefill(resident_id(Sex::Female, today), today, BTreeMap::new());
    other.questionnaire_version = "GB18467-2011-Q9".into();
    let e = store
        .read_prefill(drive.id, &prefill_code::encode(&other))
        .unwrap_err();
    assert_eq!(
        refused_code(&e),
        ("prefill_answers.version", "prefill.unknown_questionnaire")
    );

    let mut wrong_type = BTreeMap::new();
    wrong_type.insert("tattoo".into(), json!("often"));
    let code = prefill_code::encode(&prefill(resident_id(Sex::Female, today), today, wrong_type));
    let e = store.read_prefill(drive.id, &code).unwrap_err();
    assert_eq!(
        refused_code(&e),
        ("prefill_answers.tattoo", "checkin.prefill_answer")
    );
    let e = store
        .check_in_prefilled(nurse, drive.id, &code, today, None)
        .unwrap_err();
    assert!(e.to_string().contains("tattoo"), "{e}");

    let mut unknown = BTreeMap::new();
    unknown.insert("favourite_colour".into(), json!("blue"));
    let code = prefill_code::encode(&prefill(resident_id(Sex::Female, today), today, unknown));
    let e = store.read_prefill(drive.id, &code).unwrap_err();
    assert_eq!(refused_code(&e).0, "prefill_answers.favourite_colour");

    // A man's code answering "pregnant" does not fit him.
    let mut pregnant = BTreeMap::new();
    pregnant.insert("pregnant".into(), json!(false));
    let code = prefill_code::encode(&prefill(resident_id(Sex::Male, today), today, pregnant));
    let e = store.read_prefill(drive.id, &code).unwrap_err();
    assert_eq!(refused_code(&e).0, "prefill_answers.pregnant");

    assert_eq!(
        (donor_count(&store), visit_count(&store)),
        (donors, visits),
        "nothing written for a refused code"
    );
}

#[test]
fn the_check_in_action_itself_refuses_answers_that_do_not_fit_before_writing() {
    let (_dir, mut store, nurse, drive) = bus();
    let today = drive.date;
    let donor = store
        .register_donor(
            nurse,
            NewDonor {
                document: resident_id(Sex::Male, today),
                details: DonorDetails::named("李四"),
            },
        )
        .unwrap();
    let visits = visit_count(&store);
    let mut answers = BTreeMap::new();
    answers.insert("tattoo".into(), json!(42));
    let bad = lifebridge_domain::questionnaire::QuestionnaireAnswers {
        version: "GB18467-2011-Q1".into(),
        answers,
    };
    let e = store
        .check_in_with_answers(nurse, drive.id, donor.id, None, Some(bad))
        .unwrap_err();
    assert_eq!(refused_code(&e).0, "prefill_answers.tattoo");
    let unknown = lifebridge_domain::questionnaire::QuestionnaireAnswers {
        version: "nope".into(),
        answers: BTreeMap::new(),
    };
    let e = store
        .check_in_with_answers(nurse, drive.id, donor.id, None, Some(unknown))
        .unwrap_err();
    assert_eq!(refused_code(&e).1, "prefill.unknown_questionnaire");
    assert_eq!(visit_count(&store), visits);
}

#[test]
fn a_questionnaire_the_station_published_is_one_the_tablet_knows() {
    let (_dir, mut store, nurse, drive) = bus();
    let today = drive.date;
    let mut published = lifebridge_domain::questionnaire::built_in().clone();
    published.version = "STATION-2027-Q1".into();
    store
        .raw_write_for_tests(|c| {
            c.execute(
                "INSERT INTO reference_document (kind, version, body, adopted_at)
                 VALUES ('questionnaire', ?1, ?2, '2026-01-01T00:00:00Z')",
                (
                    &published.version,
                    serde_json::to_string(&published).unwrap(),
                ),
            )
        })
        .unwrap();
    let mut p = prefill(resident_id(Sex::Male, today), today, BTreeMap::new());
    p.questionnaire_version = "STATION-2027-Q1".into();
    p.answers.insert("feel_well".into(), json!(false));
    let code = prefill_code::encode(&p);
    let view = store.read_prefill(drive.id, &code).unwrap();
    assert_eq!(view.prefill.version, "STATION-2027-Q1");
    assert!(
        view.answers[0].review,
        "feel_well no: the physician reviews it"
    );
    let visit = store
        .check_in_prefilled(nurse, drive.id, &code, today, None)
        .unwrap();
    assert_eq!(visit.prefill.unwrap().version, "STATION-2027-Q1");
}

#[test]
fn a_donor_whom_age_does_not_allow_is_checked_in_by_code_only_with_a_reason() {
    let (_dir, mut store, nurse, drive) = bus();
    let today = drive.date;
    let first17 = "11010519500301013"; // born 1950: past every age limit
    let doc = IdentityDocument::parse(
        "resident_id",
        &format!("{first17}{}", mod11_2_check_char(first17).unwrap()),
        today,
    )
    .unwrap();
    let code = prefill_code::encode(&prefill(doc.clone(), today, BTreeMap::new()));
    let visits = visit_count(&store);
    let e = store
        .check_in_prefilled(nurse, drive.id, &code, today, None)
        .unwrap_err();
    assert!(
        matches!(
            e,
            lifebridge_store::screens::ScreenError::Refused(
                lifebridge_store::screens::ScreenRefusal::NeedsConfirmation { .. }
            )
        ),
        "{e}"
    );
    assert_eq!(visit_count(&store), visits);
    // Registered from the code: the second scan finds them and shows why.
    let view = store.read_prefill(drive.id, &code).unwrap();
    let donor = view.donor.unwrap();
    assert!(
        !store
            .check_in_status(donor.id, today)
            .unwrap()
            .eligible_today
    );
    let visit = store
        .check_in_prefilled(nurse, drive.id, &code, today, Some("plasma enquiry"))
        .unwrap();
    assert_eq!(visit.donor_id, donor.id);
    assert!(visit.prefill.is_some());
}
