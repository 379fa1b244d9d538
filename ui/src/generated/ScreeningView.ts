// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Decision } from "./Decision";
import type { DeferralChoice } from "./DeferralChoice";
import type { Message } from "./Message";
import type { Reason } from "./Reason";

/**
 * What the screening screen shows: the core's decision, and the deferral catalogue as
 * offered for it (answering codes first, one pre-selected).
 */
export type ScreeningView = { decision: Decision, 
/**
 * The failing rules no one may waive: why there is no waiver button.
 */
hard_stops: Array<Reason>, 
/**
 * Every failing rule may be waived (with a reason and the physician's PIN).
 */
waivable: boolean, deferral_choices: Array<DeferralChoice>, 
/**
 * Today's rapid ABO/RhD differs from the group on the donor's record: the
 * physician's flag (an acceptance then needs their note).
 */
abo_rh_mismatch: Message | null, };
