//! The command layer's checks without a window: an `AppState` on a real store file, the
//! session set as sign-in would.
#![allow(clippy::unwrap_used)]

use crate::state::AppState;
use lifebridge_store::{Store, StoreError, StoreKey};

/// The one set-up of these tests: an `AppState` on a new store file in a folder of its
/// own (removed on drop), unlocked, with nobody signed in.
struct TestApp {
    state: AppState,
    dir: std::path::PathBuf,
}

impl TestApp {
    fn new() -> TestApp {
        let dir = std::env::temp_dir().join(format!("lifebridge-cmd-{}", uuid::Uuid::now_v7()));
        let state = AppState::new(dir.join("device.db"), "BUS-TEST".into());
        state
            .create_store(&StoreKey::new("correct horse battery").unwrap())
            .unwrap();
        TestApp { state, dir }
    }

    /// Set-up or a look at the store behind the commands, outside any command.
    fn store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T, StoreError>) -> T {
        self.state.with_store(|s| Ok(f(s)?)).unwrap()
    }

    /// The training drive with `donations` donations (`lifebridge store demo`); their ids.
    fn seed_demo(&self, donations: u32) -> Vec<lifebridge_domain::entities::RecordId> {
        let mut ids = Vec::new();
        self.store(|store| {
            lifebridge_store::demo::seed(store, donations, |id| {
                ids.push(id);
                Ok(())
            })
        });
        ids
    }
}

/// The station's record of supervisor account `id` ("护士长 孙艳", PIN 7531), open or
/// closed, as a pull carries it, stamped `wall_ms` by `station`.
pub(crate) fn station_account(
    id: uuid::Uuid,
    station: uuid::Uuid,
    active: bool,
    wall_ms: u64,
) -> lifebridge_protocol::records::RemoteRecord {
    use lifebridge_domain::entities::{Role, Staff};
    use lifebridge_protocol::records::{RemoteKind, RemoteRecord, StaffAccount};
    RemoteRecord {
        kind: RemoteKind::Staff,
        id,
        origin_device: station,
        hlc: lifebridge_domain::hlc::Hlc {
            wall_ms,
            counter: 0,
            node: station,
        },
        body: serde_json::to_string(&StaffAccount {
            staff: Staff {
                id,
                display_name: "护士长 孙艳".into(),
                roles: vec![Role::Supervisor],
                active,
            },
            pin_hash: lifebridge_domain::pin::hash_pin("753186", &[3; 16]).unwrap(),
        })
        .unwrap(),
        field_clocks: None,
        target_device: None,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

mod manual_entry {
    //! The command layer's checks of manual entry, without a window: an `AppState` on a
    //! real store file, the session set as sign-in would.
    use super::TestApp;
    use crate::commands::collection::manual_label_entry_checked;
    use crate::commands::transport::pack_bag_manual_checked;
    use crate::error::CommandError;
    use lifebridge_domain::entities::RecordId;
    use lifebridge_store::{Actor, demo};

    /// The training drive's first donation, with its phlebotomist and driver.
    struct Fixture {
        app: TestApp,
        phleb: lifebridge_domain::entities::Staff,
        driver: lifebridge_domain::entities::Staff,
        donation: lifebridge_domain::entities::Donation,
    }

    impl std::ops::Deref for Fixture {
        type Target = TestApp;
        fn deref(&self) -> &TestApp {
            &self.app
        }
    }

    fn fixture() -> Fixture {
        let app = TestApp::new();
        let ids = app.seed_demo(1);
        let (phleb, driver, donation) = app.store(|store| {
            Ok((
                store.staff_by_name("采血护士 张静")?.unwrap(),
                store.staff_by_name("司机 刘洋")?.unwrap(),
                store.donation(ids[0])?.unwrap(),
            ))
        });
        Fixture {
            app,
            phleb,
            driver,
            donation,
        }
    }

    fn chair_entry(f: &Fixture, witness: RecordId) -> lifebridge_store::labels::ManualLabelEntry {
        lifebridge_store::labels::ManualLabelEntry {
            piece: lifebridge_domain::label_piece::LabelPiece::new(
                lifebridge_domain::label_piece::LabelKind::Bag,
                1,
            ),
            typed: format!(
                "{} {}",
                f.donation.din.as_str(),
                f.donation.din.check_char()
            ),
            reason: "label smudged".into(),
            witness,
            witness_pin: demo::DEMO_PIN.into(),
        }
    }

    #[test]
    fn chair_manual_entry_needs_the_phlebotomist_and_another_witness() {
        let f = fixture();
        let entry = chair_entry(&f, f.phleb.id);
        // Nobody signed in.
        let err = manual_label_entry_checked(&f.state, f.donation.id, &entry)
            .err()
            .unwrap();
        assert_eq!(err.code, "signed_out");
        // The driver may not verify labels at the chair.
        f.state.set_session(Some(f.driver.clone()));
        let err =
            manual_label_entry_checked(&f.state, f.donation.id, &chair_entry(&f, f.driver.id))
                .err()
                .unwrap();
        assert_eq!(err.code, "forbidden");
        // The phlebotomist cannot witness their own entry: refused before the store.
        f.state.set_session(Some(f.phleb.clone()));
        let err = manual_label_entry_checked(&f.state, f.donation.id, &entry)
            .err()
            .unwrap();
        assert_eq!(
            (err.code, err.field.as_deref()),
            ("manual_refused", Some("witness"))
        );
        // The screen renders the catalogue's text in its language.
        let text = err.text.unwrap();
        assert_eq!(text.code, "manual.witness_same_person");
        assert_eq!(
            text.render(lifebridge_domain::messages::Lang::ZhCn),
            "须由另一名工作人员确认，不能是已登录的本人"
        );
    }

    #[test]
    fn chair_refusals_reach_the_screen_as_catalogue_text() {
        use lifebridge_domain::messages::{Lang, Message};
        use lifebridge_store::labels::LabelError;

        let din = "G123426000001";
        let err = CommandError::from(LabelError::AlreadyReleased { din: din.into() });
        assert_eq!(err.code, "labels");
        assert_eq!(
            err.message,
            format!("donation {din} was already released from the chair")
        );
        let text = err.text.unwrap();
        assert_eq!(
            *text,
            Message::new("chair.already_released").with("din", din)
        );
        assert_eq!(
            text.render(Lang::ZhCn),
            format!("{din} 的血袋已经离开采血位（已放行）")
        );
    }

    #[test]
    fn packing_by_manual_entry_needs_the_driver_and_another_witness() {
        let f = fixture();
        f.state.set_session(Some(f.driver.clone()));
        let box_id = f
            .state
            .with_store(|s| {
                Ok(s.open_box(
                    Actor::staff(f.driver.id),
                    f.donation.drive_id,
                    "BOX-R1",
                    lifebridge_domain::product::ProductClass::RedCellWholeBlood,
                )
                .map_err(CommandError::from)?
                .id)
            })
            .unwrap();
        let entry =
            |witness: RecordId, typed: String| lifebridge_store::cold_chain::ManualPackEntry {
                typed,
                reason: "label torn".into(),
                witness,
                witness_pin: demo::DEMO_PIN.into(),
            };
        let typed = format!(
            "{} {}",
            f.donation.din.as_str(),
            f.donation.din.check_char()
        );
        // The signed-in driver as their own witness: refused in the command layer.
        let err = pack_bag_manual_checked(&f.state, box_id, &entry(f.driver.id, typed.clone()))
            .err()
            .unwrap();
        assert_eq!(
            (err.code, err.field.as_deref()),
            ("manual_refused", Some("witness"))
        );
        // A phlebotomist may not pack.
        f.state.set_session(Some(f.phleb.clone()));
        let err = pack_bag_manual_checked(&f.state, box_id, &entry(f.driver.id, typed.clone()))
            .err()
            .unwrap();
        assert_eq!(err.code, "forbidden");
        // The driver with the nurse as witness, but the DIN without its check character:
        // the store refuses, and the code says it was the manual entry.
        f.state.set_session(Some(f.driver.clone()));
        let err = pack_bag_manual_checked(
            &f.state,
            box_id,
            &entry(f.phleb.id, f.donation.din.as_str().to_owned()),
        )
        .err()
        .unwrap();
        assert_eq!(err.code, "manual_refused");
        // All of it: packed, and the transport view lists the bag in its box.
        let view = pack_bag_manual_checked(&f.state, box_id, &entry(f.phleb.id, typed)).unwrap();
        let json = serde_json::to_value(&view).unwrap();
        assert!(json.to_string().contains(f.donation.din.as_str()));
        // A scan of the bag label's data without the AIM prefix is not a scan.
        let err = f
            .state
            .with_store(|s| {
                s.pack_bag(
                    Actor::staff(f.driver.id),
                    box_id,
                    &format!("={}01", f.donation.din.as_str()),
                )
                .map_err(CommandError::from)
            })
            .err()
            .unwrap();
        assert_eq!(err.code, "not_scanned");
    }
}

mod screening {
    //! The command layer refuses every hard stop itself, before the store (which refuses
    //! them again), with the code the screen translates.

    use lifebridge_domain::entities::{PhysicianDecision, RapidTests, Role, SiteKind};
    use lifebridge_domain::measurements::{TestResult, Vitals};
    use lifebridge_domain::resident_id::IdentityDocument;
    use lifebridge_domain::rules::RuleSet;
    use lifebridge_store::records::{DonorDetails, NewDonor, NewDrive, NewStaff};
    use lifebridge_store::{Actor, china_today};

    use super::TestApp;
    use crate::commands::checkin::check_in_with;
    use crate::commands::screening::record_screening_with;
    use crate::error::CommandError;
    use lifebridge_domain::Procedure;
    use lifebridge_domain::eligibility::Decision;
    use lifebridge_domain::entities::{RecordId, Screening, Staff};
    use lifebridge_store::screens::{ScreeningForm, refuse_decision};

    /// The command layer's refusal as the screen gets it.
    fn refuse(
        rules: &RuleSet,
        date: chrono::NaiveDate,
        decision: &Decision,
        physician: &PhysicianDecision,
        pin: Option<&str>,
    ) -> Result<(), CommandError> {
        refuse_decision(rules, date, decision, physician, pin).map_err(CommandError::from)
    }

    /// A drive at 城关中学 today with its physician and registration nurse.
    struct Fixture {
        app: TestApp,
        drive: RecordId,
        physician: Staff,
        nurse: Staff,
    }

    impl std::ops::Deref for Fixture {
        type Target = TestApp;
        fn deref(&self) -> &TestApp {
            &self.app
        }
    }

    fn fixture() -> Fixture {
        let app = TestApp::new();
        let (physician, nurse, drive) = app.store(|s| {
            let add = |s: &mut lifebridge_store::Store, name: &str, role| {
                s.add_staff(
                    Actor::system(),
                    NewStaff {
                        display_name: name.into(),
                        roles: vec![role],
                        pin: "246813".into(),
                    },
                )
            };
            let physician = add(s, "王强", Role::Physician)?;
            let nurse = add(s, "李敏", Role::Registration)?;
            let drive = s.start_drive(
                Actor::staff(nurse.id),
                NewDrive {
                    site_name: "城关中学".into(),
                    site_kind: SiteKind::Vehicle,
                    vehicle: Some("BUS-07".into()),
                    date: china_today(),
                    crew: vec![physician.id, nurse.id],
                },
            )?;
            Ok((physician, nurse, drive.id))
        });
        Fixture {
            app,
            drive,
            physician,
            nurse,
        }
    }

    /// The waiver of a positive HBsAg, which no one may give.
    fn waive_hbsag() -> PhysicianDecision {
        PhysicianDecision::Override {
            overridden_codes: vec!["HBSAG_POSITIVE".into()],
            reason: "rechecked".into(),
        }
    }

    /// The deferral that answers a positive HBsAg.
    fn defer_hbsag() -> PhysicianDecision {
        PhysicianDecision::Defer {
            code: "HBSAG_POSITIVE".into(),
            until: None,
        }
    }

    /// The core's verdict on donor `d` screened HBsAg positive.
    fn positive_verdict(f: &Fixture, d: RecordId) -> Decision {
        // The form reads the store itself: built before the store is held.
        let positive = form(f, d, TestResult::Positive);
        f.store(|s| s.evaluate_form(&positive))
    }

    /// Donor `d` screened HBsAg positive and deferred for it by the signed-in physician.
    fn record_deferred(f: &Fixture, d: RecordId) -> Screening {
        record_screening_with(
            &f.state,
            form(f, d, TestResult::Positive),
            defer_hbsag(),
            None,
        )
        .unwrap()
    }

    fn donor(f: &Fixture, n: u64) -> RecordId {
        let number = lifebridge_store::demo::synthetic_resident_id(n, china_today());
        f.store(|s| {
            Ok(s.register_donor(
                Actor::staff(f.nurse.id),
                NewDonor {
                    document: IdentityDocument::parse("resident_id", &number, china_today())
                        .unwrap(),
                    details: DonorDetails::named(format!("献血者{n}")),
                },
            )?
            .id)
        })
    }

    fn form(f: &Fixture, donor_id: RecordId, hbsag: TestResult) -> ScreeningForm {
        // A donor with nothing to declare in the questionnaire: only the test result
        // decides here.
        let (questionnaire, sex) = f.store(|s| {
            let sex = s
                .donor(donor_id)?
                .map_or(lifebridge_domain::Sex::Male, |d| d.sex);
            Ok((s.questionnaire()?, sex))
        });
        ScreeningForm {
            donor_id,
            drive_id: f.drive,
            procedure: Procedure::WholeBlood,
            planned_volume_ml: Some(400),
            answers: questionnaire.nothing_to_declare(sex),
            questionnaire_version: questionnaire.version,
            vitals: Vitals {
                weight_kg: 70.0,
                systolic_mmhg: 120.0,
                diastolic_mmhg: 80.0,
                pulse_bpm: 72.0,
                temperature_c: 36.6,
            },
            tests: RapidTests {
                hemoglobin_g_l: Some(140.0),
                hbsag: Some(hbsag),
                ..RapidTests::default()
            },
            athlete: false,
            restrictions: Vec::new(),
            review_findings: Default::default(),
            consent: Some(lifebridge_store::demo::signed_consent(
                &lifebridge_domain::questionnaire::built_in().consent.version,
            )),
            witness_pin: None,
            abo_rh_note: None,
        }
    }

    fn screenings(f: &Fixture) -> i64 {
        f.store(|s| {
            Ok(s.connection()
                .query_row("SELECT COUNT(*) FROM screening", [], |r| r.get(0))?)
        })
    }

    #[test]
    fn refuse_decision_names_every_hard_stop_before_the_store_is_asked() {
        let f = fixture();
        let d = donor(&f, 1);
        let decision = positive_verdict(&f, d);
        let rules = RuleSet::gb18467_2011();
        for physician in [PhysicianDecision::Accept, waive_hbsag()] {
            let err =
                refuse(&rules, china_today(), &decision, &physician, Some("246813")).unwrap_err();
            assert_eq!(err.code, "hard_stop");
            assert_eq!(err.detail["codes"], serde_json::json!(["HBSAG_POSITIVE"]));
        }
        let cold = PhysicianDecision::Defer {
            code: "COMMON_COLD".into(),
            until: None,
        };
        let err = refuse(&rules, china_today(), &decision, &cold, None).unwrap_err();
        assert_eq!(err.code, "deferral_mismatch");
        assert!(refuse(&rules, china_today(), &decision, &defer_hbsag(), None).is_ok());
    }

    #[test]
    fn record_screening_refuses_hard_stops_and_writes_nothing() {
        let f = fixture();
        f.state.set_session(Some(f.physician.clone()));
        let d = donor(&f, 2);
        let err = record_screening_with(
            &f.state,
            form(&f, d, TestResult::Positive),
            waive_hbsag(),
            Some("246813".into()),
        )
        .unwrap_err();
        assert_eq!(err.code, "hard_stop");
        let err = record_screening_with(
            &f.state,
            form(&f, d, TestResult::Positive),
            PhysicianDecision::Accept,
            None,
        )
        .unwrap_err();
        assert_eq!(err.code, "hard_stop");
        assert_eq!(screenings(&f), 0);
        // The view tells the screen why there is no waiver button.
        let view = positive_verdict(&f, d);
        assert!(!view.is_waivable());
        let deferred = record_deferred(&f, d);
        assert!(!deferred.decision.permits_donation());
    }

    #[test]
    fn the_slip_is_that_of_the_deferral_the_screening_recorded() {
        let f = fixture();
        f.state.set_session(Some(f.physician.clone()));
        let d = donor(&f, 4);
        let deferred = record_deferred(&f, d);
        let facts = f.store(|s| s.deferral_slip_facts(deferred.id)).unwrap();
        assert_eq!(facts.slip.code, "HBSAG_POSITIVE");
        assert_eq!(facts.slip.donor_name, "献血者4");
        assert_eq!(facts.slip.physician_name, "王强");
        assert_eq!(facts.slip.site_name, "城关中学");
        assert_eq!(facts.slip.date, china_today());
        assert_eq!(facts.slip.until, None);
    }

    #[test]
    fn check_in_of_a_donor_inside_an_interval_needs_a_confirmation() {
        let f = fixture();
        let d = donor(&f, 3);
        f.store(|s| {
            s.record_deferral(
                Actor::staff(f.physician.id),
                lifebridge_store::screening::NewDeferral {
                    donor_id: d,
                    code: "TATTOO".into(),
                    reason: "tattoo".into(),
                    start: china_today(),
                    until: None,
                },
            )
        });
        f.state.set_session(Some(f.nurse.clone()));
        let err = check_in_with(&f.state, f.drive, d, None).unwrap_err();
        assert_eq!(err.code, "checkin_needs_confirmation");
        assert_eq!(err.field.as_deref(), Some("confirmation"));
        assert!(err.detail["next_eligible"].is_string());
        let err = check_in_with(&f.state, f.drive, d, Some("  ".into())).unwrap_err();
        assert_eq!(err.code, "checkin_needs_confirmation");
        check_in_with(
            &f.state,
            f.drive,
            d,
            Some("asked to see the physician".into()),
        )
        .unwrap();
    }
}

mod exports {
    //! Files leave the encrypted store only when someone asks: each is named, readable
    //! by this user only, and audited; a closed account exports nothing.
    use super::{TestApp, station_account};
    use crate::commands::summary::export_drive_summary_checked;
    use uuid::Uuid;

    /// The files beside the store, by name relative to its folder.
    fn files(app: &TestApp) -> Vec<String> {
        fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    let name = path.strip_prefix(root).unwrap();
                    out.push(name.display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(&app.dir, &app.dir, &mut out);
        out.sort();
        out
    }

    #[test]
    fn a_drive_summary_is_written_only_when_asked_and_the_export_is_audited() {
        let app = TestApp::new();
        let ids = app.seed_demo(1);
        let (nurse, donation) = app.store(|store| {
            Ok((
                store.staff_by_name("采血护士 张静")?.unwrap(),
                store.donation(ids[0])?.unwrap(),
            ))
        });
        // A whole drive day of actions wrote nothing but the store itself.
        assert!(
            files(&app).iter().all(|f| f.starts_with("device.db")),
            "{:?}",
            files(&app)
        );
        app.state.set_session(Some(nurse.clone()));
        let written = export_drive_summary_checked(&app.state, donation.drive_id).unwrap();
        let path = std::path::PathBuf::from(&written);
        assert!(path.starts_with(app.dir.join("exports")), "{written}");
        let exported: Vec<_> = files(&app)
            .into_iter()
            .filter(|f| !f.starts_with("device.db"))
            .collect();
        assert_eq!(exported.len(), 1, "{exported:?}");
        assert!(
            written.ends_with(&exported[0]),
            "the answer names the file written"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by this user only: {mode:o}");
        }
        let audit = app.store(|s| lifebridge_store::audit::entries(s.connection()));
        let last = audit.last().unwrap();
        assert_eq!(last.action, "file.export");
        assert_eq!(last.staff_id, Some(nurse.id.to_string()));
        assert!(last.detail.contains(&written), "{}", last.detail);
    }

    #[test]
    fn a_closed_account_exports_nothing_and_is_told_why() {
        let app = TestApp::new();
        let ids = app.seed_demo(1);
        let drive = app.store(|store| Ok(store.donation(ids[0])?.unwrap().drive_id));
        let (id, station) = (Uuid::now_v7(), Uuid::now_v7());
        let now = chrono::Utc::now().timestamp_millis() as u64;
        app.store(|s| s.apply_remote(&[station_account(id, station, true, now)], 1));
        let boss = app.store(|s| s.sign_in(id, "753186")).unwrap();
        app.state.set_session(Some(boss));
        // Closed at the station; the tablet hears of it while she is signed in.
        app.store(|s| s.apply_remote(&[station_account(id, station, false, now + 1)], 2));
        let err = export_drive_summary_checked(&app.state, drive).unwrap_err();
        assert_eq!(err.code, "inactive");
        let text = err.text.unwrap();
        assert_eq!(text.code, "session.account_closed");
        assert!(
            lifebridge_domain::messages::render(&text, lifebridge_domain::messages::Lang::En)
                .contains("护士长 孙艳"),
        );
        assert!(
            files(&app).iter().all(|f| f.starts_with("device.db")),
            "{:?}",
            files(&app)
        );
        // Signed out: the next command asks for a sign-in.
        assert_eq!(
            export_drive_summary_checked(&app.state, drive)
                .unwrap_err()
                .code,
            "signed_out"
        );
    }
}

mod camera_scan {
    //! `scan_camera` without a camera: the image files of `LIFEBRIDGE_CAMERA_FILES` are
    //! its frames; a frame with a QR gives the code's text, none gives the catalogue's
    //! "nothing found", and no files in a build without the camera say so.
    use crate::commands::checkin::{CAMERA_SECONDS, scan_frames};
    use image::{GrayImage, Luma};

    /// A 1280×720 grey frame with `data`'s QR in it (6 px modules), or with nothing.
    fn frame(dir: &std::path::Path, name: &str, data: Option<&str>) -> std::path::PathBuf {
        let mut img = GrayImage::from_pixel(1280, 720, Luma([150]));
        if let Some(data) = data {
            let m = lifebridge_print::symbols::qr_matrix(data).unwrap();
            let scale = 6;
            for y in 0..(m.width + 8) * scale {
                for x in 0..(m.width + 8) * scale {
                    let (mx, my) = ((x / scale) as i64 - 4, (y / scale) as i64 - 4);
                    let w = m.width as i64;
                    let dark = (0..w).contains(&mx)
                        && (0..w).contains(&my)
                        && m.modules[(my * w + mx) as usize];
                    img.put_pixel(
                        100 + x as u32,
                        100 + y as u32,
                        Luma([if dark { 20 } else { 235 }]),
                    );
                }
            }
        }
        let path = dir.join(name);
        img.save(&path).unwrap();
        path
    }

    #[test]
    fn the_first_frame_with_a_qr_gives_its_text() {
        let dir = tempfile::tempdir().unwrap();
        let blank = frame(dir.path(), "0.png", None);
        let code = frame(dir.path(), "1.png", Some("LBQ1:EXAMPLE"));
        let files = std::env::join_paths([blank, code]).unwrap();
        assert_eq!(scan_frames(Some(files)).unwrap(), "LBQ1:EXAMPLE");
    }

    #[test]
    fn frames_without_a_qr_end_in_the_catalogue_s_nothing_found() {
        let dir = tempfile::tempdir().unwrap();
        let blank = frame(dir.path(), "0.png", None);
        let err = scan_frames(Some(blank.into_os_string())).unwrap_err();
        assert_eq!(err.code, "camera");
        let text = err.text.unwrap();
        assert_eq!(text.code, "checkin.camera_nothing_found");
        assert!(
            err.message.contains(&CAMERA_SECONDS.to_string()),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_unreadable_file_or_no_camera_is_the_catalogue_s_unavailable() {
        let err = scan_frames(Some("/nonexistent/frame.png".into())).unwrap_err();
        assert_eq!(err.text.unwrap().code, "checkin.camera_unavailable");
        #[cfg(not(feature = "camera"))]
        {
            let err = scan_frames(None).unwrap_err();
            assert_eq!(err.text.unwrap().code, "checkin.camera_unavailable");
            assert!(err.message.contains("camera"), "{}", err.message);
        }
    }
}
