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
mod tests;

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

/// Writes a file the crew keeps (a PDF, an export) into `folder` beside the store and
/// returns its path.
pub(crate) fn save_beside_store(
    state: &AppState,
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
    std::fs::create_dir_all(&dir).map_err(|e| {
        CommandError::new("export", format!("cannot create {}: {e}", dir.display()))
    })?;
    let path = dir.join(file_name);
    std::fs::write(&path, bytes).map_err(|e| {
        CommandError::new("export", format!("cannot write {}: {e}", path.display()))
    })?;
    Ok(path.display().to_string())
}
