// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { Excursion } from "./Excursion";

/**
 * The result of a logger file import.
 */
export type LoggerImport = { imported: number, 
/**
 * Rows whose instant this box already had a reading for (or that repeat in the file).
 */
skipped: number, excursions: Array<Excursion>, };
