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
    with_stdin_lang(args, input, None)
}

/// Runs with the locale `lang` (`LANG`), or with none set, whatever the test's own is.
fn with_stdin_lang(args: &[&str], input: &str, lang: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lifebridge"));
    command
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG");
    if let Some(lang) = lang {
        command.env("LANG", lang);
    }
    let mut child = command
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
fn eligibility_speaks_the_locale_unless_told() {
    let message = |args: &[&str], lang| {
        let o = with_stdin_lang(args, &request(140, 114.0), lang);
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        v["reasons"][0]["message"].as_str().unwrap().to_owned()
    };
    let english = message(&["eligibility", "--lang", "en"], None);
    assert!(english.is_ascii(), "{english}");
    assert_eq!(message(&["eligibility"], Some("en_GB.UTF-8")), english);
    let chinese = message(&["eligibility"], Some("zh_CN.UTF-8"));
    assert_ne!(chinese, english);
    assert_eq!(message(&["eligibility"], Some("C.UTF-8")), chinese);
    assert_eq!(
        message(&["eligibility", "--lang", "zh-CN"], Some("en_US.UTF-8")),
        chinese
    );
}

#[test]
fn eligibility_says_which_reasons_are_waivable_and_which_products_are_excluded() {
    // Apheresis platelets 8 days after the last: the one waivable rule (GB 18467, 1 week
    // for special matching), with aspirin taken 2 days ago (platelets excluded).
    let request = serde_json::json!({
        "date": "2026-11-25",
        "donor": {"sex": "male", "birth_date": "1990-05-01"},
        "procedure": "apheresis_platelets",
        "vitals": {"weight_kg": 70, "systolic_mmhg": 120, "diastolic_mmhg": 75,
                   "pulse_bpm": 72, "temperature_c": 36.6},
        "tests": {"hemoglobin_g_l": 140, "hbsag": "not_done", "hematocrit": 0.42,
                  "platelet_count_10e9_l": 250},
        "history": [{"date": "2026-11-17", "procedure": "apheresis_platelets", "volume_ml": 250}],
        "deferrals": [{"code": "ANTIPLATELET_DRUG", "until": "2026-11-28"}]
    });
    let o = with_stdin(&["eligibility", "--lang", "en"], &request.to_string());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let reasons = v["reasons"].as_array().unwrap();
    let waivable: Vec<(&str, bool)> = reasons
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap(),
                r["waivable"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        waivable,
        [("INTERVAL_NOT_MET", true), ("DEFERRAL_ACTIVE", false)],
        "{v}"
    );
    assert_eq!(
        v["excluded_products"],
        serde_json::json!(["platelet_whole_blood", "apheresis_platelets"])
    );
    // Whole blood the same day: platelets excluded, the donation itself is not refused
    // by the drug (only by the apheresis → whole blood interval, a hard stop).
    let mut wb = request;
    wb["procedure"] = serde_json::json!("whole_blood");
    wb["volume_ml"] = serde_json::json!(400);
    let o = with_stdin(&["eligibility"], &wb.to_string());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let codes: Vec<&str> = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["INTERVAL_NOT_MET"], "{v}");
    assert_eq!(v["reasons"][0]["waivable"], false);
    assert_eq!(v["excluded_products"].as_array().unwrap().len(), 2);
}

#[test]
fn rules_show_lists_every_deferral_with_period_scope_and_waivable() {
    let o = lifebridge(&["rules", "show", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["version"], "GB18467-2011/2");
    assert_eq!(v["region"], "CN");
    let deferrals = v["deferrals"].as_array().unwrap();
    assert!(deferrals.len() >= 40, "{}", deferrals.len());
    for d in deferrals {
        for key in ["code", "kind", "period", "scope", "waivable", "zh", "en"] {
            assert!(d.get(key).is_some(), "{key} missing in {d}");
        }
    }
    let find = |code: &str| deferrals.iter().find(|d| d["code"] == code).unwrap();
    assert_eq!(find("HBSAG_POSITIVE")["kind"], "permanent");
    assert_eq!(find("HBSAG_POSITIVE")["period"], "permanent");
    assert_eq!(find("HBSAG_POSITIVE")["waivable"], false);
    assert_eq!(find("TOOTH_EXTRACTION")["kind"], "temporary");
    assert_eq!(
        find("TOOTH_EXTRACTION")["period"],
        serde_json::json!({"days": 14})
    );
    assert_eq!(
        find("ANTIPLATELET_DRUG")["scope"],
        serde_json::json!({"products": ["platelet_whole_blood", "apheresis_platelets"]})
    );
    assert_eq!(find("COMMON_COLD")["scope"], "all");
    assert_eq!(
        v["waivable_intervals"],
        serde_json::json!([{"from_procedure": "apheresis_platelets",
            "to_procedure": "apheresis_platelets", "period": {"days": 14},
            "waivable_to": {"days": 7}}])
    );

    let o = lifebridge(&["rules", "show"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("HBSAG_POSITIVE\tpermanent"), "{text}");
    assert!(text.contains("a physician may approve 7 days"), "{text}");

    let variant = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/rules/provincial-example.json"
    );
    let o = lifebridge(&["rules", "show", "--json", "--rules", variant]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["region"], "CN-ZJ");
    assert_eq!(v["effective_from"], "2026-07-01");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"version\": \"x\"}").unwrap();
    let o = lifebridge(&["rules", "show", "--rules", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("bad.json"), "{}", stderr(&o));
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

/// A request for a woman with nothing else failing (no history), with these answers
/// to the built-in questionnaire.
fn request_with_answers(answers: serde_json::Value) -> String {
    let mut r: serde_json::Value = serde_json::from_str(&request(120, 130.0)).unwrap();
    r["history"] = serde_json::json!([]);
    r["questionnaire"] = serde_json::json!({"version": "GB18467-2011-Q1", "answers": answers});
    r.to_string()
}

/// "Nothing to declare" for a woman, from `questionnaire show --json`: each question
/// without a `when`, answered so that it means nothing.
fn nothing_to_declare() -> serde_json::Value {
    let o = lifebridge(&["questionnaire", "show", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let mut answers = serde_json::Map::new();
    for q in doc["questions"].as_array().unwrap() {
        if !q["when"].is_null() {
            continue;
        }
        // "yes" only where "no" is the answer that means something (feel well?).
        let means_no = q["meanings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["answer"] == "no");
        answers.insert(
            q["id"].as_str().unwrap().to_owned(),
            serde_json::Value::Bool(means_no),
        );
    }
    serde_json::Value::Object(answers)
}

#[test]
fn questionnaire_show_gives_every_question_with_what_its_answers_mean() {
    let o = lifebridge(&["questionnaire", "show"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("GB18467-2011-Q1"), "{text}");
    assert!(text.contains("tattoo\tyes/no"), "{text}");
    assert!(
        text.contains("yes → defer TATTOO (12 months, from tattoo_when)"),
        "{text}"
    );
    assert!(text.contains("asked of female donors only"), "{text}");
    assert!(text.contains("antiplatelet_when"), "{text}");
    assert!(
        text.contains("excludes platelet_whole_blood, apheresis_platelets"),
        "{text}"
    );

    let o = lifebridge(&["questionnaire", "show", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let tattoo = v["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "tattoo")
        .unwrap();
    assert_eq!(tattoo["type"], "yes_no");
    assert_eq!(
        tattoo["text"]["en"],
        "In the last year, have you had a tattoo, permanent make-up or a piercing?"
    );
    assert_eq!(tattoo["meanings"][0]["defer"], "TATTOO");
    assert_eq!(tattoo["meanings"][0]["period"]["months"], 12);
    assert_eq!(tattoo["meanings"][0]["from"], "tattoo_when");

    // A broken document names the place; a code the rules table lacks fails the show.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("q.json");
    let doc = lifebridge_domain::questionnaire::BUILT_IN_JSON.replace(
        "\"question\": \"tattoo\"",
        "\"question\": \"no_such_question\"",
    );
    std::fs::write(&bad, doc).unwrap();
    let o = lifebridge(&["questionnaire", "show", "--file", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("question tattoo_when when.question"),
        "{}",
        stderr(&o)
    );
    let doc = lifebridge_domain::questionnaire::BUILT_IN_JSON.replace("\"TATTOO\"", "\"TATOO\"");
    std::fs::write(&bad, doc).unwrap();
    let o = lifebridge(&["questionnaire", "show", "--file", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("TATOO is not in the deferral catalogue"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn eligibility_reports_what_the_questionnaire_answers_mean() {
    let mut answers = nothing_to_declare();
    let o = with_stdin(
        &["eligibility", "--lang", "en"],
        &request_with_answers(answers.clone()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["eligible"], true, "{v}");

    // A tattoo three months before 2026-11-25: deferred until a year after it.
    answers["tattoo"] = serde_json::json!(true);
    answers["tattoo_when"] = serde_json::json!({"ago": 3, "unit": "months"});
    let o = with_stdin(
        &["eligibility", "--lang", "en"],
        &request_with_answers(answers.clone()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["eligible"], false);
    assert_eq!(v["reasons"][0]["code"], "QUESTIONNAIRE_DEFERRAL");
    assert_eq!(v["reasons"][0]["deferral_code"], "TATTOO");
    assert_eq!(v["reasons"][0]["eligible_from"], "2027-08-25");
    assert_eq!(v["eligible_from"], "2027-08-25");
    assert!(
        v["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("deferred until 2027-08-25"),
        "{v}"
    );

    // Unanswered follow-up: not eligible, no date.
    answers.as_object_mut().unwrap().remove("tattoo_when");
    let o = with_stdin(
        &["eligibility", "--lang", "en"],
        &request_with_answers(answers.clone()),
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["reasons"][0]["code"], "QUESTIONNAIRE_INCOMPLETE", "{v}");
    assert_eq!(v["eligible_from"], serde_json::Value::Null);

    // Unknown question and wrong type: request errors naming the question, exit 2.
    for (q, value, expect) in [
        (
            "favourite_colour",
            serde_json::json!("red"),
            "questionnaire.answers.favourite_colour",
        ),
        (
            "feel_well",
            serde_json::json!("yes"),
            "questionnaire.answers.feel_well",
        ),
    ] {
        let mut a = nothing_to_declare();
        a[q] = value;
        let o = with_stdin(&["eligibility"], &request_with_answers(a));
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        assert!(stderr(&o).contains(expect), "{}", stderr(&o));
    }
}
