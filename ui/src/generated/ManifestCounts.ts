// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { ClassCount } from "./ClassCount";
import type { GroupCount } from "./GroupCount";

/**
 * How many bags of each kind a manifest carries.
 */
export type ManifestCounts = { bags: number, boxes: number, 
/**
 * Classes with at least one bag, in [`ProductClass::ALL`] order.
 */
by_class: Array<ClassCount>, 
/**
 * Groups with at least one bag, A+ … O-, then `unknown`.
 */
by_abo_rh: Array<GroupCount>, 
/**
 * Boxes with at least one reading outside their range.
 */
boxes_with_excursions: number, 
/**
 * Units downgraded or quarantined at dispatch.
 */
downgraded: number, quarantined: number, };
