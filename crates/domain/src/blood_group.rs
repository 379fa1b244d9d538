//! Which ABO/RhD a bag carries: the group on the donor's record, the bus's rapid
//! typing of today, and what follows when they differ.
//!
//! The bus types ABO/RhD with a rapid card test (`RapidTests.abo_rh`). A first-time
//! donor has no group on record, so today's rapid group is the best there is for the
//! label and the manifest; the station's laboratory confirms it anyway. When a donor
//! with a group on record types differently today, one of the two is wrong (a card
//! misread, a mix-up of donors or samples): the physician is shown the mismatch and
//! must note it to accept, and neither group goes on the bag — it travels as unknown
//! and the laboratory decides.

use crate::entities::AboRh;
use crate::messages::Message;

/// Today's rapid group differs from the one on the donor's record.
pub fn mismatch(on_record: Option<AboRh>, rapid: Option<AboRh>) -> bool {
    matches!((on_record, rapid), (Some(a), Some(b)) if a != b)
}

/// The group a bag's label and the manifest carry: the one on record (today's rapid
/// typing agreeing or not done), else today's rapid group, and none when the two
/// disagree.
pub fn for_label(on_record: Option<AboRh>, rapid: Option<AboRh>) -> Option<AboRh> {
    if mismatch(on_record, rapid) {
        None
    } else {
        on_record.or(rapid)
    }
}

/// The physician's flag when today's rapid group differs from the one on record.
pub fn mismatch_flag(on_record: Option<AboRh>, rapid: Option<AboRh>) -> Option<Message> {
    match (on_record, rapid) {
        (Some(a), Some(b)) if a != b => Some(
            Message::new("rapid_abo.mismatch")
                .with("on_record", name(a))
                .with("today", name(b)),
        ),
        _ => None,
    }
}

/// The group as written on labels and the manifest (`A+`, `O-`).
pub fn name(group: AboRh) -> &'static str {
    match group {
        AboRh::APos => "A+",
        AboRh::ANeg => "A-",
        AboRh::BPos => "B+",
        AboRh::BNeg => "B-",
        AboRh::AbPos => "AB+",
        AboRh::AbNeg => "AB-",
        AboRh::OPos => "O+",
        AboRh::ONeg => "O-",
    }
}

/// Every group, in the order screens offer them.
pub const ALL: [AboRh; 8] = [
    AboRh::APos,
    AboRh::ANeg,
    AboRh::BPos,
    AboRh::BNeg,
    AboRh::AbPos,
    AboRh::AbNeg,
    AboRh::OPos,
    AboRh::ONeg,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_takes_the_record_then_today_and_neither_on_a_mismatch() {
        for a in ALL {
            // On record, typed again today the same, or not typed today.
            assert_eq!(for_label(Some(a), Some(a)), Some(a));
            assert_eq!(for_label(Some(a), None), Some(a));
            // A first-time donor: today's rapid group.
            assert_eq!(for_label(None, Some(a)), Some(a));
            assert!(mismatch_flag(Some(a), Some(a)).is_none());
            for b in ALL.into_iter().filter(|b| *b != a) {
                assert!(mismatch(Some(a), Some(b)));
                assert_eq!(for_label(Some(a), Some(b)), None);
                let flag = mismatch_flag(Some(a), Some(b)).unwrap();
                assert_eq!(flag.code, "rapid_abo.mismatch");
                assert_eq!(
                    crate::messages::render(&flag, crate::messages::Lang::En),
                    format!(
                        "rapid ABO/RhD today {} differs from the group on record {}: note what you found; the bag goes out as unknown group and the laboratory decides",
                        name(b),
                        name(a)
                    )
                );
            }
        }
        assert_eq!(for_label(None, None), None);
        assert!(!mismatch(None, Some(AboRh::OPos)));
    }

    #[test]
    fn names_are_the_wire_names() {
        for g in ALL {
            assert_eq!(serde_json::to_value(g).unwrap(), name(g));
        }
    }
}
