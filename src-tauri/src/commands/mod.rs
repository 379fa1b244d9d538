//! The Tauri commands, one file per screen. Each checks who is signed in and makes one
//! call on the store or the domain (which decide every rule), and returns data or a
//! [`CommandError`](crate::error::CommandError). The forms and views they take and return
//! are the core's own types (`lifebridge_store::screens` and the records), so the UI's
//! TypeScript types are generated from them (`crate::bindings`).

pub mod checkin;
pub mod collection;
pub mod screening;
pub mod session;
pub mod summary;
pub mod transport;

#[cfg(test)]
pub(crate) mod tests;

use lifebridge_domain::entities::{RecordId, Staff};
use lifebridge_store::Actor;
use lifebridge_store::file_export::FileExport;

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

/// Writes a file the crew asked for (a PDF, an export) into `folder` beside the store,
/// readable by this user only, records the export in the store's audit (who wrote
/// which record to which file) and returns the file's path for the screen to name.
/// The file is plaintext (it is for printing or handing over); its content stays in
/// the encrypted store, so nothing is written unless someone asks.
pub(crate) fn save_beside_store(
    state: &AppState,
    staff: &Staff,
    export: (FileExport, RecordId),
    folder: &str,
    file_name: &str,
    bytes: &[u8],
) -> CommandResult<String> {
    let dir = state
        .store_path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
        .join(folder);
    let path = dir.join(file_name);
    write_private(&dir, &path, bytes).map_err(|e| {
        CommandError::new("export", format!("cannot write {}: {e}", path.display()))
    })?;
    let (kind, record) = export;
    // A file without its audit entry is not left behind.
    if let Err(e) =
        state.call(|s| s.record_file_export(Actor::staff(staff.id), kind, record, &path))
    {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    Ok(path.display().to_string())
}

/// Creates `dir` and writes `path`, both for this user only where the system has
/// permissions (donor data must not be readable by other accounts on the tablet).
fn write_private(
    dir: &std::path::Path,
    path: &std::path::Path,
    bytes: &[u8],
) -> std::io::Result<()> {
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        folder.mode(0o700);
        file.mode(0o600);
    }
    folder.create(dir)?;
    let mut out = file.open(path)?;
    std::io::Write::write_all(&mut out, bytes)?;
    out.sync_all()
}
