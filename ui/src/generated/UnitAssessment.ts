// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { UnitFinding } from "./UnitFinding";
import type { UnitStatus } from "./UnitStatus";

/**
 * A unit's status with every finding behind it. The status is the worst action of its
 * findings; no finding, suitable.
 */
export type UnitAssessment = { status: UnitStatus, findings: Array<UnitFinding>, };
