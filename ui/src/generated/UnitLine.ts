// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Din } from "./Din";
import type { Message } from "./Message";
import type { UnitStatus } from "./UnitStatus";

/**
 * One downgraded or quarantined unit of a manifest, as the screen lists it.
 */
export type UnitLine = { din: Din, status: UnitStatus, 
/**
 * `unit.assessment`: the status and why.
 */
text: Message, };
