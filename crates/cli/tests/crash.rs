//! Power-cut test: a child process commits demo donations and prints each id once its
//! transaction has committed; we SIGKILL it at random moments, many times, then verify
//! that every acknowledged donation is in the store and that the store is whole.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lifebridge_store::{Store, StoreKey};

const KEY: &str = "crash-test-key";
const ROUNDS: u32 = 12;

/// xorshift64*: enough randomness for kill timing without another dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn every_acknowledged_donation_survives_sigkill() {
    let seed = std::env::var("LIFEBRIDGE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("crash test seed {seed} (set LIFEBRIDGE_CRASH_SEED to replay)");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bus.db");
    let mut acknowledged: Vec<String> = Vec::new();

    for round in 0..ROUNDS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lifebridge"))
            .args(["store", "demo", "--store"])
            .arg(&path)
            .args(["--donations", "100000"])
            .env("LIFEBRIDGE_STORE_KEY", KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            // Only whole lines count: a line is printed after its commit, so a torn
            // last line is a donation we were never told about.
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if line.ends_with('\n') {
                    tx.send(line.trim().to_owned()).ok();
                }
                line.clear();
            }
        });
        // Opening the store derives the key (slow by design), so wait for the first
        // acknowledgement, then let it run a random while before pulling the plug.
        let first = rx.recv_timeout(Duration::from_secs(60));
        assert!(
            first.is_ok(),
            "round {round}: the writer never acknowledged anything"
        );
        acknowledged.push(first.unwrap());
        std::thread::sleep(Duration::from_millis(rng.next() % 400));
        child.kill().unwrap(); // SIGKILL on Unix: no destructors, no flush.
        child.wait().unwrap();
        reader.join().unwrap();
        acknowledged.extend(rx.try_iter());

        let store = Store::open(&path, &StoreKey::new(KEY).unwrap()).unwrap();
        let report = store.check().unwrap();
        assert!(
            report.is_ok(),
            "round {round}: store check failed: {report:#?}"
        );
        let present: HashSet<String> = {
            let mut stmt = store
                .connection()
                .prepare("SELECT id FROM donation")
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let lost: Vec<&String> = acknowledged
            .iter()
            .filter(|id| !present.contains(*id))
            .collect();
        assert!(
            lost.is_empty(),
            "round {round}: acknowledged donations lost: {lost:?}"
        );
    }
    assert!(acknowledged.len() as u32 >= ROUNDS);
    println!(
        "{} acknowledged donations over {ROUNDS} kills, none lost",
        acknowledged.len()
    );
}
