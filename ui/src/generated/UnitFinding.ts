// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { LabelPiece } from "./LabelPiece";
import type { ProductClass } from "./ProductClass";
import type { TemperatureRange } from "./TemperatureRange";
import type { UnitAction } from "./UnitAction";

/**
 * One fact that changes what a unit may become.
 */
export type UnitFinding = { "kind": "slow_draw", volume_ml: number, seconds: number, limit_minutes: number, } | { "kind": "excluded", classes: Array<ProductClass>, } | { "kind": "excursion", box_code: string, range: TemperatureRange, extreme_c: number, } | { "kind": "over_time_limit", class: ProductClass, limit_hours: number, elapsed_minutes: number, action: UnitAction, zh: string, en: string, } | { "kind": "ffp_window_missed", limit_hours: number, elapsed_minutes: number, } | { "kind": "tubes_missing", pieces: Array<LabelPiece>, };
