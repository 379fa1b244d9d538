// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Drive } from "./Drive";
import type { ProcedureTotals } from "./ProcedureTotals";

export type DriveSummary = { drive: Drive, donors_checked_in: number, donors_screened: number, deferrals_by_code: { [key in string]: number }, by_procedure: { [key in string]: ProcedureTotals }, aborted: number, reactions: number, still_on_chair: number, 
/**
 * Collected bags no signed transport manifest carries yet (still on the bus).
 */
bags_not_dispatched: Array<string>, };
