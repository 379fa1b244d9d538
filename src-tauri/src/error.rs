//! What a command returns when it fails: a stable code the UI translates, the field it
//! concerns (so the form can point at it), and the English detail as a fallback.

use lifebridge_domain::messages::Message;
use lifebridge_store::StoreError;
use lifebridge_store::session::SignInError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CommandError {
    pub code: &'static str,
    pub field: Option<String>,
    pub message: String,
    /// Extra figures the UI puts into its translated message (attempts left, times).
    pub detail: serde_json::Value,
    /// The core's own words for the specifics (which bag, which box), as a catalogue
    /// message the UI renders in its language; `message` is the same in English.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Box<Message>>,
}

impl CommandError {
    pub fn new(code: &'static str, message: impl Into<String>) -> CommandError {
        CommandError {
            code,
            field: None,
            message: message.into(),
            detail: serde_json::Value::Null,
            text: None,
        }
    }

    pub fn field(code: &'static str, field: &str, message: impl Into<String>) -> CommandError {
        CommandError {
            field: Some(field.to_owned()),
            ..CommandError::new(code, message)
        }
    }

    pub fn locked() -> CommandError {
        CommandError::new(
            "device_locked",
            "the device store is locked: unlock it first",
        )
    }

    pub fn signed_out() -> CommandError {
        CommandError::new("signed_out", "nobody is signed in")
    }

    pub fn forbidden(role: &str) -> CommandError {
        CommandError {
            detail: serde_json::json!({ "role": role }),
            ..CommandError::new("forbidden", format!("this needs the {role} role"))
        }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> CommandError {
        let message = e.to_string();
        match e {
            StoreError::WrongKey(_) => CommandError::new("wrong_key", message),
            StoreError::Invalid { field, .. } => CommandError {
                field: Some(field),
                ..CommandError::new("invalid", message)
            },
            StoreError::Missing { .. } => CommandError::new("missing", message),
            StoreError::HardStop { codes, .. } => CommandError {
                detail: serde_json::json!({ "codes": codes }),
                ..CommandError::field("hard_stop", "decision", message)
            },
            StoreError::NotPermitted { role, .. } => CommandError::forbidden(role),
            StoreError::DinsExhausted => CommandError::new("dins_exhausted", message),
            _ => CommandError::new("store", message),
        }
    }
}

impl From<SignInError> for CommandError {
    fn from(e: SignInError) -> CommandError {
        let message = e.to_string();
        match e {
            SignInError::WrongPin { remaining } => CommandError {
                detail: serde_json::json!({ "remaining": remaining }),
                ..CommandError::field("wrong_pin", "pin", message)
            },
            SignInError::LockedOut { until } => CommandError {
                detail: serde_json::json!({ "until": until }),
                ..CommandError::field("locked_out", "pin", message)
            },
            SignInError::Inactive => CommandError::new("inactive", message),
        }
    }
}

pub type CommandResult<T> = Result<T, CommandError>;
