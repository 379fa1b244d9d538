// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { AdverseReaction } from "./AdverseReaction";
import type { Outcome } from "./Outcome";

/**
 * A collection finished at the chair, as the screen sends it and the store records it
 * (one type, so a new field of the finished donation is added here once);
 * `ended_at` absent ends it now.
 */
export type FinishCollection = { donation_id: string, ended_at: string | null, collected_volume_ml: number, reactions: Array<AdverseReaction>, outcome: Outcome, };
