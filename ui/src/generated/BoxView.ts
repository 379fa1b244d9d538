// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Excursion } from "./Excursion";
import type { PackedBag } from "./PackedBag";
import type { TemperatureReading } from "./TemperatureReading";
import type { TransportBox } from "./TransportBox";

export type BoxView = { transport_box: TransportBox, 
/**
 * Current packings, in DIN order.
 */
bags: Array<PackedBag>, 
/**
 * In time order.
 */
readings: Array<TemperatureReading>, excursions: Array<Excursion>, 
/**
 * The manifest that carried this box; `None` while it is open.
 */
manifest_id: string | null, };
