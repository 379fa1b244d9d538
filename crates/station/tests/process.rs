//! The `lifebridge-station` binary as an administrator runs it: enrollment from the
//! command line, defaults with no arguments, and a station killed (SIGKILL) in the
//! middle of ingesting that loses nothing it acknowledged.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::bin::{BIN, admin, station_cmd};
use common::{Backend, assert_station_holds_exactly, collect_donations, enroll_with_code};
use lifebridge_station::config::Config;
use lifebridge_station::open_storage;

/// Starts `serve` on a free loopback port; returns the child and its base URL.
fn serve(data: &Path, db: Option<&str>) -> (Child, String) {
    let mut child = station_cmd(data, db)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--din-facility",
            "A9999",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    (child, url)
}

async fn killed_mid_ingest_loses_nothing_acknowledged(backend: Backend) {
    let db = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => match common::pg_database().await {
            Some(url) => Some(url),
            None => return,
        },
    };
    let db = db.as_deref();
    let data = tempfile::tempdir().unwrap();
    let (mut child, url) = serve(data.path(), db);

    let code = admin(data.path(), db, &["device", "enroll", "--name", "BUS-07"]);
    let dev = enroll_with_code(&url, code.trim(), "BUS-07").await;
    assert!(admin(data.path(), db, &["device", "list"]).contains("BUS-07"));
    collect_donations(&dev, 40);
    let total = dev.last_seq();

    // Push batch after batch; kill the station after a few acknowledgements, while
    // requests are still arriving.
    let client = dev.client(&url);
    let (progress, mut watch) = tokio::sync::watch::channel(0u64);
    let pusher = {
        let store = dev.store.clone();
        let client = client.clone();
        tokio::spawn(async move {
            let mut acked = 0;
            loop {
                let batch = store.lock().unwrap().changes_after(acked, 3).unwrap();
                if batch.is_empty() {
                    return acked;
                }
                match client.push(batch).await {
                    Ok((answer, _)) => {
                        acked = answer.held_seq;
                        let _ = progress.send(acked);
                    }
                    Err(_) => return acked,
                }
            }
        })
    };
    while *watch.borrow_and_update() < total / 3 {
        watch.changed().await.unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let acked = pusher.await.unwrap();
    eprintln!("station killed after acknowledging seq {acked} of {total}");
    assert!(acked < total, "the kill came too late to test anything");

    let (mut child, url) = serve(data.path(), db);
    let status = dev.client(&url).status().await.unwrap();
    assert!(
        status.held_seq >= acked,
        "the station acknowledged seq {acked} but holds only {} after a restart",
        status.held_seq
    );
    dev.replicator(&url).sync_once().await.unwrap();
    let config = Config {
        data_dir: data.path().to_owned(),
        database_url: db.map(str::to_owned),
        ..Config::default()
    };
    let ts = common::TestStation {
        station: None,
        storage: open_storage(&config).await.unwrap(),
        config,
        dir: tempfile::tempdir().unwrap(),
    };
    assert_station_holds_exactly(&ts, &dev).await;

    // Publishing a rules table from the command line reaches the device.
    if backend == Backend::Sqlite {
        let mut rules =
            serde_json::to_value(lifebridge_domain::rules::RuleSet::gb18467_2011()).unwrap();
        rules["version"] = "GB18467-2011/cli".into();
        let file = data.path().join("rules.json");
        std::fs::write(&file, rules.to_string()).unwrap();
        let file = file.to_str().unwrap();
        let out = admin(
            data.path(),
            db,
            &[
                "publish",
                "--kind",
                "rules",
                "--version",
                "GB18467-2011/cli",
                file,
            ],
        );
        assert!(out.contains("published rules"), "{out}");
        std::fs::write(data.path().join("bad.json"), "{\"version\": 1}").unwrap();
        let bad = station_cmd(data.path(), db)
            .args(["publish", "--kind", "rules", "--version", "bad"])
            .arg(data.path().join("bad.json"))
            .output()
            .unwrap();
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("not a valid rules table"));
        dev.replicator(&url).sync_once().await.unwrap();
        assert_eq!(
            dev.store.lock().unwrap().rules().unwrap().version,
            "GB18467-2011/cli"
        );

        // A questionnaire is published only as the document it says it is, and only
        // when the station's rules table has every deferral it names.
        let q = lifebridge_domain::questionnaire::BUILT_IN_JSON
            .replace("\"GB18467-2011-Q1\"", "\"Q-CLI-1\"");
        let qfile = data.path().join("q.json");
        std::fs::write(&qfile, &q).unwrap();
        let publish_q = |version: &str, file: &std::path::Path| {
            station_cmd(data.path(), db)
                .args(["publish", "--kind", "questionnaire", "--version", version])
                .arg(file)
                .output()
                .unwrap()
        };
        let wrong = publish_q("Q-CLI-2", &qfile);
        assert!(!wrong.status.success());
        assert!(
            String::from_utf8_lossy(&wrong.stderr)
                .contains("does not match the document's version Q-CLI-1"),
            "{}",
            String::from_utf8_lossy(&wrong.stderr)
        );
        let bad_code = data.path().join("q-bad.json");
        std::fs::write(&bad_code, q.replace("\"TATTOO\"", "\"TATOO\"")).unwrap();
        let bad = publish_q("Q-CLI-1", &bad_code);
        assert!(!bad.status.success());
        assert!(
            String::from_utf8_lossy(&bad.stderr).contains("TATOO is not in the deferral catalogue"),
            "{}",
            String::from_utf8_lossy(&bad.stderr)
        );
        let ok = publish_q("Q-CLI-1", &qfile);
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        assert!(String::from_utf8_lossy(&ok.stdout).contains("published questionnaire Q-CLI-1"));
    }

    // Revoking from the command line locks the device out at once.
    assert!(admin(data.path(), db, &["device", "revoke", "BUS-07"]).contains("revoked BUS-07"));
    let err = dev.client(&url).status().await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    child.kill().unwrap();
    child.wait().unwrap();
}

both_backends! {
    killed_mid_ingest_loses_nothing_acknowledged => super::killed_mid_ingest_loses_nothing_acknowledged;
}

#[test]
fn no_arguments_starts_on_loopback_with_sqlite_in_a_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .env_remove("LIFEBRIDGE_STATION_CONFIG")
        .env_remove("LIFEBRIDGE_STATION_DATABASE_URL")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    if line.is_empty() {
        eprintln!("NOTICE: port 8707 is taken on this machine; default start not checked");
        return;
    }
    assert_eq!(line.trim(), "listening on http://127.0.0.1:8707");
    assert!(
        dir.path()
            .join("lifebridge-station-data/station.db")
            .exists()
    );
}

#[test]
fn plain_http_is_refused_off_loopback_and_bad_config_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["--data-dir"])
        .arg(dir.path())
        .args(["serve", "--listen", "0.0.0.0:8707"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("plain HTTP is allowed only on loopback"),
        "{err}"
    );

    let config = dir.path().join("station.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nmax_body = 5\n").unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("max_body"), "{err}");
}
