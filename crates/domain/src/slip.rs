//! What a deferral slip tells the donor: the one home of its content, filled by the
//! store from the deferral record and the catalogue, drawn by `lifebridge-print`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::messages::{Localized, Message};

/// What the slip says; the app fills it from the deferral record and the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeferralSlip {
    pub donor_name: String,
    pub code: String,
    /// The catalogue's plain-language reason.
    pub reason_zh: String,
    pub reason_en: String,
    /// The drive's date.
    pub date: NaiveDate,
    /// The day the donor may donate again; `None` is a permanent exclusion.
    pub until: Option<NaiveDate>,
    pub site_name: String,
    pub physician_name: String,
}

impl DeferralSlip {
    /// The sentence that matters most: when to come back, or that the exclusion is
    /// permanent.
    pub fn come_back(&self) -> Message {
        match self.until {
            // The date as each language writes it (2026 年 5 月 8 日 / 2026-05-08).
            Some(d) => Message::new("slip.come_back.temporary").with(
                "date",
                Localized {
                    zh: format!(
                        "{} 年 {} 月 {} 日",
                        d.format("%Y"),
                        d.format("%-m"),
                        d.format("%-d")
                    ),
                    en: d.to_string(),
                },
            ),
            None => Message::new("slip.come_back.permanent"),
        }
    }
}
