use std::path::PathBuf;

use lifebridge_domain::messages::Message;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("no store at {0}: create one with `lifebridge store init`")]
    NotFound(PathBuf),
    #[error("a file already exists at {0}; refusing to overwrite it")]
    AlreadyExists(PathBuf),
    #[error(
        "cannot open the store at {0}: the key is wrong (or the file is not a Lifebridge store)"
    )]
    WrongKey(PathBuf),
    #[error(
        "migration {version} ({name}) was changed after it was applied to this store; released migrations must never be edited"
    )]
    MigrationTampered { version: u32, name: String },
    #[error(
        "this store has schema version {found}, newer than this program understands ({supported}); update Lifebridge"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
    /// Input refused in the catalogue's words (the screen renders `message` in its
    /// language, pointing at `field`); `Display` is the English rendering.
    #[error("{message}")]
    Refused { field: String, message: Message },
    /// A rule that protects the donor or the patient fails and no one may waive it.
    #[error("hard stop: {message}")]
    HardStop { codes: Vec<String>, message: String },
    #[error("{entity} {id} not found")]
    Missing { entity: &'static str, id: String },
    #[error("{staff} may not {action}: it needs the {role} role")]
    NotPermitted {
        staff: String,
        action: &'static str,
        role: &'static str,
    },
    #[error("the account of {staff} is closed: it can do nothing more on this device")]
    AccountClosed { staff: String },
    #[error(
        "no donation identification numbers left: every leased range is used up; sync with the station to lease more"
    )]
    DinsExhausted,
    #[error("the store is damaged: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("record encoding error: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl StoreError {
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> StoreError {
        StoreError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }
}
