// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Excursion } from "./Excursion";
import type { ManifestBag } from "./ManifestBag";
import type { ManifestReading } from "./ManifestReading";
import type { ProductClass } from "./ProductClass";
import type { TemperatureRange } from "./TemperatureRange";

export type ManifestBox = { box_id: string, code: string, class: ProductClass, range: TemperatureRange, 
/**
 * In DIN order.
 */
bags: Array<ManifestBag>, 
/**
 * The earliest `collected_at` of its bags.
 */
first_collection_at: string | null, 
/**
 * In time order.
 */
readings: Array<ManifestReading>, excursions: Array<Excursion>, };
