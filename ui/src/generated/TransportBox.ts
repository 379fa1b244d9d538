// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { ProductClass } from "./ProductClass";
import type { TemperatureRange } from "./TemperatureRange";

/**
 * A transport box, identified by the code printed on it (scanned when packing and at
 * the receiving desk). One writer: the device that opened it for a drive.
 */
export type TransportBox = { id: string, 
/**
 * The scannable code on the box (e.g. `BOX-0007`), unique among the drive's boxes.
 */
code: string, class: ProductClass, 
/**
 * The band in force when the box was opened (copied from the rules table, so the
 * record explains itself later).
 */
range: TemperatureRange, drive_id: string, opened_by: string, opened_at: string, };
