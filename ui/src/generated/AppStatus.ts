// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Staff } from "./Staff";

export type AppStatus = { unlocked: boolean, device_name: string, staff: Staff | null, today: string, };
