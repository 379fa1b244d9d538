//! What a deferral slip tells the donor: the one home of its content, filled by the
//! store from the deferral record and the catalogue, drawn by `lifebridge-print`.

use chrono::NaiveDate;
use serde::Serialize;

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
    /// The sentence that matters most, in Chinese: when to come back.
    pub fn come_back_zh(&self) -> String {
        match self.until {
            Some(d) => format!(
                "暂缓献血（暂时不能献血）。您可以在 {} 年 {} 月 {} 日及以后再来献血。",
                d.format("%Y"),
                d.format("%-m"),
                d.format("%-d")
            ),
            None => "永久不能献血。感谢您的爱心，请不要再来献血。".to_owned(),
        }
    }

    pub fn come_back_en(&self) -> String {
        match self.until {
            Some(d) => format!("Temporary deferral: you may donate again from {d}."),
            None => "Permanent exclusion: please do not donate blood again.".to_owned(),
        }
    }
}
