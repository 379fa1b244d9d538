//! Everything printed on one label, laid out in the four ISBT 128 quadrants.

use chrono::NaiveDateTime;

use crate::din::Din;
use crate::entities::{AboRh, Donation};
use crate::messages::{Lang, bilingual};

use super::*;

/// Everything printed on one label. Dates are China Standard Time calendar values.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelContent {
    pub din: Din,
    pub piece: LabelPiece,
    pub facility_name: String,
    /// `None` prints an empty ABO/RhD quadrant: unknown on the bus, never guessed.
    pub abo_rh: Option<AboRh>,
    pub collected_at: Option<NaiveDateTime>,
    pub volume_ml: Option<u32>,
    pub product: Option<ProductCode>,
    /// Expiry date and time of the component (`&>`, the structure ST-001 recommends
    /// for components); blank until processing decides the component.
    pub expiry: Option<NaiveDateTime>,
}

/// The text of the four quadrants (domain.md section 1): top-left DIN, facility and
/// collection date; top-right ABO/RhD; bottom-left product; bottom-right expiry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Quadrants {
    pub top_left: Vec<String>,
    pub top_right: Vec<String>,
    pub bottom_left: Vec<String>,
    pub bottom_right: Vec<String>,
}

impl LabelContent {
    /// A label with only what a pre-printed roll knows: DIN, piece and facility.
    pub fn blank(din: Din, piece: LabelPiece, facility_name: &str) -> LabelContent {
        LabelContent {
            din,
            piece,
            facility_name: facility_name.to_owned(),
            abo_rh: None,
            collected_at: None,
            volume_ml: None,
            product: None,
            expiry: None,
        }
    }

    /// The label of `piece` for a recorded donation. `abo_rh` is the donor's confirmed
    /// group from the station, or `None`: a bedside rapid test is not a typing to print.
    /// Expiry stays blank: it depends on the component, which processing decides.
    pub fn for_donation(
        donation: &Donation,
        piece: LabelPiece,
        facility_name: &str,
        abo_rh: Option<AboRh>,
        product: Option<ProductCode>,
    ) -> LabelContent {
        LabelContent {
            din: donation.din.clone(),
            piece,
            facility_name: facility_name.to_owned(),
            abo_rh,
            collected_at: Some(china_local(donation.started_at)),
            volume_ml: donation.collected_volume_ml,
            product,
            expiry: None,
        }
    }

    pub fn din_structure(&self) -> DataStructure {
        DataStructure::Din {
            din: self.din.clone(),
            flags: Some(self.piece.flags()),
        }
    }

    /// Code 128 data content: `=` + DIN + the piece's flags.
    pub fn code128_data(&self) -> String {
        self.din_structure().data_content()
    }

    /// The data structures the 2-D symbol carries: the DIN and, on bag labels, the
    /// collection date/time, product, ABO/RhD and expiry date/time that are known.
    pub fn symbol_structures(&self) -> Vec<DataStructure> {
        let mut out = vec![self.din_structure()];
        if matches!(self.piece.kind, LabelKind::Bag | LabelKind::Satellite) {
            if let Some(t) = self.collected_at {
                out.push(DataStructure::CollectionTime(t));
            }
            if let Some(p) = &self.product {
                out.push(DataStructure::Product(p.clone()));
            }
            if let Some(g) = DataStructure::abo_rh(self.abo_rh) {
                out.push(g);
            }
            if let Some(e) = self.expiry {
                out.push(DataStructure::ExpiryTime(e));
            }
        }
        out
    }

    /// Data Matrix (ECC 200) data content: [`Self::symbol_structures`], after the
    /// compound message header `=+aabbb` when there are several (ST-001 section 2.4.23).
    pub fn datamatrix_data(&self) -> String {
        DataStructure::compound(&self.symbol_structures())
    }

    pub fn quadrants(&self) -> Quadrants {
        let mut q = Quadrants::default();
        q.top_left.push(self.facility_name.clone());
        // Both languages on the label itself (GB 18469), English first, from the catalogue.
        q.top_left.push(bilingual(&self.piece.name(), Lang::En));
        if let Some(t) = self.collected_at {
            q.top_left
                .push(format!("采集 Collected {}", t.format("%Y-%m-%d %H:%M")));
        }
        if let Some((abo, rh)) = self.abo_rh.map(abo_rh_text) {
            q.top_right.push(abo.to_owned());
            q.top_right.push(rh.to_owned());
        }
        if let Some(p) = &self.product {
            q.bottom_left.push(format!(
                "{}{}{}",
                p.description, p.donation_type, p.division
            ));
        }
        if let Some(v) = self.volume_ml {
            q.bottom_left.push(format!("{v} mL"));
        }
        if let Some(e) = self.expiry {
            q.bottom_right
                .push(format!("失效 Expires {}", e.format("%Y-%m-%d %H:%M")));
        }
        q
    }
}
