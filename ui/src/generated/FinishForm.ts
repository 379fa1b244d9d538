// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { AdverseReaction } from "./AdverseReaction";
import type { Outcome } from "./Outcome";

/**
 * A collection finished at the chair; `ended_at` defaults to now.
 */
export type FinishForm = { donation_id: string, ended_at: string | null, collected_volume_ml: number, reactions: Array<AdverseReaction>, outcome: Outcome, };
