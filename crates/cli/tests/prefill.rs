//! `lifebridge prefill read`: a pre-fill QR read from a picture, printed as JSON; a code
//! not for today refused with the day it is for (exit 1).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::{Command, Output};

use chrono::NaiveDate;
use image::{GrayImage, Luma};
use lifebridge_domain::resident_id::IdentityDocument;
use lifebridge_protocol::prefill_code::{self, Prefill};

/// `lifebridge prefill read` with `args`, then `more`.
fn read_with(args: &[&str], more: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifebridge"))
        .args(["prefill", "read"])
        .args(args)
        .args(more)
        .output()
        .unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The code drawn as a phone shows it: 6 px modules, 4-module quiet zone, on a grey
/// 1280×720 frame.
fn picture(code: &str) -> GrayImage {
    let m = lifebridge_print::symbols::qr_matrix(code).unwrap();
    let mut frame = GrayImage::from_pixel(1280, 720, Luma([150]));
    let scale = 4u32;
    let side = (m.width as u32 + 8) * scale;
    let (x0, y0) = ((1280 - side) / 2, (720 - side) / 2);
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = ((x / scale) as i64 - 4, (y / scale) as i64 - 4);
            let inside = (0..m.width as i64).contains(&mx) && (0..m.width as i64).contains(&my);
            let dark = inside && m.modules[my as usize * m.width + mx as usize];
            frame.put_pixel(x0 + x, y0 + y, Luma([if dark { 20 } else { 235 }]));
        }
    }
    frame
}

#[test]
fn reads_a_picture_of_the_code_and_refuses_it_another_day() {
    let today = day("2026-12-05");
    let p = Prefill {
        questionnaire_version: "GB18467-2011-Q1".into(),
        valid_on: today,
        document: IdentityDocument::parse("resident_id", "11010519491231002X", today).unwrap(),
        name: "张三".into(),
        sex: None,
        birth_date: None,
        phone: Some("13800138000".into()),
        answers: BTreeMap::from([
            ("tattoo".to_owned(), serde_json::json!(true)),
            (
                "tattoo_when".to_owned(),
                serde_json::json!({"ago": 3, "unit": "months"}),
            ),
        ]),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("code.png");
    picture(&prefill_code::encode(&p)).save(&path).unwrap();
    let path = path.to_str().unwrap();

    let out = read_with(&[path, "--today", "2026-12-05"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read["document"]["number"], "11010519491231002X");
    assert_eq!(read["name"], "张三");
    // The number says who: a woman born 1949-12-31.
    assert_eq!(read["sex"], "female");
    assert_eq!(read["birth_date"], "1949-12-31");
    assert_eq!(read["answers"]["tattoo_when"]["ago"], 3);
    assert_eq!(read["valid_on"], "2026-12-05");

    let out = read_with(&[path, "--today", "2026-12-06", "--lang", "en"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("was for 2026-12-05 only"), "{err}");

    // A code answering a questionnaire version this computer does not hold is refused,
    // unless that document is given.
    let mut other = p.clone();
    other.questionnaire_version = "GB18467-2011-Q9".into();
    let code = prefill_code::encode(&other);
    let args = ["--text", &code, "--today", "2026-12-05", "--lang", "en"];
    let out = read_with(&args, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("version GB18467-2011-Q9"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = dir.path().join("q9.json");
    std::fs::write(
        &doc,
        lifebridge_domain::questionnaire::BUILT_IN_JSON.replacen(
            "GB18467-2011-Q1",
            "GB18467-2011-Q9",
            1,
        ),
    )
    .unwrap();
    let out = read_with(&args, &["--questionnaire", doc.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The scanned text itself, as a 2-D hand scanner types it.
    let out = read_with(&["--text", "LBQ2:BB8", "--lang", "en"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("format LBQ2"));
}
