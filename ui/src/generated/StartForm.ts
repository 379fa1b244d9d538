// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Arm } from "./Arm";
import type { BagSet } from "./BagSet";

/**
 * A collection started at the chair for a screened donor.
 */
export type StartForm = { screening_id: string, bag_set: BagSet, 
/**
 * Absent: the volume the physician planned at screening, or for a procedure
 * planned without one the largest whole-blood volume of the rules table.
 */
planned_volume_ml: number | null, arm: Arm, };
