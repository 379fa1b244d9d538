// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { LabelPiece } from "./LabelPiece";
import type { Signatory } from "./Signatory";

/**
 * One label of a bag verified at the desk by manual entry.
 */
export type DeskManualPiece = { piece: LabelPiece, reason: string, authorised_by: Signatory, };
