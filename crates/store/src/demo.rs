//! A training drive with synthetic donors, for demos and for the crash test. It goes
//! through the same actions a crew uses, one user action at a time.

use chrono::{Datelike, Duration, NaiveDate};
use lifebridge_domain::din::{DinRange, FacilityId};
use lifebridge_domain::entities::{
    Arm, BagSet, BagSetKind, DinRangeSource, Drive, Outcome, PhysicianDecision, RapidTests, Role,
    SiteKind, Staff,
};
use lifebridge_domain::measurements::{TestResult, Vitals};
use lifebridge_domain::resident_id::{IdentityDocument, mod11_2_check_char};
use lifebridge_domain::{Procedure, Sex};

use lifebridge_domain::label_piece::DEFAULT_TUBE_COUNT;

use crate::labels::LabelError;
use crate::records::{DonorDetails, NewDonation, NewDonor, NewDrive, NewStaff};
use crate::screening::ScreeningForm;
use crate::{Actor, Result, Store, StoreError};

/// Facility code for training labels. Stations never accept training ranges (only one
/// started for demos and training does).
pub use lifebridge_domain::din::TRAINING_FACILITY;
/// Every demo account's PIN: 6 digits, since the demo crew has roles that sign
/// (`lifebridge_domain::pin::MIN_SIGNING_DIGITS`).
pub const DEMO_PIN: &str = "123456";

/// A donor's consent signed with a finger (a wave across the middle of the box), given
/// now to consent text `version`: what the training drive's donors sign, and the one
/// consent the tests of every crate give a screening they accept.
pub fn signed_consent(version: &str) -> lifebridge_domain::consent::Consent {
    let wave = (0..40u16)
        .map(|i| [100 + i * 20, 200 + (i % 5) * 20 - 40])
        .collect();
    lifebridge_domain::consent::Consent {
        version: version.to_owned(),
        signed_at: crate::now(),
        signature: lifebridge_domain::consent::ConsentSignature::Signed {
            strokes: vec![wave],
        },
    }
}

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
];
const GIVEN: [&str; 12] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
];

struct DemoCrew {
    nurse: Staff,
    physician: Staff,
    phlebotomist: Staff,
    driver: Staff,
}

/// The demo crew alone (PIN [`DEMO_PIN`]), no drive: a second tablet of a demo bus
/// (`make run-bus`), which joins the drive the first tablet opened when it syncs with
/// the bus's hub.
pub fn seed_crew(store: &mut Store) -> Result<()> {
    crew(store).map(drop)
}

fn crew(store: &mut Store) -> Result<DemoCrew> {
    let mut find = |name: &str, roles: Vec<Role>| -> Result<Staff> {
        if let Some(s) = store.staff_by_name(name)? {
            return Ok(s);
        }
        store.add_staff(
            Actor::system(),
            NewStaff {
                display_name: name.to_owned(),
                roles,
                pin: DEMO_PIN.to_owned(),
            },
        )
    };
    Ok(DemoCrew {
        nurse: find("登记护士 李敏", vec![Role::Registration])?,
        physician: find("体检医生 王强", vec![Role::Physician])?,
        phlebotomist: find("采血护士 张静", vec![Role::Phlebotomist])?,
        driver: find("司机 刘洋", vec![Role::Driver])?,
    })
}

fn demo_drive(store: &mut Store, crew: &DemoCrew, today: NaiveDate) -> Result<Drive> {
    if let Some(drive) = store
        .drives_on(today)?
        .into_iter()
        .find(|d| d.ended_at.is_none())
    {
        return Ok(drive);
    }
    store.start_drive(
        Actor::staff(crew.nurse.id),
        NewDrive {
            site_name: "示范采血点 · 人民广场".to_owned(),
            site_kind: SiteKind::Vehicle,
            vehicle: Some("DEMO-BUS".to_owned()),
            date: today,
            crew: vec![
                crew.nurse.id,
                crew.physician.id,
                crew.phlebotomist.id,
                crew.driver.id,
            ],
        },
    )
}

/// A valid resident ID for synthetic donor `n`: distinct for distinct `n`.
pub fn synthetic_resident_id(n: u64, today: NaiveDate) -> String {
    let age_days = 365 * 19 + (n * 37) % (365 * 35);
    let birth = today - Duration::days(i64::try_from(age_days).unwrap_or(7000));
    let area = 110_101 + (n / 1000) % 8000;
    let sequence = n % 1000;
    let first17 = format!(
        "{area:06}{:04}{:02}{:02}{sequence:03}",
        birth.year(),
        birth.month(),
        birth.day()
    );
    let check = mod11_2_check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// The chair's last steps, as the crew does them: print the label set, scan every
/// label back, release the bag, so a demo drive can be packed, dispatched and ended.
fn label_and_release(store: &mut Store, crew: &DemoCrew, donation_id: uuid::Uuid) -> Result<()> {
    let actor = Actor::staff(crew.phlebotomist.id);
    let label_error = |e: LabelError| match e {
        LabelError::Store(inner) => inner,
        other => StoreError::invalid("labels", other.to_string()),
    };
    store
        .print_label_set(actor, donation_id, DEFAULT_TUBE_COUNT)
        .map_err(label_error)?;
    for label in store.donation_label_contents(donation_id, "示范血站", None)? {
        store
            // As a hand scanner sends it: the Code 128 symbology identifier, then the data.
            .record_label_scan(actor, donation_id, &format!("]C0{}", label.code128_data()))
            .map_err(label_error)?;
    }
    store
        .release_donation(actor, donation_id)
        .map_err(label_error)?;
    Ok(())
}

/// Seeds `donations` synthetic donors, each registered, checked in, screened,
/// collected, labelled and released as separate actions. `on_donation` is called with each donation's id right
/// after its transaction has committed.
pub fn seed(
    store: &mut Store,
    donations: u32,
    on_donation: impl FnMut(uuid::Uuid) -> std::io::Result<()>,
) -> Result<()> {
    seed_drive(store, donations, true, on_donation)
}

/// Like [`seed`], but each bag stays at the chair: collected, its labels not yet printed.
/// For exercising the label interlocks on donations the demo made.
pub fn seed_collected(
    store: &mut Store,
    donations: u32,
    on_donation: impl FnMut(uuid::Uuid) -> std::io::Result<()>,
) -> Result<()> {
    seed_drive(store, donations, false, on_donation)
}

fn seed_drive(
    store: &mut Store,
    donations: u32,
    release: bool,
    mut on_donation: impl FnMut(uuid::Uuid) -> std::io::Result<()>,
) -> Result<()> {
    let today = crate::china_today();
    let crew = crew(store)?;
    let drive = demo_drive(store, &crew, today)?;
    let questionnaire = store.questionnaire()?;
    if store.din_usage()?.iter().all(|r| r.next.is_none()) {
        let facility: FacilityId = TRAINING_FACILITY
            .parse()
            .map_err(|e| StoreError::invalid("facility", format!("{e}")))?;
        let year = u8::try_from(today.year() % 100).unwrap_or(0);
        let first = store.din_usage()?.len() as u32 * 100_000;
        let range = DinRange::new(facility, year, first, first + 99_999)
            .map_err(|e| StoreError::invalid("range", e.to_string()))?;
        store.register_din_range(Actor::system(), range, DinRangeSource::Training)?;
    }
    let already: i64 = store
        .connection()
        .query_row("SELECT COUNT(*) FROM donor", [], |r| r.get(0))?;
    let already = u64::try_from(already).unwrap_or(0);
    for i in 0..u64::from(donations) {
        let n = already + i;
        let number = synthetic_resident_id(n, today);
        let document = IdentityDocument::parse("resident_id", &number, today)
            .map_err(|e| StoreError::invalid("document", e.to_string()))?;
        let donor = store.register_donor(
            Actor::staff(crew.nurse.id),
            NewDonor {
                document,
                details: DonorDetails {
                    name: format!(
                        "{}{}",
                        SURNAMES[(n % 12) as usize],
                        GIVEN[((n / 12) % 12) as usize]
                    ),
                    sex: None,
                    birth_date: None,
                    phone: Some(format!("138{:08}", n % 100_000_000)),
                    address: None,
                    rural: Some(n % 5 != 0),
                },
            },
        )?;
        store.check_in(Actor::staff(crew.nurse.id), drive.id, donor.id)?;
        let weight = if donor.sex == Sex::Male { 68.0 } else { 56.0 };
        let screening = store.record_screening(
            Actor::staff(crew.physician.id),
            ScreeningForm {
                donor_id: donor.id,
                drive_id: drive.id,
                procedure: Procedure::WholeBlood,
                planned_volume_ml: Some(if n % 3 == 0 { 300 } else { 400 }),
                questionnaire_version: questionnaire.version.clone(),
                answers: questionnaire.nothing_to_declare(donor.sex),
                vitals: Vitals {
                    weight_kg: weight + (n % 10) as f64,
                    systolic_mmhg: 110.0 + (n % 20) as f64,
                    diastolic_mmhg: 70.0 + (n % 10) as f64,
                    pulse_bpm: 70.0 + (n % 15) as f64,
                    temperature_c: 36.5,
                },
                tests: RapidTests {
                    hemoglobin_g_l: Some(135.0),
                    alt_u_l: Some(20.0),
                    hbsag: Some(TestResult::Negative),
                    ..RapidTests::default()
                },
                athlete: false,
                restrictions: Vec::new(),
                review_findings: Default::default(),
                consent: Some(signed_consent(&questionnaire.consent.version)),
                witness_pin: None,
                abo_rh_note: None,
            }
            .into_new(PhysicianDecision::Accept, None),
        )?;
        // A 6-minute draw that has just ended, so the bag's collection time (which the
        // manifest and the processing limit count from) is not in the future; quick
        // enough for platelets at 300 and 400 mL (the slow-draw table: 7.5 and 10 min).
        let started_at = crate::now() - Duration::minutes(6);
        let planned = screening.planned_volume_ml.unwrap_or(400);
        let donation = store.record_donation(
            Actor::staff(crew.phlebotomist.id),
            NewDonation {
                screening_id: screening.id,
                bag_set: BagSet {
                    kind: BagSetKind::Triple,
                    lot: "DEMO-LOT-1".to_owned(),
                },
                planned_volume_ml: planned,
                collected_volume_ml: Some(planned),
                started_at,
                ended_at: Some(started_at + Duration::minutes(6)),
                phlebotomist_id: crew.phlebotomist.id,
                arm: if n % 2 == 0 { Arm::Left } else { Arm::Right },
                reactions: Vec::new(),
                outcome: Outcome::Complete,
            },
        )?;
        if release {
            label_and_release(store, &crew, donation.id)?;
        }
        on_donation(donation.id)
            .map_err(|e| StoreError::invalid("output", format!("cannot report donation: {e}")))?;
    }
    Ok(())
}
