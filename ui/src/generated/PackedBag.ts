// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { AboRh } from "./AboRh";
import type { BoxPacking } from "./BoxPacking";
import type { Donation } from "./Donation";

/**
 * A bag in a box, as the driver's screen lists it.
 */
export type PackedBag = { packing: BoxPacking, donation: Donation, abo_rh: AboRh | null, };
