// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Role } from "./Role";

export type Staff = { id: string, display_name: string, roles: Array<Role>, active: boolean, };
