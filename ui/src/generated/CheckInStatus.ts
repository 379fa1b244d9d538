// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Reason } from "./Reason";

/**
 * What check-in knows from eligibility before anyone has measured anything: whether
 * history, deferrals and age allow whole blood on the drive's date, and if not, why and
 * from when.
 */
export type CheckInStatus = { eligible_today: boolean, 
/**
 * The first day time alone allows whole blood; `None` when time alone will not.
 */
next_eligible: string | null, 
/**
 * The failing rules (intervals, deferrals, age), in both languages.
 */
reasons: Array<Reason>, };
