// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { AdverseReaction } from "./AdverseReaction";
import type { Arm } from "./Arm";
import type { BagSet } from "./BagSet";
import type { Din } from "./Din";
import type { Outcome } from "./Outcome";
import type { Procedure } from "./Procedure";
import type { ProductClass } from "./ProductClass";

export type Donation = { id: string, donor_id: string, drive_id: string, screening_id: string, din: Din, procedure: Procedure, bag_set: BagSet, planned_volume_ml: number, collected_volume_ml: number | null, started_at: string, ended_at: string | null, phlebotomist_id: string, arm: Arm, reactions: Array<AdverseReaction>, outcome: Outcome, recorded_at: string, supersedes: string | null, correction_reason: string | null, 
/**
 * Product classes this bag may never become: from a product-scoped deferral found at
 * screening (antiplatelet drugs exclude platelets) or from the collection itself (a
 * slow draw). Packing into a box of an excluded class is refused. Omitted from the
 * body when empty, so bodies written before this field existed keep their digest.
 */
excluded_products?: Array<ProductClass>, };
