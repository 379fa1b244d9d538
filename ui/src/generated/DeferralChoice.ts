// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { DeferralPeriod } from "./DeferralPeriod";
import type { DeferralScope } from "./DeferralScope";

/**
 * One entry of the deferral catalogue as offered to the physician for a decision: the
 * list is the core's, the screen only shows it.
 */
export type DeferralChoice = { code: string, zh: string, en: string, period: DeferralPeriod, 
/**
 * A permanent exclusion rather than a temporary deferral.
 */
permanent: boolean, scope: DeferralScope, waivable: boolean, 
/**
 * The day the donor may come back if deferred with this today; `None` when
 * permanent or when the physician must give the date.
 */
until: string | null, 
/**
 * The physician must type the end date (station-set periods).
 */
needs_end_date: boolean, 
/**
 * Answers one of the failing rules.
 */
matches: boolean, 
/**
 * The one to pre-select: the deferral the most serious failing rule calls for.
 */
preselected: boolean, 
/**
 * The store accepts it for this decision. Product-scoped entries are restrictions
 * recorded with an acceptance, never a decision to defer.
 */
allowed: boolean, };
