// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { DinRange } from "./DinRange";
import type { DinRangeSource } from "./DinRangeSource";

export type DinRangeRecord = { id: string, range: DinRange, source: DinRangeSource, device_id: string, granted_at: string, };
