// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Din } from "./Din";
import type { ProductClass } from "./ProductClass";
import type { TemperatureRange } from "./TemperatureRange";

/**
 * A box that left its range in transit: one decision at the desk for all its bags.
 */
export type BoxExcursion = { box_code: string, class: ProductClass, range: TemperatureRange, extreme_c: number, from: string, to: string, 
/**
 * The box's bags received at the desk (they are quarantined), in DIN order.
 */
bags: Array<Din>, };
