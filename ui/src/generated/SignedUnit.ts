// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Din } from "./Din";
import type { UnitAssessment } from "./UnitAssessment";

/**
 * A received unit's status at signing.
 */
export type SignedUnit = { din: Din, unit: UnitAssessment, };
