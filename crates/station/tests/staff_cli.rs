//! `lifebridge-station staff add`: the PIN from standard input, specific refusals that
//! write nothing, and unique names (a name is what a hand-off is signed with).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `lifebridge-station --lang en --data-dir DATA ARGS…` with `stdin`; answers
/// whether it succeeded and everything it printed.
fn station(data: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String) {
    station_in("en", data, args, stdin)
}

/// [`station`] with refusals in `lang`.
fn station_in(lang: &str, data: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lifebridge-station"))
        .args(["--lang", lang, "--data-dir"])
        .arg(data)
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
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn staff_add(data: &std::path::Path, name: &str, role: &str, pin: &str) -> (bool, String) {
    station(
        data,
        &["staff", "add", "--name", name, "--role", role],
        &format!("{pin}\n"),
    )
}

/// A refusal is the catalogue's text: zh-CN unless English is asked for.
#[test]
fn refusals_are_in_the_operators_language() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("station");
    let add = ["staff", "add", "--name", "赵敏", "--role", "receiving"];
    let (ok, text) = station_in("zh-CN", &data, &add, "24x8\n");
    assert!(!ok);
    assert!(text.contains("PIN 须为 4–8 位数字"), "{text}");
    assert!(!text.contains("4 to 8 digits"), "{text}");
    let (ok, text) = station_in("en", &data, &add, "24x8\n");
    assert!(!ok);
    assert!(text.contains("PIN: must be 4 to 8 digits"), "{text}");
    let (ok, text) = station_in(
        "zh-CN",
        &data,
        &[
            "staff",
            "add",
            "--name",
            "赵敏",
            "--role",
            "receiving,driver",
        ],
        "2468\n",
    );
    assert!(!ok);
    assert!(text.contains("接收角色不能与其他角色合用"), "{text}");
}

#[tokio::test]
async fn staff_are_added_with_a_pin_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("station");
    let (ok, text) = staff_add(&data, "赵敏", "cook", "2468");
    assert!(!ok);
    assert!(
        text.contains("receiving") && text.contains("driver"),
        "{text}"
    );
    let (ok, text) = staff_add(&data, "赵敏", "receiving", "24x8");
    assert!(!ok);
    assert!(text.contains("4 to 8 digits"), "{text}");
    // Accounts that sign (hand-offs, dispatches) need 6 digits: their hashes reach the
    // tablets, where a guess costs nothing but argon2 time.
    for (role, pin) in [("receiving", "2468"), ("driver", "13579")] {
        let (ok, text) = staff_add(&data, "赵敏", role, pin);
        assert!(!ok);
        assert!(text.contains("must be at least 6 digits"), "{text}");
    }
    let (ok, text) = staff_add(&data, "赵敏", "receiving", "246802");
    assert!(ok, "{text}");
    assert!(text.contains("added 赵敏 (receiving)"), "{text}");
    let (ok, text) = staff_add(&data, "赵敏", "driver", "135791");
    assert!(!ok);
    assert!(text.contains("exists already"), "{text}");

    let config = lifebridge_station::config::Config {
        data_dir: data,
        ..Default::default()
    };
    let storage = lifebridge_station::open_storage(&config).await.unwrap();
    let staff = storage.staff_by_name("赵敏").await.unwrap().unwrap();
    assert_eq!(
        staff.role, "receiving",
        "the refused duplicate changed nothing"
    );
    assert!(staff.pin_hash.starts_with("$argon2"));
    assert!(!staff.pin_hash.contains("246802"));
}

/// Crew accounts made at the station carry device roles (several at once) and are sent
/// to every device; a receiving account is not, and cannot also be a driver.
#[tokio::test]
async fn crew_accounts_take_several_device_roles_and_go_to_the_devices() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("station");
    let (ok, text) = staff_add(&data, "赵敏", "receiving,driver", "2468");
    assert!(!ok);
    assert!(text.contains("cannot be combined"), "{text}");
    let (ok, text) = staff_add(
        &data,
        "采血护士 周丽",
        " phlebotomist, registration ",
        "3579",
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("added 采血护士 周丽 (registration,phlebotomist); sent to every device"),
        "{text}"
    );
    let (ok, text) = staff_add(&data, "赵敏", "receiving", "246802");
    assert!(ok, "{text}");
    assert!(!text.contains("sent to every device"), "{text}");

    let config = lifebridge_station::config::Config {
        data_dir: data,
        ..Default::default()
    };
    let storage = lifebridge_station::open_storage(&config).await.unwrap();
    let nurse = storage
        .staff_by_name("采血护士 周丽")
        .await
        .unwrap()
        .unwrap();
    let account = nurse.device_account().unwrap();
    assert_eq!(
        account.staff.roles,
        vec![
            lifebridge_domain::entities::Role::Registration,
            lifebridge_domain::entities::Role::Phlebotomist
        ]
    );
    let desk = storage.staff_by_name("赵敏").await.unwrap().unwrap();
    assert!(desk.device_account().is_none());

    // A new PIN and a closed account, the way an administrator does them.
    drop(storage);
    let run = |args: &[&str], stdin: &str| station(&config.data_dir, args, stdin);
    let set_roles = |roles: &str| {
        run(
            &[
                "staff",
                "set-roles",
                "--name",
                "采血护士 周丽",
                "--role",
                roles,
            ],
            "",
        )
    };
    let (ok, text) = run(&["staff", "set-pin", "--name", "采血护士 周丽"], "12\n");
    assert!(!ok);
    assert!(text.contains("4 to 8 digits"), "{text}");
    let (ok, text) = run(&["staff", "set-pin", "--name", "无此人"], "8642\n");
    assert!(!ok);
    assert!(text.contains("no staff member is named 无此人"), "{text}");
    let (ok, text) = run(&["staff", "set-pin", "--name", "采血护士 周丽"], "8642\n");
    assert!(ok, "{text}");
    assert!(text.contains("sent to every device"), "{text}");
    let (ok, text) = set_roles("receiving");
    assert!(!ok);
    assert!(text.contains("cannot move between"), "{text}");
    let (ok, text) = set_roles("phlebotomist,physician");
    assert!(ok, "{text}");
    assert!(
        text.contains("now has roles physician,phlebotomist"),
        "{text}"
    );
    let (ok, text) = run(&["staff", "deactivate", "--name", "采血护士 周丽"], "");
    assert!(ok, "{text}");
    assert!(text.contains("closed 采血护士 周丽"), "{text}");
    let (ok, text) = run(&["staff", "list"], "");
    assert!(ok, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines.iter().any(|l| l.contains("采血护士 周丽")
            && l.contains("physician,phlebotomist")
            && l.contains("closed")
            && l.contains("tablets")),
        "{text}"
    );
    assert!(
        lines.iter().any(|l| l.contains("赵敏")
            && l.contains("receiving")
            && l.contains("open")
            && l.contains("desk only")),
        "{text}"
    );
    let (ok, text) = run(&["staff", "deactivate", "--name", "采血护士 周丽"], "");
    assert!(ok, "{text}");
    assert!(text.contains("closed already"), "{text}");

    let storage = lifebridge_station::open_storage(&config).await.unwrap();
    let nurse = storage
        .staff_by_name("采血护士 周丽")
        .await
        .unwrap()
        .unwrap();
    assert!(!nurse.active);
    assert!(lifebridge_domain::pin::pin_matches(&nurse.pin_hash, "8642").unwrap());
    assert!(!nurse.device_account().unwrap().staff.active);
}
