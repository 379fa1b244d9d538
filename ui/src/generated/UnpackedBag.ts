// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Donation } from "./Donation";
import type { Message } from "./Message";
import type { ProductClass } from "./ProductClass";
import type { UnitAssessment } from "./UnitAssessment";

/**
 * A released bag of the drive that is in no box yet, and where it may go.
 */
export type UnpackedBag = { donation: Donation, allowed: Array<ProductClass>, 
/**
 * Why it goes in no box at all (still on the chair, aborted, every class excluded).
 */
refusal: Message | null, 
/**
 * What the collection says about the unit (slow draw, products excluded at
 * screening), so the driver sees why a bag goes only into a red-cell box.
 */
unit: UnitAssessment, unit_text: Message, };
