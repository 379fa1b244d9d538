// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Staff } from "./Staff";

export type AppStatus = { unlocked: boolean, 
/**
 * False on a device without a store: the app then offers first-run set-up,
 * naming `store_path`, instead of asking for a passphrase.
 */
store_exists: boolean, store_path: string, device_name: string, staff: Staff | null, 
/**
 * Minutes without a command before the person signed in is signed out.
 */
idle_minutes: number, today: string, };
