// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Message } from "./Message";
import type { ReasonCode } from "./ReasonCode";

/**
 * One failing rule.
 */
export type Reason = { code: ReasonCode, 
/**
 * What the screen says, from the catalogue (`eligibility.*`).
 */
message: Message, 
/**
 * When this rule stops failing by the passage of time alone; `None` when it needs a
 * different measurement, test or decision.
 */
eligible_from: string | null, 
/**
 * A physician may waive this failing rule (reason and PIN, audited) because the
 * rules table says so; every other failing rule is a hard stop.
 */
waivable: boolean, 
/**
 * The deferral record behind a `DEFERRAL_ACTIVE` / `DEFERRAL_PERMANENT` reason.
 */
deferral_code?: string | null, };
