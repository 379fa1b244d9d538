//! What a command returns when it fails: a stable code the UI translates, the field it
//! concerns (so the form can point at it), and the English detail as a fallback.

use lifebridge_domain::cold_chain::PackingRefusal;
use lifebridge_domain::messages::Message;
use lifebridge_domain::resident_id::IdentityDocumentError;
use lifebridge_store::StoreError;
use lifebridge_store::cold_chain::ColdChainError;
use lifebridge_store::labels::LabelError;
use lifebridge_store::screens::{ScreenError, ScreenRefusal};
use lifebridge_store::session::SignInError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct CommandError {
    #[cfg_attr(test, ts(type = "string"))]
    pub code: &'static str,
    pub field: Option<String>,
    pub message: String,
    /// Extra figures the UI puts into its translated message (attempts left, times).
    #[cfg_attr(test, ts(type = "Record<string, unknown> | null"))]
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
            StoreError::NotFound(_) => CommandError::new("no_store", message),
            StoreError::AccountClosed { staff } => CommandError {
                text: Some(Box::new(
                    Message::new("session.account_closed").with("staff", staff),
                )),
                ..CommandError::new("inactive", message)
            },
            StoreError::Invalid { field, .. } => CommandError {
                field: Some(field),
                ..CommandError::new("invalid", message)
            },
            StoreError::Refused {
                field,
                message: text,
            } => CommandError {
                field: Some(field),
                text: Some(Box::new(text)),
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
        let text = Some(Box::new(e.message()));
        match e {
            SignInError::WrongPin { remaining } => CommandError {
                detail: serde_json::json!({ "remaining": remaining }),
                ..CommandError::field("wrong_pin", "pin", message)
            },
            SignInError::LockedOut { until } => CommandError {
                detail: serde_json::json!({ "until": until }),
                ..CommandError::field("locked_out", "pin", message)
            },
            SignInError::Inactive => CommandError {
                text,
                ..CommandError::new("inactive", message)
            },
        }
    }
}

impl From<ScreenRefusal> for CommandError {
    fn from(e: ScreenRefusal) -> CommandError {
        let message = e.to_string();
        match e {
            ScreenRefusal::HardStop { codes, .. } => CommandError {
                detail: serde_json::json!({ "codes": codes }),
                ..CommandError::field("hard_stop", "decision", message)
            },
            ScreenRefusal::WaiverPinRequired => {
                CommandError::field("waiver_pin_required", "waiver_pin", message)
            }
            ScreenRefusal::DeferralMismatch { code, field, .. } => CommandError {
                detail: serde_json::json!({ "code": code }),
                ..CommandError::field("deferral_mismatch", field, message)
            },
            ScreenRefusal::NeedsConfirmation {
                next_eligible,
                codes,
            } => CommandError {
                detail: serde_json::json!({ "next_eligible": next_eligible, "codes": codes }),
                ..CommandError::field("checkin_needs_confirmation", "confirmation", message)
            },
        }
    }
}

impl From<ScreenError> for CommandError {
    fn from(e: ScreenError) -> CommandError {
        match e {
            ScreenError::Refused(refusal) => refusal.into(),
            ScreenError::Store(store) => store.into(),
            ScreenError::Document(document) => document.into(),
        }
    }
}

/// A label, slip or manifest that could not be drawn.
impl From<lifebridge_print::LabelError> for CommandError {
    fn from(e: lifebridge_print::LabelError) -> CommandError {
        CommandError::new("labels", e.to_string())
    }
}

impl From<IdentityDocumentError> for CommandError {
    fn from(e: IdentityDocumentError) -> CommandError {
        CommandError::field("invalid_document", "number", e.to_string())
    }
}

impl From<LabelError> for CommandError {
    fn from(e: LabelError) -> CommandError {
        let message = e.to_string();
        // What the phlebotomist reads, rendered by the screen in its language.
        let text = Some(Box::new(e.message()));
        let error = match e {
            LabelError::ScanRefused {
                result, message, ..
            } => CommandError {
                detail: serde_json::json!({ "result": result }),
                // The refusal without the log's "SCAN REFUSED" prefix: the screen
                // puts its own title before it.
                ..CommandError::field("scan_refused", "scan", message.to_string())
            },
            LabelError::NotVerified { missing, .. } => CommandError {
                detail: serde_json::json!({ "missing": missing }),
                ..CommandError::new("not_verified", message)
            },
            LabelError::ManualRefused(_) => {
                CommandError::field("manual_refused", "manual", message)
            }
            LabelError::Store(inner) => return inner.into(),
            _ => CommandError::new("labels", message),
        };
        CommandError { text, ..error }
    }
}

impl From<ColdChainError> for CommandError {
    fn from(e: ColdChainError) -> CommandError {
        use ColdChainError as E;
        let message = e.to_string();
        // The specifics in the catalogue's words, which the screen renders in its language.
        let text = Some(Box::new(e.message()));
        let error = match e {
            // A bag whose product class was excluded (slow draw, product-scoped deferral)
            // has its own code, so the screen can say why it may never go in that box.
            E::Packing(refusal @ PackingRefusal::Excluded { .. }) => CommandError {
                detail: refusal_detail(&refusal),
                ..CommandError::field("product_excluded", "scan", message)
            },
            E::Packing(refusal) => CommandError {
                detail: refusal_detail(&refusal),
                ..CommandError::field("packing_refused", "scan", message)
            },
            E::Unreadable(_) => CommandError::field("unreadable_scan", "scan", message),
            E::NotABagLabel { .. } => CommandError::field("not_a_bag_label", "scan", message),
            E::NotScanned(_) => CommandError::field("not_scanned", "scan", message),
            E::ManualRefused(_) => CommandError::field("manual_refused", "manual", message),
            E::UnknownDin { .. } => CommandError::field("unknown_din", "scan", message),
            E::OtherDrive { .. } => CommandError::field("other_drive", "scan", message),
            E::NotReleased { .. } => CommandError::field("not_released", "scan", message),
            E::AlreadyPacked { .. } => CommandError::field("already_packed", "scan", message),
            E::BoxDispatched { .. } => CommandError::new("box_dispatched", message),
            E::DuplicateBoxCode { .. } => CommandError::field("duplicate_box", "code", message),
            E::NothingToDispatch { .. } => CommandError::new("nothing_to_dispatch", message),
            E::Csv(csv) => CommandError {
                detail: serde_json::json!({ "line": csv.line, "column": csv.column }),
                ..CommandError::field("logger_csv", "file", message)
            },
            // These have codes of their own that the screen translates.
            E::SignIn(inner) => return inner.into(),
            E::Store(inner) => return inner.into(),
        };
        CommandError { text, ..error }
    }
}

/// The DIN and allowed classes of a packing refusal, for the screen to highlight.
fn refusal_detail(refusal: &PackingRefusal) -> serde_json::Value {
    use PackingRefusal as R;
    match refusal {
        R::WrongClass {
            din,
            box_class,
            allowed,
            ..
        } => serde_json::json!({ "din": din, "box_class": box_class, "allowed": allowed }),
        R::Excluded {
            din,
            box_class,
            allowed,
            why,
        } => serde_json::json!({
            "din": din, "box_class": box_class, "allowed": allowed, "why": why,
        }),
        R::StillOnChair { din } | R::Aborted { din } => serde_json::json!({ "din": din }),
    }
}

pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal in the catalogue's words reaches the screen as `invalid` on its field,
    /// with the message for the UI to render in its language.
    #[test]
    fn a_catalogue_refusal_keeps_its_field_and_message() {
        let message = Message::new("staff_account.pin_format");
        let error = CommandError::from(StoreError::Refused {
            field: "pin".to_owned(),
            message: message.clone(),
        });
        assert_eq!(error.code, "invalid");
        assert_eq!(error.field.as_deref(), Some("pin"));
        assert_eq!(error.message, "PIN: must be 4 to 8 digits");
        assert_eq!(error.text.as_deref(), Some(&message));
    }
}
