//! What may go into which box: product classes a bag may become, slow draws, and the
//! packing rule.

use super::*;
use crate::common::Procedure;
use crate::rules::RuleSet;

/// Why a bag may not go into a box. Each names the DIN, the box's class, why, and what
/// would be allowed, so the driver knows what to do with the bag in their hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackingRefusal {
    #[error(
        "{din} 仍在采血中，不能装箱 / is still on the chair: finish the collection and release the bag first"
    )]
    StillOnChair { din: String },
    #[error("{din} 采血已中止，不能装箱 / was aborted: an aborted collection is not transported")]
    Aborted { din: String },
    #[error(
        "{din} 不能装入{}箱：{why_zh} / cannot go into a box of {box_class}: {why_en}; allowed: {}",
        box_class.name_zh(),
        if allowed.is_empty() { "none (hand it to the station as it directs)".to_owned() } else { class_list(allowed) }
    )]
    Excluded {
        din: String,
        box_class: ProductClass,
        why_zh: String,
        why_en: String,
        allowed: Vec<ProductClass>,
    },
    #[error(
        "{din} 不能装入{}箱 / cannot go into a box of {box_class}: {why}; allowed: {}",
        box_class.name_zh(),
        class_list(allowed)
    )]
    WrongClass {
        din: String,
        box_class: ProductClass,
        why: String,
        allowed: Vec<ProductClass>,
    },
}

fn class_list(classes: &[ProductClass]) -> String {
    classes
        .iter()
        .map(|c| format!("{} ({})", c.name_zh(), c.name_en()))
        .collect::<Vec<_>>()
        .join(", ")
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
        let (why_zh, why_en) = match slow_draw(donation, rules) {
            Some(slow) if class == ProductClass::PlateletWholeBlood => {
                let finding = UnitFinding::SlowDraw {
                    volume_ml: slow.volume_ml,
                    seconds: slow.seconds,
                    limit_minutes: slow.limit_minutes,
                };
                (finding.describe_zh(), finding.describe_en())
            }
            _ => (
                "体检时已排除此成分（按成分的暂缓，如服用抗血小板药物）".to_owned(),
                "this product was excluded at screening (a product-scoped deferral, such as antiplatelet drugs)".to_owned(),
            ),
        };
        return Err(PackingRefusal::Excluded {
            din,
            box_class: class,
            why_zh,
            why_en,
            allowed,
        });
    }
    let why = match (donation.procedure, class) {
        (Procedure::ApheresisPlatelets, _) => {
            "单采血小板只能装入单采血小板箱 / apheresis platelets travel only in apheresis platelet boxes (20–24 °C)".to_owned()
        }
        (Procedure::ApheresisPlasma, _) => {
            "单采血浆只能装入单采血浆箱 / apheresis plasma travels only in apheresis plasma boxes".to_owned()
        }
        (Procedure::WholeBlood, ProductClass::ApheresisPlatelets) => {
            "全血不能装入单采血小板箱 / whole blood never goes into an apheresis platelet box".to_owned()
        }
        (Procedure::WholeBlood, ProductClass::ApheresisPlasma) => {
            "全血不能装入单采血浆箱 / whole blood never goes into an apheresis plasma box".to_owned()
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
                format!(
                    "制备血小板需三联或四联袋 / platelets need a triple or quadruple bag set, this is a {kind} set"
                )
            } else if donation.outcome != Outcome::Complete {
                "采血量不足的全血不能制备血小板 / a partial (under-volume) collection cannot make platelets".to_owned()
            } else {
                "未记录采血结束时间 / the end of collection was not recorded, so the draw cannot be shown to be quick enough for platelets".to_owned()
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
