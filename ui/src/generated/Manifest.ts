// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { ManifestBox } from "./ManifestBox";
import type { Signatory } from "./Signatory";

/**
 * The transport manifest the driver signs at dispatch. Read-only once written; the
 * same record replicates to the station and is encoded into the manifest QR.
 */
export type Manifest = { id: string, drive_id: string, 
/**
 * The device that wrote it, so the hand-off result can be sent back to it.
 */
device_id: string, site_name: string, vehicle: string | null, drive_date: string, driver: Signatory, dispatched_at: string, 
/**
 * In box-code order.
 */
boxes: Array<ManifestBox>, 
/**
 * The rules table version whose ranges and limits applied.
 */
rules_version: string, };
