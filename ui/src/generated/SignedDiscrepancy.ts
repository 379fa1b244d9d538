// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { BagStatus } from "./BagStatus";
import type { Din } from "./Din";
import type { Discrepancy } from "./Discrepancy";

/**
 * One bag with discrepancies, as signed.
 */
export type SignedDiscrepancy = { din: Din, status: BagStatus, manifest_box: string | null, found_box: string | null, discrepancies: Array<Discrepancy>, reason: string, };
