// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// Regenerate: LIFEBRIDGE_WRITE_BINDINGS=1 cargo test -p lifebridge-app bindings
import type { LoggerImport } from "./LoggerImport";
import type { TransportView } from "./TransportView";

/**
 * A logger file imported into a box: what the import found, and the driver's screen
 * after it.
 */
export type LoggerImportView = { import: LoggerImport, view: TransportView, };
