//! What may go into which box: product classes a bag may become, slow draws, and the
//! packing rule.

use super::*;
use crate::common::Procedure;
use crate::messages::{Message, Param};
use crate::rules::RuleSet;

/// Why a bag may not go into a box. Each names the DIN, the box's class, why, and what
/// would be allowed, so the driver knows what to do with the bag in their hand.
/// `Display` is the English text of [`PackingRefusal::message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackingRefusal {
    #[error("{}", self.message())]
    StillOnChair { din: String },
    #[error("{}", self.message())]
    Aborted { din: String },
    #[error("{}", self.message())]
    Excluded {
        din: String,
        box_class: ProductClass,
        why: Message,
        allowed: Vec<ProductClass>,
    },
    #[error("{}", self.message())]
    WrongClass {
        din: String,
        box_class: ProductClass,
        why: Message,
        allowed: Vec<ProductClass>,
    },
}

impl PackingRefusal {
    /// The refusal for the driver (`packing.*`).
    pub fn message(&self) -> Message {
        match self {
            PackingRefusal::StillOnChair { din } => {
                Message::new("packing.still_on_chair").with("din", din.as_str())
            }
            PackingRefusal::Aborted { din } => {
                Message::new("packing.aborted").with("din", din.as_str())
            }
            PackingRefusal::Excluded {
                din,
                box_class,
                why,
                allowed,
            } => Message::new("packing.excluded")
                .with("din", din.as_str())
                .with("box_class", box_class.name())
                .with("why", why.clone())
                .with(
                    "allowed",
                    if allowed.is_empty() {
                        Param::from(Message::new("packing.allowed_none"))
                    } else {
                        class_list(allowed)
                    },
                ),
            PackingRefusal::WrongClass {
                din,
                box_class,
                why,
                allowed,
            } => Message::new("packing.wrong_class")
                .with("din", din.as_str())
                .with("box_class", box_class.name())
                .with("why", why.clone())
                .with("allowed", class_list(allowed)),
        }
    }
}

/// The allowed classes, each by its catalogue name, joined in the reader's language.
fn class_list(classes: &[ProductClass]) -> Param {
    Param::from(classes.iter().map(|c| c.name()).collect::<Vec<_>>())
}

/// A whole-blood draw that took longer than the rules table allows for its volume.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlowDraw {
    /// The bag's planned (nominal) volume, which chooses the limit.
    pub volume_ml: u32,
    pub seconds: i64,
    pub limit_minutes: f64,
}

/// Whether this donation was a slow draw (`collection.slow_draw`): whole blood whose
/// draw took longer than the limit for its volume. `None` for apheresis, for a draw
/// with no recorded end, and for a draw within the limit (the limit itself included).
pub fn slow_draw(donation: &crate::entities::Donation, rules: &RuleSet) -> Option<SlowDraw> {
    if donation.procedure != Procedure::WholeBlood {
        return None;
    }
    let end = donation.ended_at?;
    let seconds = (end - donation.started_at).num_seconds();
    let limit = rules
        .collection
        .slow_draw_limit(donation.planned_volume_ml)?;
    (seconds as f64 > limit.max_minutes * 60.0).then_some(SlowDraw {
        volume_ml: donation.planned_volume_ml,
        seconds,
        limit_minutes: limit.max_minutes,
    })
}

/// The product classes a donation may never become: those excluded at screening
/// (`Donation::excluded_products`) and, for a slow draw, platelets. What the store
/// writes into `excluded_products` when a collection is recorded or finished.
pub fn excluded_products(
    donation: &crate::entities::Donation,
    rules: &RuleSet,
) -> Vec<ProductClass> {
    let mut out = donation.excluded_products.clone();
    if slow_draw(donation, rules).is_some() {
        out.push(ProductClass::PlateletWholeBlood);
    }
    out.sort();
    out.dedup();
    out
}

/// The box classes this donation may travel in, or why it may travel in none.
///
/// Whole blood goes cold (red cells) unless it can still make platelets: collected in a
/// triple or quadruple set (the satellites the station separates platelets into),
/// complete, and not a slow draw (`collection.slow_draw`: a slow draw activates
/// platelets). Apheresis products travel in their own class. A class in the donation's
/// excluded products is never allowed.
pub fn allowed_classes(
    donation: &crate::entities::Donation,
    rules: &RuleSet,
) -> Result<Vec<ProductClass>, PackingRefusal> {
    use crate::entities::{BagSetKind, Outcome};
    let din = donation.din.to_string();
    match donation.outcome {
        Outcome::InProgress => return Err(PackingRefusal::StillOnChair { din }),
        Outcome::Aborted => return Err(PackingRefusal::Aborted { din }),
        Outcome::Complete | Outcome::Partial => {}
    }
    let by_procedure = match donation.procedure {
        Procedure::ApheresisPlatelets => vec![ProductClass::ApheresisPlatelets],
        Procedure::ApheresisPlasma => vec![ProductClass::ApheresisPlasma],
        Procedure::WholeBlood => {
            let platelet_set = matches!(
                donation.bag_set.kind,
                BagSetKind::Triple | BagSetKind::Quadruple
            );
            let timed = donation.ended_at.is_some();
            if platelet_set
                && donation.outcome == Outcome::Complete
                && timed
                && slow_draw(donation, rules).is_none()
            {
                vec![
                    ProductClass::RedCellWholeBlood,
                    ProductClass::PlateletWholeBlood,
                ]
            } else {
                vec![ProductClass::RedCellWholeBlood]
            }
        }
    };
    let excluded = excluded_products(donation, rules);
    Ok(by_procedure
        .into_iter()
        .filter(|c| !excluded.contains(c))
        .collect())
}

/// Refuses `donation` for a box of `class` with the specific reason, or accepts it.
pub fn check_packing(
    donation: &crate::entities::Donation,
    class: ProductClass,
    rules: &RuleSet,
) -> Result<(), PackingRefusal> {
    use crate::entities::{BagSetKind, Outcome};
    let allowed = allowed_classes(donation, rules)?;
    if allowed.contains(&class) {
        return Ok(());
    }
    let din = donation.din.to_string();
    if excluded_products(donation, rules).contains(&class) {
        let why = match slow_draw(donation, rules) {
            Some(slow) if class == ProductClass::PlateletWholeBlood => UnitFinding::SlowDraw {
                volume_ml: slow.volume_ml,
                seconds: slow.seconds,
                limit_minutes: slow.limit_minutes,
            }
            .message(),
            _ => Message::new("packing.excluded_at_screening"),
        };
        return Err(PackingRefusal::Excluded {
            din,
            box_class: class,
            why,
            allowed,
        });
    }
    let why = match (donation.procedure, class) {
        (Procedure::ApheresisPlatelets, _) => Message::new("packing.apheresis_platelets_only"),
        (Procedure::ApheresisPlasma, _) => Message::new("packing.apheresis_plasma_only"),
        (Procedure::WholeBlood, ProductClass::ApheresisPlatelets) => {
            Message::new("packing.whole_blood_not_apheresis_platelets")
        }
        (Procedure::WholeBlood, ProductClass::ApheresisPlasma) => {
            Message::new("packing.whole_blood_not_apheresis_plasma")
        }
        (Procedure::WholeBlood, _) => {
            if !matches!(
                donation.bag_set.kind,
                BagSetKind::Triple | BagSetKind::Quadruple
            ) {
                let kind = match donation.bag_set.kind {
                    BagSetKind::Single => "single",
                    BagSetKind::Double => "double",
                    BagSetKind::Triple => "triple",
                    BagSetKind::Quadruple => "quadruple",
                    BagSetKind::ApheresisKit => "apheresis kit",
                };
                Message::new("packing.platelets_need_bag_set").with("kind", kind)
            } else if donation.outcome != Outcome::Complete {
                Message::new("packing.partial_no_platelets")
            } else {
                Message::new("packing.no_end_time")
            }
        }
    };
    Err(PackingRefusal::WrongClass {
        din,
        box_class: class,
        why,
        allowed,
    })
}
