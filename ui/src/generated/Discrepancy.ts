// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { LabelPiece } from "./LabelPiece";
import type { ProductClass } from "./ProductClass";

/**
 * Something the receiving staff must explain before signing.
 */
export type Discrepancy = { "kind": "missing" } | { "kind": "extra" } | { "kind": "wrong_box", expected: string, found: string, } | { "kind": "excursion", box_code: string, extreme_c: number, from: string, to: string, } | { "kind": "over_time_limit", class: ProductClass, limit_hours: number, elapsed_minutes: number, } | { "kind": "tubes_missing", pieces: Array<LabelPiece>, };
