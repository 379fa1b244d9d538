// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { LabelPiece } from "./LabelPiece";

/**
 * A piece typed on the exception path, with who confirms it.
 */
export type ManualLabelEntry = { piece: LabelPiece, 
/**
 * The DIN as typed from the label, with its check character.
 */
typed: string, reason: string, 
/**
 * The second crew member, who types their own PIN.
 */
witness: string, witness_pin: string, };
