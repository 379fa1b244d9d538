// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { ProductClass } from "./ProductClass";
import type { TemperatureRange } from "./TemperatureRange";

/**
 * A box class the driver may open, with its band from the rules table in force: the
 * screen's option list.
 */
export type ClassOption = { 
/**
 * The screen names it from the catalogue (`product_class.*`).
 */
class: ProductClass, range: TemperatureRange, processing_limit_hours: number, };
