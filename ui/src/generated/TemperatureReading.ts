// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { ReadingSource } from "./ReadingSource";

export type TemperatureReading = { id: string, box_id: string, 
/**
 * When the temperature was measured (the logger's timestamp for imports).
 */
measured_at: string, celsius: number, source: ReadingSource, recorded_by: string, recorded_at: string, };
