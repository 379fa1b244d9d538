//! Why a cold-chain action was refused, as a message the driver reads.

use lifebridge_domain::cold_chain::{LoggerCsvError, PackingRefusal};
use lifebridge_domain::messages::Message;
use lifebridge_domain::product::ProductClass;

use crate::StoreError;
use crate::session::SignInError;

/// Why a cold-chain action was refused. Nothing was written when this is returned.
/// `Display` is the English text of [`ColdChainError::message`], which the app shows in
/// its language.
#[derive(Debug, thiserror::Error)]
pub enum ColdChainError {
    #[error(transparent)]
    Packing(#[from] PackingRefusal),
    #[error("{}", self.message())]
    Unreadable(String),
    #[error("{}", self.message())]
    UnknownDin { din: String },
    #[error("{}", self.message())]
    OtherDrive {
        din: String,
        box_code: String,
        site: String,
        date: String,
    },
    #[error("{}", self.message())]
    NotReleased { din: String },
    #[error("{}", self.message())]
    AlreadyPacked {
        din: String,
        box_code: String,
        dispatched: bool,
    },
    #[error("{}", self.message())]
    BoxDispatched { box_code: String },
    #[error("{}", self.message())]
    DuplicateBoxCode { code: String, class: ProductClass },
    #[error("{}", self.message())]
    NothingToDispatch { empty_boxes: Vec<String> },
    #[error("{}", self.message())]
    Csv(#[from] LoggerCsvError),
    #[error("{}", self.message())]
    NotABagLabel { din: String, piece: Message },
    /// A typed DIN, or scanner data without the symbology identifier: no label was read.
    #[error("{}", self.message())]
    NotScanned(Message),
    #[error("{}", self.message())]
    ManualRefused(Message),
    #[error("{}", self.message())]
    SignIn(#[from] SignInError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ColdChainError {
    /// The refusal for the driver (`packing.*`, `scan.*`).
    pub fn message(&self) -> Message {
        match self {
            ColdChainError::Packing(refusal) => refusal.message(),
            ColdChainError::Unreadable(detail) => {
                Message::new("scan.unreadable").with("detail", detail.as_str())
            }
            ColdChainError::UnknownDin { din } => {
                Message::new("packing.unknown_din").with("din", din.as_str())
            }
            ColdChainError::OtherDrive {
                din,
                box_code,
                site,
                date,
            } => Message::new("packing.other_drive")
                .with("din", din.as_str())
                .with("box_code", box_code.as_str())
                .with("site", site.as_str())
                .with("date", date.as_str()),
            ColdChainError::NotReleased { din } => {
                Message::new("packing.not_released").with("din", din.as_str())
            }
            ColdChainError::AlreadyPacked {
                din,
                box_code,
                dispatched,
            } => Message::new("packing.already_packed")
                .with("din", din.as_str())
                .with("box_code", box_code.as_str())
                .with(
                    "dispatched",
                    dispatched.then(|| Message::new("packing.dispatched_suffix")),
                ),
            ColdChainError::BoxDispatched { box_code } => {
                Message::new("packing.box_dispatched").with("box_code", box_code.as_str())
            }
            ColdChainError::DuplicateBoxCode { code, class } => {
                Message::new("packing.duplicate_box_code")
                    .with("code", code.as_str())
                    .with("class", class.as_str())
            }
            ColdChainError::NothingToDispatch { empty_boxes } => {
                Message::new("packing.nothing_to_dispatch").with(
                    "empty",
                    (!empty_boxes.is_empty()).then(|| {
                        Message::new("packing.empty_boxes").with("boxes", empty_boxes.join(", "))
                    }),
                )
            }
            ColdChainError::Csv(e) => {
                Message::new("packing.logger_csv").with("detail", e.message())
            }
            ColdChainError::NotABagLabel { din, piece } => Message::new("packing.not_a_bag_label")
                .with("din", din.as_str())
                .with("piece", piece.clone()),
            ColdChainError::NotScanned(m) => m.clone(),
            ColdChainError::ManualRefused(why) => {
                Message::new("packing.manual_refused").with("why", why.clone())
            }
            ColdChainError::SignIn(e) => {
                Message::new("packing.dispatch_not_signed").with("detail", e.to_string())
            }
            ColdChainError::Store(e) => Message::new("packing.store").with("detail", e.to_string()),
        }
    }
}

impl From<rusqlite::Error> for ColdChainError {
    fn from(e: rusqlite::Error) -> Self {
        ColdChainError::Store(e.into())
    }
}

impl From<serde_json::Error> for ColdChainError {
    fn from(e: serde_json::Error) -> Self {
        ColdChainError::Store(e.into())
    }
}
