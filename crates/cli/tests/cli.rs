//! The `lifebridge` command's contracts: output formats and exit codes other tools use.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn lifebridge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lifebridge"))
        .args(args)
        .output()
        .unwrap()
}

fn with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lifebridge"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn din_check_prints_din_and_check_character() {
    for text in [
        "G123498654321",
        "G1234 98 654321 H",
        "g123498654321h",
        "=G12349865432100",
    ] {
        let o = lifebridge(&["din", "check", text]);
        assert_eq!(o.status.code(), Some(0), "{text}: {}", stderr(&o));
        assert_eq!(stdout(&o), "G123498654321 H\n", "{text}");
    }
}

#[test]
fn din_check_refuses_a_wrong_check_character_with_the_reason() {
    let o = lifebridge(&["din", "check", "G123498654321 J"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    let err = stderr(&o);
    // The right character is not given away: it exists to prove the DIN was read.
    assert!(
        err.contains("does not match") && err.contains("'J'") && !err.contains("'H'"),
        "{err}"
    );
    let o = lifebridge(&["din", "check", "O123498654321"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).is_empty());
}

#[test]
fn din_make_builds_from_parts() {
    let o = lifebridge(&[
        "din",
        "make",
        "--facility",
        "G1234",
        "--year",
        "98",
        "--sequence",
        "654321",
    ]);
    assert_eq!(stdout(&o), "G123498654321 H\n");
    let o = lifebridge(&[
        "din",
        "make",
        "--facility",
        "G1234",
        "--year",
        "26",
        "--sequence",
        "1000000",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("sequence"), "{}", stderr(&o));
}

#[test]
fn id_check_prints_birth_date_and_sex() {
    let o = lifebridge(&["id", "check", "11010519491231002X"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"birth_date": "1949-12-31", "sex": "female"})
    );
    let o = lifebridge(&["id", "check", "110105194912310021"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("expected 'X'"), "{}", stderr(&o));
}

fn request(systolic: u32, hb: f64) -> String {
    serde_json::json!({
        "date": "2026-11-25",
        "donor": {"sex": "female", "birth_date": "1990-05-01"},
        "procedure": "whole_blood",
        "volume_ml": 400,
        "vitals": {"weight_kg": 52, "systolic_mmhg": systolic, "diastolic_mmhg": 75,
                   "pulse_bpm": 72, "temperature_c": 36.6},
        "tests": {"hemoglobin_g_l": hb, "alt_u_l": 20, "hbsag": "negative"},
        "history": [{"date": "2026-08-01", "procedure": "whole_blood", "volume_ml": 400}],
        "deferrals": []
    })
    .to_string()
}

#[test]
fn eligibility_reports_every_failing_rule_and_when_time_fixes_it() {
    let o = with_stdin(&["eligibility", "--lang", "en"], &request(120, 130.0));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["eligible"], false);
    assert_eq!(v["eligible_from"], "2027-02-01");
    assert_eq!(v["reasons"].as_array().unwrap().len(), 1, "{v}");

    let o = with_stdin(&["eligibility"], &request(140, 114.0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let codes: Vec<&str> = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 3, "{v}");
    assert!(
        codes.contains(&"SYSTOLIC_HIGH") && codes.contains(&"HEMOGLOBIN_LOW"),
        "{codes:?}"
    );
    assert_eq!(v["eligible_from"], serde_json::Value::Null);
    // zh-CN is the default language.
    assert!(
        v["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    );
}

#[test]
fn eligibility_exits_2_on_a_malformed_request() {
    let mut no_procedure: serde_json::Value = serde_json::from_str(&request(120, 130.0)).unwrap();
    no_procedure.as_object_mut().unwrap().remove("procedure");
    let no_procedure = no_procedure.to_string();
    for bad in ["", "{", "{\"date\": \"2026-11-25\"}", no_procedure.as_str()] {
        let o = with_stdin(&["eligibility"], bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?} -> {}", stdout(&o));
        assert!(stdout(&o).is_empty());
        assert!(stderr(&o).contains("malformed"), "{}", stderr(&o));
    }
    let negative_weight = request(120, 130.0).replace("\"weight_kg\":52", "\"weight_kg\":-3");
    let o = with_stdin(&["eligibility"], &negative_weight);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("weight_kg"), "{}", stderr(&o));
}

#[test]
fn store_commands_init_check_export_and_refuse_bad_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let p = path.to_str().unwrap();
    let run = |args: &[&str], key: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_lifebridge"));
        c.args(args).env_remove("LIFEBRIDGE_STORE_KEY");
        if let Some(k) = key {
            c.env("LIFEBRIDGE_STORE_KEY", k);
        }
        c.output().unwrap()
    };
    let o = run(&["store", "init", "--store", p], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("LIFEBRIDGE_STORE_KEY"),
        "{}",
        stderr(&o)
    );
    assert!(
        run(&["store", "init", "--store", p], Some("key-for-tests"))
            .status
            .success()
    );
    let o = run(&["store", "init", "--store", p], Some("key-for-tests"));
    assert!(
        stderr(&o).contains("refusing to overwrite"),
        "{}",
        stderr(&o)
    );

    let o = run(
        &["store", "demo", "--store", p, "--donations", "4"],
        Some("key-for-tests"),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let ids: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    assert_eq!(ids.len(), 4);

    let o = run(&["store", "check", "--store", p], Some("key-for-tests"));
    assert!(o.status.success(), "{}", stdout(&o));
    let o = run(&["store", "check", "--store", p], Some("not-the-key"));
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("key is wrong"), "{}", stderr(&o));

    let o = run(
        &[
            "store",
            "export",
            "--store",
            p,
            "--format",
            "csv",
            "--table",
            "donations",
        ],
        Some("key-for-tests"),
    );
    let csv = stdout(&o);
    assert_eq!(csv.lines().count(), 5, "{csv}");
    for id in &ids {
        assert!(csv.contains(id.as_str()));
    }
    let o = run(&["store", "export", "--store", p], Some("key-for-tests"));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["tables"]["donations"].as_array().unwrap().len(), 4);
    assert_eq!(v["tables"]["donors"].as_array().unwrap().len(), 4);

    // Tampering with the audit trail makes check fail, naming the entry.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "key", "key-for-tests").unwrap();
        conn.execute("DELETE FROM audit_log WHERE seq = 3", [])
            .unwrap();
    }
    let o = run(&["store", "check", "--store", p], Some("key-for-tests"));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("audit entry 3 is missing"),
        "{}",
        stdout(&o)
    );
}
