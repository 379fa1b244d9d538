//! `lifebridge-station staff add`: the PIN from standard input, specific refusals that
//! write nothing, and unique names (a name is what a hand-off is signed with).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Stdio};

fn staff_add(data: &std::path::Path, name: &str, role: &str, pin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lifebridge-station"))
        .args(["--data-dir"])
        .arg(data)
        .args(["staff", "add", "--name", name, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{pin}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
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
    let (ok, text) = staff_add(&data, "赵敏", "receiving", "2468");
    assert!(ok, "{text}");
    assert!(text.contains("added 赵敏 (receiving)"), "{text}");
    let (ok, text) = staff_add(&data, "赵敏", "driver", "1357");
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
    assert!(!staff.pin_hash.contains("2468"));
}
