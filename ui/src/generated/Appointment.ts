// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { IdentityDocument } from "./IdentityDocument";
import type { Procedure } from "./Procedure";

/**
 * A donor booked for a site on a day, made at the station (its booking desk or call
 * list) and pulled by the vehicles. The station is its only writer: a change or a
 * cancellation is the same id sent again, and the later one replaces the earlier.
 */
export type Appointment = { id: string, 
/**
 * The drive's calendar date (China Standard Time).
 */
date: string, 
/**
 * Matches the drive's `site_name`.
 */
site_name: string, 
/**
 * Start of the booked slot, China Standard Time.
 */
time: string | null, document: IdentityDocument, name: string, phone: string | null, procedure: Procedure, note: string | null, cancelled: boolean, };
