// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { BoxDecision } from "./BoxDecision";
import type { Din } from "./Din";
import type { Signatory } from "./Signatory";
import type { SignedDiscrepancy } from "./SignedDiscrepancy";
import type { SignedManualLabels } from "./SignedManualLabels";
import type { SignedUnit } from "./SignedUnit";
import type { Tally } from "./Tally";

/**
 * What the station keeps and sends back to the vehicle once both parties signed.
 * Never edited: a correction is a new hand-off.
 */
export type HandoffRecord = { id: string, manifest_ids: Array<string>, 
/**
 * The devices that wrote the manifests: where the record goes back to.
 */
device_ids: Array<string>, site_name: string, receiver: Signatory, driver: Signatory, signed_at: string, tally: Tally, 
/**
 * Every received bag, so the vehicle can show which of its bags the station holds.
 */
received: Array<Din>, discrepancies: Array<SignedDiscrepancy>, 
/**
 * One decision per box that left its range.
 */
box_decisions?: Array<BoxDecision>, 
/**
 * Received units that are not suitable as collected, with why.
 */
units?: Array<SignedUnit>, 
/**
 * Received bags with labels typed instead of scanned (before dispatch or at the
 * desk). Omitted when every label was scanned, so older records keep their bytes.
 */
manual_labels?: Array<SignedManualLabels>, };
