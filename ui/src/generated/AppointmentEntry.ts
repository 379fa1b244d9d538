// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Appointment } from "./Appointment";
import type { Donor } from "./Donor";

/**
 * One booked donor as the drive screen lists them.
 */
export type AppointmentEntry = { appointment: Appointment, 
/**
 * The donor this device already knows by that identity document, if any.
 */
donor: Donor | null, 
/**
 * Checked in to this drive.
 */
arrived: boolean, };
