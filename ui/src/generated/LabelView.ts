// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { LabelSetStatus } from "./LabelSetStatus";

/**
 * The label set of a donation with what has been scanned back, and the eye-readable
 * DIN as it is printed.
 */
export type LabelView = { status: LabelSetStatus, eye_readable: string, 
/**
 * The data each piece's barcode carries, in print order (for the preview).
 */
barcodes: Array<string>, };
