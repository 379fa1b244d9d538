// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Din } from "./Din";
import type { ManualVerification } from "./ManualVerification";

/**
 * A bag packed into a box, or taken out again before dispatch (`removes` names the
 * packing it undoes; nothing is deleted).
 */
export type BoxPacking = { id: string, box_id: string, donation_id: string, din: Din, packed_by: string, packed_at: string, removes: string | null, 
/**
 * Set when the bag's DIN was typed (with its check character) instead of scanned:
 * the exception path, with the reason and the second crew member who confirmed it.
 * Absent on scanned packings, so bodies written before it keep their bytes.
 */
manual?: ManualVerification | null, };
