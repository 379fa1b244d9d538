// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { LabelPrint } from "./LabelPrint";
import type { LabelScan } from "./LabelScan";
import type { LabelSetStatus } from "./LabelSetStatus";
import type { RangeUsage } from "./RangeUsage";

/**
 * What the crew must account for when a drive ends.
 */
export type DriveLabelAccount = { drive_id: string, 
/**
 * Donations whose set was not fully scanned back, with what is missing.
 */
unverified: Array<LabelSetStatus>, 
/**
 * Printed labels never matched by a scan: still on the roll, or lost.
 */
unused_prints: Array<LabelPrint>, 
/**
 * Earlier prints replaced by a re-print: each must be found and destroyed.
 */
superseded_prints: Array<LabelPrint>, 
/**
 * Scans refused during the drive (wrong, other donation's, unknown, duplicate,
 * typed instead of scanned).
 */
refused_scans: Array<LabelScan>, 
/**
 * Pieces verified by manual entry instead of a scan, each with its reason and
 * the second crew member who authorised it.
 */
manual_entries: Array<LabelScan>, 
/**
 * DINs still unissued in this device's ranges (pre-printed rolls come back).
 */
unissued_dins: Array<RangeUsage>, };
