// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { DeskManualPiece } from "./DeskManualPiece";
import type { Din } from "./Din";
import type { LabelPiece } from "./LabelPiece";

/**
 * A received bag some of whose labels were typed rather than scanned, as signed.
 */
export type SignedManualLabels = { din: Din, 
/**
 * Typed before dispatch (at the chair or at packing), from the manifest.
 */
before_dispatch?: Array<LabelPiece>, 
/**
 * Typed at this desk.
 */
at_desk?: Array<DeskManualPiece>, };
