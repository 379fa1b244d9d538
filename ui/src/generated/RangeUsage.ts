// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Din } from "./Din";
import type { DinRangeRecord } from "./DinRangeRecord";

export type RangeUsage = { record: DinRangeRecord, issued: number, unused: number, next: Din | null, };
