// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Din } from "./Din";
import type { LabelPiece } from "./LabelPiece";
import type { ManualVerification } from "./ManualVerification";
import type { ScanResult } from "./ScanResult";

export type LabelScan = { id: string, donation_id: string, scanned_text: string, din: Din | null, result: ScanResult, scanned_by: string, scanned_at: string, 
/**
 * The piece a matched entry verified. Absent in scans recorded before this field
 * existed (their piece is re-read from `scanned_text`), so old bodies keep their
 * bytes.
 */
piece?: LabelPiece | null, 
/**
 * Set when the piece was verified by manual entry instead of a scan.
 */
manual?: ManualVerification | null, };
