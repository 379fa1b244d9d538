// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { FacilityId } from "./FacilityId";

/**
 * A block of sequence numbers pre-allocated to one device for one facility and nominal
 * year, so vehicles working offline can never issue the same DIN.
 *
 * Ranges never wrap: `first <= last`, both within 0..=999999.
 */
export type DinRange = { facility: FacilityId, year: number, first: number, last: number, };
