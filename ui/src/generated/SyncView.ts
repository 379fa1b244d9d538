// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Message } from "./Message";

export type SyncView = { 
/**
 * False until this device is enrolled with a station.
 */
configured: boolean, syncing: boolean, pending: number, last_success: string | null, last_error: string | null, clock_skew_seconds: number | null, 
/**
 * Why the station refused one of this device's records (a catalogue message), shown
 * to the crew until a sync succeeds; the records after it wait on the device.
 */
refusal: Message | null, 
/**
 * "hub/station unreachable since HH:MM" (China time, where the drives work) while
 * nothing answers; the crew's work goes on, stored on the tablet.
 */
unreachable: Message | null, };
