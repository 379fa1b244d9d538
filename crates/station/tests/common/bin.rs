//! The `lifebridge-station` binary as an administrator runs it (tests/process.rs, the
//! hub and station processes of tests/hub_faults.rs).

use std::path::Path;
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_lifebridge-station");

/// The binary on `data` (and PostgreSQL at `db`), logging warnings and worse.
pub fn station_cmd(data: &Path, db: Option<&str>) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(data).env("RUST_LOG", "warn");
    cmd.env_remove("LIFEBRIDGE_STATION_DATABASE_URL");
    if let Some(url) = db {
        cmd.arg("--database-url").arg(url);
    }
    cmd
}

/// Runs an admin command to its end; its standard output.
pub fn admin(data: &Path, db: Option<&str>, args: &[&str]) -> String {
    let out = station_cmd(data, db).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
