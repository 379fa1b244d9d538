// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { BoxExcursion } from "./BoxExcursion";

/**
 * The desk's decision on a box's excursion, as signed.
 */
export type BoxDecision = { excursion: BoxExcursion, reason: string, };
