// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Din } from "./Din";
import type { LabelPiece } from "./LabelPiece";
import type { LabelPrint } from "./LabelPrint";

/**
 * Where a donation's labels stand.
 */
export type LabelSetStatus = { din: Din, 
/**
 * The pieces that must be scanned back, in print order.
 */
set: Array<LabelPiece>, verified: Array<LabelPiece>, 
/**
 * The verified pieces that were typed on the exception path (reason and a second
 * crew member's PIN) rather than scanned.
 */
manual: Array<LabelPiece>, missing: Array<LabelPiece>, 
/**
 * The current (not superseded) print of each piece; empty for a pre-printed roll.
 */
prints: Array<LabelPrint>, refused_scans: number, released: boolean, };
